"""Alpha and beta: OLS of the strategy's excess returns on the benchmark's excess returns.

``y = r - rf`` is regressed on ``x = b - rf`` (per-period simple returns, ``rf`` the per-period
risk-free rate): beta is the slope, and the intercept is annualised by compounding,
``alpha = (1 + intercept) ** periods_per_year - 1`` (empyrical's convention).

Examples
--------
>>> import numpy as np
>>> benchmark = np.array([0.01, -0.02, 0.015, 0.005])
>>> alpha, beta = alpha_beta(2 * benchmark + 0.001, benchmark, 252.0)
>>> round(alpha, 6), round(beta, 6)
(0.286434, 2.0)
"""

from __future__ import annotations

import numpy as np

from operators.performance.ratios import compound, excess_returns, is_constant


def alpha_beta(
    returns: np.ndarray, benchmark_returns: np.ndarray, periods_per_year: float, risk_free: float = 0.0
) -> tuple[float, float]:
    """Return ``(annualised alpha, beta)``; NaNs for fewer than two returns or a constant benchmark."""
    if len(returns) < 2 or is_constant(benchmark_returns):
        return float("nan"), float("nan")
    y = excess_returns(returns, risk_free)
    x = excess_returns(benchmark_returns, risk_free)
    x_mean = np.mean(x)
    centred = x - x_mean
    # sums, not np.dot: a BLAS dot product's rounding depends on its thread count, and the same
    # run must give the same figures on every machine
    beta = float(np.add.reduce(centred * y) / np.add.reduce(centred * centred))
    intercept = float(np.mean(y)) - beta * float(x_mean)
    return compound(1.0 + intercept, periods_per_year) - 1.0, beta
