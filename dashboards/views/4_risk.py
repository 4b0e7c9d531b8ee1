"""Risk: exposure by instrument, historical VaR, limit usage, the kill switch and the alerts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui
from dashboards.transforms import (
    exposure,
    kill_switch,
    limit_usage,
    returns,
    value_at_risk_table,
)

st.title("Risk")
location = ui.store_location()
accounts = data.accounts(location)
if not accounts:
    ui.empty_state(
        "Nothing to assess yet — store a backtest with `tape backtest --tape samples/sample-1m "
        "--config examples/ema_cross.yaml`, or start the live services."
    )
    st.stop()
run_id = ui.pick_run("Account or backtest run", accounts, key="risk_run")
positions = data.positions(location, run_id)
curve = data.equity(location, run_id)
alerts = data.risk_alerts(location, run_id)
runs = data.runs(location)
stored = runs[runs["run_id"] == run_id] if len(runs) else runs

st.subheader("Kill switch")
modes = kill_switch(alerts)
halted = modes[modes["state"] != "ACTIVE"]
if modes.empty:
    st.success("ACTIVE — never halted (no kill-switch or HALT alert).", icon=":material/check_circle:")
elif halted.empty:
    st.success("ACTIVE — resumed after a halt.", icon=":material/check_circle:")
else:
    st.error(f"{', '.join(halted['state'].unique())}: {', '.join(halted['scope'])}", icon=":material/block:")
if len(modes):
    ui.table(modes, key="kill_switch_table")

st.subheader("Exposure by instrument")
held = exposure(positions)
if held.empty:
    ui.empty_state("Flat: no open positions, no exposure.")
else:
    tiles = st.columns(2)
    tiles[0].metric("Gross exposure", f"{held['market_value'].abs().sum():,.2f}")
    tiles[1].metric("Net exposure", f"{held['market_value'].sum():,.2f}")
    st.plotly_chart(
        charts.horizontal_bars(held["instrument"], held["market_value"], "Market value", "account currency"),
        key="exposure_chart",
    )

st.subheader("Historical value at risk")
frequency = st.radio(
    "Returns", ["daily", "period"], horizontal=True, key="var_frequency", format_func=str.capitalize
)
equity = pd.Series(curve["equity"].to_numpy(dtype=float), index=curve["ts_event"].to_numpy())
sample = returns(equity, frequency)
if len(sample) < 2:
    ui.empty_state(f"Too few {frequency} returns for a VaR ({len(sample)}).")
else:
    var = value_at_risk_table(sample)
    st.dataframe(var.style.format("{:.3%}"), width="stretch", key="var_table")
    st.plotly_chart(
        charts.histogram(
            sample,
            f"{frequency.capitalize()} returns ({len(sample)})",
            "return",
            {f"VaR {level}": -var.at[level, "VaR"] for level in var.index},
        ),
        key="var_chart",
    )

st.subheader("Limit usage")
config_json = stored["config_json"].iloc[0] if len(stored) and "config_json" in stored.columns else None
usage = limit_usage(config_json, positions, curve, data.largest_order_notional(location, run_id))
if usage.empty:
    ui.empty_state(f"No risk limits configured for {run_id} (the run config's `risk` section).")
else:
    labels = usage["limit"] + " (" + usage["scope"] + ")"
    st.plotly_chart(
        charts.horizontal_bars(labels, usage["usage"], "Share of each limit in use", "usage").update_xaxes(
            tickformat=".0%"
        ),
        key="limits_chart",
    )
    st.dataframe(
        usage.style.format({"configured": "{:,.4g}", "current": "{:,.4g}", "usage": "{:.1%}"}),
        hide_index=True,
        width="stretch",
        key="limits_table",
    )

st.subheader(f"Alerts ({len(alerts)})")
if alerts.empty:
    ui.empty_state("No risk alerts.")
else:
    ui.table(alerts.sort_values("ts_event", ascending=False), key="alerts_table")
