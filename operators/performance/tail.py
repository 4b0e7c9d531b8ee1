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
from collections.abc import Callable, Sequence

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
    return _risks_of(np.partition(returns, k), k, position - k, wider=None)


def tail_risks(
    returns: np.ndarray, levels: Sequence[float], restore: Callable[[np.ndarray], object]
) -> list[tuple[float, float]]:
    """Return `tail_risk` at each of ``levels``, partially sorting ``returns`` (float64, no NaN) in place
    rather than copies; ``restore(returns)`` puts them back in their original order between two levels.

    Each level sorts the returns as ``np.partition`` would (CVaR sums the worst of them in the order it
    leaves them). With the widest tail first, the return just above a narrower tail's cut is found
    among the wider tail's instead of among all the returns.

    Examples
    --------
    >>> returns = np.array([0.03, -0.05, 0.02, -0.01, 0.0] * 20)
    >>> original = returns.copy()
    >>> tail_risks(returns, (0.95, 0.99), lambda r: np.copyto(r, original)) == [
    ...     tail_risk(original, 0.95), tail_risk(original, 0.99)]
    True
    """
    risks, wider = [], None
    for i, level in enumerate(levels):
        if i:
            restore(returns)
        if len(returns) == 0:
            risks.append((float("nan"), float("nan")))
            continue
        position = (len(returns) - 1) * (1.0 - level)
        k = math.floor(position)
        returns.partition(k)
        risks.append(_risks_of(returns, k, position - k, wider))
        wider = returns[: k + 1].copy()
    return risks


def _risks_of(ordered: np.ndarray, k: int, fraction: float, wider: np.ndarray | None) -> tuple[float, float]:
    """Return ``(VaR, CVaR)`` from returns partially sorted at ``k`` (the k-th smallest at k, smaller
    before), ``fraction`` of the way to the next; ``wider``: the smallest returns of a wider tail."""
    cvar = -float(np.mean(ordered[: k + 1]))
    if k + 1 == len(ordered):
        return -float(ordered[k]), cvar
    return -_interpolate(float(ordered[k]), _next_smallest(ordered, k, wider), fraction), cvar


def _next_smallest(ordered: np.ndarray, k: int, wider: np.ndarray | None) -> float:
    """Return the (k+1)-th smallest value (from 0) of ``ordered``, partially sorted at ``k``.

    ``wider``, the ``len(wider)`` smallest values, holds it when it has at least ``k + 2`` of them: it
    is the k-th smallest again if more than ``k + 1`` values are at most that, else the smallest value
    above it.
    """
    if wider is None or len(wider) < k + 2:
        return float(ordered[k + 1 :].min())
    kth = ordered[k]
    if np.count_nonzero(wider <= kth) > k + 1:
        return float(kth)
    return float(np.compress(wider > kth, wider).min())


def _interpolate(low: float, high: float, fraction: float) -> float:
    """Return the point ``fraction`` of the way from ``low`` to ``high`` as ``numpy.quantile`` computes it
    (method "linear"), so that VaR equals it to the last bit."""
    step = high - low
    return high - step * (1.0 - fraction) if fraction >= 0.5 else low + step * fraction
