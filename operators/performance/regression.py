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

from operators.performance.blocks import pairwise_sums, scratch
from operators.performance.ratios import compound, excess_returns, is_constant


def alpha_beta(
    returns: np.ndarray, benchmark_returns: np.ndarray, periods_per_year: float, risk_free: float = 0.0
) -> tuple[float, float]:
    """Return ``(annualised alpha, beta)``; NaNs for fewer than two returns or a constant benchmark.

    The sums are taken block by block, each equal to NumPy's over whole arrays (``np.mean(x)``,
    ``np.add.reduce((x - x_mean) * y)``; see `operators.performance.blocks`). They are sums, not
    ``np.dot``: a BLAS dot product's rounding depends on its thread count, and the same run must give
    the same figures on every machine.
    """
    if len(returns) < 2 or is_constant(benchmark_returns):
        return float("nan"), float("nan")
    count = len(returns)
    x_buffer, y_buffer = scratch(count), scratch(count)

    def excess_sums(start: int, stop: int) -> tuple[float, float]:
        x = excess_returns(benchmark_returns[start:stop], risk_free, x_buffer)
        return np.add.reduce(x), np.add.reduce(excess_returns(returns[start:stop], risk_free, y_buffer))

    x_total, y_total = pairwise_sums(count, excess_sums)
    x_mean = x_total / count

    def centred_products(start: int, stop: int) -> tuple[float, float]:
        x = excess_returns(benchmark_returns[start:stop], risk_free, x_buffer)
        centred = np.subtract(x, x_mean, out=x_buffer[: stop - start])
        y = excess_returns(returns[start:stop], risk_free, y_buffer)
        cross = np.add.reduce(np.multiply(centred, y, out=y_buffer[: stop - start]))
        return cross, np.add.reduce(np.multiply(centred, centred, out=centred))

    cross, squares = pairwise_sums(count, centred_products)
    beta = float(np.divide(cross, squares))
    intercept = y_total / count - beta * x_mean
    return compound(1.0 + intercept, periods_per_year) - 1.0, beta
