"""`BenchmarkRelation`: rolling correlation with, and relative strength against, a benchmark."""

from __future__ import annotations

import math
from collections import deque


class BenchmarkRelation:
    """Rolling Pearson correlation and relative strength of an asset's returns against a benchmark's.

    Feed *synchronous* return pairs (both returns over the same bar); the relative strength is the
    asset's cumulative log return minus the benchmark's over the last ``window`` pairs. Both are NaN
    until ``window`` pairs exist; the correlation is NaN while either side is constant.

    Parameters
    ----------
    window
        Number of return pairs in the window (at least 2).

    Examples
    --------
    >>> relation = BenchmarkRelation(3)
    >>> for asset, bench in [(0.01, 0.02), (0.02, 0.03), (-0.01, -0.02)]:
    ...     relation.push(asset, bench)
    >>> round(relation.correlation(), 6), round(relation.relative_strength(), 6)
    (0.989743, -0.01)
    """

    def __init__(self, window: int = 60):
        if window < 2:
            raise ValueError(f"window must be at least 2; was {window}")
        self.window = window
        self._asset: deque[float] = deque(maxlen=window)
        self._bench: deque[float] = deque(maxlen=window)

    def push(self, asset_return: float, benchmark_return: float) -> None:
        """Add one synchronous pair of returns."""
        self._asset.append(asset_return)
        self._bench.append(benchmark_return)

    def correlation(self) -> float:
        """Pearson correlation of the window's pairs (NaN while warming up or constant)."""
        if len(self._asset) < self.window:
            return math.nan
        n = self.window
        mean_a, mean_b = math.fsum(self._asset) / n, math.fsum(self._bench) / n
        da = [a - mean_a for a in self._asset]
        db = [b - mean_b for b in self._bench]
        sa, sb = math.fsum(d * d for d in da), math.fsum(d * d for d in db)
        if not (sa > 0 and sb > 0):
            return math.nan
        return math.fsum(x * y for x, y in zip(da, db, strict=True)) / math.sqrt(sa * sb)

    def relative_strength(self) -> float:
        """Cumulative asset log return minus the benchmark's over the window (NaN while warming up)."""
        if len(self._asset) < self.window:
            return math.nan
        return math.fsum(self._asset) - math.fsum(self._bench)
