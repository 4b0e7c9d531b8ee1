"""RiskEngine: each limit rejects with its rule name, event-time rate limit, kill switch, trading modes."""

from __future__ import annotations

import pickle

import pytest

from operators.portfolio import Portfolio
from operators.risk import RateLimit, RiskEngine, RiskLimits
from schemas.codec import CODEC
from schemas.errors import ConfigError

SECOND = 1_000_000_000


def make_order(
    side="BUY",
    quantity=10.0,
    strategy_id="s1",
    instrument="AAPL",
    limit_price=None,
    ts_event=0,
    order_id="o1",
):
    return {
        "id": order_id,
        "intent_id": "i",
        "strategy_id": strategy_id,
        "account_id": "acct",
        "instrument": instrument,
        "side": side,
        "quantity": quantity,
        "order_type": "MARKET" if limit_price is None else "LIMIT",
        "limit_price": limit_price,
        "stop_price": None,
        "time_in_force": "GTC",
        "ts_event": ts_event,
        "ts_init": ts_event + 1,
    }


def make_portfolio(position=0.0, price=100.0, strategy_id="s1"):
    portfolio = Portfolio("acct", strategy_id, 1_000_000.0)
    if position:
        portfolio.trade("AAPL", position, price)
    portfolio.mark("AAPL", price)
    return portfolio


def control(command, strategy_id=None, control_id="c1", ts_event=5):
    return {
        "id": control_id,
        "strategy_id": strategy_id,
        "command": command,
        "params": {},
        "reason": "test",
        "issued_by": "ops",
        "ts_event": ts_event,
        "ts_init": ts_event,
    }


def rejected_rule(engine, order, portfolio, **kwargs):
    accepted, alerts = engine.check(order, portfolio, **kwargs)
    assert not accepted
    [alert] = alerts
    CODEC.encode("RiskAlert", alert)
    assert (alert["action"], alert["severity"], alert["instrument"]) == (
        "REJECT",
        "WARNING",
        order["instrument"],
    )
    return alert["rule"]


@pytest.mark.parametrize(
    ("limits", "order", "kwargs", "rule"),
    [
        ({"max_position": 50.0}, {"quantity": 60.0}, {}, "max_position"),
        ({"max_position": 50.0}, {"quantity": 30.0}, {"open_quantity": 30.0}, "max_position"),
        ({"max_position": 500.0, "max_position_by_instrument": {"AAPL": 5.0}}, {}, {}, "max_position"),
        ({"max_order_notional": 999.0}, {"quantity": 10.0}, {}, "max_order_notional"),
        ({"max_order_notional": 5_000.0}, {"quantity": 10.0, "limit_price": 600.0}, {}, "max_order_notional"),
        ({"max_gross_exposure": 1_500.0}, {"quantity": 20.0}, {}, "max_gross_exposure"),
    ],
)
def test_limit_breach_rejects_with_rule_name(limits, order, kwargs, rule):
    engine = RiskEngine(RiskLimits(**limits))
    assert rejected_rule(engine, make_order(**order), make_portfolio(), **kwargs) == rule


def test_order_within_all_limits_is_accepted():
    limits = RiskLimits(max_position=50.0, max_order_notional=5_000.0, max_gross_exposure=10_000.0)
    assert RiskEngine(limits).check(make_order(quantity=40.0), make_portfolio()) == (True, [])


def test_reducing_order_passes_position_and_exposure_limits_even_when_over_them():
    engine = RiskEngine(RiskLimits(max_position=10.0, max_gross_exposure=1_000.0))
    portfolio = make_portfolio(position=30.0)
    assert engine.check(make_order(side="SELL", quantity=10.0), portfolio) == (True, [])


def test_market_order_without_any_price_is_rejected_when_a_price_limit_is_set():
    engine = RiskEngine(RiskLimits(max_order_notional=1e6))
    assert rejected_rule(engine, make_order(), Portfolio("acct", "s1", 1e6)) == "no_reference_price"


def test_rate_limit_counts_accepted_orders_in_event_time_window():
    engine = RiskEngine(RiskLimits(max_orders_per_interval=RateLimit(count=2, interval_ns=60 * SECOND)))
    portfolio = make_portfolio()
    results = [
        engine.check(make_order(ts_event=t * SECOND), portfolio)[0] for t in (0, 10, 20, 59, 60, 61, 70)
    ]
    assert results == [True, True, False, False, True, False, True]


def test_rate_limit_rejects_with_rule_name():
    engine = RiskEngine(RiskLimits(max_orders_per_interval=RateLimit(count=1, interval_ns=SECOND)))
    engine.check(make_order(), make_portfolio())
    assert rejected_rule(engine, make_order(ts_event=10), make_portfolio()) == "max_orders_per_interval"


def test_rate_limit_is_per_strategy():
    engine = RiskEngine(RiskLimits(max_orders_per_interval=RateLimit(count=1, interval_ns=SECOND)))
    assert engine.check(make_order(strategy_id="s1"), make_portfolio())[0]
    assert engine.check(make_order(strategy_id="s2"), make_portfolio(strategy_id="s2"))[0]


def test_drawdown_kill_switch_trips_once_and_halts_strategy():
    engine = RiskEngine(RiskLimits(max_drawdown=0.1))
    alerts = [
        engine.on_equity(equity, t, t, "s1", "acct")
        for t, equity in enumerate([100.0, 110.0, 100.0, 98.0, 90.0])
    ]
    assert [len(a) for a in alerts] == [0, 0, 0, 1, 0]
    [alert] = alerts[3]
    CODEC.encode("RiskAlert", alert)
    assert (alert["rule"], alert["severity"], alert["action"]) == ("max_drawdown", "CRITICAL", "HALT")
    assert alert["value"] == pytest.approx(1 - 98.0 / 110.0) and alert["limit"] == 0.1
    assert engine.mode("s1") == "HALT" and engine.mode("s2") is None


def test_resume_rearms_kill_switch_from_next_equity():
    engine = RiskEngine(RiskLimits(max_drawdown=0.1))
    engine.on_equity(100.0, 0, 0, "s1", "acct")
    assert engine.on_equity(80.0, 1, 1, "s1", "acct")
    engine.apply_control(control("RESUME", "s1"))
    assert engine.mode("s1") is None
    assert engine.on_equity(80.0, 2, 2, "s1", "acct") == []
    assert engine.on_equity(71.0, 3, 3, "s1", "acct")[0]["rule"] == "max_drawdown"


def test_strategy_halt_blocks_risk_increasing_orders_of_that_strategy_only():
    engine = RiskEngine(RiskLimits())
    [alert] = engine.apply_control(control("HALT", "s1"))
    CODEC.encode("RiskAlert", alert)
    assert (alert["action"], alert["strategy_id"]) == ("HALT", "s1")
    assert rejected_rule(engine, make_order(), make_portfolio()) == "halted"
    assert engine.check(make_order(strategy_id="s2"), make_portfolio(strategy_id="s2")) == (True, [])


def test_halt_lets_orders_that_reduce_the_position_pass():
    engine = RiskEngine(RiskLimits())
    engine.apply_control(control("HALT", "s1"))
    portfolio = make_portfolio(position=20.0)
    assert engine.check(make_order(side="SELL", quantity=20.0), portfolio) == (True, [])
    assert rejected_rule(engine, make_order(side="SELL", quantity=30.0), portfolio) == "halted"


def test_global_reduce_only_applies_to_every_strategy():
    engine = RiskEngine(RiskLimits())
    engine.apply_control(control("REDUCE_ONLY"))
    assert (
        rejected_rule(engine, make_order(strategy_id="s9"), make_portfolio(strategy_id="s9")) == "reduce_only"
    )
    short = make_portfolio(position=-15.0, strategy_id="s9")
    assert engine.check(make_order(strategy_id="s9", quantity=15.0), short) == (True, [])


def test_global_resume_keeps_strategy_halt_and_strategy_resume_lifts_it():
    engine = RiskEngine(RiskLimits())
    engine.apply_control(control("HALT", "s1", "c1"))
    engine.apply_control(control("HALT", None, "c2"))
    assert engine.mode("s2") == "HALT"
    [alert] = engine.apply_control(control("RESUME", None, "c3"))
    assert (alert["action"], alert["severity"]) == ("RESUME", "INFO")
    assert engine.mode("s2") is None and engine.mode("s1") == "HALT"
    engine.apply_control(control("RESUME", "s1", "c4"))
    assert engine.check(make_order(), make_portfolio()) == (True, [])


def test_global_halt_outranks_strategy_reduce_only():
    engine = RiskEngine(RiskLimits())
    engine.apply_control(control("REDUCE_ONLY", "s1", "c1"))
    engine.apply_control(control("HALT", None, "c2"))
    assert engine.mode("s1") == "HALT"


def test_set_params_control_is_not_for_risk():
    engine = RiskEngine(RiskLimits())
    assert engine.apply_control(control("SET_PARAMS", "s1")) == [] and engine.mode("s1") is None


def test_engine_state_survives_pickle():
    engine = RiskEngine(
        RiskLimits(max_orders_per_interval=RateLimit(count=1, interval_ns=SECOND), max_drawdown=0.5)
    )
    engine.apply_control(control("REDUCE_ONLY", "s2"))
    engine.check(make_order(), make_portfolio())
    engine.on_equity(100.0, 0, 0, "s1", "acct")
    restored = pickle.loads(pickle.dumps(engine))
    assert restored.mode("s2") == "REDUCE_ONLY"
    assert rejected_rule(restored, make_order(ts_event=10), make_portfolio()) == "max_orders_per_interval"
    assert restored.on_equity(40.0, 1, 1, "s1", "acct")[0]["rule"] == "max_drawdown"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_position", -1.0),
        ("max_drawdown", 0.0),
        ("max_orders_per_interval", {"count": 0, "interval_ns": 1}),
    ],
)
def test_bad_limit_raises_config_error_naming_field(field, value):
    with pytest.raises(ConfigError, match=field):
        RiskLimits(**{field: value})
