"""Incremental metrics for live dashboards: one ``update(ts, equity)`` per bar, O(1) each.

`RunningDrawdown` tracks the peak, the current and the deepest drawdown and the longest time under
water; `RunningMetrics` adds the total return and a running Sharpe ratio and volatility from Welford's
online mean and variance of the per-period excess returns. On the same curve they agree with the batch
functions (`drawdown_series`, `compute_metrics` with the same ``periods_per_year``).

Examples
--------
>>> running = RunningMetrics(periods_per_year=252)
>>> for ts, equity in enumerate([100.0, 102.0, 99.0, 103.0]):
...     snapshot = running.update(ts, equity)
>>> round(snapshot.max_drawdown, 6), round(snapshot.sharpe, 4), snapshot.periods
(-0.029412, 4.5684, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from operators.performance.ratios import per_period_rate
from schemas.errors import ConfigError


class RunningDrawdown:
    """The drawdown of an equity curve, updated one point at a time.

    Attributes
    ----------
    peak, peak_ts
        The highest equity so far and the last time it was reached (NaN / None before any update).
    drawdown
        The current drawdown, ``equity / peak - 1`` (non-positive).
    max_drawdown
        The deepest drawdown so far (non-positive).
    longest_ns
        The longest time under water so far, counting the current drawdown up to the latest update.
    last_ts
        The time of the latest update (None before any).

    Examples
    --------
    >>> dd = RunningDrawdown()
    >>> [round(dd.update(ts, equity), 3) for ts, equity in enumerate([100.0, 80.0, 90.0, 110.0])]
    [0.0, -0.2, -0.1, 0.0]
    >>> round(dd.max_drawdown, 3), dd.longest_ns
    (-0.2, 3)
    """

    def __init__(self) -> None:
        self.peak = math.nan
        self.peak_ts: int | None = None
        self.last_ts: int | None = None
        self.drawdown = 0.0
        self.max_drawdown = 0.0
        self.longest_ns = 0

    def update(self, ts: int, equity: float) -> float:
        """Add the equity at ``ts`` (after the previous update's) and return the current drawdown.

        Raises
        ------
        ConfigError
            If ``ts`` does not increase or ``equity`` is not finite and positive.
        """
        if self.last_ts is not None and ts <= self.last_ts:
            raise ConfigError(f"ts: must increase; {ts} follows {self.last_ts}")
        if not (math.isfinite(equity) and equity > 0):
            raise ConfigError(f"equity: must be finite and positive, was {equity} at ts {ts}")
        self.last_ts = ts
        underwater = self.drawdown < 0.0
        if self.peak_ts is None or equity >= self.peak:
            if underwater:
                self.longest_ns = max(self.longest_ns, ts - self.peak_ts)
            self.peak, self.peak_ts, self.drawdown = equity, ts, 0.0
        else:
            self.drawdown = equity / self.peak - 1.0
            self.max_drawdown = min(self.max_drawdown, self.drawdown)
            self.longest_ns = max(self.longest_ns, ts - self.peak_ts)
        return self.drawdown


@dataclass(frozen=True)
class RunningSnapshot:
    """The running metrics after one update.

    Attributes
    ----------
    ts, equity
        The latest point.
    periods
        Per-period returns seen (updates - 1).
    total_return
        ``equity / first equity - 1``.
    drawdown, max_drawdown
        Current and deepest drawdown (non-positive).
    annual_volatility, sharpe
        Annualised, NaN for fewer than two returns; Sharpe NaN while the excess returns are constant.

    Examples
    --------
    >>> RunningMetrics(periods_per_year=252).update(0, 100.0).total_return
    0.0
    """

    ts: int
    equity: float
    periods: int
    total_return: float
    drawdown: float
    max_drawdown: float
    annual_volatility: float
    sharpe: float


class RunningMetrics:
    """Total return, drawdown and a running Sharpe ratio of an equity curve, one point at a time.

    Parameters
    ----------
    periods_per_year
        Bars per year, for annualising (live data has no history to derive it from).
    risk_free_rate
        Annual risk-free rate, compounded to a per-bar rate as in `MetricsConfig`.

    Examples
    --------
    >>> running = RunningMetrics(periods_per_year=252, risk_free_rate=0.02)
    >>> running.update(0, 100.0).sharpe
    nan
    """

    def __init__(self, periods_per_year: float, risk_free_rate: float = 0.0) -> None:
        if not periods_per_year > 0:
            raise ConfigError(f"periods_per_year: must be positive, was {periods_per_year}")
        if not risk_free_rate > -1:
            raise ConfigError(f"risk_free_rate: must be greater than -1, was {risk_free_rate}")
        self.periods_per_year = periods_per_year
        self.risk_free_rate = risk_free_rate
        self._risk_free = per_period_rate(risk_free_rate, periods_per_year)
        self._drawdown = RunningDrawdown()
        self._first = math.nan
        self._last = math.nan
        self._count = 0
        self._mean = 0.0
        self._m2 = 0.0

    def update(self, ts: int, equity: float) -> RunningSnapshot:
        """Add the equity at ``ts`` and return the metrics so far.

        Raises
        ------
        ConfigError
            If ``ts`` does not increase or ``equity`` is not finite and positive.
        """
        drawdown = self._drawdown.update(ts, equity)
        if math.isnan(self._first):
            self._first = equity
        else:
            self._add(equity / self._last - 1.0 - self._risk_free)
        self._last = equity
        volatility = sharpe = math.nan
        if self._count >= 2:
            std = math.sqrt(self._m2 / (self._count - 1))
            volatility = std * math.sqrt(self.periods_per_year)
            if self._m2 > 0.0:
                sharpe = self._mean / std * math.sqrt(self.periods_per_year)
        return RunningSnapshot(
            ts=ts,
            equity=equity,
            periods=self._count,
            total_return=equity / self._first - 1.0,
            drawdown=drawdown,
            max_drawdown=self._drawdown.max_drawdown,
            annual_volatility=volatility,
            sharpe=sharpe,
        )

    def _add(self, excess: float) -> None:
        self._count += 1
        delta = excess - self._mean
        self._mean += delta / self._count
        self._m2 += delta * (excess - self._mean)
