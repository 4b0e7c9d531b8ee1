"""TargetExecutor: target deltas, lot rounding, cancel/replace, limit placement."""

from __future__ import annotations

import pytest

from operators.execution import ExecutorConfig, TargetExecutor, order_from_intent
from operators.execution.ids import child_id
from schemas.codec import CODEC
from schemas.errors import ConfigError


def make_target(quantity, target_id="t1", instrument="AAPL"):
    return {
        "id": target_id,
        "strategy_id": "s",
        "account_id": "a",
        "instrument": instrument,
        "target_quantity": quantity,
        "reason": "test",
        "ts_event": 60,
        "ts_init": 61,
    }


def sides_and_quantities(intents):
    return [(intent["side"], intent["quantity"]) for intent in intents]


@pytest.mark.parametrize(
    ("target", "position", "open_orders", "expected"),
    [
        (100.0, 0.0, [], [("BUY", 100.0)]),
        (100.0, 40.0, [], [("BUY", 60.0)]),
        (-30.0, 20.0, [], [("SELL", 50.0)]),
        (0.0, -12.0, [], [("BUY", 12.0)]),
        (100.0, 100.0, [], []),
    ],
)
def test_delta_is_target_minus_position(target, position, open_orders, expected):
    _, intents = TargetExecutor(ExecutorConfig()).on_target(make_target(target), position, open_orders, 10.0)
    assert sides_and_quantities(intents) == expected


def test_delta_rounds_toward_zero_to_lot_size():
    executor = TargetExecutor(ExecutorConfig(lot_size=100.0, lot_size_by_instrument={"BTC": 0.01}))
    assert sides_and_quantities(executor.on_target(make_target(-390.0), 0.0, [], 1.0)[1]) == [("SELL", 300.0)]
    assert executor.on_target(make_target(99.0), 0.0, [], 1.0) == ([], [])
    btc = executor.on_target(make_target(0.256, instrument="BTC"), 0.0, [], 1.0)[1]
    assert sides_and_quantities(btc) == [("BUY", 0.25)]


def test_working_orders_covering_delta_leave_target_alone():
    executor = TargetExecutor(ExecutorConfig())
    assert executor.on_target(make_target(100.0), 30.0, [("o1", 50.0), ("o2", 20.0)], 10.0) == ([], [])


def test_changed_target_cancels_working_orders_and_replaces_them():
    executor = TargetExecutor(ExecutorConfig())
    cancels, intents = executor.on_target(make_target(-20.0), 30.0, [("o1", 50.0), ("o2", 20.0)], 10.0)
    assert cancels == ["o1", "o2"]
    assert sides_and_quantities(intents) == [("SELL", 50.0)]


def test_target_reached_with_working_orders_only_cancels():
    executor = TargetExecutor(ExecutorConfig())
    assert executor.on_target(make_target(30.0), 30.0, [("o1", 5.0)], 10.0) == (["o1"], [])


@pytest.mark.parametrize(
    ("target", "offset", "expected"),
    [
        (10.0, 25.0, 99.75),
        (-10.0, 25.0, 100.25),
        (10.0, -10.0, 100.1),
        (10.0, 2.5, 99.97),
        (-10.0, 2.5, 100.03),
    ],
)
def test_limit_price_is_offset_from_reference_and_rounded_passively(target, offset, expected):
    config = ExecutorConfig(order_type="LIMIT", limit_offset_bps=offset, tick_size=0.01)
    [intent] = TargetExecutor(config).on_target(make_target(target), 0.0, [], 100.0)[1]
    assert (intent["order_type"], intent["limit_price"]) == ("LIMIT", expected)


def test_limit_without_reference_price_falls_back_to_market():
    [intent] = TargetExecutor(ExecutorConfig(order_type="LIMIT")).on_target(make_target(5.0), 0.0, [], None)[
        1
    ]
    assert (intent["order_type"], intent["limit_price"]) == ("MARKET", None)


def test_intent_and_order_are_deterministic_and_encode():
    executor = TargetExecutor(ExecutorConfig(time_in_force="DAY"))
    [intent] = executor.on_target(make_target(7.0), 0.0, [], 10.0)[1]
    assert (
        intent
        == TargetExecutor(ExecutorConfig(time_in_force="DAY")).on_target(make_target(7.0), 0.0, [], 10.0)[1][
            0
        ]
    )
    assert intent["id"] == child_id("t1", "OrderIntent")
    assert (intent["ts_event"], intent["ts_init"], intent["time_in_force"]) == (60, 61, "DAY")
    order = order_from_intent(intent)
    CODEC.encode("OrderIntent", intent)
    CODEC.encode("Order", order)
    assert order["intent_id"] == intent["id"] and order["id"] != intent["id"]


def test_executor_config_rejects_unknown_order_type():
    with pytest.raises(ConfigError, match="order_type"):
        ExecutorConfig(order_type="STOP")
