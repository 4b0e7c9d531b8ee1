"""The prediction-driven strategy: learns a planted signal from bars, never looks ahead, runs in a backtest."""

from __future__ import annotations

import math

import numpy as np
import pytest

from operators.strategies import strategy_class
from operators.strategies.ml_online import MlOnline
from operators.strategy import StrategyRunner
from replay.backtest import backtest
from schemas.batch import EventBatch
from schemas.errors import ConfigError

MINUTE = 60_000_000_000


def momentum_bars(n: int, seed: int, instruments=("A", "B"), benchmark="SPX", phi: float = 0.7):
    """Bars of instruments whose one-bar returns are AR(1) with coefficient ``phi`` (predictable), plus a benchmark."""
    rng = np.random.default_rng(seed)
    closes = {name: 100.0 for name in (*instruments, benchmark)}
    last = dict.fromkeys(closes, 0.0)
    rows = []
    for t in range(n):
        for name in (benchmark, *instruments):
            scale = 0.002 * (2.0 if (t // 300) % 2 else 1.0)  # volatility clusters
            ret = (0.0 if name == benchmark else phi * last[name]) + rng.normal(0, scale)
            last[name] = ret
            closes[name] *= math.exp(ret)
            c = closes[name]
            rows.append(
                {"instrument": name, "interval_ns": MINUTE, "open": c, "high": c, "low": c, "close": c,
                 "volume": float(rng.integers(100, 10_000)), "ts_event": (t + 1) * MINUTE, "ts_init": (t + 1) * MINUTE}
            )  # fmt: skip
    return rows


PARAMS = {
    "features": {"return_horizons": [1, 5], "benchmark": "SPX", "correlation_window": 30},
    "online": {
        "model": {"kind": "logistic", "learning_rate": 0.05},
        "challenger": {"kind": "hat_classifier", "id": "hat", "params": {"grace_period": 50}},
        "horizon": 1,
        "metrics_every": 100,
        "metrics_window": 300,
    },
    "threshold": 0.55,
    "fit_bars": 200,
    "regimes": 2,
    "trade_regimes": [0, 1],
}


def run_strategy(rows, params=PARAMS, batch_rows: int = 500):
    runner = StrategyRunner(MlOnline(params), "ml", ("A", "B", "SPX"))
    events, targets = [], []
    for start in range(0, len(rows), batch_rows):
        batch = EventBatch.from_records("Bar", "md.bar.1m", rows[start : start + batch_rows])
        targets += runner.on_batch(batch).to_records("ml", "acc")
        events += runner.take_events()
    return events, targets


def test_strategy_learns_a_planted_signal_from_bars():
    rows = momentum_bars(1500, seed=1)
    events, targets = run_strategy(rows)
    accuracy = [e for name, e in events if name == "ModelMetric" and e["metric"] == "accuracy"]
    final = {(m["instrument"], m["model_id"]): m["value"] for m in accuracy}
    assert final[("A", "logistic")] > 0.65 and final[("B", "logistic")] > 0.65
    # long targets are followed by up moves more often than not
    closes = {}
    for r in rows:
        closes.setdefault(r["instrument"], {})[r["ts_event"]] = r["close"]
    longs = [t for t in targets if t["target_quantity"] > 0]
    ups = [closes[t["instrument"]][t["ts_event"] + MINUTE] > closes[t["instrument"]][t["ts_event"]] for t in longs
           if t["ts_event"] + MINUTE in closes[t["instrument"]]]  # fmt: skip
    assert len(longs) > 50 and np.mean(ups) > 0.6
    assert {t["instrument"] for t in targets} == {"A", "B"}  # the benchmark is never traded
    models = {e["model_id"] for name, e in events if name == "Prediction"}
    assert models == {"logistic", "hat", "garch11", "hmm_regime"}


def test_strategy_outputs_up_to_t_ignore_bars_after_t():
    rows = momentum_bars(700, seed=2)
    cut_ts = 450 * MINUTE
    rng = np.random.default_rng(5)
    perturbed = [
        dict(r, close=r["close"] * math.exp(rng.normal(0, 0.05)), volume=r["volume"] * 3) if r["ts_event"] > cut_ts else r
        for r in rows
    ]  # fmt: skip
    events_a, targets_a = run_strategy(rows, batch_rows=128)
    events_b, targets_b = run_strategy(perturbed, batch_rows=97)  # batch boundaries differ too

    def upto(events):
        return [(n, e) for n, e in events if e["ts_event"] <= cut_ts]

    assert upto(events_a) == upto(events_b)
    assert len(upto(events_a)) > 1000
    assert [t for t in targets_a if t["ts_event"] <= cut_ts] == [
        t for t in targets_b if t["ts_event"] <= cut_ts
    ]
    assert events_a != events_b


def test_shipped_example_backtests_with_predictions_and_model_metrics():
    result = backtest("samples/sample-1m", "examples/ml_online.yaml")
    predictions, metrics = result.tables["predictions"], result.tables["model_metrics"]
    assert set(predictions["model_id"]) == {"logit", "hat", "garch11"}
    assert predictions["id"].is_unique and metrics["id"].is_unique
    assert set(metrics["metric"]) == {"accuracy", "log_loss"}
    assert set(predictions["instrument"]) == {"ALFA", "BRVO", "CHRL"}
    assert metrics["value"].between(0, 10).all()
    assert len(result.fills) > 0


def test_registry_finds_the_strategy():
    assert strategy_class("ml_online") is MlOnline


def test_bad_params_name_the_field():
    with pytest.raises(ConfigError, match=r"online\.model: trades on direction or return models"):
        MlOnline({"online": {"model": {"kind": "holt_winters"}}})
    with pytest.raises(
        ConfigError, match=r"online\.model: HoeffdingAdaptiveTreeClassifier has no parameter 'grace_perod'"
    ):
        MlOnline({"online": {"model": {"kind": "hat_classifier", "params": {"grace_perod": 1}}}})
    with pytest.raises(ConfigError, match="features.benchmark 'SPX' is not in the universe"):
        StrategyRunner(MlOnline({"features": {"benchmark": "SPX"}}), "ml", ("A",))
    with pytest.raises(ConfigError, match="trade_regimes"):
        MlOnline({"regimes": 2, "trade_regimes": [2]})
