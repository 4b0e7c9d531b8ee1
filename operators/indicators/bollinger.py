"""Bollinger bands (TA-Lib ``BBANDS`` with a simple moving average)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from operators.indicators._kernels import RunningTotals, place
from operators.indicators.base import Indicator, check_float, check_int, check_name
from operators.indicators.stddev import WindowDeviation


class BandsResult(NamedTuple):
    """Upper band, middle band (the SMA) and lower band."""

    upper: np.ndarray
    middle: np.ndarray
    lower: np.ndarray


class BollingerBands(Indicator):
    """SMA of the last ``period`` values plus and minus ``num_std`` population deviations.

    Matches ``talib.BBANDS(x, period, num_std, num_std, MA_Type.SMA)``: the middle band is `SMA`,
    the deviation is `STDDEV`'s (see there for its precision). TA-Lib's default period is 5; this
    class defaults to the customary 20.

    Parameters
    ----------
    period
        Window length, at least 2.
    num_std
        Band width in deviations, at least 0.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> bands = BollingerBands(period=2, num_std=2.0)
    >>> bands.update(close=np.array([1.0, 3.0])).upper.tolist()
    [nan, 4.0]
    >>> bands.update_one(close=5.0)
    BandsResult(upper=6.0, middle=4.0, lower=2.0)
    """

    name = "bbands"
    result_type = BandsResult

    def __init__(self, period: int = 20, num_std: float = 2.0, source: str = "close"):
        self.period = check_int("BollingerBands", "period", period, 2)
        self.num_std = check_float("BollingerBands", "num_std", num_std, 0.0)
        self.source = check_name("BollingerBands", "source", source)
        self.inputs = (source,)
        self.warmup = self.period
        self._totals = RunningTotals(self.period)
        self._deviation = WindowDeviation(self.period)

    def _update(self, close: np.ndarray) -> BandsResult:
        (sums,), first = self._totals.update(close)
        middle = sums / self.period
        std, _ = self._deviation.update(close)
        width = std * self.num_std
        size = len(close)
        return BandsResult(
            place(size, middle + width, first), place(size, middle, first), place(size, middle - width, first)
        )
