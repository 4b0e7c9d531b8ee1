"""The execution service's parts without a broker: the gate's quiet releases, routing, snapshots.

A release with no target and no working order (a *quiet* one) only marks the portfolio; it must leave
the gate exactly where running the engine would. The reference is a gate that can never take that
path: one with a drawdown switch too far away to trip.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from connectors.kafka.operators import DecodedEvent
from connectors.records import RawRecord
from operators.config import RunConfig
from operators.execution.stage import ExecutionStageConfig
from operators.live_execution import LiveExecution
from streams.execution import ExecutionLogic, StrategyRouter, handle
from streams.options import ServiceOptions

MINUTE = 60_000_000_000
COSTS = {
    "commission": {"kind": "per_share", "rate": 0.01, "minimum": 1.0},
    "slippage": {"kind": "bps", "bps": 2.0},
}


def session(seed: int, instruments: tuple[str, ...], steps: int) -> list[tuple[str, object]]:
    """Inputs as the service receives them: each step's bars, then (sometimes) a target of the step,
    then (sometimes) a watermark over everything so far; ~1 in 6 bars gets a target."""
    rng = np.random.default_rng(seed)
    prices = dict.fromkeys(instruments, 100.0)
    inputs: list[tuple[str, object]] = []
    offset = 0
    for step in range(1, steps + 1):
        ts = step * MINUTE
        for name in instruments:
            prices[name] *= float(np.exp(rng.normal(0, 0.01)))
            price = prices[name]
            bar = {
                "instrument": name,
                "interval_ns": MINUTE,
                "open": price,
                "high": price * 1.01,
                "low": price * 0.99,
                "close": price,
                "volume": 1e5,
                "ts_event": ts,
                "ts_init": ts + 1,
            }
            inputs.append(("bar", (bar, offset)))
            offset += 1
            if rng.random() < 1 / 6:
                quantity = float(rng.choice([-20.0, 0.0, 10.0, 30.0]))
                inputs.append(
                    (
                        "target",
                        {
                            "id": f"t{step}{name}",
                            "strategy_id": "s",
                            "account_id": "a",
                            "instrument": name,
                            "target_quantity": quantity,
                            "reason": "",
                            "ts_event": ts,
                            "ts_init": ts + 2,
                        },
                    )
                )
        if rng.random() < 0.6:
            inputs.append(("watermark", {"source": "s", "ts_event": ts, "ts_init": ts + 3}))
    inputs.append(("watermark", {"source": "s", "ts_event": steps * MINUTE, "ts_init": 0}))
    return inputs


def run_gate(gate: LiveExecution, inputs: list[tuple[str, object]]) -> list[list[tuple[str, dict]]]:
    releases = []
    for kind, item in inputs:
        if kind == "bar":
            bar, offset = item
            gate.on_bar(bar, "md.bar.1m", 0, offset)
        elif kind == "target":
            gate.on_target(item)
        else:
            releases.append(gate.on_watermark(item))
    return releases


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("instruments", [("X",), ("X", "Y", "Z")])
def test_quiet_releases_leave_the_gate_where_the_engine_would(seed, instruments):
    inputs = session(seed, instruments, steps=120)
    quiet = LiveExecution(ExecutionStageConfig(exchange=COSTS), "s", "a")
    reference = LiveExecution(ExecutionStageConfig(exchange=COSTS, risk={"max_drawdown": 0.999}), "s", "a")

    releases = run_gate(quiet, inputs)
    expected = run_gate(reference, inputs)

    assert releases == expected
    assert sum(1 for r in releases if [name for name, _ in r] == ["PnL"]) > 5  # quiet releases happened
    assert sum(1 for r in releases for name, _ in r if name == "Fill") > 5  # and so did trades
    assert quiet.engine.last_close == reference.engine.last_close
    assert quiet.engine.portfolio.to_pnl_event(0) == reference.engine.portfolio.to_pnl_event(0)


def test_a_release_publishes_one_pnl_at_its_last_bar():
    gate = LiveExecution(ExecutionStageConfig(), "s", "a")
    for ts, price in [(1, 10.0), (2, 11.0), (3, 12.0)]:
        gate.on_bar(
            {
                "instrument": "X",
                "interval_ns": 1,
                "open": price,
                "high": price,
                "low": price,
                "close": price,
                "volume": 1e6,
                "ts_event": ts,
                "ts_init": ts,
            },
            "md.bar.1m",
        )
    gate.on_target(
        {
            "id": "t",
            "strategy_id": "s",
            "account_id": "a",
            "instrument": "X",
            "target_quantity": 5.0,
            "reason": "",
            "ts_event": 1,
            "ts_init": 1,
        }
    )

    events = gate.on_watermark({"source": "s", "ts_event": 3, "ts_init": 3})

    assert [name for name, _ in events] == [
        "OrderIntent",
        "Order",
        "ExecutionReport",
        "Fill",
        "ExecutionReport",
        "Position",
        "PnL",
    ]
    pnl = events[-1][1]
    assert (pnl["ts_event"], pnl["equity"]) == (3, gate.engine.portfolio.equity)
    assert pnl["unrealized_pnl"] == 5.0  # bought 5 at 11 (the next bar's open), marked at 12


def decoded(schema: str, record: dict, topic: str, offset: int = 0) -> DecodedEvent:
    return DecodedEvent(schema, record, RawRecord(topic, 0, offset, 0, None, b""))


def config(strategy_id: str, universe: list[str] | None, topics: list[str] | None = None) -> RunConfig:
    data = {} if topics is None else {"data": {"topics": topics}}
    return RunConfig.from_dict(
        {"strategy": {"name": "ma_crossover", "id": strategy_id}, "universe": universe, **data}
    )


def test_router_sends_bars_by_topic_and_universe_and_the_rest_to_their_strategy():
    configs = {
        c.strategy.strategy_id: c
        for c in [
            config("x", ["X"]),
            config("xy", ["X", "Y"]),
            config("all", None),
            config("other", None, ["md.bar.5m"]),
        ]
    }
    router = StrategyRouter(configs, ServiceOptions(namespace="n."))
    bar_x = decoded("Bar", {"instrument": "X"}, "n.md.bar.1m", 1)
    bar_y = decoded("Bar", {"instrument": "Y"}, "n.md.bar.1m", 2)
    bar_5m = decoded("Bar", {"instrument": "X"}, "n.md.bar.5m", 3)
    target = decoded("TargetPosition", {"strategy_id": "xy"}, "n.sig.target")
    watermark = decoded("Watermark", {"source": "x"}, "n.sig.target")
    stranger = decoded("Watermark", {"source": "nobody"}, "n.sig.target")
    halt_all = decoded("Control", {"strategy_id": None}, "n.ctl.command")

    routed = dict(router([bar_x, bar_y, bar_5m, target, watermark, stranger, halt_all]))

    assert {sid: items for sid, (_, items) in routed.items()} == {
        "x": [bar_x, watermark, halt_all],
        "xy": [bar_x, bar_y, target, halt_all],
        "all": [bar_x, bar_y, halt_all],
        "other": [bar_5m, halt_all],
    }
    assert all(key == sid for key, (sid, _) in routed.items())


def test_execution_logic_resumed_from_its_snapshot_continues_identically():
    configs = {"s": config("s", ["X"])}
    options = ServiceOptions()

    def new_gate(strategy_id):
        c = configs[strategy_id]
        return LiveExecution(c.stage_config(), strategy_id, "a")

    inputs = session(7, ("X",), steps=60)
    items = []
    for kind, item in inputs:
        if kind == "bar":
            items.append(decoded("Bar", item[0], "md.bar.1m", item[1]))
        elif kind == "target":
            items.append(decoded("TargetPosition", item, "sig.target"))
        else:
            items.append(decoded("Watermark", item, "sig.target"))
    first, second = items[: len(items) // 2], items[len(items) // 2 :]
    logic = ExecutionLogic(new_gate, options, None)
    logic.on_item(("s", first))
    resumed = ExecutionLogic(new_gate, options, logic.snapshot())

    continued, _ = logic.on_item(("s", second))
    after_resume, _ = resumed.on_item(("s", second))

    assert continued == after_resume
    assert sum(len(records) for records in continued) > 10
    assert pickle.loads(logic.snapshot()).engine.portfolio.cash == resumed.gate.engine.portfolio.cash


def test_handle_releases_before_a_control_and_once_at_the_end():
    gate = LiveExecution(ExecutionStageConfig(), "s", "a")
    bar = {
        "instrument": "X",
        "interval_ns": 1,
        "open": 10.0,
        "high": 10.0,
        "low": 10.0,
        "close": 10.0,
        "volume": 1e6,
        "ts_event": 1,
        "ts_init": 1,
    }
    items = [
        decoded("Bar", bar, "md.bar.1m"),
        decoded("Watermark", {"source": "s", "ts_event": 1, "ts_init": 1}, "sig.target"),
        decoded("Watermark", {"source": "s", "ts_event": 1, "ts_init": 1}, "sig.target"),
        decoded(
            "Control",
            {
                "id": "c",
                "strategy_id": "s",
                "command": "HALT",
                "params": {},
                "reason": "",
                "issued_by": "",
                "ts_event": 2,
                "ts_init": 2,
            },
            "ctl.command",
        ),
    ]

    events = handle(gate, items)

    assert [name for name, _ in events][0] == "PnL"  # released once, before the HALT applied
    assert [name for name, _ in events].count("PnL") == 1
