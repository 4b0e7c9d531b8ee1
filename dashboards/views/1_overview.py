"""Overview: equity curve, drawdown, daily P&L and key metrics of the live account or one backtest."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui
from dashboards.transforms import KEY_METRICS, daily_pnl, drawdown, to_datetime
from operators.performance import compute_metrics

st.title("Overview")
location = ui.store_location()
accounts = data.accounts(location)
if not accounts:
    ui.empty_state(
        "No equity yet — run `tape backtest --tape samples/sample-1m --config examples/ema_cross.yaml` "
        "to store a backtest, or start the live services (`tape run … --store …`)."
    )
    st.stop()

run_id = ui.pick_run("Account or backtest run", accounts, key="overview_run")
curve = data.equity(location, run_id)
if curve.empty:
    ui.empty_state(f"No equity rows for {run_id} yet.")
    st.stop()
equity = pd.Series(curve["equity"].to_numpy(dtype=float), index=curve["ts_event"].to_numpy())

runs = data.runs(location)
stored = runs[runs["run_id"] == run_id] if len(runs) else runs
if len(stored):
    metrics = {name: stored[name].iloc[0] for name in KEY_METRICS if name in stored.columns}
    st.caption(f"Metrics as stored with run {run_id}.")
else:
    live_fills = data.fills(location, run_id)
    computed = compute_metrics(equity, fills=live_fills if len(live_fills) else None).to_dict()
    metrics = {name: computed[name] for name in KEY_METRICS}
    st.caption(f"Metrics computed from the equity curve and fills of {run_id} so far.")
ui.metric_tiles(metrics)

when = to_datetime(equity.index)
st.plotly_chart(
    charts.lines({run_id: pd.Series(equity.to_numpy(), index=when)}, "Equity", "account currency"),
    key="overview_equity",
)
left, right = st.columns(2)
with left:
    curve_drawdown = drawdown(equity)
    st.plotly_chart(
        charts.area(
            pd.Series(curve_drawdown.to_numpy(), index=when, name="drawdown"), "Drawdown", percent=True
        ),
        key="overview_drawdown",
    )
with right:
    st.plotly_chart(
        charts.signed_bars(daily_pnl(equity), "Daily P&L", "account currency"), key="overview_daily"
    )
