"""Trading: positions, working orders and fills of the live account or a backtest, refreshing itself."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui
from dashboards.transforms import to_datetime

#: How often the page re-reads the store while auto-refresh is on.
REFRESH_EVERY = timedelta(seconds=5)
#: How many of the latest fills are listed.
FILLS_SHOWN = 500

st.title("Trading")
location = ui.store_location()
run_ids = sorted(
    set(data.run_ids(location, "orders")) | set(data.run_ids(location, "positions")),
    key=lambda run_id: (run_id != data.LIVE, run_id),
)
if not run_ids:
    ui.empty_state(
        "No orders or positions yet — start the live services (`tape run execution …`) or store a "
        "backtest with `tape backtest --tape samples/sample-1m --config examples/ema_cross.yaml`."
    )
    st.stop()

run_id = ui.pick_run("Account or backtest run", run_ids, key="trading_run")
auto = st.toggle(
    f"Auto-refresh every {REFRESH_EVERY.seconds} s", value=run_id == data.LIVE, key="trading_refresh"
)


@st.fragment(run_every=REFRESH_EVERY if auto else None)
def blotter() -> None:
    """The tables, re-run on their own while auto-refresh is on."""
    if auto:
        data.refresh()
    positions = data.positions(location, run_id)
    held = positions[positions["quantity"] != 0] if len(positions) else positions
    working = data.open_orders(location, run_id)
    recent = data.fills(location, run_id, limit=FILLS_SHOWN)
    counts = st.columns(3)
    counts[0].metric("Open positions", len(held))
    counts[1].metric("Open orders", len(working))
    counts[2].metric("Orders sent", data.order_count(location, run_id))

    st.subheader("Positions")
    if held.empty:
        ui.empty_state("Flat: no open positions.")
    else:
        ui.table(held, key="positions_table")
    history = data.position_history(location, run_id)
    if len(history):
        by_instrument = {
            instrument: pd.Series(group["quantity"].to_numpy(), index=to_datetime(group["ts_event"]))
            for instrument, group in history.groupby("instrument", sort=True)
        }
        st.plotly_chart(
            charts.steps(by_instrument, "Position by instrument", "quantity"), key="positions_chart"
        )
    st.subheader("Open orders")
    if working.empty:
        ui.empty_state("No working orders: every order has a terminal report.")
    else:
        ui.table(working, key="orders_table")
    st.subheader(f"Fills (latest {FILLS_SHOWN})")
    if recent.empty:
        ui.empty_state("No fills yet.")
    else:
        ui.table(recent, key="fills_table")


blotter()
