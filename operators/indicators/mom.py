"""Momentum (TA-Lib ``MOM``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import History, place
from operators.indicators.base import Indicator, check_int, check_name


class MOM(Indicator):
    """Momentum: ``x - x[-period]``.

    Parameters
    ----------
    period
        Look-back distance, at least 1.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> mom = MOM(period=2)
    >>> mom.update(close=np.array([1.0, 2.0, 4.0, 3.0])).tolist()
    [nan, nan, 3.0, 1.0]
    """

    name = "mom"

    def __init__(self, period: int = 10, source: str = "close"):
        self.period = check_int("MOM", "period", period, 1)
        self.source = check_name("MOM", "source", source)
        self.inputs = (source,)
        self.warmup = self.period + 1
        self._history = History(self.period)

    def _update(self, close: np.ndarray) -> np.ndarray:
        before = self._history.extend(close)[: -self.period]
        first = len(close) - len(before)
        return place(len(close), close[first:] - before, first)
