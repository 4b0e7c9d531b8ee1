"""Array kernels shared by the indicators: running sums, recursive smoothers, windows.

Every kernel carries its state between calls so that feeding a series in batches of any size gives
bit-identical results to feeding it at once. Two rules make that hold:

- sums are accumulated strictly left to right with ``np.cumsum`` over an array that starts with
  the carried total (``np.cumsum`` is sequential, unlike ``np.sum``, which is pairwise);
- first-order recursions run through ``scipy.signal.lfilter`` with the filter state ``zi``
  carried, and the per-element arithmetic of ``lfilter`` does not depend on where a batch starts.

The running sums reproduce TA-Lib's order of operations (add the newest value, read the total,
then subtract the oldest), so they drift exactly as TA-Lib's do over long series.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d
from scipy.signal import lfilter

EMPTY = np.empty(0)

#: Up to this many values, `RecursiveSmoother` runs its recursion in Python: cheaper than
#: ``lfilter``'s call overhead for the one-bar batches of a live service.
SMALL_BATCH = 16

#: TA-Lib's ``TA_EPSILON`` (``ta_utility.h``; 1e-14 since TA-Lib 0.6, 1e-8 before).
TA_EPSILON = 1e-14


def is_zero(values: np.ndarray) -> np.ndarray:
    """TA-Lib's ``TA_IS_ZERO``: ``-1e-14 < v < 1e-14``."""
    return (values > -TA_EPSILON) & (values < TA_EPSILON)


def is_zero_scaled(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """TA-Lib's ``TA_IS_ZERO_SCALED``: ``|v| <= 1e-14 * scale``, for differences of numbers near ``scale``."""
    return np.abs(values) <= TA_EPSILON * scale


def sequential_total(carry: float, values: np.ndarray) -> float:
    """``carry + values[0] + values[1] + ...`` added left to right, as a C loop would."""
    if len(values) == 0:
        return carry
    return float(np.cumsum(np.concatenate(([carry], values)))[-1])


def interleaved_cumsum(carry: float, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Running total of ``carry, first[0], second[0], first[1], second[1], ...`` added in that order.

    Returns the ``2 * len(first) + 1`` partial totals: ``[1::2]`` are the totals after each
    ``first`` term, ``[2::2]`` after each ``second`` term.
    """
    totals = np.empty(2 * len(first) + 1)
    totals[0] = carry
    totals[1::2] = first
    totals[2::2] = second
    return np.cumsum(totals, out=totals)


class History:
    """The last ``size`` values of a stream, so that a batch can look back before its start.

    ``extend(x)`` returns the kept values followed by ``x``; the batch starts at position
    ``len(result) - len(x)`` of that array.
    """

    def __init__(self, size: int):
        self.size = size
        self.values = EMPTY

    def extend(self, x: np.ndarray) -> np.ndarray:
        joined = np.concatenate((self.values, x)) if len(self.values) else x
        self.values = joined[max(len(joined) - self.size, 0) :].copy()
        return joined


class RunningTotals:
    """TA-Lib's running window totals (``TA_INT_SMA``, ``TA_INT_VAR``) of one or more series.

    For each step: add the newest value, report the total, subtract the value leaving the window.
    ``update(*series)`` returns ``(totals, first)``: one array per series holding the window totals
    for batch positions ``first, first + 1, ...`` (positions before ``first`` are still warming up).
    """

    def __init__(self, period: int, width: int = 1):
        self.period = period
        self._totals = [0.0] * width
        self._histories = [History(period - 1) for _ in range(width)]
        self._count = 0

    def update(self, *series: np.ndarray) -> tuple[list[np.ndarray], int]:
        size = len(series[0])
        lag = self.period - 1
        first = min(max(lag - self._count, 0), size)
        self._count = min(self._count + size, lag)
        results = []
        for index, values in enumerate(series):
            total = sequential_total(self._totals[index], values[:first])
            joined = self._histories[index].extend(values)
            start = len(joined) - size + first - lag
            leaving = joined[start : start + size - first]
            totals = interleaved_cumsum(total, values[first:], -leaving)
            self._totals[index] = float(totals[-1])
            results.append(totals[1::2])
        return results, first


class RecursiveSmoother:
    """A first-order recursion ``y = gain * x + decay * y`` seeded from the first values.

    The first ``seed_count`` inputs are summed left to right and divided by ``seed_divisor``; when
    ``emit_seed`` is true that quotient is the output at the last seed input (TA-Lib's EMA, RSI and
    ATR seeding), otherwise it is only the starting state and the recursion produces the next
    output (TA-Lib's ADX sums of directional movement). ``update(x)`` returns ``(y, first)``, ``y``
    the outputs for batch positions ``first, first + 1, ...``.
    """

    def __init__(self, seed_count: int, seed_divisor: float, gain: float, decay: float, emit_seed: bool):
        self.seed_count = seed_count
        self.seed_divisor = seed_divisor
        self.emit_seed = emit_seed
        self._b = np.array([gain])
        self._a = np.array([1.0, -decay])
        self._decay = decay
        self._seed = 0.0
        self._count = 0
        self._zi = np.zeros(1)

    def update(self, x: np.ndarray) -> tuple[np.ndarray, int]:
        head = EMPTY
        rest = x
        first = 0
        if self._count < self.seed_count:
            taken = min(self.seed_count - self._count, len(x))
            self._seed = sequential_total(self._seed, x[:taken])
            self._count += taken
            if self._count < self.seed_count:
                return EMPTY, len(x)
            start = self._seed / self.seed_divisor
            self._zi = np.array([start * self._decay])
            rest = x[taken:]
            if self.emit_seed:
                head = np.array([start])
                first = taken - 1
            else:
                first = taken
        if len(rest) == 0:
            return head, first
        if len(rest) <= SMALL_BATCH:
            y = self._recurse(rest)
        else:
            y, self._zi = lfilter(self._b, self._a, rest, zi=self._zi)
        return (np.concatenate((head, y)) if len(head) else y), first

    def _recurse(self, x: np.ndarray) -> np.ndarray:
        """``lfilter``'s transposed direct form, step for step (same operations, so the same bits)."""
        gain, zero, a1 = float(self._b[0]), 0.0, float(self._a[1])
        z = float(self._zi[0])
        y = []
        for value in x.tolist():
            out = z + gain * value
            z = zero * value - a1 * out
            y.append(out)
        self._zi = np.array([z])
        return np.array(y)


def ema_smoother(period: int) -> RecursiveSmoother:
    """TA-Lib's EMA: seeded by the SMA of the first ``period`` values, ``k = 2 / (period + 1)``."""
    k = 2.0 / (period + 1)
    return RecursiveSmoother(period, period, k, 1.0 - k, emit_seed=True)


def wilder_smoother(period: int) -> RecursiveSmoother:
    """Wilder's smoothing ``y = (y * (n - 1) + x) / n`` seeded by the mean of the first ``n`` values."""
    return RecursiveSmoother(period, period, 1.0 / period, (period - 1) / period, emit_seed=True)


def place(size: int, values: np.ndarray, first: int) -> np.ndarray:
    """A length-``size`` array: NaN before ``first``, then ``values`` (``values`` itself when it fills
    the whole array: the indicators hand over arrays they do not keep)."""
    if first == 0 and len(values) == size and values.dtype == np.float64:
        return values
    out = np.full(size, np.nan)
    out[first:] = values
    return out


def trailing_max(joined: np.ndarray, period: int) -> np.ndarray:
    """Maximum of each complete window of ``period`` values, one per window end."""
    if len(joined) < period:
        return EMPTY
    return maximum_filter1d(joined, period)[period // 2 : len(joined) - (period - 1) // 2]


def trailing_min(joined: np.ndarray, period: int) -> np.ndarray:
    """Minimum of each complete window of ``period`` values, one per window end."""
    if len(joined) < period:
        return EMPTY
    return minimum_filter1d(joined, period)[period // 2 : len(joined) - (period - 1) // 2]


def true_range(high: np.ndarray, low: np.ndarray, previous_close: np.ndarray) -> np.ndarray:
    """TA-Lib's true range: the largest of ``high - low``, ``|prev close - high|``, ``|prev close - low|``."""
    return np.maximum(np.maximum(high - low, np.abs(previous_close - high)), np.abs(previous_close - low))
