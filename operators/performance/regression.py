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

from operators.performance.ratios import compound


def alpha_beta(
    returns: np.ndarray, benchmark_returns: np.ndarray, periods_per_year: float, risk_free: float = 0.0
) -> tuple[float, float]:
    """Return ``(annualised alpha, beta)``; NaNs for fewer than two returns or a constant benchmark."""
    if len(returns) < 2 or np.ptp(benchmark_returns) == 0.0:
        return float("nan"), float("nan")
    y = returns - risk_free
    x = benchmark_returns - risk_free
    centred = x - np.mean(x)
    beta = float(np.dot(centred, y) / np.dot(centred, centred))
    intercept = float(np.mean(y)) - beta * float(np.mean(x))
    return compound(1.0 + intercept, periods_per_year) - 1.0, beta
