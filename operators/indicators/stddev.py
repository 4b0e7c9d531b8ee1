"""Rolling population standard deviation (TA-Lib ``STDDEV``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import TA_EPSILON, History, place
from operators.indicators.base import Indicator, check_float, check_int, check_name


class WindowDeviation:
    """Population standard deviation of each window of ``period`` values, two-pass per window.

    Each window is summed afresh (mean first, then squared distances from it), so nothing drifts
    over a long stream and a window never depends on how the stream was batched. A deviation
    within ``1e-14 * |mean|`` of zero (a flat window; TA-Lib's scale-aware zero test) is exactly 0.
    ``update(x)`` returns ``(std, first)``: values for batch positions ``first, first + 1, ...``.
    """

    def __init__(self, period: int):
        self.period = period
        self._history = History(period - 1)

    def update(self, close: np.ndarray) -> tuple[np.ndarray, int]:
        n = self.period
        joined = self._history.extend(close)
        count = len(joined) - n + 1
        if count <= 0:
            return np.empty(0), len(close)
        windows = [joined[shift : shift + count] for shift in range(n)]
        mean = windows[0].copy()
        for window in windows[1:]:
            mean += window
        mean /= n
        squares = np.zeros(count)
        for window in windows:
            squares += (window - mean) ** 2
        std = np.sqrt(squares / n)
        std[std <= TA_EPSILON * np.abs(mean)] = 0.0
        return std, len(close) - count


class STDDEV(Indicator):
    """Population standard deviation of the last ``period`` values, times ``num_std``.

    Each window is computed two-pass (`WindowDeviation`), as accurate as TA-Lib 0.8's ``STDDEV``
    (the running ``E[x^2] - E[x]^2`` of older TA-Lib loses up to ``log10(E[x^2] / var)`` digits);
    a flat window gives exactly 0. Costs ``O(period)`` per output, vectorised across the batch.

    Parameters
    ----------
    period
        Window length, at least 2.
    num_std
        Multiplier of the deviation, at least 0.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> std = STDDEV(period=2)
    >>> std.update(close=np.array([1.0, 3.0, 3.0])).tolist()
    [nan, 1.0, 0.0]
    """

    name = "stddev"

    def __init__(self, period: int = 5, num_std: float = 1.0, source: str = "close"):
        self.period = check_int("STDDEV", "period", period, 2)
        self.num_std = check_float("STDDEV", "num_std", num_std, 0.0)
        self.source = check_name("STDDEV", "source", source)
        self.inputs = (source,)
        self.warmup = self.period
        self._deviation = WindowDeviation(self.period)

    def _update(self, close: np.ndarray) -> np.ndarray:
        std, first = self._deviation.update(close)
        return place(len(close), std * self.num_std, first)
