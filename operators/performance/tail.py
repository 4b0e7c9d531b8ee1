"""Historical value at risk and conditional value at risk of per-period returns.

Sign convention: **losses are positive numbers**. ``value_at_risk(r, 0.95) = 0.02`` means one period
in twenty lost 2 % or more.

- VaR at ``level`` is minus the ``1 - level`` quantile of the returns, with NumPy's default
  ``linear`` interpolation (Hyndman & Fan type 7; the same as ``numpy.percentile`` and
  ``empyrical.value_at_risk``).
- CVaR (expected shortfall) at ``level`` is minus the mean of the ``k + 1`` worst returns, where
  ``k = floor((n - 1) * (1 - level))`` is the order statistic at or just below that quantile; this is
  ``empyrical.conditional_value_at_risk``'s convention, so CVaR >= VaR always.

Both are NaN without returns.

Examples
--------
>>> import numpy as np
>>> returns = np.array([-0.05, -0.01, 0.0, 0.02, 0.03])
>>> round(value_at_risk(returns, 0.95), 6), round(conditional_value_at_risk(returns, 0.95), 6)
(0.042, 0.05)
"""

from __future__ import annotations

import math

import numpy as np


def value_at_risk(returns: np.ndarray, level: float) -> float:
    """Return the historical VaR at confidence ``level`` (0.95, 0.99) as a positive loss."""
    if len(returns) == 0:
        return float("nan")
    return -float(np.quantile(returns, 1.0 - level, method="linear"))


def conditional_value_at_risk(returns: np.ndarray, level: float) -> float:
    """Return the historical CVaR at confidence ``level``: the mean loss of the worst returns."""
    if len(returns) == 0:
        return float("nan")
    k = math.floor((len(returns) - 1) * (1.0 - level))
    return -float(np.mean(np.partition(returns, k)[: k + 1]))
