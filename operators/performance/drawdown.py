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

from operators.performance.series import curve_arrays


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
    _, values = curve_arrays(equity)
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


def drawdown_stats(timestamps: np.ndarray, values: np.ndarray) -> DrawdownStats:
    """Return the `DrawdownStats` of positive ``values`` at increasing ``timestamps`` (int ns)."""
    peaks = np.maximum.accumulate(values)
    series = values / peaks - 1.0
    trough = int(np.argmin(series))
    if series[trough] >= 0.0:
        return DrawdownStats(0.0, None, None, None, 0)
    at_peak = values >= peaks
    positions = np.arange(len(values))
    peak = int(np.flatnonzero(at_peak[: trough + 1])[-1])
    recovered = np.flatnonzero(at_peak[trough:])
    recovery_ts = int(timestamps[trough + recovered[0]]) if len(recovered) else None
    last_peak = np.maximum.accumulate(np.where(at_peak, positions, 0))
    next_peak = np.minimum.accumulate(np.where(at_peak, positions, len(values) - 1)[::-1])[::-1]
    longest = int(np.max(timestamps[next_peak] - timestamps[last_peak]))
    return DrawdownStats(
        max_drawdown=float(series[trough]),
        peak_ts=int(timestamps[peak]),
        trough_ts=int(timestamps[trough]),
        recovery_ts=recovery_ts,
        longest_ns=longest,
    )
