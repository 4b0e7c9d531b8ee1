"""Drawdowns of an equity curve: the series, the deepest one and the longest time under water.

Drawdowns are non-positive fractions of the running peak: -0.25 means 25 % below the highest equity
seen so far, and the maximum drawdown is the most negative value of the series.

Examples
--------
>>> import pandas as pd
>>> equity = pd.Series([100.0, 120.0, 90.0, 130.0], index=[1, 2, 3, 4])
>>> drawdown_series(equity).tolist()
[0.0, 0.0, -0.25, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from operators.performance.blocks import EXTREMES_BLOCK, BlockExtremes, block_extremes
from operators.performance.series import curve_arrays

# Points per block of `drawdown_stats`.
BLOCK = EXTREMES_BLOCK


def drawdown_series(equity: pd.Series) -> pd.Series:
    """Return ``equity / running peak - 1`` (zero at new highs, negative below), on the same index.

    Raises
    ------
    ConfigError
        If ``equity`` is not a valid curve (see `operators.performance.series.curve_arrays`).

    Examples
    --------
    >>> drawdown_series(pd.Series([10.0, 8.0, 9.0], index=[0, 1, 2])).round(3).tolist()
    [0.0, -0.2, -0.1]
    """
    values = curve_arrays(equity).values
    return pd.Series(drawdowns(values), index=equity.index, name="drawdown")


def drawdowns(values: np.ndarray) -> np.ndarray:
    """Return the drawdown of each value of a positive array from its running peak."""
    return values / np.maximum.accumulate(values) - 1.0


@dataclass(frozen=True)
class DrawdownStats:
    """The deepest drawdown and the longest time under water of a curve.

    Attributes
    ----------
    max_drawdown
        The most negative drawdown (0.0 if the curve never falls below a previous peak).
    peak_ts, trough_ts, recovery_ts
        For the deepest drawdown: the last time at the peak before it, the time of its low, and the
        first time back at or above the peak (None if it never recovers). All None without drawdown.
    longest_ns
        The longest time under water: from a peak to its recovery, or to the curve's last timestamp
        for a drawdown that has not recovered. 0 without drawdown.

    Examples
    --------
    >>> stats = drawdown_stats(np.array([1, 2, 3, 4]), np.array([100.0, 120.0, 90.0, 130.0]))
    >>> stats.max_drawdown, stats.peak_ts, stats.trough_ts, stats.recovery_ts, stats.longest_ns
    (-0.25, 2, 3, 4, 2)
    """

    max_drawdown: float
    peak_ts: int | None
    trough_ts: int | None
    recovery_ts: int | None
    longest_ns: int


def drawdown_stats(
    timestamps: np.ndarray, values: np.ndarray, extremes: BlockExtremes | None = None
) -> DrawdownStats:
    """Return the `DrawdownStats` of positive ``values`` at increasing ``timestamps`` (int ns).

    The curve is read in blocks of `BLOCK` points, from their extremes (``extremes`` if they are of
    such blocks, as `operators.performance.series.curve_arrays` gives them). A block whose highest value
    stays below the peak before it is under water throughout: its peak is that earlier peak and its
    deepest drawdown is at its lowest value. Only the blocks that reach a new high, few on most curves,
    are followed point by point. The results are those of ``values / np.maximum.accumulate(values) -
    1``, to the last bit.
    """
    if extremes is None or extremes.size != BLOCK:
        extremes = block_extremes(values, BLOCK)
    starts = np.arange(0, len(values), BLOCK)
    highs = extremes.highs
    peak_before = np.concatenate(([-np.inf], np.maximum.accumulate(highs)[:-1]))
    rising = highs >= peak_before
    # the running peak through the rising blocks alone is the curve's: the others set no new high
    rising_values = _values_in(values, rising)
    peaks = np.maximum.accumulate(rising_values)
    first_rows = starts[rising]  # the i-th rising value is at row first_rows[i // BLOCK] + i % BLOCK
    trough, deepest = _trough(
        values, starts, extremes.lows, peak_before, rising, first_rows, rising_values / peaks - 1.0
    )
    if deepest >= 0.0:
        return DrawdownStats(0.0, None, None, None, 0)
    at_peak = np.flatnonzero(rising_values >= peaks)
    peak_rows = first_rows[at_peak // BLOCK] + at_peak % BLOCK
    before = int(np.searchsorted(peak_rows, trough))  # the peaks up to the trough (never at it)
    recovery_ts = int(timestamps[peak_rows[before]]) if before < len(peak_rows) else None
    # under water: from a peak to the next one with points below in between, or to the end
    peak_ts = timestamps[peak_rows]
    recovered = np.diff(peak_ts)[np.diff(peak_rows) > 1]
    longest = max(int(recovered.max(initial=0)), int(timestamps[-1] - peak_ts[-1]))
    return DrawdownStats(
        max_drawdown=deepest,
        peak_ts=int(peak_ts[before - 1]),
        trough_ts=int(timestamps[trough]),
        recovery_ts=recovery_ts,
        longest_ns=longest,
    )


def _values_in(values: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """Return the values of the chosen ``blocks`` (a mask over the blocks), in order."""
    if blocks.all():
        return values
    whole = len(values) // BLOCK
    chosen = np.flatnonzero(blocks)
    full = chosen[chosen < whole]
    parts = [values[: whole * BLOCK].reshape(whole, BLOCK)[full].ravel()]
    if len(full) < len(chosen):  # and the last, partial block
        parts.append(values[whole * BLOCK :])
    return np.concatenate(parts)


def _trough(
    values: np.ndarray,
    starts: np.ndarray,
    lows: np.ndarray,
    peak_before: np.ndarray,
    rising: np.ndarray,
    first_rows: np.ndarray,
    rising_drawdowns: np.ndarray,
) -> tuple[int, float]:
    """Return the first row of the deepest drawdown and its depth (see `drawdown_stats`)."""
    i = int(np.argmin(rising_drawdowns))
    row, depth = int(first_rows[i // BLOCK] + i % BLOCK), float(rising_drawdowns[i])
    # the deepest drawdown of a block under water throughout is at its lowest value (x / peak - 1
    # rounds monotonically); the first point of it is found in that block alone
    under_water = np.where(rising, np.inf, lows / peak_before - 1.0)
    block = int(np.argmin(under_water))
    if under_water[block] < depth or (under_water[block] == depth and starts[block] < row):
        start = int(starts[block])
        drawdowns_in_block = values[start : start + BLOCK] / peak_before[block] - 1.0
        return start + int(np.argmin(drawdowns_in_block)), float(under_water[block])
    return row, depth
