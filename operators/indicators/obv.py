"""On-balance volume (TA-Lib ``OBV``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import History
from operators.indicators.base import Indicator, check_name


class OBV(Indicator):
    """On-balance volume: a running total adding the volume on up closes and subtracting it on down closes.

    It starts at the first volume, as ``talib.OBV`` does, and has no warm-up.

    Parameters
    ----------
    source
        Name of the price input field.
    volume
        Name of the volume input field.

    Examples
    --------
    >>> import numpy as np
    >>> obv = OBV()
    >>> obv.inputs
    ('close', 'volume')
    >>> obv.update(close=np.array([1.0, 2.0, 2.0, 1.0]), volume=np.array([5.0, 3.0, 4.0, 2.0])).tolist()
    [5.0, 8.0, 8.0, 6.0]
    """

    name = "obv"

    def __init__(self, source: str = "close", volume: str = "volume"):
        self.source = check_name("OBV", "source", source)
        self.volume = check_name("OBV", "volume", volume)
        self.inputs = (source, volume)
        self.warmup = 1
        self._previous = History(1)
        self._total = 0.0

    def _update(self, close: np.ndarray, volume: np.ndarray) -> np.ndarray:
        if len(close) == 0:
            return np.empty(0)
        joined = self._previous.extend(close)
        first = len(close) - (len(joined) - 1)
        now = joined[1:]
        before = joined[:-1]
        step = np.where(now > before, volume[first:], np.where(now < before, -volume[first:], 0.0))
        start = volume[0] if first else self._total
        obv = np.cumsum(np.concatenate(([start], step)))
        self._total = float(obv[-1])
        return obv if first else obv[1:]
