"""Backtest results in the analytics store (`replay.store.store_backtest`, `tape backtest`, `tape demo`)."""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.analytics import open_store
from replay.backtest import backtest
from replay.store import store_backtest
from tape.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "sample-1m"
EXAMPLE = ROOT / "examples" / "ema_cross.yaml"


@pytest.fixture(scope="module")
def result():
    return backtest(SAMPLE, EXAMPLE)


@pytest.fixture(params=["embedded", "server"])
def store(request, tmp_path):
    location = (
        str(tmp_path / "store") if request.param == "embedded" else f"chdb://memory/b{uuid.uuid4().hex[:10]}"
    )
    with open_store(location) as opened:
        yield opened


def test_store_backtest_writes_every_table_equity_and_a_runs_row(result, store):
    run_id = store_backtest(result, store, tape=str(SAMPLE))
    assert run_id == result.manifest["run_id"]
    for table in ("targets", "orders", "reports", "fills", "positions", "pnl"):
        frame = result.tables[table]
        stored = store.query(f"SELECT * FROM {table} WHERE run_id = {{r:String}}", {"r": run_id})
        assert len(frame) > 0 and len(stored) == len(frame), table
    fills = store.query("SELECT id, price, quantity FROM fills ORDER BY ts_event, id")
    expected = result.fills.sort_values(["ts_event", "id"])
    assert fills["id"].tolist() == expected["id"].tolist()
    assert fills["price"].tolist() == expected["price"].tolist()
    equity = store.query(
        "SELECT ts_event, equity FROM equity WHERE run_id = {r:String} ORDER BY ts_event", {"r": run_id}
    )
    assert equity["ts_event"].tolist() == result.equity.index.tolist()
    assert equity["equity"].tolist() == result.equity["equity"].tolist()
    (run,) = store.query("SELECT * FROM runs").to_dict("records")
    assert run["run_id"] == run_id and run["strategy"] == "ma_crossover" and run["tape"] == str(SAMPLE)
    assert (
        json.loads(run["params_json"])["fast"]
        == json.loads(result.manifest["config_json"])["strategy"]["params"]["fast"]
    )
    metrics = result.metrics.to_dict()
    for name in ("total_return", "sharpe", "max_drawdown", "win_rate", "round_trips", "fills"):
        assert run[name] == pytest.approx(metrics[name], nan_ok=True), name
    stored_metrics = json.loads(run["metrics_json"])
    assert stored_metrics["annual_return"] == pytest.approx(metrics["annual_return"])
    assert (
        run["ts_started"] == result.manifest["ts_event"] and run["ts_finished"] == result.equity.index.max()
    )


def test_store_backtest_twice_changes_nothing(result, store):
    store_backtest(result, store)
    store_backtest(result, store)
    counts = store.query(
        "SELECT (SELECT count() FROM fills) AS f, (SELECT count() FROM runs) AS r, (SELECT count() FROM equity) AS e"
    )
    assert counts.to_dict("records") == [{"f": len(result.fills), "r": 1, "e": len(result.equity)}]


def test_tape_demo_stores_its_run_and_names_the_dashboard_command(tmp_path):
    store = tmp_path / "store"
    ran = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "run"), "--store", str(store)])
    assert ran.exit_code == 0, ran.output
    assert f"results stored in {store}" in ran.output and f"tape dashboard --store {store}" in ran.output
    runs = open_store(store).query("SELECT run_id, fills FROM runs")
    assert len(runs) == 1 and runs["fills"][0] > 0 and not math.isnan(runs["fills"][0])
