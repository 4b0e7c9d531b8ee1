"""Store a backtest's results in the analytics store: its event tables, equity curve and a ``runs`` row.

Every row carries the run's ``run_id`` (the RunManifest's, ``bt-…``), so many runs share the tables
and storing the same run again changes nothing (rows are deduplicated by key).

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from connectors.analytics import open_store
>>> from replay.backtest import backtest
>>> sample = Path(__file__).resolve().parents[1] / "samples" / "sample-1m"
>>> result = backtest(sample, {"strategy": {"name": "ma_crossover",
...     "params": {"fast": 10, "slow": 30, "quantity": 10}}, "universe": ["ALFA"]})
>>> store = open_store(tempfile.mkdtemp())
>>> run_id = store_backtest(result, store)
>>> stored = store.query("SELECT count() AS n FROM fills WHERE run_id = {r:String}", {"r": run_id})
>>> int(stored["n"][0]) == len(result.fills)
True
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from connectors.analytics import AnalyticsStore
from connectors.analytics.tables import RUN_METRICS, TABLES
from replay.backtest import BacktestResult


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def run_row(result: BacktestResult, tape: str = "") -> dict[str, Any]:
    """The ``runs`` row of ``result``: identity, config, code version and metrics."""
    manifest = result.manifest
    config = json.loads(manifest["config_json"])
    metrics = result.metrics.to_dict()
    strategy = config.get("strategy", {})
    return {
        "run_id": manifest["run_id"],
        "kind": manifest["kind"],
        "strategy": strategy.get("name", ""),
        "params_json": json.dumps(strategy.get("params", {}), sort_keys=True),
        "config_json": manifest["config_json"],
        "config_hash": manifest["config_hash"],
        "code_version": manifest["code_version"],
        "tape": tape,
        "ts_started": int(manifest["ts_event"]),
        "ts_finished": int(result.equity.index.max()) if len(result.equity) else int(manifest["ts_event"]),
        "metrics_json": json.dumps({k: _finite(v) for k, v in metrics.items()}, sort_keys=True),
        **{
            name: float(metrics[name]) if kind == "Float64" else int(metrics[name])
            for name, kind in RUN_METRICS.items()
        },
        "ts_init": time.time_ns(),
    }


def store_backtest(result: BacktestResult, store: AnalyticsStore, tape: str = "") -> str:
    """Write ``result``'s tables (those the store has), equity and ``runs`` row; return the run id.

    ``tape`` names the replayed tape in the ``runs`` row.
    """
    run_id = result.manifest["run_id"]
    for name, frame in result.tables.items():
        if name in TABLES and len(frame):
            store.insert(name, frame.assign(run_id=run_id))
    equity = result.equity.reset_index().assign(run_id=run_id)
    store.insert("equity", equity[["run_id", "ts_event", "equity", "cash", "gross_exposure"]])
    store.insert("runs", [run_row(result, tape)])
    return run_id
