"""Triple exponential moving average (TA-Lib ``TEMA``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import ema_smoother, place
from operators.indicators.base import Indicator, check_int, check_name


class TEMA(Indicator):
    """Triple EMA: ``3 * e1 - 3 * e2 + e3`` with ``e2 = ema(e1)``, ``e3 = ema(e2)``, seeded as TA-Lib.

    Parameters
    ----------
    period
        Smoothing period of the three EMAs, at least 2.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> tema = TEMA(period=2)
    >>> tema.warmup
    4
    >>> tema.update(close=np.arange(1.0, 7.0)).tolist()
    [nan, nan, nan, 4.0, 5.0, 6.0]
    """

    name = "tema"

    def __init__(self, period: int = 30, source: str = "close"):
        self.period = check_int("TEMA", "period", period, 2)
        self.source = check_name("TEMA", "source", source)
        self.inputs = (source,)
        self.warmup = 3 * self.period - 2
        self._first = ema_smoother(self.period)
        self._second = ema_smoother(self.period)
        self._third = ema_smoother(self.period)

    def _update(self, close: np.ndarray) -> np.ndarray:
        e1, first1 = self._first.update(close)
        e2, first2 = self._second.update(e1)
        e3, first3 = self._third.update(e2)
        e1 = e1[first2 + first3 :]
        e2 = e2[first3:]
        return place(len(close), e3 + (3.0 * e1 - 3.0 * e2), first1 + first2 + first3)
