"""Models: rolling test-then-train metrics, champion vs challenger, drift events and predictions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui
from dashboards.transforms import to_datetime

LOWER_IS_BETTER = {"log_loss", "mae"}


def model_metrics(location: str, run_id: str) -> pd.DataFrame:
    """The ``ModelMetric`` rows of ``run_id`` in time order (empty without the table)."""
    return data._read(
        location,
        ["model_metrics"],
        "SELECT model_id, model_version, instrument, metric, `window`, value, ts_event FROM model_metrics "
        "WHERE run_id = {run_id:String} ORDER BY ts_event, model_id, instrument, metric",
        run_id=run_id,
    )


def prediction_counts(location: str, run_id: str) -> pd.DataFrame:
    """Predictions per model and version of ``run_id``, with their first and last event times."""
    return data._read(
        location,
        ["predictions"],
        "SELECT model_id, model_version, count() AS predictions, min(ts_event) AS first_ts, "
        "max(ts_event) AS last_ts FROM predictions WHERE run_id = {run_id:String} "
        "GROUP BY model_id, model_version ORDER BY model_id, model_version",
        run_id=run_id,
    )


st.title("Models")
location = ui.store_location()
runs = data.run_ids(location, "model_metrics")
if not runs:
    ui.empty_state(
        "No model metrics yet — store a backtest of a model strategy, e.g. `tape backtest --tape "
        "samples/sample-1m --config examples/ml_online.yaml`, or start the live strategies service."
    )
    st.stop()
run_id = ui.pick_run("Account or backtest run", runs, key="models_run")
metrics = model_metrics(location, run_id)
left, right = st.columns(2)
instrument = left.selectbox(
    "Instrument", ["all", *sorted(metrics["instrument"].unique())], key="models_instrument"
)
metric = right.selectbox("Metric", sorted(metrics["metric"].unique()), key="models_metric")
shown = metrics if instrument == "all" else metrics[metrics["instrument"] == instrument]

st.subheader("Champion vs challenger")
latest = shown.groupby(["model_id", "instrument", "metric"], as_index=False).last()
board = latest.pivot_table(index="model_id", columns="metric", values="value", aggfunc="mean")
versions = latest.groupby("model_id")["model_version"].max()
board = board.assign(version=versions).reset_index()
st.caption(
    f"Latest rolling value of each metric (window {int(shown['window'].max())} scored predictions), "
    f"averaged over {'all instruments' if instrument == 'all' else instrument}; "
    + ("lower" if metric in LOWER_IS_BETTER else "higher")
    + f" {metric} is better."
)
st.dataframe(board, hide_index=True, width="stretch", key="models_board")

st.subheader(f"Rolling {metric.replace('_', ' ')}")
lines = {
    f"{model} · {name}": pd.Series(group["value"].to_numpy(), index=to_datetime(group["ts_event"]))
    for (model, name), group in shown[shown["metric"] == metric].groupby(["model_id", "instrument"])
}
st.plotly_chart(charts.lines(lines, f"Rolling {metric} per model and instrument", metric), key="models_chart")

alerts = data.risk_alerts(location, run_id)
drift = alerts[alerts["rule"] == "model_drift"] if len(alerts) else alerts
if instrument != "all" and len(drift):
    drift = drift[drift["instrument"] == instrument]
st.subheader(f"Drift events ({len(drift)})")
if drift.empty:
    ui.empty_state("No drift detected: ADWIN saw no rise in the champion's error.")
else:
    ui.table(
        drift[["ts_event", "instrument", "message", "value"]].sort_values("ts_event", ascending=False),
        key="models_drift",
    )

st.subheader("Predictions")
counts = prediction_counts(location, run_id)
if counts.empty:
    ui.empty_state("No predictions stored for this run.")
else:
    ui.table(counts, key="models_predictions")
