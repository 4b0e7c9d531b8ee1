"""ExecutionStage: event order, next-bar fills, risk rejections, halts, determinism and snapshots."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from operators.execution import ExecutionStage, ExecutionStageConfig, event_id
from schemas.codec import CODEC

MINUTE = 60_000_000_000


def make_bar(minute, open_=100.0, close=100.0, high=None, low=None, volume=10_000.0, instrument="AAPL"):
    high = max(open_, close) + 0.5 if high is None else high
    low = min(open_, close) - 0.5 if low is None else low
    return {
        "instrument": instrument,
        "interval_ns": MINUTE,
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": volume,
        "ts_event": minute * MINUTE,
        "ts_init": minute * MINUTE + 3,
    }


def make_target(minute, quantity, strategy_id="s1", instrument="AAPL"):
    ts_event = minute * MINUTE
    return {
        "id": event_id("TargetPosition", strategy_id, instrument, ts_event),
        "strategy_id": strategy_id,
        "account_id": "acct",
        "instrument": instrument,
        "target_quantity": quantity,
        "reason": "test",
        "ts_event": ts_event,
        "ts_init": ts_event + 3,
    }


def make_control(command, strategy_id=None, minute=0):
    return {
        "id": f"ctl-{command}-{strategy_id}-{minute}",
        "strategy_id": strategy_id,
        "command": command,
        "params": {},
        "reason": "test",
        "issued_by": "ops",
        "ts_event": minute * MINUTE,
        "ts_init": minute * MINUTE + 3,
    }


def encoded(events):
    for name, event in events:
        CODEC.encode(name, event)
    return events


def names(events):
    return [name for name, _ in events]


def of(events, schema):
    return [event for name, event in events if name == schema]


def stage_with(**config):
    return ExecutionStage(ExecutionStageConfig(initial_cash=100_000.0, **config))


def test_target_fills_on_next_bar_never_on_signal_bar():
    stage = stage_with()
    assert stage.on_bar(make_bar(1)) == []
    events = encoded(stage.on_target(make_target(1, 10.0)))
    assert names(events) == ["OrderIntent", "Order", "ExecutionReport"]
    assert of(events, "ExecutionReport")[0]["status"] == "ACCEPTED"
    assert stage.on_bar(make_bar(1, open_=90.0)) == []  # the signal bar again: not eligible
    events = encoded(stage.on_bar(make_bar(2, open_=101.0, close=102.0)))
    assert names(events) == ["Fill", "ExecutionReport", "Position", "PnL"]
    assert of(events, "Fill")[0]["price"] == 101.0
    [position], [pnl] = of(events, "Position"), of(events, "PnL")
    assert (position["quantity"], position["avg_price"], position["unrealized_pnl"]) == (10.0, 101.0, 10.0)
    assert pnl["equity"] == pytest.approx(100_000.0 + 10.0 * (102.0 - 101.0))


def test_bar_marks_held_positions_without_fills():
    stage = stage_with()
    stage.on_bar(make_bar(1))
    stage.on_target(make_target(1, 10.0))
    stage.on_bar(make_bar(2, open_=100.0, close=100.0))
    events = encoded(stage.on_bar(make_bar(3, open_=100.0, close=105.0)))
    assert names(events) == ["Position", "PnL"]
    assert of(events, "PnL")[0]["unrealized_pnl"] == pytest.approx(50.0)
    assert stage.on_bar(make_bar(3, instrument="MSFT")) == []


def test_changed_target_cancels_working_order_and_replaces_it():
    stage = stage_with(executor={"order_type": "LIMIT", "limit_offset_bps": 500.0})
    stage.on_bar(make_bar(1))
    first = of(stage.on_target(make_target(1, 10.0)), "Order")[0]
    events = encoded(stage.on_target(make_target(2, 4.0)))
    assert names(events) == ["ExecutionReport", "OrderIntent", "Order", "ExecutionReport"]
    canceled, accepted = of(events, "ExecutionReport")
    assert (canceled["order_id"], canceled["status"]) == (first["id"], "CANCELED")
    assert (of(events, "Order")[0]["quantity"], accepted["status"]) == (4.0, "ACCEPTED")


def test_unchanged_target_with_working_order_sends_nothing():
    stage = stage_with(executor={"order_type": "LIMIT", "limit_offset_bps": 500.0})
    stage.on_bar(make_bar(1))
    stage.on_target(make_target(1, 10.0))
    assert stage.on_target(make_target(2, 10.0)) == []


def test_risk_rejection_yields_alert_and_rejected_report():
    stage = stage_with(risk={"max_position": 5.0})
    stage.on_bar(make_bar(1))
    events = encoded(stage.on_target(make_target(1, 10.0)))
    assert names(events) == ["OrderIntent", "Order", "RiskAlert", "ExecutionReport"]
    [alert], [report] = of(events, "RiskAlert"), of(events, "ExecutionReport")
    assert (alert["rule"], report["status"]) == ("max_position", "REJECTED")
    assert "max_position" in report["reason"] and report["order_id"] == of(events, "Order")[0]["id"]
    assert stage.on_bar(make_bar(2)) == []


def test_halt_control_cancels_working_orders_and_blocks_new_risk():
    stage = stage_with(executor={"order_type": "LIMIT", "limit_offset_bps": 500.0})
    stage.on_bar(make_bar(1))
    stage.on_target(make_target(1, 10.0))
    stage.on_target(make_target(1, 10.0, strategy_id="s2"))
    events = encoded(stage.on_control(make_control("HALT", "s1", minute=2)))
    assert names(events) == ["RiskAlert", "ExecutionReport"]
    assert of(events, "ExecutionReport")[0]["status"] == "CANCELED"
    assert [order_id for order_id, _ in stage.exchange.open_orders()] != []  # s2 keeps its order
    rejected = encoded(stage.on_target(make_target(3, 10.0)))
    assert of(rejected, "RiskAlert")[0]["rule"] == "halted"
    stage.on_control(make_control("RESUME", "s1", minute=4))
    assert of(stage.on_target(make_target(5, 10.0)), "ExecutionReport")[0]["status"] == "ACCEPTED"


def test_global_halt_with_flatten_closes_positions_on_next_bar():
    stage = stage_with(flatten_on_halt=True)
    stage.on_bar(make_bar(1))
    stage.on_target(make_target(1, 10.0))
    stage.on_target(make_target(1, -4.0, strategy_id="s2"))
    stage.on_bar(make_bar(2))
    events = encoded(stage.on_control(make_control("HALT", None, minute=2)))
    orders = of(events, "Order")
    assert sorted((o["strategy_id"], o["side"], o["quantity"]) for o in orders) == [
        ("s1", "SELL", 10.0),
        ("s2", "BUY", 4.0),
    ]
    encoded(stage.on_bar(make_bar(3)))
    assert [p.quantity("AAPL") for p in stage.portfolios()] == [0.0, 0.0]


def test_drawdown_kill_switch_halts_strategy_once():
    stage = stage_with(risk={"max_drawdown": 0.05}, flatten_on_halt=True)
    stage.on_bar(make_bar(1))
    stage.on_target(make_target(1, 1_000.0))
    stage.on_bar(make_bar(2, open_=100.0, close=100.0))
    events = encoded(stage.on_bar(make_bar(3, open_=100.0, close=94.0)))
    [alert] = of(events, "RiskAlert")
    assert (alert["rule"], alert["severity"], alert["action"]) == ("max_drawdown", "CRITICAL", "HALT")
    assert [(o["side"], o["quantity"]) for o in of(events, "Order")] == [("SELL", 1_000.0)]
    later = encoded(stage.on_bar(make_bar(4, open_=93.0, close=90.0)))
    assert of(later, "RiskAlert") == [] and of(later, "Fill")[0]["quantity"] == 1_000.0
    assert of(stage.on_target(make_target(4, 500.0)), "RiskAlert")[0]["rule"] == "halted"


def test_trade_events_fill_and_mark():
    stage = stage_with()
    trade = {
        "instrument": "AAPL",
        "price": 100.0,
        "size": 50.0,
        "aggressor": "BUY",
        "trade_id": "1",
        "ts_event": MINUTE,
        "ts_init": MINUTE,
    }
    stage.on_trade(trade)
    stage.on_target(make_target(1, 20.0))
    events = encoded(stage.on_trade({**trade, "price": 100.2, "ts_event": MINUTE + 1, "ts_init": MINUTE + 1}))
    assert names(events) == ["Fill", "ExecutionReport", "Position", "PnL"]
    assert of(events, "Fill")[0]["price"] == 100.2


def test_on_event_routes_by_schema_and_refuses_others():
    stage = stage_with()
    assert stage.on_event("Bar", make_bar(1)) == []
    assert names(stage.on_event("TargetPosition", make_target(1, 1.0)))[0] == "OrderIntent"
    with pytest.raises(ValueError, match="Fill"):
        stage.on_event("Fill", {})


def scenario(seed=7, minutes=120):
    """A deterministic stream of bars for two instruments, targets, and controls."""
    rng = np.random.default_rng(seed)
    closes = {"AAPL": 100.0, "MSFT": 300.0}
    stream = []
    for minute in range(1, minutes + 1):
        for instrument in closes:
            open_ = closes[instrument]
            close = open_ * math.exp(rng.normal(0.0, 0.004))
            closes[instrument] = close
            volume = float(rng.integers(0, 3_000))
            stream.append(("Bar", make_bar(minute, open_, close, volume=volume, instrument=instrument)))
            if rng.random() < 0.3:
                quantity = float(rng.integers(-400, 400))
                stream.append(
                    (
                        "TargetPosition",
                        make_target(minute, quantity, str(rng.choice(["s1", "s2"])), instrument),
                    )
                )
        if minute == 40:
            stream.append(("Control", make_control("REDUCE_ONLY", "s2", minute)))
        if minute == 70:
            stream.append(("Control", make_control("RESUME", "s2", minute)))
    return stream


SCENARIO_CONFIG = {
    "exchange": {
        "max_participation": 0.1,
        "commission": {"kind": "per_share", "rate": 0.005, "minimum": 1.0},
        "slippage": {"kind": "bps", "bps": 2.0},
    },
    "executor": {"order_type": "LIMIT", "limit_offset_bps": -5.0, "tick_size": 0.01},
    "risk": {"max_position": 300.0, "max_orders_per_interval": {"count": 3, "interval_ns": 10 * MINUTE}},
}


def run(stage, stream):
    out = []
    for schema, event in stream:
        out.extend(stage.on_event(schema, event))
    return out


def test_scenario_output_is_deterministic_and_every_event_encodes():
    stream = scenario()
    first = run(ExecutionStage(ExecutionStageConfig(**SCENARIO_CONFIG)), stream)
    second = run(ExecutionStage(ExecutionStageConfig(**SCENARIO_CONFIG)), stream)
    assert first == second
    encoded(first)
    produced = set(names(first))
    assert {"Fill", "ExecutionReport", "Order", "OrderIntent", "Position", "PnL", "RiskAlert"} <= produced
    statuses = {event["status"] for event in of(first, "ExecutionReport")}
    assert {"ACCEPTED", "PARTIALLY_FILLED", "FILLED", "CANCELED", "REJECTED"} <= statuses


def test_snapshot_restore_gives_identical_subsequent_output():
    stream = scenario(seed=11)
    half = len(stream) // 2
    stage = ExecutionStage(ExecutionStageConfig(**SCENARIO_CONFIG))
    run(stage, stream[:half])
    restored = pickle.loads(pickle.dumps(stage))
    assert run(restored, stream[half:]) == run(stage, stream[half:])


def test_final_equity_matches_replayed_fill_cash_flows():
    stream = scenario(seed=3)
    stage = ExecutionStage(ExecutionStageConfig(**SCENARIO_CONFIG))
    out = run(stage, stream)
    last_close = {event["instrument"]: event["close"] for schema, event in stream if schema == "Bar"}
    for portfolio in stage.portfolios():
        fills = [f for f in of(out, "Fill") if f["strategy_id"] == portfolio.strategy_id]
        signed = [(f["instrument"], (1 if f["side"] == "BUY" else -1) * f["quantity"], f) for f in fills]
        cash = portfolio.initial_cash - math.fsum(q * f["price"] + f["commission"] for _, q, f in signed)
        value = math.fsum(q * last_close[i] for i, q, _ in signed)
        assert portfolio.equity == pytest.approx(cash + value, rel=1e-12)
        last_pnl = [p for p in of(out, "PnL") if p["strategy_id"] == portfolio.strategy_id][-1]
        assert last_pnl["equity"] == pytest.approx(portfolio.equity, rel=1e-12)


def test_partial_fills_of_each_order_sum_to_its_filled_quantity():
    out = run(ExecutionStage(ExecutionStageConfig(**SCENARIO_CONFIG)), scenario(seed=5))
    filled = {}
    for fill in of(out, "Fill"):
        filled[fill["order_id"]] = filled.get(fill["order_id"], 0.0) + fill["quantity"]
    last_report = {r["order_id"]: r for r in of(out, "ExecutionReport")}
    orders = {o["id"]: o for o in of(out, "Order")}
    assert filled
    for order_id, quantity in filled.items():
        report = last_report[order_id]
        assert quantity == pytest.approx(report["filled_quantity"], rel=1e-12)
        if report["status"] == "FILLED":
            assert quantity == pytest.approx(orders[order_id]["quantity"], rel=1e-12)
