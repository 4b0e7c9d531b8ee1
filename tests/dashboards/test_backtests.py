"""The Backtests page: the runs table, two runs compared side by side, parameters against a metric."""

from __future__ import annotations

import numpy as np

from dashboards import data
from dashboards.transforms import KEY_METRICS, format_metric, metric_label
from tests.dashboards.helpers import CONFIGS, figures, run_page, trace_values


def test_backtests_lists_every_run_and_compares_two(seeded):
    first, second = seeded.run_ids["ema"], seeded.run_ids["rsi"]

    app = run_page("2_backtests", seeded.location, compare_runs=[first, second])

    runs_table, compared = app.dataframe[0].value, app.dataframe[1].value
    assert len(runs_table) == len(CONFIGS)
    assert sorted(runs_table["run_id"]) == sorted(seeded.run_ids.values())
    stored = data.runs(seeded.location).set_index("run_id")
    assert list(compared.columns) == [first, second]
    for name in KEY_METRICS:
        assert compared.at[metric_label(name), first] == format_metric(name, stored.at[first, name])
        assert compared.at[metric_label(name), second] == format_metric(name, stored.at[second, name])
    equity, _scatter = figures(app)
    assert [trace["name"] for trace in equity["data"]] == [first, second]
    rsi_equity = seeded.results["rsi"].equity["equity"]
    assert np.allclose(trace_values(equity["data"][1], "y"), rsi_equity / rsi_equity.iloc[0] - 1.0)


def test_backtests_scatter_plots_a_parameter_against_a_metric(seeded):
    app = run_page("2_backtests", seeded.location, scatter_parameter="fast", scatter_metric="sharpe")

    scatter = figures(app)[-1]
    points = {
        float(x): float(y)
        for trace in scatter["data"]
        for x, y in zip(trace_values(trace, "x"), trace_values(trace, "y"), strict=True)
    }
    assert points == {
        10.0: seeded.results["ema"].metrics.sharpe,
        5.0: seeded.results["ema_tight"].metrics.sharpe,
    }


def test_backtests_empty_store_says_how_to_fill_it(empty_store):
    app = run_page("2_backtests", empty_store)

    assert "No runs yet" in app.info[0].value
    assert not app.dataframe
