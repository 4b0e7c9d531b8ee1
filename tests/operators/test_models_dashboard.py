"""The dashboard's Models page over a real analytics store holding a model strategy's backtest."""

from __future__ import annotations

import pytest

from connectors.analytics import open_store
from replay.backtest import backtest
from replay.store import store_backtest
from tests.dashboards.helpers import SAMPLE, figures, run_page, trace_values

CONFIG = {
    "strategy": {
        "name": "ml_online",
        "params": {
            "features": {"return_horizons": [1, 5], "benchmark": "SPX"},
            "online": {
                "model": {"kind": "logistic", "id": "slow", "learning_rate": 0.005},
                "challenger": {"kind": "logistic", "id": "fast", "learning_rate": 0.1},
                "horizon": 1,
                "metrics_every": 50,
                "metrics_window": 200,
                "drift_delta": 0.2,
            },
            "volatility": "realised",
        },
    },
    "universe": ["ALFA", "ALFA", "CHRL", "SPX"],
    "benchmark": "SPX",
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    location = str(tmp_path_factory.mktemp("models") / "store")
    result = backtest(SAMPLE, CONFIG)
    run_id = store_backtest(result, open_store(location), tape="samples/sample-1m")
    return location, run_id, result


def test_models_page_compares_champion_and_challenger_and_lists_drift(stored):
    location, run_id, result = stored
    metrics = result.tables["model_metrics"]
    drift = result.tables["risk_alerts"].query("rule == 'model_drift'")
    assert len(drift) > 0  # a loose ADWIN delta on a random-walk tape raises some alarms

    app = run_page(
        "7_models", location, models_run=run_id, models_instrument="ALFA", models_metric="accuracy"
    )

    board = next(frame.value for frame in app.dataframe if "accuracy" in frame.value.columns)
    board = board.set_index("model_id")
    alfa = metrics[metrics["instrument"] == "ALFA"]
    for model, group in alfa.groupby("model_id"):
        expected = group[group["metric"] == "accuracy"]["value"].iloc[-1]
        assert board.loc[model, "accuracy"] == pytest.approx(expected)
    (chart,) = figures(app)
    named = {trace["name"]: trace_values(trace, "y") for trace in chart["data"]}
    slow = alfa[(alfa["model_id"] == "slow") & (alfa["metric"] == "accuracy")]["value"].to_numpy()
    assert named["slow · ALFA"].tolist() == pytest.approx(slow.tolist())
    drift_table = next(frame.value for frame in app.dataframe if "message" in frame.value.columns)
    assert len(drift_table) == (drift["instrument"] == "ALFA").sum()
    counts = next(frame.value for frame in app.dataframe if "predictions" in frame.value.columns)
    predictions = result.tables["predictions"]
    assert counts["predictions"].sum() == len(predictions)


def test_models_page_without_metrics_explains_how_to_get_them(tmp_path):
    app = run_page("7_models", str(tmp_path / "empty"))
    assert "ml_online.yaml" in app.info[0].value
