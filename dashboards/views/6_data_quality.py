"""Data quality: dead letters by topic and reason over time, gaps in bars, late events."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui
from dashboards.transforms import bar_gaps, latency_summary, to_datetime

st.title("Data quality")
location = ui.store_location()

st.subheader("Dead letters")
letters = data.dead_letters(location)
if letters.empty:
    ui.empty_state("No dead letters: every record decoded and validated (or nothing was ingested yet).")
else:
    counts = letters.groupby(["topic", "reason"], as_index=False).size().rename(columns={"size": "count"})
    st.dataframe(counts, hide_index=True, width="stretch", key="dlq_counts")
    bucket = st.selectbox("Bucket", ["1min", "1h", "1D"], index=1, key="dlq_bucket")
    over_time = (
        letters.assign(when=to_datetime(letters["ts_init"]).floor(bucket))
        .groupby(["when", "reason"], as_index=False)
        .size()
    )
    st.plotly_chart(
        charts.stacked_bars(over_time, "when", "size", "reason", f"Dead letters per {bucket}"),
        key="dlq_chart",
    )
    with st.expander(f"Latest dead letters ({len(letters)})"):
        ui.table(letters.iloc[::-1].head(200), key="dlq_table")

st.subheader("Gaps in bars")
sources = data.run_ids(location, "bars")
if not sources:
    ui.empty_state("No bars yet — gaps are measured on the `bars` table.")
else:
    left, right = st.columns(2)
    run_id = left.selectbox("Source", sources, key="gaps_run")
    session_hours = right.number_input(
        "Session break (hours): longer pauses are market closures", 0.5, 168.0, 4.0, key="session_hours"
    )
    summary, gaps = bar_gaps(data.bar_times(location, run_id), int(session_hours * 3_600_000_000_000))
    st.plotly_chart(
        charts.horizontal_bars(summary["instrument"], summary["missing"], "Missing intervals", "bars"),
        key="gaps_chart",
    )
    ui.table(summary, key="gaps_summary")
    if len(gaps):
        with st.expander(f"Gaps ({len(gaps)})"):
            ui.table(gaps, key="gaps_table")

st.subheader("Late events")
present = [table for table in data.EVENT_TABLES if data.run_ids(location, table)]
if not present:
    ui.empty_state("No events stored yet.")
    st.stop()
left, right = st.columns(2)
table = left.selectbox("Table", present, key="late_table")
run_id = right.selectbox("Run", data.run_ids(location, table), key="late_run")
latency = data.latencies(location, table, run_id)
if latency.empty:
    ui.empty_state(f"No rows in {table} for {run_id}.")
    st.stop()
st.dataframe(latency_summary(latency), hide_index=True, width="stretch", key="late_summary")
st.plotly_chart(
    charts.histogram(pd.Series(latency / 1e6).to_numpy(), f"ts_init - ts_event of {table}", "milliseconds"),
    key="late_chart",
)
