"""Backtests: every stored run, runs compared side by side, and parameters against metrics."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui
from dashboards.transforms import KEY_METRICS, format_metric, metric_label, run_parameters, to_datetime

st.title("Backtests")
location = ui.store_location()
runs = data.runs(location)
if runs.empty:
    ui.empty_state(
        "No runs yet — run `tape backtest --tape samples/sample-1m --config examples/ema_cross.yaml` "
        "(or `tape demo`) to store one."
    )
    st.stop()

metrics = [name for name in KEY_METRICS if name in runs.columns]
st.subheader(f"Runs ({len(runs)})")
listed = ["run_id", "kind", "strategy", "tape", "code_version", *metrics]
st.dataframe(
    runs[[c for c in listed if c in runs.columns]], hide_index=True, width="stretch", key="runs_table"
)

st.subheader("Compare runs")
run_ids = runs["run_id"].tolist()
chosen = st.multiselect("Runs", run_ids, default=run_ids[:2], key="compare_runs")
if len(chosen) < 2:
    ui.empty_state("Pick two or more runs to compare them.")
else:
    curves = {}
    for run_id in chosen:
        curve = data.equity(location, run_id)
        values = curve["equity"].to_numpy(dtype=float)
        curves[run_id] = pd.Series(values / values[0] - 1.0, index=to_datetime(curve["ts_event"]))
    st.plotly_chart(
        charts.lines(curves, "Cumulative return (equity / initial equity - 1)").update_yaxes(
            tickformat=".2%"
        ),
        key="compare_equity",
    )
    picked = runs.set_index("run_id").loc[chosen]
    compared = pd.DataFrame(
        {run_id: [format_metric(name, picked.at[run_id, name]) for name in metrics] for run_id in chosen},
        index=[metric_label(name) for name in metrics],
    )
    st.dataframe(compared, width="stretch", key="compare_metrics")

st.subheader("Parameters against metrics")
params = run_parameters(runs)
numeric = sorted(
    (
        column
        for column in params.columns.drop(["run_id", "strategy"])
        if pd.api.types.is_numeric_dtype(params[column])
    ),
    key=lambda column: -params[column].nunique(),
)  # the parameters that vary most across runs first
if not numeric:
    ui.empty_state("No numeric strategy parameters among the stored runs.")
    st.stop()
left, right = st.columns(2)
parameter = left.selectbox("Parameter", numeric, key="scatter_parameter")
metric = right.selectbox("Metric", metrics, format_func=metric_label, key="scatter_metric")
points = params.assign(**{metric: runs[metric].to_numpy()}).dropna(subset=[parameter])
st.plotly_chart(
    charts.scatter(points, parameter, metric, "strategy", "run_id", f"{metric_label(metric)} by {parameter}"),
    key="scatter",
)
