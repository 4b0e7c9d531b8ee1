"""Relative strength index (TA-Lib ``RSI``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import History, place, wilder_smoother
from operators.indicators.base import Indicator, check_int, check_name


class RSI(Indicator):
    """Wilder's relative strength index, ``100 * gain / (gain + loss)``.

    Average gain and loss are seeded with the mean of the first ``period`` changes and then
    Wilder-smoothed, as TA-Lib does with its unstable period at 0 (the default). The output is 0
    only where ``gain + loss`` is exactly 0 (as TA-Lib 0.8; older TA-Lib zeroed below 1e-8).

    Parameters
    ----------
    period
        Smoothing period, at least 2.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> rsi = RSI(period=2)
    >>> rsi.update(close=np.array([1.0, 2.0, 1.5, 2.5])).tolist()
    [nan, nan, 66.66666666666666, 85.71428571428571]
    """

    name = "rsi"

    def __init__(self, period: int = 14, source: str = "close"):
        self.period = check_int("RSI", "period", period, 2)
        self.source = check_name("RSI", "source", source)
        self.inputs = (source,)
        self.warmup = self.period + 1
        self._previous = History(1)
        self._gain = wilder_smoother(self.period)
        self._loss = wilder_smoother(self.period)

    def _update(self, close: np.ndarray) -> np.ndarray:
        joined = self._previous.extend(close)
        change = np.diff(joined)
        skipped = len(close) - len(change)
        gain, first = self._gain.update(np.where(change > 0.0, change, 0.0))
        loss, _ = self._loss.update(np.where(change < 0.0, -change, 0.0))
        total = gain + loss
        with np.errstate(divide="ignore", invalid="ignore"):
            rsi = np.where(total == 0.0, 0.0, 100.0 * (gain / total))
        return place(len(close), rsi, skipped + first)
