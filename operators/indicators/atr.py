"""Average true range (TA-Lib ``ATR``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import History, place, true_range, wilder_smoother
from operators.indicators.base import Indicator, check_int


class TrueRangeAverage:
    """Wilder-smoothed true range from (high, low, close) batches, seeded as TA-Lib's ATR.

    ``update`` returns ``(atr, first)``: values for batch positions ``first, first + 1, ...``.
    """

    def __init__(self, period: int):
        self._previous_close = History(1)
        self._average = wilder_smoother(period)

    def update(self, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> tuple[np.ndarray, int]:
        previous = self._previous_close.extend(close)[:-1]
        skipped = len(close) - len(previous)
        ranges = true_range(high[skipped:], low[skipped:], previous)
        atr, first = self._average.update(ranges)
        return atr, skipped + first


class ATR(Indicator):
    """Average true range: Wilder's smoothing of the true range, seeded by its first ``period`` mean.

    The first true range needs a previous close, so the first output is at input ``period + 1``,
    as in ``talib.ATR`` (unstable period 0).

    Parameters
    ----------
    period
        Smoothing period, at least 1 (1 gives the true range itself).

    Examples
    --------
    >>> import numpy as np
    >>> atr = ATR(period=2)
    >>> atr.inputs
    ('high', 'low', 'close')
    >>> atr.update(high=np.array([2.0, 3.0, 4.0]), low=np.array([1.0, 2.0, 2.0]),
    ...            close=np.array([1.5, 2.5, 3.0])).tolist()
    [nan, nan, 1.75]
    """

    name = "atr"

    def __init__(self, period: int = 14):
        self.period = check_int("ATR", "period", period, 1)
        self.inputs = ("high", "low", "close")
        self.warmup = self.period + 1
        self._atr = TrueRangeAverage(self.period)

    def _update(self, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
        atr, first = self._atr.update(high, low, close)
        return place(len(close), atr, first)
