"""Simple moving average (TA-Lib ``SMA``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import RunningTotals, place
from operators.indicators.base import Indicator, check_int, check_name


class SMA(Indicator):
    """Simple moving average: the mean of the last ``period`` values.

    Matches ``talib.SMA`` bit for bit: the window total is kept as TA-Lib keeps it (add the
    newest value, divide, subtract the oldest).

    Parameters
    ----------
    period
        Window length, at least 2.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> sma = SMA(period=2)
    >>> sma.update(close=np.array([1.0, 3.0, 5.0])).tolist()
    [nan, 2.0, 4.0]
    >>> sma.update_one(close=7.0)
    6.0
    """

    name = "sma"

    def __init__(self, period: int = 30, source: str = "close"):
        self.period = check_int("SMA", "period", period, 2)
        self.source = check_name("SMA", "source", source)
        self.inputs = (source,)
        self.warmup = self.period
        self._totals = RunningTotals(self.period)

    def _update(self, close: np.ndarray) -> np.ndarray:
        (totals,), first = self._totals.update(close)
        return place(len(close), totals / self.period, first)
