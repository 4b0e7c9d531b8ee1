"""Kaufman adaptive moving average (TA-Lib ``KAMA``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import TA_EPSILON, History, interleaved_cumsum, place, sequential_total
from operators.indicators.base import Indicator, check_int, check_name

_SLOWEST = 2.0 / (30.0 + 1.0)
_SPREAD = 2.0 / (2.0 + 1.0) - _SLOWEST


class KAMA(Indicator):
    """Kaufman's adaptive moving average, fast/slow constants 2 and 30 as in TA-Lib.

    The efficiency ratio ``|x - x[-period]| / sum(|diff|)`` over the window sets the smoothing
    constant ``(er * (2/3 - 2/31) + 2/31) ** 2``. The ratio is vectorised (its volatility sum is
    kept exactly as TA-Lib keeps it); the recursion itself has a different coefficient at each
    step, which no linear filter expresses, so it runs as a tight loop over Python floats with
    TA-Lib's own arithmetic. The first output is at input ``period + 1``, seeded with the value
    before it.

    Parameters
    ----------
    period
        Efficiency-ratio window, at least 2.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> kama = KAMA(period=2)
    >>> kama.update(close=np.array([1.0, 2.0, 3.0, 3.0])).round(6).tolist()
    [nan, nan, 2.444444, 2.691358]
    """

    name = "kama"

    def __init__(self, period: int = 30, source: str = "close"):
        self.period = check_int("KAMA", "period", period, 2)
        self.source = check_name("KAMA", "source", source)
        self.inputs = (source,)
        self.warmup = self.period + 1
        self._history = History(self.period + 1)
        self._volatility = 0.0
        self._kama = 0.0
        self._count = 0

    def _update(self, close: np.ndarray) -> np.ndarray:
        size = len(close)
        n = self.period
        joined = self._history.extend(close)
        end = len(joined)
        offset = end - size
        seeding = self._count <= n
        first = min(n - self._count, size) if seeding else 0
        # |x[g] - x[g-1]| for every batch position g that has a previous value.
        starts = max(1 - self._count, 0)
        changes = np.abs(joined[offset + starts :] - joined[offset + starts - 1 : end - 1])
        self._volatility = sequential_total(self._volatility, changes[: max(first - starts, 0)])
        self._count = min(self._count + size, n + 1)
        if first == size:
            return np.full(size, np.nan)
        # Position of x[g - period] for the first output of this batch.
        back = offset + first - n
        leaving = np.empty(size - first)
        if seeding:
            # TA-Lib's first output adds the period-th change without removing any.
            self._kama = float(joined[offset + first - 1])
            leaving[0] = 0.0
            leaving[1:] = np.abs(joined[back + 1 : end - n] - joined[back : end - n - 1])
        else:
            leaving[:] = np.abs(joined[back : end - n] - joined[back - 1 : end - n - 1])
        volatility = interleaved_cumsum(self._volatility, -leaving, changes[len(changes) - len(leaving) :])
        volatility = volatility[2::2]
        self._volatility = float(volatility[-1])
        steady = joined[offset + first :]
        direction = steady - joined[back : end - n]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.abs(direction / volatility)
        ratio[(volatility <= direction) | ((volatility > -TA_EPSILON) & (volatility < TA_EPSILON))] = 1.0
        constants = ratio * _SPREAD + _SLOWEST
        constants *= constants
        kama = self._kama
        out = []
        append = out.append
        for value, constant in zip(steady.tolist(), constants.tolist(), strict=True):
            kama = (value - kama) * constant + kama
            append(kama)
        self._kama = kama
        return place(size, np.array(out), first)
