"""Commodity channel index (TA-Lib ``CCI``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import History, is_zero_scaled, place
from operators.indicators.base import Indicator, check_int


class CCI(Indicator):
    """Commodity channel index ``(tp - mean(tp)) / (0.015 * mean(|tp - mean(tp)|))``, ``tp = (h+l+c)/3``.

    TA-Lib sums each window in the order of its circular buffer (slot ``i % period`` holds the
    ``i``-th typical price of the series); sums are taken in that same order, so the outputs match
    ``talib.CCI`` bit for bit. The output is 0 where the deviation is 0 or the distance from the
    mean is rounding noise (within 1e-14 of the prices, TA-Lib's scale-aware zero test), so flat
    stretches give 0. Each output costs ``O(period)``, vectorised across the batch.

    Parameters
    ----------
    period
        Window length, at least 2.

    Examples
    --------
    >>> import numpy as np
    >>> cci = CCI(period=2)
    >>> cci.update(high=np.array([2.0, 4.0]), low=np.array([1.0, 2.0]), close=np.array([1.5, 3.0])).tolist()
    [nan, 66.66666666666667]
    """

    name = "cci"

    def __init__(self, period: int = 14):
        self.period = check_int("CCI", "period", period, 2)
        self.inputs = ("high", "low", "close")
        self.warmup = self.period
        self._typical = History(self.period - 1)
        self._count = 0
        self._phase = 0

    def _update(self, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
        n = self.period
        size = len(close)
        typical = (high + low + close) / 3
        joined = self._typical.extend(typical)
        offset = len(joined) - size
        first = min(max(n - 1 - self._count, 0), size)
        # Series index (mod period) of each output, and its position in `joined`.
        index = np.arange(self._phase + first, self._phase + size)
        position = np.arange(offset + first, offset + size)
        # Slot j of TA-Lib's buffer holds the window's value whose series index is congruent to j.
        average = np.zeros(size - first)
        for j in range(n):
            average += joined[position - (index - j) % n]
        average /= n
        deviation = np.zeros(size - first)
        for j in range(n):
            deviation += np.abs(joined[position - (index - j) % n] - average)
        latest = typical[first:]
        distance = latest - average
        flat = is_zero_scaled(distance, np.abs(latest) + np.abs(average)) | (deviation == 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            cci = np.where(flat, 0.0, distance / (0.015 * (deviation / n)))
        self._count = min(self._count + size, n)
        self._phase = (self._phase + size) % n
        return place(size, cci, first)
