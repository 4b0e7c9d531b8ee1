"""Double exponential moving average (TA-Lib ``DEMA``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import ema_smoother, place
from operators.indicators.base import Indicator, check_int, check_name


class DEMA(Indicator):
    """Double EMA: ``2 * ema - ema(ema)``, each EMA seeded as TA-Lib seeds it.

    The inner EMA starts at the first input; the outer EMA starts at the inner one's first output.

    Parameters
    ----------
    period
        Smoothing period of both EMAs, at least 2.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> dema = DEMA(period=2)
    >>> dema.warmup
    3
    >>> dema.update(close=np.array([1.0, 3.0, 5.0, 7.0])).tolist()
    [nan, nan, 5.0, 7.0]
    """

    name = "dema"

    def __init__(self, period: int = 30, source: str = "close"):
        self.period = check_int("DEMA", "period", period, 2)
        self.source = check_name("DEMA", "source", source)
        self.inputs = (source,)
        self.warmup = 2 * self.period - 1
        self._inner = ema_smoother(self.period)
        self._outer = ema_smoother(self.period)

    def _update(self, close: np.ndarray) -> np.ndarray:
        inner, first_inner = self._inner.update(close)
        outer, first_outer = self._outer.update(inner)
        return place(len(close), 2.0 * inner[first_outer:] - outer, first_inner + first_outer)
