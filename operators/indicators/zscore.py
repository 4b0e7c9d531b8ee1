"""Rolling z-score of a value against its window (TA-Lib ``SMA`` and ``STDDEV`` combined)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import RunningTotals, place
from operators.indicators.base import Indicator, check_int, check_name
from operators.indicators.stddev import WindowDeviation


class ZScore(Indicator):
    """``(x - mean) / std`` over the last ``period`` values (population deviation, window includes x).

    Mean and deviation are those of `SMA` and `STDDEV`; where the deviation is 0 (a flat window)
    the z-score is 0.

    Parameters
    ----------
    period
        Window length, at least 2.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> zscore = ZScore(period=2)
    >>> zscore.update(close=np.array([1.0, 3.0, 3.0])).tolist()
    [nan, 1.0, 0.0]
    """

    name = "zscore"

    def __init__(self, period: int = 20, source: str = "close"):
        self.period = check_int("ZScore", "period", period, 2)
        self.source = check_name("ZScore", "source", source)
        self.inputs = (source,)
        self.warmup = self.period
        self._totals = RunningTotals(self.period)
        self._deviation = WindowDeviation(self.period)

    def _update(self, close: np.ndarray) -> np.ndarray:
        (sums,), first = self._totals.update(close)
        mean = sums / self.period
        std, _ = self._deviation.update(close)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(std == 0.0, 0.0, (close[first:] - mean) / std)
        return place(len(close), score, first)
