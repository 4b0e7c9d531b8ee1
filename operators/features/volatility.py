"""`RealisedVolatility`: rolling standard deviation of one-bar log returns."""

from __future__ import annotations

import math
from collections import deque


def window_std(values: deque[float]) -> float:
    """Sample standard deviation (ddof=1) of ``values``; NaN for fewer than two."""
    n = len(values)
    if n < 2:
        return math.nan
    mean = math.fsum(values) / n
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))


class RealisedVolatility:
    """Sample standard deviation (ddof=1) of the last ``window`` one-bar log returns, per bar (not annualised).

    NaN until ``window`` returns have been seen.

    Parameters
    ----------
    window
        Number of returns in the window (at least 2).

    Examples
    --------
    >>> vol = RealisedVolatility(2)
    >>> [round(vol.update(c), 6) for c in (100.0, 101.0, 100.0, 102.0)]
    [nan, nan, 0.014072, 0.021039]
    """

    def __init__(self, window: int = 20):
        if window < 2:
            raise ValueError(f"window must be at least 2; was {window}")
        self.window = window
        self._returns: deque[float] = deque(maxlen=window)
        self._last = math.nan

    def update(self, close: float) -> float:
        """Add one close; return the realised volatility over the window (NaN while warming up)."""
        if self._last > 0 and close > 0:
            self._returns.append(math.log(close / self._last))
        self._last = close
        return window_std(self._returns) if len(self._returns) == self.window else math.nan
