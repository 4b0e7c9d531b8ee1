"""Pure DataFrame transforms behind the pages: drawdown, daily P&L, VaR, limits, gaps, lateness.

Inputs are the frames `dashboards.data` returns (int-ns times); nothing here reads the store or
draws. Statistics reuse `operators.performance` so the dashboard shows the numbers a backtest
reports.

Examples
--------
>>> import pandas as pd
>>> day = 86_400_000_000_000
>>> curve = pd.Series([100.0, 110.0, 99.0], index=[0, day, 2 * day])
>>> drawdown(curve).round(2).tolist()
[0.0, 0.0, -0.1]
>>> daily_pnl(curve).tolist()
[0.0, 10.0, -11.0]
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from operators.indicators import INDICATORS, make
from operators.performance import Metrics
from operators.performance.drawdown import drawdown_series
from operators.performance.tail import conditional_value_at_risk, value_at_risk

#: Key metrics shown as tiles and compared across runs (``runs`` table columns / `Metrics` fields).
KEY_METRICS = (
    "total_return",
    "annual_return",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "win_rate",
    "round_trips",
    "fills",
)
#: Indicators drawn on the price axis; every other one gets a panel of its own.
PRICE_INDICATORS = ("sma", "ema", "wma", "dema", "tema", "kama", "bbands", "vwap")
_ABOUT = {f.name: (f.metadata["label"], f.metadata["kind"]) for f in dataclasses.fields(Metrics)}
_FORMATS = {
    "count": "{:,.0f}",
    "percent": "{:.2%}",
    "ratio": "{:.3f}",
    "money": "{:,.2f}",
    "number": "{:,.2f}",
}


def to_datetime(ns: pd.Series | pd.Index | np.ndarray) -> pd.DatetimeIndex:
    """Return int-ns UTC times as a timezone-aware DatetimeIndex.

    Examples
    --------
    >>> to_datetime(pd.Series([0]))[0].isoformat()
    '1970-01-01T00:00:00+00:00'
    """
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(ns, dtype="int64"), unit="ns", utc=True))


def metric_label(name: str) -> str:
    """Return the readable label of a metric (`Metrics`' own label, else the name).

    Examples
    --------
    >>> metric_label("sharpe"), metric_label("custom_score")
    ('Sharpe ratio', 'custom_score')
    """
    return _ABOUT.get(name, (name, "number"))[0]


def format_metric(name: str, value: Any) -> str:
    """Return ``value`` formatted as the metric ``name`` is (percent, ratio, count…); n/a when missing.

    Examples
    --------
    >>> format_metric("total_return", 0.0123), format_metric("sharpe", 1.23456), format_metric("fills", 530)
    ('1.23%', '1.235', '530')
    >>> format_metric("calmar", float("nan"))
    'n/a'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    kind = _ABOUT.get(name, (name, "number"))[1]
    return _FORMATS.get(kind, "{}").format(value)


def drawdown(equity: pd.Series) -> pd.Series:
    """Return the drawdown of an equity curve from its running peak (0 at highs, negative below)."""
    if equity.empty:
        return equity.rename("drawdown")
    return drawdown_series(equity)


def daily_pnl(equity: pd.Series) -> pd.Series:
    """Return the change of the last equity of each UTC day, indexed by date (the first day: vs its open).

    ``equity`` is indexed by int-ns ``ts_event``.
    """
    if equity.empty:
        return pd.Series([], dtype=float, name="pnl")
    days = to_datetime(equity.index).normalize()
    closes = pd.Series(equity.to_numpy(), index=days).groupby(level=0).last()
    previous = closes.shift(1)
    previous.iloc[0] = equity.iloc[0]
    pnl = closes - previous
    pnl.index = pnl.index.date
    return pnl.rename("pnl")


def returns(equity: pd.Series, frequency: str) -> np.ndarray:
    """Return simple returns of an equity curve per bar (``"period"``) or per UTC day (``"daily"``).

    Examples
    --------
    >>> returns(pd.Series([100.0, 110.0, 99.0]), "period").round(3).tolist()
    [0.1, -0.1]
    """
    if frequency not in ("period", "daily"):
        raise ValueError(f"frequency must be 'period' or 'daily', was {frequency!r}")
    values = equity.to_numpy(dtype=float)
    if frequency == "daily" and len(values):
        days = to_datetime(equity.index).normalize()
        closes = pd.Series(values, index=days).groupby(level=0).last().to_numpy()
        values = np.concatenate([values[:1], closes])
    return values[1:] / values[:-1] - 1.0 if len(values) > 1 else np.array([], dtype=float)


def value_at_risk_table(period_returns: np.ndarray, levels: tuple[float, ...] = (0.95, 0.99)) -> pd.DataFrame:
    """Return historical VaR and CVaR (losses positive, fractions) at each confidence level.

    Examples
    --------
    >>> value_at_risk_table(np.array([-0.05, -0.01, 0.0, 0.02, 0.03]), (0.95,)).round(3)
           VaR  CVaR
    95%  0.042  0.05
    """
    rows = {
        f"{level:.0%}": (
            value_at_risk(period_returns, level),
            conditional_value_at_risk(period_returns, level),
        )
        for level in levels
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=["VaR", "CVaR"])


def exposure(positions: pd.DataFrame) -> pd.DataFrame:
    """Return the market value of each open position: ``quantity * avg_price + unrealized_pnl``.

    Grouped by instrument across strategies; rows with no position are left out.

    Examples
    --------
    >>> frame = pd.DataFrame({"instrument": ["A", "B"], "quantity": [10.0, 0.0],
    ...                       "avg_price": [5.0, 0.0], "unrealized_pnl": [2.0, 0.0]})
    >>> exposure(frame)
      instrument  quantity  market_value
    0          A      10.0          52.0
    """
    if positions.empty:
        return pd.DataFrame(columns=["instrument", "quantity", "market_value"])
    frame = positions.assign(
        market_value=positions["quantity"] * positions["avg_price"] + positions["unrealized_pnl"]
    )
    frame = frame.groupby("instrument", as_index=False)[["quantity", "market_value"]].sum()
    return frame[frame["quantity"] != 0].reset_index(drop=True)


def limit_usage(
    config_json: str | None, positions: pd.DataFrame, curve: pd.DataFrame, orders_notional: float | None
) -> pd.DataFrame:
    """Return each configured risk limit with the current value and the share of it in use.

    ``config_json`` is the run's `RunConfig` as JSON (its ``risk`` section holds the limits);
    ``curve`` the equity frame (``equity``, ``gross_exposure``); ``orders_notional`` the largest
    order notional seen. Limits switched off (null) are left out.

    Examples
    --------
    >>> config = '{"risk": {"max_position": 100, "max_drawdown": 0.2, "max_gross_exposure": null}}'
    >>> positions = pd.DataFrame({"instrument": ["A"], "quantity": [-50.0]})
    >>> curve = pd.DataFrame({"equity": [100.0, 90.0], "gross_exposure": [0.0, 10.0]})
    >>> limit_usage(config, positions, curve, None)[["limit", "configured", "current", "usage"]]
              limit  configured  current  usage
    0  max_position       100.0     50.0    0.5
    1  max_drawdown         0.2      0.1    0.5
    """
    risk = (json.loads(config_json) if config_json else {}).get("risk") or {}
    rows: list[tuple[str, str, float, float]] = []
    held = positions.assign(size=positions["quantity"].abs()) if len(positions) else None
    if risk.get("max_position") is not None:
        overridden = set(risk.get("max_position_by_instrument") or {})
        current = 0.0 if held is None else held.loc[~held["instrument"].isin(overridden), "size"].max()
        rows.append(("max_position", "all instruments", risk["max_position"], current))
    for instrument, limit in (risk.get("max_position_by_instrument") or {}).items():
        current = 0.0 if held is None else held.loc[held["instrument"] == instrument, "size"].sum()
        rows.append(("max_position", instrument, limit, current))
    if risk.get("max_order_notional") is not None:
        rows.append(("max_order_notional", "largest order", risk["max_order_notional"], orders_notional))
    if risk.get("max_gross_exposure") is not None:
        current = float(curve["gross_exposure"].iloc[-1]) if len(curve) else 0.0
        rows.append(("max_gross_exposure", "now", risk["max_gross_exposure"], current))
    if risk.get("max_drawdown") is not None:
        current = -float(drawdown(curve["equity"]).iloc[-1]) if len(curve) else 0.0
        rows.append(("max_drawdown", "now", risk["max_drawdown"], current))
    frame = pd.DataFrame(rows, columns=["limit", "scope", "configured", "current"])
    frame["configured"] = frame["configured"].astype(float)
    frame["current"] = frame["current"].astype(float).fillna(0.0)
    return frame.assign(usage=frame["current"] / frame["configured"])


def kill_switch(alerts: pd.DataFrame) -> pd.DataFrame:
    """Return the trading mode per scope from the latest HALT / REDUCE_ONLY / RESUME alert.

    A ``max_drawdown`` alert (the kill switch) or a HALT control halts its strategy until a RESUME.
    Scopes without such an alert are not listed (they were never halted).

    Examples
    --------
    >>> alerts = pd.DataFrame({"strategy_id": ["s", "s"], "rule": ["max_drawdown", "control"],
    ...     "action": ["HALT", "RESUME"], "message": ["dd", "ok"], "ts_event": [1, 2]})
    >>> kill_switch(alerts)[["scope", "state", "rule"]]
      scope   state     rule
    0     s  ACTIVE  control
    >>> kill_switch(alerts.iloc[:1])["state"].tolist()
    ['HALTED']
    """
    columns = ["scope", "state", "rule", "message", "ts_event"]
    if alerts.empty:
        return pd.DataFrame(columns=columns)
    modes = alerts[alerts["action"].isin(["HALT", "REDUCE_ONLY", "RESUME"])]
    modes = modes.assign(scope=modes["strategy_id"].fillna("all strategies").replace("", "all strategies"))
    latest = modes.sort_values("ts_event", kind="stable").groupby("scope", as_index=False).last()
    states = {"HALT": "HALTED", "REDUCE_ONLY": "REDUCE ONLY", "RESUME": "ACTIVE"}
    return latest.assign(state=latest["action"].map(states))[columns]


def bar_gaps(times: pd.DataFrame, session_break_ns: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (summary per instrument, list of gaps) of missing bar intervals.

    ``times`` has ``instrument, interval_ns, ts_event``. Consecutive bars further apart than one
    interval miss ``delta / interval - 1`` bars, unless they are ``session_break_ns`` or more apart
    (a market closure, not a gap).

    Examples
    --------
    >>> m = 60_000_000_000
    >>> times = pd.DataFrame({"instrument": "A", "interval_ns": m, "ts_event": [0, m, 4 * m, 100 * m]})
    >>> summary, gaps = bar_gaps(times, session_break_ns=60 * m)
    >>> summary[["instrument", "bars", "missing"]].to_dict("records")
    [{'instrument': 'A', 'bars': 4, 'missing': 2}]
    >>> gaps[["after_ts", "missing"]].to_dict("records")
    [{'after_ts': 60000000000, 'missing': 2}]
    """
    summary_columns = ["instrument", "interval_ns", "bars", "first_ts", "last_ts", "gaps", "missing"]
    gap_columns = ["instrument", "interval_ns", "after_ts", "before_ts", "missing"]
    if times.empty:
        return pd.DataFrame(columns=summary_columns), pd.DataFrame(columns=gap_columns)
    summaries, gap_frames = [], []
    for (instrument, interval), group in times.groupby(["instrument", "interval_ns"], sort=True):
        ts = np.sort(group["ts_event"].to_numpy(dtype="int64"))
        delta = np.diff(ts)
        is_gap = (delta > interval) & (delta < session_break_ns)
        missing = delta[is_gap] // interval - 1
        gap_frames.append(
            pd.DataFrame(
                {
                    "instrument": instrument,
                    "interval_ns": interval,
                    "after_ts": ts[:-1][is_gap],
                    "before_ts": ts[1:][is_gap],
                    "missing": missing,
                }
            )
        )
        summaries.append(
            (instrument, interval, len(ts), ts[0], ts[-1], int(is_gap.sum()), int(missing.sum()))
        )
    gaps = pd.concat(gap_frames, ignore_index=True)
    return pd.DataFrame(summaries, columns=summary_columns), gaps[gap_columns]


def latency_summary(latency_ns: pd.Series) -> pd.DataFrame:
    """Return count, p50, p95, p99 and max of ``ts_init - ts_event`` in milliseconds.

    Examples
    --------
    >>> latency_summary(pd.Series([1_000_000, 2_000_000, 3_000_000]))[["count", "p50_ms", "max_ms"]]
       count  p50_ms  max_ms
    0      3     2.0     3.0
    """
    ms = latency_ns.to_numpy(dtype=float) / 1e6
    if len(ms) == 0:
        return pd.DataFrame(columns=["count", "p50_ms", "p95_ms", "p99_ms", "max_ms"])
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return pd.DataFrame([{"count": len(ms), "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "max_ms": ms.max()}])


def run_parameters(runs: pd.DataFrame) -> pd.DataFrame:
    """Return one row per run: ``run_id``, ``strategy``, each parameter of ``params_json`` as a column.

    Examples
    --------
    >>> runs = pd.DataFrame({"run_id": ["a", "b"], "strategy": ["ema", "ema"],
    ...                      "params_json": ['{"fast": 5}', '{"fast": 10, "kind": "sma"}']})
    >>> run_parameters(runs)
      run_id strategy  fast kind
    0      a      ema     5  NaN
    1      b      ema    10  sma
    """
    params = pd.DataFrame([json.loads(text or "{}") for text in runs["params_json"]], index=runs.index)
    return pd.concat([runs[["run_id", "strategy"]], params], axis=1)


def indicator_parameters(name: str) -> dict[str, int | float]:
    """Return the numeric parameters of indicator ``name`` with their defaults (field names left out).

    Examples
    --------
    >>> indicator_parameters("macd"), indicator_parameters("bbands")
    ({'fast': 12, 'slow': 26, 'signal': 9}, {'period': 20, 'num_std': 2.0})
    """
    signature = inspect.signature(INDICATORS[name])
    return {
        key: parameter.default
        for key, parameter in signature.parameters.items()
        if isinstance(parameter.default, int | float) and not isinstance(parameter.default, bool)
    }


def indicator_lines(bars: pd.DataFrame, name: str, **params: int | float) -> dict[str, pd.Series]:
    """Return the lines of indicator ``name`` over ``bars`` (one per output), on the bars' index.

    Computed with `operators.indicators` over the whole frame, so the first ``warmup - 1`` values
    are NaN as in TA-Lib.

    Examples
    --------
    >>> bars = pd.DataFrame({"close": [1.0, 2.0, 3.0, 4.0]})
    >>> {k: v.tolist() for k, v in indicator_lines(bars, "sma", period=2).items()}
    {'sma(2)': [nan, 1.5, 2.5, 3.5]}
    >>> list(indicator_lines(bars, "bbands", period=2, num_std=2.0))
    ['bbands(2, 2.0).upper', 'bbands(2, 2.0).middle', 'bbands(2, 2.0).lower']
    """
    indicator = make(name, **params)
    output = indicator.update(**{field: bars[field].to_numpy(dtype=float) for field in indicator.inputs})
    label = f"{name}({', '.join(str(value) for value in params.values())})"
    if isinstance(output, np.ndarray):
        return {label: pd.Series(output, index=bars.index)}
    return {
        f"{label}.{field}": pd.Series(column, index=bars.index)
        for field, column in zip(output._fields, output, strict=True)
    }
