"""Rate of change (TA-Lib ``ROC``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import History, place
from operators.indicators.base import Indicator, check_int, check_name


class ROC(Indicator):
    """Rate of change in percent: ``(x / x[-period] - 1) * 100`` (0 where ``x[-period]`` is 0).

    Parameters
    ----------
    period
        Look-back distance, at least 1.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> roc = ROC(period=1)
    >>> roc.update(close=np.array([2.0, 3.0, 1.5])).tolist()
    [nan, 50.0, -50.0]
    """

    name = "roc"

    def __init__(self, period: int = 10, source: str = "close"):
        self.period = check_int("ROC", "period", period, 1)
        self.source = check_name("ROC", "source", source)
        self.inputs = (source,)
        self.warmup = self.period + 1
        self._history = History(self.period)

    def _update(self, close: np.ndarray) -> np.ndarray:
        before = self._history.extend(close)[: -self.period]
        first = len(close) - len(before)
        with np.errstate(divide="ignore", invalid="ignore"):
            roc = np.where(before != 0.0, (close[first:] / before - 1.0) * 100.0, 0.0)
        return place(len(close), roc, first)
