"""`compute_metrics`: the performance of a run from its equity curve, benchmark and fills.

The equity curve is sampled per bar (intraday or daily) on ``ts_event`` (int ns UTC); per-period
returns are simple returns between consecutive samples, annualised with the bars per year derived
from their spacing (see `operators.performance.calendar`) unless the config overrides it.

Sign conventions: drawdowns are non-positive fractions of the peak; VaR and CVaR are losses as
positive fractions; ``average_loss`` is negative.

Degenerate inputs give NaN (undefined) or 0 and never warn: one point has no returns (total return
0, annualised and per-period figures NaN); a flat curve has zero volatility (Sharpe NaN, and Sortino
NaN too unless a positive risk-free rate makes every period a shortfall); a curve without drawdown has
Calmar NaN and no drawdown dates; no round trips give NaN trade statistics; no fills give zero
turnover and exposure; no benchmark or a constant one gives NaN alpha and beta. Annualised figures
too large for a float (a short, steep intraday curve) are infinite.

Examples
--------
>>> import pandas as pd
>>> day = 86_400_000_000_000
>>> equity = pd.Series([100.0, 102.0, 101.0, 104.0, 103.0, 107.0], index=[d * day for d in range(6)])
>>> m = compute_metrics(equity, config=MetricsConfig(periods_per_year=252))
>>> round(m.total_return, 4), round(m.max_drawdown, 4), m.periods
(0.07, -0.0098, 5)
>>> print(m.to_frame().loc[["Sharpe ratio", "Max drawdown", "VaR 95%"]])
               value
Sharpe ratio   9.757
Max drawdown  -0.98%
VaR 95%        0.98%
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from operators.performance.calendar import bars_per_year
from operators.performance.config import MetricsConfig
from operators.performance.drawdown import drawdown_stats
from operators.performance.ratios import (
    annual_return,
    calmar_ratio,
    per_period_rate,
    returns_with_sums,
    risk_ratios,
)
from operators.performance.regression import alpha_beta
from operators.performance.series import CurveLike, aligned_benchmark, curve_arrays, simple_returns
from operators.performance.tail import tail_risks
from operators.performance.trades import Fills, annual_turnover, exposure, match_fills, trade_stats


def _about(label: str, kind: str) -> Any:
    return field(metadata={"label": label, "kind": kind})


@dataclass(frozen=True)
class Metrics:
    """Performance metrics of one run; every fraction is a plain ratio (0.05 = 5 %).

    Attributes
    ----------
    start_ts, end_ts
        First and last equity timestamps (int ns).
    periods
        Number of per-period returns (samples - 1).
    periods_per_year
        Bars per year used to annualise (derived or overridden; NaN with one sample).
    total_return
        ``last / first - 1``.
    annual_return
        Compound annual growth rate over ``periods / periods_per_year`` years.
    annual_volatility
        Sample standard deviation of returns times ``sqrt(periods_per_year)``.
    sharpe, sortino
        Annualised; excess over the per-period risk-free rate (Sortino's target).
    calmar
        ``annual_return / -max_drawdown``.
    max_drawdown
        The deepest drawdown, non-positive.
    max_drawdown_duration_ns
        The longest time under water, peak to recovery (or to ``end_ts`` if not recovered).
    max_drawdown_peak_ts, max_drawdown_trough_ts, max_drawdown_recovery_ts
        Dates of the deepest drawdown; recovery None if not recovered, all None without drawdown.
    var_95, cvar_95, var_99, cvar_99
        Historical VaR/CVaR of per-period returns, losses positive (see `operators.performance.tail`).
    alpha, beta
        OLS of excess returns on the benchmark's excess returns; alpha annualised by compounding.
    round_trips, win_rate, profit_factor, average_win, average_loss
        FIFO round-trip statistics, P&L net of commission (see `operators.performance.trades`).
    turnover
        Traded notional over average equity, annualised (1.0 = the average equity traded once a year).
    exposure
        Share of periods that start with a position open.
    fills
        Number of fills.

    Examples
    --------
    >>> m = compute_metrics(pd.Series([100.0, 110.0], index=[0, 86_400_000_000_000]))
    >>> m.to_dict()["total_return"] == m.total_return
    True
    """

    start_ts: int = _about("Start", "ts")
    end_ts: int = _about("End", "ts")
    periods: int = _about("Periods", "count")
    periods_per_year: float = _about("Periods per year", "number")
    total_return: float = _about("Total return", "percent")
    annual_return: float = _about("Annual return (CAGR)", "percent")
    annual_volatility: float = _about("Annual volatility", "percent")
    sharpe: float = _about("Sharpe ratio", "ratio")
    sortino: float = _about("Sortino ratio", "ratio")
    calmar: float = _about("Calmar ratio", "ratio")
    max_drawdown: float = _about("Max drawdown", "percent")
    max_drawdown_duration_ns: int = _about("Longest drawdown", "duration")
    max_drawdown_peak_ts: int | None = _about("Max drawdown peak", "ts")
    max_drawdown_trough_ts: int | None = _about("Max drawdown trough", "ts")
    max_drawdown_recovery_ts: int | None = _about("Max drawdown recovery", "ts")
    var_95: float = _about("VaR 95%", "percent")
    cvar_95: float = _about("CVaR 95%", "percent")
    var_99: float = _about("VaR 99%", "percent")
    cvar_99: float = _about("CVaR 99%", "percent")
    alpha: float = _about("Alpha (annual)", "percent")
    beta: float = _about("Beta", "ratio")
    round_trips: int = _about("Round trips", "count")
    win_rate: float = _about("Win rate", "percent")
    profit_factor: float = _about("Profit factor", "ratio")
    average_win: float = _about("Average win", "money")
    average_loss: float = _about("Average loss", "money")
    turnover: float = _about("Turnover (annual)", "ratio")
    exposure: float = _about("Exposure", "percent")
    fills: int = _about("Fills", "count")

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as a ``{field: value}`` dict of plain Python numbers (and None)."""
        return dataclasses.asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """Return a one-column table of formatted values, indexed by readable labels."""
        rows = {
            f.metadata["label"]: _format(getattr(self, f.name), f.metadata["kind"])
            for f in dataclasses.fields(self)
        }
        return pd.DataFrame({"value": pd.Series(rows)})

    def __str__(self) -> str:
        return self.to_frame().to_string()


def _format(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "ts":
        return pd.Timestamp(value, unit="ns", tz="UTC").isoformat()
    if kind == "duration":
        return str(pd.Timedelta(value, unit="ns"))
    return _FORMATS[kind].format(value)


_FORMATS = {"count": "{}", "percent": "{:.2%}", "ratio": "{:.3f}", "money": "{:,.2f}", "number": "{:,.2f}"}


def compute_metrics(
    equity: CurveLike,
    *,
    benchmark: CurveLike | None = None,
    fills: Fills | None = None,
    config: MetricsConfig | None = None,
) -> Metrics:
    """Return the `Metrics` of an equity curve, optionally against a benchmark and with its fills.

    Parameters
    ----------
    equity
        Account equity per bar, positive, on strictly increasing ``ts_event`` (int ns UTC): a Series
        indexed by ``ts_event``, or a pair ``(timestamps, values)`` of arrays.
    benchmark
        Benchmark prices on exactly the same timestamps, for alpha and beta; a Series or a pair.
    fills
        The run's fills (columns ``ts_event, instrument, side, quantity, price, commission``): a
        DataFrame, or a mapping of column name to array; for the text, NumPy ``str`` or object arrays
        or pandas arrays such as ``pd.Categorical`` (see `operators.performance.trades`).
    config
        Annualisation and risk-free rate; defaults to `MetricsConfig()` (equities calendar, rf 0).

    Raises
    ------
    ConfigError
        If an input is malformed: non-increasing timestamps, a non-positive or non-finite value, a
        benchmark on other timestamps, a missing fill column. The message names the input.

    Examples
    --------
    >>> minute = 60_000_000_000
    >>> equity = pd.Series([1e6, 1.001e6, 0.999e6, 1.002e6], index=[i * minute for i in range(4)])
    >>> m = compute_metrics(equity, config=MetricsConfig(calendar="crypto"))
    >>> m.periods_per_year, round(m.var_95, 6), m.round_trips
    (525600.0, 0.001698, 0)

    The same curve and a round trip as plain arrays:

    >>> fills = {
    ...     "ts_event": np.array([0, 2 * minute]), "instrument": np.array(["BTC", "BTC"]),
    ...     "side": np.array(["BUY", "SELL"]), "quantity": np.array([1.0, 1.0]),
    ...     "price": np.array([100.0, 99.0]), "commission": np.array([0.1, 0.1]),
    ... }
    >>> pair = (equity.index.to_numpy(), equity.to_numpy())
    >>> m = compute_metrics(pair, fills=fills, config=MetricsConfig(calendar="crypto"))
    >>> round(m.var_95, 6), m.round_trips, round(m.average_loss, 2), m.exposure
    (0.001698, 1, -1.2, 0.6666666666666666)
    """
    config = config or MetricsConfig()
    curve = curve_arrays(equity)
    timestamps, values = curve.timestamps, curve.values
    prices = None if benchmark is None else aligned_benchmark(benchmark, timestamps)
    # the fills first: their temporaries are freed by the time the full-length returns need memory
    matched = match_fills(fills)
    trades = trade_stats(matched.pnl)
    held = exposure(matched, timestamps, curve.spacing.regular_step)
    ppy = config.periods_per_year or bars_per_year(curve.spacing.median, config.calendar)
    turnover = annual_turnover(matched.notional, float(np.mean(values)), len(values) - 1, ppy)
    rf = per_period_rate(config.risk_free_rate, ppy) if len(values) > 1 else 0.0
    returns, sums = returns_with_sums(values, rf, curve.extremes)
    drawdown = drawdown_stats(timestamps, values, curve.extremes)
    growth = annual_return(returns, ppy, sums)
    risk = risk_ratios(returns, ppy, rf, sums)
    alpha, beta = (float("nan"), float("nan"))
    if prices is not None:
        alpha, beta = alpha_beta(returns, simple_returns(prices), ppy, rf)
    # the last use of the returns: they are sorted in place, and computed again for the second level
    (var_95, cvar_95), (var_99, cvar_99) = tail_risks(
        returns, (0.95, 0.99), lambda partly_sorted: simple_returns(values, out=partly_sorted)
    )
    return Metrics(
        start_ts=int(timestamps[0]),
        end_ts=int(timestamps[-1]),
        periods=len(returns),
        periods_per_year=float(ppy),
        total_return=float(values[-1] / values[0] - 1.0),
        annual_return=growth,
        annual_volatility=risk.annual_volatility,
        sharpe=risk.sharpe,
        sortino=risk.sortino,
        calmar=calmar_ratio(growth, drawdown.max_drawdown),
        max_drawdown=drawdown.max_drawdown,
        max_drawdown_duration_ns=drawdown.longest_ns,
        max_drawdown_peak_ts=drawdown.peak_ts,
        max_drawdown_trough_ts=drawdown.trough_ts,
        max_drawdown_recovery_ts=drawdown.recovery_ts,
        var_95=var_95,
        cvar_95=cvar_95,
        var_99=var_99,
        cvar_99=cvar_99,
        alpha=alpha,
        beta=beta,
        round_trips=trades.count,
        win_rate=trades.win_rate,
        profit_factor=trades.profit_factor,
        average_win=trades.average_win,
        average_loss=trades.average_loss,
        turnover=turnover,
        exposure=held,
        fills=len(matched.fill_ts),
    )
