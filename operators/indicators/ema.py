"""Exponential moving average (TA-Lib ``EMA``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import ema_smoother, place
from operators.indicators.base import Indicator, check_int, check_name


class EMA(Indicator):
    """Exponential moving average with ``k = 2 / (period + 1)``, seeded as TA-Lib seeds it.

    The first output (at the ``period``-th input) is the SMA of the first ``period`` values; then
    ``ema = k * x + (1 - k) * ema``. Agrees with ``talib.EMA`` on the same series from its start to
    within rounding (TA-Lib writes the update as ``(x - ema) * k + ema``).

    Parameters
    ----------
    period
        Smoothing period, at least 2.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> ema = EMA(period=3)
    >>> ema.update(close=np.array([1.0, 2.0, 3.0, 5.0])).tolist()
    [nan, nan, 2.0, 3.5]
    >>> ema.update_one(close=3.5)
    3.5
    """

    name = "ema"

    def __init__(self, period: int = 30, source: str = "close"):
        self.period = check_int("EMA", "period", period, 2)
        self.source = check_name("EMA", "source", source)
        self.inputs = (source,)
        self.warmup = self.period
        self._ema = ema_smoother(self.period)

    def _update(self, close: np.ndarray) -> np.ndarray:
        values, first = self._ema.update(close)
        return place(len(close), values, first)
