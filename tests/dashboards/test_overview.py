"""The Overview page on a seeded store: metric tiles equal the stored run's, three charts with data."""

from __future__ import annotations

import numpy as np

from dashboards import data
from dashboards.transforms import KEY_METRICS, format_metric, metric_label
from tests.dashboards.helpers import figures, run_page, trace_values


def test_overview_backtest_run_shows_stored_metrics_and_curves(seeded):
    run_id = seeded.run_ids["ema"]
    result = seeded.results["ema"]

    app = run_page("1_overview", seeded.location, overview_run=run_id)

    stored = data.runs(seeded.location).set_index("run_id").loc[run_id]
    shown = {tile.label: tile.value for tile in app.metric}
    assert shown == {metric_label(name): format_metric(name, stored[name]) for name in KEY_METRICS}
    assert shown["Total return"] == format_metric("total_return", result.metrics.total_return)
    assert shown["Fills"] == str(len(result.fills))
    equity, drawdown, daily = figures(app)
    assert len(trace_values(equity["data"][0], "y")) == len(result.equity)
    assert trace_values(equity["data"][0], "y")[-1] == result.equity["equity"].iloc[-1]
    assert trace_values(drawdown["data"][0], "y").min() == result.metrics.max_drawdown
    days = result.equity.index.to_series().pipe(lambda ts: ts // 86_400_000_000_000).nunique()
    assert len(trace_values(daily["data"][0], "y")) == days


def test_overview_empty_store_says_how_to_fill_it(empty_store):
    app = run_page("1_overview", empty_store)

    assert "tape backtest" in app.info[0].value
    assert not app.get("plotly_chart")


def test_overview_live_account_computes_metrics_from_pnl(seeded, live_store):
    rows = seeded.results["rsi"].tables["pnl"].sort_values(["ts_event", "ts_init", "equity"])
    pnl = rows.groupby("ts_event")["equity"].last()  # the documented rule for same-time PnL rows

    app = run_page("1_overview", live_store)

    assert app.selectbox[0].value == data.LIVE
    shown = {tile.label: tile.value for tile in app.metric}
    assert shown["Total return"] == format_metric("total_return", pnl.iloc[-1] / pnl.iloc[0] - 1.0)
    assert shown["Fills"] == str(len(seeded.results["rsi"].fills))
    equity = figures(app)[0]
    assert np.array_equal(trace_values(equity["data"][0], "y"), pnl.to_numpy())
