"""Normalised average true range (TA-Lib ``NATR``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import is_zero, place
from operators.indicators.atr import TrueRangeAverage
from operators.indicators.base import Indicator, check_int


class NATR(Indicator):
    """ATR as a percentage of the close: ``100 * atr / close`` (0 where the close is within 1e-14 of 0).

    Parameters
    ----------
    period
        Smoothing period of the ATR, at least 1.

    Examples
    --------
    >>> import numpy as np
    >>> natr = NATR(period=2)
    >>> natr.update(high=np.array([2.0, 3.0, 4.0]), low=np.array([1.0, 2.0, 2.0]),
    ...             close=np.array([1.5, 2.5, 3.5])).tolist()
    [nan, nan, 50.0]
    """

    name = "natr"

    def __init__(self, period: int = 14):
        self.period = check_int("NATR", "period", period, 1)
        self.inputs = ("high", "low", "close")
        self.warmup = self.period + 1
        self._atr = TrueRangeAverage(self.period)

    def _update(self, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
        atr, first = self._atr.update(high, low, close)
        closes = close[first:]
        with np.errstate(divide="ignore", invalid="ignore"):
            natr = np.where(is_zero(closes), 0.0, (atr / closes) * 100.0)
        return place(len(close), natr, first)
