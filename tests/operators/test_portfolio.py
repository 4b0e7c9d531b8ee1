"""Portfolio: average-cost accounting checked against an independent replay of the cash flows."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.portfolio import Portfolio
from schemas.codec import CODEC

INSTRUMENTS = ("AAPL", "MSFT")

trades = st.lists(
    st.tuples(
        st.sampled_from(INSTRUMENTS),
        st.integers(min_value=-60, max_value=60).filter(lambda q: q != 0).map(float),
        st.floats(min_value=1.0, max_value=500.0, allow_nan=False),
        st.floats(min_value=0.0, max_value=5.0, allow_nan=False),
    ),
    min_size=1,
    max_size=60,
)


def fill(instrument, quantity, price, commission=0.0):
    side = "BUY" if quantity > 0 else "SELL"
    return {
        "instrument": instrument,
        "side": side,
        "quantity": abs(quantity),
        "price": price,
        "commission": commission,
    }


def replay_cash_flows(initial_cash, trade_list, marks):
    """Equity from first principles: cash after every flow plus each net quantity at its last price."""
    cash = initial_cash - math.fsum(q * p + c for _, q, p, c in trade_list)
    quantities = {i: math.fsum(q for j, q, _, _ in trade_list if j == i) for i in INSTRUMENTS}
    return cash + math.fsum(quantities[i] * marks[i] for i in INSTRUMENTS if quantities[i])


@settings(max_examples=100, deadline=None)
@given(trades, st.floats(min_value=1.0, max_value=500.0), st.floats(min_value=1.0, max_value=500.0))
def test_realized_plus_unrealized_minus_commission_equals_total_pnl(trade_list, mark_a, mark_b):
    portfolio = Portfolio("acct", "s", 100_000.0)
    for instrument, quantity, price, commission in trade_list:
        portfolio.apply_fill(fill(instrument, quantity, price, commission))
    marks = {"AAPL": mark_a, "MSFT": mark_b}
    for instrument, price in marks.items():
        portfolio.mark(instrument, price)
    total = replay_cash_flows(100_000.0, trade_list, marks) - 100_000.0
    scale = 1e-9 * (1.0 + sum(abs(q * p) for _, q, p, _ in trade_list))
    assert portfolio.realized_pnl + portfolio.unrealized_pnl - portfolio.commission == pytest.approx(
        total, abs=scale
    )
    assert portfolio.equity - portfolio.initial_cash == pytest.approx(total, abs=scale)


@settings(max_examples=100, deadline=None)
@given(trades)
def test_equity_and_exposures_equal_sums_over_positions(trade_list):
    portfolio = Portfolio("acct", "s", 50_000.0)
    for instrument, quantity, price, commission in trade_list:
        portfolio.apply_fill(fill(instrument, quantity, price, commission))
    values = [portfolio.quantity(i) * portfolio.price(i) for i in portfolio.instruments()]
    scale = 1e-9 * (1.0 + sum(abs(q * p) for _, q, p, _ in trade_list))
    assert portfolio.equity == pytest.approx(portfolio.cash + math.fsum(values), abs=scale)
    assert portfolio.net_exposure == pytest.approx(math.fsum(values), abs=scale)
    assert portfolio.gross_exposure == pytest.approx(math.fsum(abs(v) for v in values), abs=scale)
    for position in portfolio.to_position_events(7, 8):
        CODEC.encode("Position", position)
    CODEC.encode("PnL", portfolio.to_pnl_event(7, 8))


@settings(max_examples=100, deadline=None)
@given(trades)
def test_closing_every_position_realizes_the_round_trip_cash_flow(trade_list):
    portfolio = Portfolio("acct", "s", 10_000.0)
    for instrument, quantity, price, commission in trade_list:
        portfolio.apply_fill(fill(instrument, quantity, price, commission))
    closing = [(i, -portfolio.quantity(i), 100.0, 0.0) for i in INSTRUMENTS if portfolio.quantity(i)]
    for instrument, quantity, price, commission in closing:
        portfolio.apply_fill(fill(instrument, quantity, price, commission))
    all_trades = trade_list + closing
    cash_flow = -math.fsum(q * p + c for _, q, p, c in all_trades)
    scale = 1e-9 * (1.0 + sum(abs(q * p) for _, q, p, _ in all_trades))
    assert portfolio.gross_exposure == 0.0 and portfolio.unrealized_pnl == 0.0
    assert portfolio.realized_pnl - portfolio.commission == pytest.approx(cash_flow, abs=scale)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 100).map(float), st.floats(1.0, 500.0)), min_size=1, max_size=20))
def test_average_price_of_one_sided_buys_is_their_vwap(buys):
    portfolio = Portfolio("acct", "s", 1e9)
    for quantity, price in buys:
        portfolio.apply_fill(fill("AAPL", quantity, price))
    quantities, prices = np.array(buys).T
    assert portfolio.avg_price("AAPL") == pytest.approx(np.average(prices, weights=quantities), rel=1e-12)


def test_flip_from_long_to_short_realizes_old_side_and_opens_at_fill_price():
    portfolio = Portfolio("acct", "s", 10_000.0)
    portfolio.apply_fill(fill("AAPL", 10.0, 100.0))
    portfolio.apply_fill(fill("AAPL", -25.0, 110.0))
    assert (portfolio.quantity("AAPL"), portfolio.avg_price("AAPL")) == (-15.0, 110.0)
    assert portfolio.realized_pnl == pytest.approx(10.0 * (110.0 - 100.0))


def test_partial_reduction_keeps_average_price():
    portfolio = Portfolio("acct", "s", 10_000.0)
    portfolio.apply_fill(fill("AAPL", -10.0, 50.0))
    portfolio.apply_fill(fill("AAPL", 4.0, 45.0))
    assert (portfolio.quantity("AAPL"), portfolio.avg_price("AAPL")) == (-6.0, 50.0)
    assert portfolio.realized_pnl == pytest.approx(4.0 * 5.0)


def test_mark_many_matches_marking_bar_by_bar():
    prices = np.linspace(90.0, 110.0, 50)
    vectorised, looped = Portfolio("acct", "s", 10_000.0), Portfolio("acct", "s", 10_000.0)
    for portfolio in (vectorised, looped):
        portfolio.apply_fill(fill("AAPL", 30.0, 100.0, 1.0))
        portfolio.apply_fill(fill("MSFT", -20.0, 200.0, 1.0))
        portfolio.mark("MSFT", 190.0)
    path = vectorised.mark_many("AAPL", prices)
    expected = []
    for price in prices:
        looped.mark("AAPL", float(price))
        expected.append(looped.equity)
    np.testing.assert_allclose(path, expected, rtol=1e-12)
    assert vectorised.equity == pytest.approx(looped.equity, rel=1e-12)
    assert vectorised.price("AAPL") == prices[-1]


def test_mark_many_of_unheld_instrument_is_flat_equity():
    portfolio = Portfolio("acct", "s", 1_000.0)
    np.testing.assert_array_equal(portfolio.mark_many("AAPL", np.array([1.0, 2.0])), [1_000.0, 1_000.0])


def test_portfolio_pickles_with_its_state():
    portfolio = Portfolio("acct", "s", 1_000.0)
    portfolio.apply_fill(fill("AAPL", 3.0, 10.0, 0.5))
    restored = pickle.loads(pickle.dumps(portfolio))
    assert restored.to_pnl_event(1) == portfolio.to_pnl_event(1)
    assert restored.to_position_events(1) == portfolio.to_position_events(1)
