"""Linearly weighted moving average (TA-Lib ``WMA``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import History, interleaved_cumsum, place
from operators.indicators.base import Indicator, check_int, check_name


class WMA(Indicator):
    """Weighted moving average: weights ``1, 2, ..., period`` from the oldest value to the newest.

    Keeps TA-Lib's two running totals (the plain window sum and the weighted sum, which loses one
    plain sum per step), each accumulated in TA-Lib's order, so it matches ``talib.WMA`` bit for bit.

    Parameters
    ----------
    period
        Window length, at least 2.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> wma = WMA(period=3)
    >>> wma.update(close=np.array([1.0, 2.0, 3.0, 6.0])).tolist()
    [nan, nan, 2.3333333333333335, 4.333333333333333]
    """

    name = "wma"

    def __init__(self, period: int = 30, source: str = "close"):
        self.period = check_int("WMA", "period", period, 2)
        self.source = check_name("WMA", "source", source)
        self.inputs = (source,)
        self.warmup = self.period
        self._history = History(self.period)
        self._plain = 0.0
        self._weighted = 0.0
        self._count = 0

    def _update(self, close: np.ndarray) -> np.ndarray:
        size = len(close)
        n = self.period
        first = min(max(n - 1 - self._count, 0), size)
        joined = self._history.extend(close)
        offset = len(joined) - size
        warm = close[:first]
        weights = np.arange(self._count + 1, self._count + first + 1, dtype=np.float64)
        plain = np.cumsum(np.concatenate(([self._plain], warm)))[-1]
        weighted = np.cumsum(np.concatenate(([self._weighted], warm * weights)))[-1]
        # The value leaving the plain sum lags one step: none at the first full window.
        leaving_start = self._count + first - n
        steady = close[first:]
        leaving = np.empty(size - first)
        if leaving_start < 0 and len(leaving):
            leaving[0] = 0.0
            leaving[1:] = joined[offset + first + 1 - n : offset + size - n]
        else:
            leaving[:] = joined[offset + first - n : offset + size - n]
        plains = interleaved_cumsum(plain, steady, -leaving)
        weighteds = interleaved_cumsum(weighted, steady * float(n), -plains[2::2])
        self._plain = float(plains[-1])
        self._weighted = float(weighteds[-1])
        self._count = min(self._count + size, n)
        return place(size, weighteds[1::2] / float(n * (n + 1) // 2), first)
