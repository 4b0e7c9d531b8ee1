"""Williams %R (TA-Lib ``WILLR``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import History, place, trailing_max, trailing_min
from operators.indicators.base import Indicator, check_int


class WilliamsR(Indicator):
    """Williams %R: ``-100 * (highest high - close) / (highest high - lowest low)`` over ``period``.

    Written as TA-Lib writes it, ``(hh - close) / ((hh - ll) / -100)``, and 0 when the window has no
    range (a flat stretch), as in ``talib.WILLR``.

    Parameters
    ----------
    period
        Window length, at least 2.

    Examples
    --------
    >>> import numpy as np
    >>> willr = WilliamsR(period=2)
    >>> willr.update(high=np.array([2.0, 4.0, 4.0]), low=np.array([1.0, 2.0, 4.0]),
    ...              close=np.array([1.5, 3.0, 4.0])).tolist()
    [nan, -33.333333333333336, -0.0]
    """

    name = "willr"

    def __init__(self, period: int = 14):
        self.period = check_int("WilliamsR", "period", period, 2)
        self.inputs = ("high", "low", "close")
        self.warmup = self.period
        self._highs = History(self.period - 1)
        self._lows = History(self.period - 1)

    def _update(self, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
        highest = trailing_max(self._highs.extend(high), self.period)
        lowest = trailing_min(self._lows.extend(low), self.period)
        first = len(close) - len(highest)
        diff = (highest - lowest) / -100.0
        with np.errstate(divide="ignore", invalid="ignore"):
            willr = np.where(diff != 0.0, (highest - close[first:]) / diff, 0.0)
        return place(len(close), willr, first)
