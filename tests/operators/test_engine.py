"""TradingEngine (vectorised marks, stage only where needed) equals a bar-by-bar run of the stage."""

from __future__ import annotations

import numpy as np
import pytest

from operators.engine import TradingEngine
from operators.execution.stage import ExecutionStage, ExecutionStageConfig
from operators.strategies import strategy_class
from operators.strategy import StrategyRunner
from schemas.batch import EventBatch
from schemas.codec import CODEC
from tests.operators.test_strategies import market_batch

CONFIGS = {
    "plain": {},
    "costs_and_partial_fills": {
        "exchange": {
            "max_participation": 0.05,
            "commission": {"kind": "per_share", "rate": 0.01, "minimum": 1.0},
            "slippage": {"kind": "bps", "bps": 2.0},
        },
    },
    "limit_orders": {"executor": {"order_type": "LIMIT", "limit_offset_bps": 5.0, "tick_size": 0.01}},
    "risk_limits": {
        "risk": {
            "max_position": 15,
            "max_gross_exposure": 2500,
            "max_orders_per_interval": {"count": 3, "interval_ns": 3_600_000_000_000},
        }
    },
    "kill_switch": {"risk": {"max_drawdown": 0.0002}, "flatten_on_halt": True},
}


def reference_run(batch: EventBatch, targets, config: ExecutionStageConfig):
    """Every bar through the stage, one by one, as the live execution service does."""
    stage = ExecutionStage(config)
    by_row: dict[int, list[dict]] = {}
    for record, row in zip(targets.to_records("s", "a"), targets.rows.tolist(), strict=True):
        by_row.setdefault(row, []).append(record)
    events, equity = [], []
    portfolio = stage.portfolio("s", "a")
    for row, bar in enumerate(batch.to_records()):
        events += stage.on_bar(bar)
        for target in by_row.get(row, ()):
            events += stage.on_target(target)
        equity.append(portfolio.equity)
    return events, np.asarray(equity)


def engine_run(batch: EventBatch, targets, config: ExecutionStageConfig, split: int | None = None):
    engine = TradingEngine(config, "s", "a")
    parts = [(batch, targets)] if split is None else _split(batch, targets, split)
    events, ts, equity = [], [], []
    for part, part_targets in parts:
        result = engine.on_batch(part, part_targets)
        events += result.events
        ts.append(result.ts_event)
        equity.append(result.equity)
    ts, equity = np.concatenate(ts), np.concatenate(equity)
    # a batch boundary inside one event time samples that time twice; the later sample is the complete one
    last = np.append(ts[1:] != ts[:-1], True)
    return events, ts[last], equity[last]


def _split(batch, targets, at):
    from operators.strategy.runner import Targets

    first, second = batch.select(slice(0, at)), batch.select(slice(at, len(batch)))
    keep = targets.rows < at

    def part(mask, offset):
        return Targets(
            targets.rows[mask] - offset,
            tuple(np.asarray(targets.instrument, object)[mask]),
            targets.quantity[mask],
            tuple(np.asarray(targets.reason, object)[mask]),
            targets.ts_event[mask],
            targets.ts_init[mask],
        )

    return [(first, part(keep, 0)), (second, part(~keep, at))]


def trading(events):
    """Orders, fills, reports and alerts; an alert's measured value compared to 12 significant digits
    (the engine marks held instruments in another order than a bar-by-bar run, so the equity behind a
    drawdown figure can differ in the last bits)."""
    kept = []
    for name, event in events:
        if name == "RiskAlert" and event["value"] is not None:
            event = {**event, "value": float(f"{event['value']:.12g}")}
        if name in ("Order", "Fill", "ExecutionReport", "RiskAlert", "OrderIntent"):
            kept.append((name, event))
    return kept


@pytest.fixture(scope="module")
def scenario():
    batch = market_batch(bars=1500, instruments=("AAA", "BBB"), seed=11)
    runner = StrategyRunner(
        strategy_class("ma_crossover")({"fast": 5, "slow": 20, "quantity": 10, "allow_short": True}), "s"
    )
    return batch, runner.on_batch(batch)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_engine_matches_bar_by_bar_stage(name, scenario):
    batch, targets = scenario
    config = ExecutionStageConfig(initial_cash=100_000.0, **CONFIGS[name])
    expected_events, expected_equity = reference_run(batch, targets, config)
    events, ts, equity = engine_run(batch, targets, config)
    assert len(trading(events)) > 20
    assert trading(events) == trading(expected_events)
    ts_all = batch.columns["ts_event"]
    last_of_time = np.flatnonzero(np.append(ts_all[1:] != ts_all[:-1], True))
    np.testing.assert_array_equal(ts, ts_all[last_of_time])
    np.testing.assert_allclose(equity, expected_equity[last_of_time], rtol=1e-12)
    for schema, event in events:
        CODEC.encode(schema, event)


def test_kill_switch_trips_once_at_the_same_bar(scenario):
    batch, targets = scenario
    config = ExecutionStageConfig(initial_cash=100_000.0, **CONFIGS["kill_switch"])
    events, _, _ = engine_run(batch, targets, config)
    halts = [e for n, e in events if n == "RiskAlert" and e["rule"] == "max_drawdown"]
    assert len(halts) == 1
    expected, _ = reference_run(batch, targets, config)
    expected_halts = [e for n, e in trading(expected) if n == "RiskAlert" and e["rule"] == "max_drawdown"]
    assert [
        e for n, e in trading(events) if n == "RiskAlert" and e["rule"] == "max_drawdown"
    ] == expected_halts


@pytest.mark.parametrize("split", [1, 777, 2999])
def test_engine_results_do_not_depend_on_batch_boundaries(split, scenario):
    batch, targets = scenario
    config = ExecutionStageConfig(initial_cash=100_000.0, **CONFIGS["costs_and_partial_fills"])
    whole, _, whole_equity = engine_run(batch, targets, config)
    parts, _, parts_equity = engine_run(batch, targets, config, split=split)
    assert trading(parts) == trading(whole)
    np.testing.assert_allclose(parts_equity, whole_equity, rtol=1e-12)


def test_fills_never_happen_on_the_signal_bar(scenario):
    batch, targets = scenario
    events, _, _ = engine_run(batch, targets, ExecutionStageConfig(initial_cash=100_000.0))
    order_time = {e["id"]: e["ts_event"] for n, e in events if n == "Order"}
    fills = [e for n, e in events if n == "Fill"]
    assert fills and all(f["ts_event"] > order_time[f["order_id"]] for f in fills)
