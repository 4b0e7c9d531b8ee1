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
    return tail_risk(returns, level)[0]


def conditional_value_at_risk(returns: np.ndarray, level: float) -> float:
    """Return the historical CVaR at confidence ``level``: the mean loss of the worst returns."""
    return tail_risk(returns, level)[1]


def tail_risk(returns: np.ndarray, level: float) -> tuple[float, float]:
    """Return ``(VaR, CVaR)`` at confidence ``level`` from one partial sort of ``returns``.

    Examples
    --------
    >>> var, cvar = tail_risk(np.array([-0.05, -0.01, 0.0, 0.02, 0.03]), 0.75)
    >>> round(var, 6), round(cvar, 6)
    (0.01, 0.03)
    """
    if len(returns) == 0:
        return float("nan"), float("nan")
    position = (len(returns) - 1) * (1.0 - level)
    k = math.floor(position)
    ordered = np.partition(returns, k)  # the k-th smallest at k, the smaller ones before it
    cvar = -float(np.mean(ordered[: k + 1]))
    if k + 1 == len(returns):
        return -float(ordered[k]), cvar
    return -_interpolate(float(ordered[k]), float(ordered[k + 1 :].min()), position - k), cvar


def _interpolate(low: float, high: float, fraction: float) -> float:
    """Return the point ``fraction`` of the way from ``low`` to ``high`` as ``numpy.quantile`` computes it
    (method "linear"), so that VaR equals it to the last bit."""
    step = high - low
    return high - step * (1.0 - fraction) if fraction >= 0.5 else low + step * fraction
