"""SimulatedExchange: next-event fills, order types, time in force, partial fills, costs."""

from __future__ import annotations

import math

import pytest

from operators.execution import (
    BpsCommission,
    ExchangeConfig,
    FixedBpsSlippage,
    FixedCommission,
    FixedTicksSlippage,
    PerShareCommission,
    SimulatedExchange,
    SquareRootImpact,
    VolumeShareSlippage,
)
from schemas.codec import CODEC
from schemas.errors import ConfigError

MINUTE = 60_000_000_000


def make_order(
    order_id="o1",
    side="BUY",
    quantity=100.0,
    order_type="MARKET",
    limit_price=None,
    stop_price=None,
    time_in_force="GTC",
    ts_event=MINUTE,
    instrument="AAPL",
):
    return {
        "id": order_id,
        "intent_id": f"i-{order_id}",
        "strategy_id": "s",
        "account_id": "a",
        "instrument": instrument,
        "side": side,
        "quantity": quantity,
        "order_type": order_type,
        "limit_price": limit_price,
        "stop_price": stop_price,
        "time_in_force": time_in_force,
        "ts_event": ts_event,
        "ts_init": ts_event + 1,
    }


def make_bar(minute, open_=100.0, high=101.0, low=99.0, close=100.5, volume=10_000.0, instrument="AAPL"):
    return {
        "instrument": instrument,
        "interval_ns": MINUTE,
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": volume,
        "ts_event": minute * MINUTE,
        "ts_init": minute * MINUTE + 7,
    }


def encodes(events):
    for name, event in events:
        CODEC.encode(name, event)
    return events


def fills(events):
    return [event for name, event in events if name == "Fill"]


def statuses(events):
    return [event["status"] for name, event in events if name == "ExecutionReport"]


def submitted(config=None, **order):
    exchange = SimulatedExchange(config or ExchangeConfig())
    assert statuses(encodes(exchange.submit(make_order(**order)))) == ["ACCEPTED"]
    return exchange


def test_market_order_on_signal_bar_does_not_fill():
    exchange = submitted(ts_event=MINUTE)
    assert exchange.on_bar(make_bar(1)) == []
    assert exchange.open_orders() == [("o1", 100.0)]


def test_market_order_fills_at_next_bar_open():
    exchange = submitted()
    events = encodes(exchange.on_bar(make_bar(2, open_=100.25)))
    [fill] = fills(events)
    assert (fill["price"], fill["quantity"], fill["liquidity"]) == (100.25, 100.0, "TAKER")
    assert (fill["ts_event"], fill["ts_init"]) == (2 * MINUTE, 2 * MINUTE + 7)
    assert statuses(events) == ["FILLED"]
    assert exchange.open_orders() == []


def test_order_of_other_instrument_ignores_bar():
    exchange = submitted(instrument="MSFT")
    assert exchange.on_bar(make_bar(2)) == []


@pytest.mark.parametrize(
    ("side", "limit", "bar", "price", "liquidity"),
    [
        ("BUY", 99.5, {"open_": 100.0, "low": 99.0}, 99.5, "MAKER"),
        ("BUY", 101.0, {"open_": 100.0, "low": 99.0}, 100.0, "TAKER"),
        ("SELL", 100.8, {"open_": 100.0, "high": 101.0}, 100.8, "MAKER"),
        ("SELL", 99.0, {"open_": 100.0, "high": 101.0}, 100.0, "TAKER"),
    ],
)
def test_limit_order_fills_at_limit_or_better_open(side, limit, bar, price, liquidity):
    exchange = submitted(side=side, order_type="LIMIT", limit_price=limit)
    [fill] = fills(encodes(exchange.on_bar(make_bar(2, **bar))))
    assert (fill["price"], fill["liquidity"]) == (price, liquidity)


@pytest.mark.parametrize(("side", "limit"), [("BUY", 98.5), ("SELL", 101.5)])
def test_limit_order_outside_bar_range_keeps_working(side, limit):
    exchange = submitted(side=side, order_type="LIMIT", limit_price=limit)
    assert exchange.on_bar(make_bar(2)) == []
    assert len(exchange.open_orders()) == 1


@pytest.mark.parametrize(
    ("side", "stop", "bar", "price"),
    [
        ("BUY", 100.5, {"open_": 100.0, "high": 101.0}, 100.5),
        ("BUY", 100.5, {"open_": 102.0, "high": 103.0, "low": 101.5}, 102.0),
        ("SELL", 99.5, {"open_": 100.0, "low": 99.0}, 99.5),
        ("SELL", 99.5, {"open_": 98.0, "high": 98.5, "low": 97.0}, 98.0),
    ],
)
def test_stop_order_triggers_at_stop_or_gap_open(side, stop, bar, price):
    exchange = submitted(side=side, order_type="STOP", stop_price=stop)
    [fill] = fills(encodes(exchange.on_bar(make_bar(2, **bar))))
    assert (fill["price"], fill["liquidity"]) == (price, "TAKER")


def test_stop_order_not_reached_keeps_working():
    exchange = submitted(order_type="STOP", stop_price=105.0)
    assert exchange.on_bar(make_bar(2)) == []


def test_stop_limit_gapping_past_limit_becomes_working_limit():
    exchange = submitted(order_type="STOP_LIMIT", stop_price=100.5, limit_price=101.0)
    assert exchange.on_bar(make_bar(2, open_=102.0, high=103.0, low=101.5)) == []
    assert exchange.on_bar(make_bar(3, open_=102.0, high=102.5, low=101.8)) == []
    [fill] = fills(exchange.on_bar(make_bar(4, open_=101.5, high=101.6, low=100.8)))
    assert (fill["price"], fill["liquidity"]) == (101.0, "MAKER")


def test_stop_limit_within_limit_fills_at_trigger():
    exchange = submitted(order_type="STOP_LIMIT", stop_price=100.5, limit_price=101.0)
    [fill] = fills(exchange.on_bar(make_bar(2, open_=100.0, high=101.0)))
    assert fill["price"] == 100.5


def test_participation_partial_fills_sum_to_order_quantity():
    config = ExchangeConfig(max_participation=0.1)
    exchange = submitted(config, quantity=1_000.0)
    events = []
    for minute, volume in enumerate([3_000.0, 0.0, 4_000.0, 2_500.0, 9_000.0], start=2):
        events += encodes(exchange.on_bar(make_bar(minute, volume=volume)))
    assert [f["quantity"] for f in fills(events)] == [300.0, 400.0, 250.0, 50.0]
    assert statuses(events) == ["PARTIALLY_FILLED"] * 3 + ["FILLED"]
    assert math.fsum(f["quantity"] for f in fills(events)) == 1_000.0
    final = [e for n, e in events if n == "ExecutionReport"][-1]
    assert (final["filled_quantity"], final["leaves_quantity"]) == (1_000.0, 0.0)


def test_participation_budget_is_shared_by_orders_in_submission_order():
    exchange = SimulatedExchange(ExchangeConfig(max_participation=0.5))
    exchange.submit(make_order("first", quantity=80.0))
    exchange.submit(make_order("second", quantity=80.0))
    events = exchange.on_bar(make_bar(2, volume=200.0))
    assert [(f["order_id"], f["quantity"]) for f in fills(events)] == [("first", 80.0), ("second", 20.0)]


def test_partial_fills_round_down_to_lots():
    exchange = submitted(ExchangeConfig(max_participation=0.1, lot_size=100.0), quantity=500.0)
    [fill] = fills(exchange.on_bar(make_bar(2, volume=2_550.0)))
    assert fill["quantity"] == 200.0


def test_ioc_fills_available_quantity_and_cancels_rest():
    exchange = submitted(ExchangeConfig(max_participation=0.1), quantity=1_000.0, time_in_force="IOC")
    events = encodes(exchange.on_bar(make_bar(2, volume=3_000.0)))
    assert [f["quantity"] for f in fills(events)] == [300.0]
    assert statuses(events) == ["PARTIALLY_FILLED", "CANCELED"]
    assert exchange.open_orders() == []


def test_ioc_limit_not_reached_is_canceled():
    exchange = submitted(order_type="LIMIT", limit_price=90.0, time_in_force="IOC")
    assert statuses(exchange.on_bar(make_bar(2))) == ["CANCELED"]


def test_fok_without_enough_volume_is_canceled_unfilled():
    exchange = submitted(ExchangeConfig(max_participation=0.1), quantity=1_000.0, time_in_force="FOK")
    events = exchange.on_bar(make_bar(2, volume=3_000.0))
    assert fills(events) == [] and statuses(events) == ["CANCELED"]


def test_fok_with_enough_volume_fills_completely():
    exchange = submitted(ExchangeConfig(max_participation=0.1), quantity=1_000.0, time_in_force="FOK")
    events = exchange.on_bar(make_bar(2, volume=20_000.0))
    assert [f["quantity"] for f in fills(events)] == [1_000.0] and statuses(events) == ["FILLED"]


def test_day_order_expires_on_next_day():
    exchange = submitted(order_type="LIMIT", limit_price=90.0, time_in_force="DAY")
    assert exchange.on_bar(make_bar(2)) == []
    next_day = make_bar(24 * 60 + 2)
    events = encodes(exchange.on_bar(next_day))
    assert statuses(events) == ["EXPIRED"] and exchange.open_orders() == []


def test_cancel_returns_canceled_report_and_removes_order():
    exchange = submitted()
    events = encodes(exchange.cancel("o1", 90, 91))
    assert statuses(events) == ["CANCELED"]
    assert exchange.cancel("o1", 92, 93) == [] and exchange.on_bar(make_bar(2)) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": 0.0}, "quantity"),
        ({"quantity": -5.0}, "quantity"),
        ({"quantity": float("nan")}, "quantity"),
        ({"order_type": "LIMIT"}, "limit_price"),
        ({"order_type": "STOP_LIMIT", "limit_price": 100.0}, "stop_price"),
        ({"order_type": "STOP", "stop_price": -1.0}, "stop_price"),
    ],
)
def test_invalid_order_is_rejected_with_reason(change, field):
    exchange = SimulatedExchange(ExchangeConfig())
    [(name, report)] = exchange.submit({**make_order(), **change})
    assert (name, report["status"]) == ("ExecutionReport", "REJECTED")
    assert field in report["reason"]
    assert exchange.open_orders() == []


def test_duplicate_order_id_is_rejected():
    exchange = submitted()
    assert statuses(exchange.submit(make_order())) == ["REJECTED"]


def test_trade_fills_market_order_at_trade_price_up_to_participation():
    exchange = submitted(ExchangeConfig(max_participation=0.5), quantity=100.0)
    trade = {
        "instrument": "AAPL",
        "price": 100.1,
        "size": 120.0,
        "aggressor": "SELL",
        "trade_id": "t1",
        "ts_event": MINUTE + 5,
        "ts_init": MINUTE + 6,
    }
    events = encodes(exchange.on_trade(trade))
    assert [(f["price"], f["quantity"]) for f in fills(events)] == [(100.1, 60.0)]


def test_trade_at_order_time_does_not_fill():
    exchange = submitted()
    trade = {
        "instrument": "AAPL",
        "price": 100.1,
        "size": 120.0,
        "aggressor": "SELL",
        "trade_id": "t1",
        "ts_event": MINUTE,
        "ts_init": MINUTE,
    }
    assert exchange.on_trade(trade) == []


@pytest.mark.parametrize(
    ("slippage", "side", "expected"),
    [
        (FixedBpsSlippage(bps=10.0), "BUY", 100.0 * 1.001),
        (FixedBpsSlippage(bps=10.0), "SELL", 100.0 * 0.999),
        (FixedTicksSlippage(ticks=3, tick_size=0.01), "BUY", 100.03),
        (VolumeShareSlippage(price_impact=0.1), "SELL", 100.0 * (1 - 0.1 * 0.01**2)),
        (SquareRootImpact(coefficient=0.1), "BUY", 100.0 * (1 + 0.1 * 0.1)),
    ],
)
def test_slippage_moves_taker_fill_against_order(slippage, side, expected):
    exchange = submitted(ExchangeConfig(slippage=slippage), side=side, quantity=100.0)
    [fill] = fills(exchange.on_bar(make_bar(2, open_=100.0, volume=10_000.0)))
    assert fill["price"] == pytest.approx(expected, rel=1e-12)


def test_slippage_never_pushes_limit_fill_past_limit():
    exchange = submitted(
        ExchangeConfig(slippage=FixedBpsSlippage(bps=100.0)), order_type="LIMIT", limit_price=100.2
    )
    [fill] = fills(exchange.on_bar(make_bar(2, open_=100.0)))
    assert fill["price"] == 100.2


def test_maker_fill_gets_no_slippage():
    exchange = submitted(
        ExchangeConfig(slippage=FixedBpsSlippage(bps=100.0)), order_type="LIMIT", limit_price=99.5
    )
    [fill] = fills(exchange.on_bar(make_bar(2, open_=100.0)))
    assert fill["price"] == 99.5


def test_per_share_minimum_is_charged_once_across_partial_fills():
    config = ExchangeConfig(max_participation=0.1, commission=PerShareCommission(rate=0.005, minimum=1.0))
    exchange = submitted(config, quantity=300.0)
    events = exchange.on_bar(make_bar(2, volume=1_000.0)) + exchange.on_bar(make_bar(3, volume=2_000.0))
    assert [f["commission"] for f in fills(events)] == pytest.approx([1.0, 0.5])


def test_bps_commission_is_charged_on_fill_notional():
    exchange = submitted(ExchangeConfig(commission=BpsCommission(bps=5.0)), quantity=200.0)
    [fill] = fills(exchange.on_bar(make_bar(2, open_=50.0)))
    assert fill["commission"] == pytest.approx(200.0 * 50.0 * 5e-4)


def test_fixed_commission_is_charged_with_first_fill_only():
    config = ExchangeConfig(max_participation=0.5, commission=FixedCommission(amount=2.5))
    exchange = submitted(config, quantity=100.0)
    events = exchange.on_bar(make_bar(2, volume=120.0)) + exchange.on_bar(make_bar(3, volume=120.0))
    assert [f["commission"] for f in fills(events)] == [2.5, 0.0]


def test_fill_and_report_ids_are_deterministic():
    first = submitted(ExchangeConfig(max_participation=0.1)).on_bar(make_bar(2, volume=500.0))
    second = submitted(ExchangeConfig(max_participation=0.1)).on_bar(make_bar(2, volume=500.0))
    assert first == second
    assert len({event["id"] for _, event in first}) == len(first)


def test_exchange_config_with_unknown_field_raises_config_error():
    with pytest.raises(ConfigError, match="max_participaton"):
        ExchangeConfig(max_participaton=0.1)
