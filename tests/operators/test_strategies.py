"""Strategies: the vectorised and per-bar paths agree, batch size does not matter, configs fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.feeds.synthetic import SyntheticMarket
from operators.indicators import EMA, MACD, MACDResult
from operators.strategies import strategy_class
from operators.strategy import Strategy, StrategyRunner
from schemas.batch import EventBatch
from schemas.errors import ConfigError

SINGLE_INSTRUMENT = {
    "ma_crossover": {"fast": 5, "slow": 20, "quantity": 10, "allow_short": True},
    "rsi_reversion": {"period": 7, "oversold": 35, "overbought": 65, "quantity": 10},
    "macd_momentum": {"fast": 6, "slow": 13, "signal": 5, "quantity": 10, "allow_short": True},
    "bollinger_reversion": {"period": 10, "num_std": 1.5, "quantity": 10},
}


def market_batch(bars: int = 3000, instruments=("AAA", "BBB", "CCC"), seed: int = 7) -> EventBatch:
    config = {
        "seed": seed,
        "instruments": [{"name": n} for n in instruments],
        "bars": bars,
        "regimes": {},
        "jumps": {"intensity": 50.0},
    }
    batches = list(SyntheticMarket(config).bars())
    records = [r for b in batches for r in b.to_records()]
    return EventBatch.from_records("Bar", "md.bar.1m", records)


def run(name: str, params: dict, batch: EventBatch, sizes: list[int], per_bar: bool):
    runner = StrategyRunner(strategy_class(name)(params), "s")
    runner._vectorised = runner._vectorised and not per_bar
    found = []
    start = 0
    for size in sizes + [len(batch)]:
        stop = min(start + size, len(batch))
        if stop > start:
            targets = runner.on_batch(batch.select(slice(start, stop)))
            found += [
                (int(r) + start, i, q)
                for r, i, q in zip(targets.rows, targets.instrument, targets.quantity, strict=True)
            ]
        start = stop
    return found


@pytest.fixture(scope="module")
def batch() -> EventBatch:
    return market_batch()


@pytest.mark.parametrize("name", sorted(SINGLE_INSTRUMENT))
def test_vectorised_and_per_bar_paths_give_identical_targets(name, batch):
    vectorised = run(name, SINGLE_INSTRUMENT[name], batch, [], per_bar=False)
    per_bar = run(name, SINGLE_INSTRUMENT[name], batch, [], per_bar=True)
    assert len(vectorised) > 10
    assert vectorised == per_bar


@settings(max_examples=15, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 700), min_size=1, max_size=12),
    name=st.sampled_from(sorted(SINGLE_INSTRUMENT)),
)
def test_targets_do_not_depend_on_batch_boundaries(sizes, name):
    batch = market_batch(bars=800, seed=3)
    whole = run(name, SINGLE_INSTRUMENT[name], batch, [], per_bar=False)
    assert run(name, SINGLE_INSTRUMENT[name], batch, sizes, per_bar=False) == whole
    assert run(name, SINGLE_INSTRUMENT[name], batch, sizes, per_bar=True) == whole


def test_targets_are_emitted_only_on_changes(batch):
    found = run("ma_crossover", SINGLE_INSTRUMENT["ma_crossover"], batch, [], per_bar=False)
    by_instrument: dict[str, list[float]] = {}
    for _, instrument, quantity in found:
        by_instrument.setdefault(instrument, []).append(quantity)
    for quantities in by_instrument.values():
        assert all(a != b for a, b in zip(quantities, quantities[1:], strict=False))


def cointegrated_pair(n: int, seed: int, cointegrated: bool) -> EventBatch:
    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0, 0.01, n))
    b = 100 * np.exp(common)
    noise = np.zeros(n)
    for t in range(1, n):  # a stationary AR(1) spread
        noise[t] = 0.9 * noise[t - 1] + rng.normal(0, 0.004)
    a = 50 * np.exp(common + noise) if cointegrated else 50 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    records = []
    for t in range(n):
        for name, price in (("A", a[t]), ("B", b[t])):
            records.append(
                {
                    "instrument": name,
                    "interval_ns": 60,
                    "open": price,
                    "high": price,
                    "low": price,
                    "close": price,
                    "volume": 1e6,
                    "ts_event": (t + 1) * 60,
                    "ts_init": (t + 1) * 60,
                }
            )
    return EventBatch.from_records("Bar", "md.bar.1m", records)


def test_pairs_trading_trades_a_cointegrated_pair_and_not_independent_walks():
    params = {
        "leg_a": "A",
        "leg_b": "B",
        "lookback": 60,
        "coint_lookback": 200,
        "recheck_every": 100,
        "entry_z": 1.5,
        "exit_z": 0.3,
        "max_pvalue": 0.05,
    }
    traded = run("pairs_trading", params, cointegrated_pair(1500, 1, True), [], per_bar=True)
    assert len(traded) >= 4
    assert {i for _, i, _ in traded} == {"A", "B"}
    # legs always go opposite ways
    by_row: dict[int, dict[str, float]] = {}
    for row, instrument, quantity in traded:
        by_row.setdefault(row, {})[instrument] = quantity
    assert all(np.sign(q["A"]) == -np.sign(q["B"]) or q["A"] == 0 for q in by_row.values())
    assert run("pairs_trading", params, cointegrated_pair(1500, 2, False), [], per_bar=True) == []


def test_stat_arb_basket_is_dollar_neutral():
    batch = market_batch(bars=1200, instruments=("A", "B", "C", "D"), seed=5)
    runner = StrategyRunner(
        strategy_class("stat_arb_basket")(
            {"lookback": 20, "zscore_window": 100, "rebalance_every": 25, "k": 1, "notional": 10_000}
        ),
        "s",
        universe=("A", "B", "C", "D"),
    )
    targets = runner.on_batch(batch)
    assert len(targets) > 4
    closes = dict(zip(batch.strings("instrument").tolist(), batch.columns["close"].tolist(), strict=False))
    held = runner.context._targets
    longs = sum(q for q in held.values() if q > 0)
    shorts = -sum(q for q in held.values() if q < 0)
    assert longs > 0 and shorts > 0
    gross = sum(abs(q) * closes[n] for n, q in held.items())
    net = sum(q * closes[n] for n, q in held.items())
    assert abs(net) < 0.1 * gross


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("ma_crossover", {"fast": 30, "slow": 10}, r"fast \(30\) must be below slow"),
        ("rsi_reversion", {"period": 1}, "period"),
        ("ma_crossover", {"quantity": -1}, "quantity"),
    ],
)
def test_bad_params_raise_config_error_naming_the_field(name, params, field):
    with pytest.raises(ConfigError, match=field):
        strategy_class(name)(params)


@pytest.mark.parametrize("name", sorted(SINGLE_INSTRUMENT))
def test_runner_state_survives_a_pickle_snapshot(name, batch):
    import pickle

    whole = run(name, SINGLE_INSTRUMENT[name], batch, [], per_bar=False)
    runner = StrategyRunner(strategy_class(name)(SINGLE_INSTRUMENT[name]), "s")
    half = len(batch) // 2
    first = runner.on_batch(batch.select(slice(0, half)))
    restored = pickle.loads(pickle.dumps(runner))  # what Bytewax recovery stores
    second = restored.on_batch(batch.select(slice(half, len(batch))))
    found = [(int(r), i, q) for r, i, q in zip(first.rows, first.instrument, first.quantity, strict=True)]
    found += [
        (int(r) + half, i, q) for r, i, q in zip(second.rows, second.instrument, second.quantity, strict=True)
    ]
    assert found == whole


def bars(*rows: tuple[str, float]) -> EventBatch:
    """A batch of one bar per (instrument, close), one minute apart."""
    return EventBatch.from_records(
        "Bar",
        "md.bar.1m",
        [
            {"instrument": name, "interval_ns": 60, "open": close, "high": close, "low": close, "close": close,
             "volume": 1.0, "ts_event": 60 * (t + 1), "ts_init": 60 * (t + 1)}
            for t, (name, close) in enumerate(rows)
        ],
    )  # fmt: skip


class Scripted(Strategy):
    """Calls ``script[close]`` on each bar, so a test decides what each bar asks for."""

    def __init__(self, script):
        super().__init__()
        self.script = script

    def on_bar(self, bar, ind, ctx):
        self.script.get(bar.close, lambda ctx: None)(ctx)


def changes(targets) -> list[tuple[int, str, float, str]]:
    return list(
        zip(targets.rows.tolist(), targets.instrument, targets.quantity.tolist(), targets.reason, strict=True)
    )


def test_requests_of_a_bar_come_out_in_first_asked_order_when_they_change_the_target():
    def swap(ctx):
        ctx.target("A", 0.0)  # the target A holds: nothing to record yet...
        ctx.target("B", 5.0, "b")
        ctx.target("A", 7.0, "a")  # ...but A was asked for first

    def undo(ctx):
        ctx.target("B", 1.0)
        ctx.target("B", 5.0)  # back to the held target: no change

    runner = StrategyRunner(Scripted({1.0: swap, 2.0: undo}), "s")
    assert changes(runner.on_batch(bars(("A", 1.0), ("A", 2.0)))) == [(0, "A", 7.0, "a"), (0, "B", 5.0, "b")]
    assert runner.context._targets == {"A": 7.0, "B": 5.0}


def test_a_request_for_the_held_target_is_seen_by_target_of_and_changes_nothing():
    seen = []

    def keep(ctx):
        ctx.target("A", 0.0)
        seen.append(ctx.target_of("A"))
        ctx.target("A", 3.0)
        seen.append(ctx.target_of("A"))

    runner = StrategyRunner(Scripted({1.0: keep}), "s")
    assert changes(runner.on_batch(bars(("A", 1.0)))) == [(0, "A", 3.0, "")]
    assert seen == [0.0, 3.0]


def test_last_is_each_instruments_latest_bar_before_the_current_one_across_batches():
    class Recorder(Strategy):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_bar(self, bar, ind, ctx):
            self.seen.append((bar.instrument, bar.close, ctx.last("A"), ctx.last("B")))

    strategy = Recorder()
    runner = StrategyRunner(strategy, "s")
    runner.on_batch(bars(("A", 1.0), ("B", 2.0), ("A", 3.0)))
    runner.on_batch(bars(("B", 4.0)))
    last = [(i, c, a and a["close"], b and b["close"]) for i, c, a, b in strategy.seen]
    assert last == [("A", 1.0, None, None), ("B", 2.0, 1.0, None), ("A", 3.0, 1.0, 2.0), ("B", 4.0, 3.0, 2.0)]
    assert strategy.seen[2][2] == {
        "open": 1.0,
        "high": 1.0,
        "low": 1.0,
        "close": 1.0,
        "volume": 1.0,
        "ts_event": 60,
    }


@pytest.mark.parametrize("name", sorted(SINGLE_INSTRUMENT))
@pytest.mark.parametrize(
    "trades", [{"universe": ("AAA", "CCC")}, {"universe": ("BBB",)}, {"exclude": ("AAA",)}]
)
def test_paths_agree_when_the_strategy_trades_some_of_the_batchs_instruments(name, trades, batch):
    def run_on(per_bar: bool):
        runner = StrategyRunner(strategy_class(name)(SINGLE_INSTRUMENT[name]), "s", **trades)
        runner._vectorised = not per_bar
        found = []
        for start in range(0, len(batch), 1000):
            targets = runner.on_batch(batch.select(slice(start, start + 1000)))
            found += [(row + start, *rest) for row, *rest in changes(targets)]
        return found

    vectorised = run_on(per_bar=False)
    assert vectorised and vectorised == run_on(per_bar=True)
    traded = set(trades.get("universe", ("AAA", "BBB", "CCC"))) - set(trades.get("exclude", ()))
    assert {instrument for _, instrument, _, _ in vectorised} == traded


def test_on_bar_sees_indicator_values_by_any_name_and_multi_output_ones_as_their_named_tuple():
    class Watcher(Strategy):
        def __init__(self):
            super().__init__()
            self.seen = []

        def indicators(self, p):
            return {"ema-3": EMA(3), "macd": MACD(3, 6, 2)}

        def on_bar(self, bar, ind, ctx):
            self.seen.append((bar.instrument, getattr(ind, "ema-3"), ind.macd))

    strategy = Watcher()
    batch = market_batch(bars=40, instruments=("A", "B"), seed=1)
    StrategyRunner(strategy, "s").on_batch(batch)
    for instrument in ("A", "B"):
        closes = batch.columns["close"][batch.rows_by("instrument")[instrument]]
        seen = [(ema, macd) for name, ema, macd in strategy.seen if name == instrument]
        np.testing.assert_array_equal([ema for ema, _ in seen], EMA(3).update(close=closes))
        assert all(type(macd) is MACDResult for _, macd in seen)
        np.testing.assert_array_equal(
            [macd for _, macd in seen], np.transpose(MACD(3, 6, 2).update(close=closes))
        )


def test_vectorised_strategies_get_read_only_arrays_so_the_batch_stays_intact():
    class Scribbler(Strategy):
        def on_batch(self, bars, ind, ctx):
            bars.close[:] = 0.0
            return np.zeros(len(bars))

    batch = market_batch(bars=10, instruments=("A",), seed=1)
    with pytest.raises(ValueError, match="read-only"):
        StrategyRunner(Scribbler(), "s").on_batch(batch)


@pytest.mark.parametrize("name", sorted(SINGLE_INSTRUMENT))
def test_per_bar_runner_state_survives_a_pickle_snapshot(name, batch):
    import pickle

    whole = run(name, SINGLE_INSTRUMENT[name], batch, [], per_bar=True)
    runner = StrategyRunner(strategy_class(name)(SINGLE_INSTRUMENT[name]), "s")
    runner._vectorised = False
    half = len(batch) // 2
    first = runner.on_batch(batch.select(slice(0, half)))
    restored = pickle.loads(pickle.dumps(runner))
    assert restored.context.last("AAA") == runner.context.last("AAA") is not None
    second = restored.on_batch(batch.select(slice(half, len(batch))))
    found = [(row, i, q) for row, i, q, _ in changes(first)]
    found += [(row + half, i, q) for row, i, q, _ in changes(second)]
    assert found == whole


def test_targets_table_holds_the_same_events_as_targets_records():
    batch = market_batch(bars=600, instruments=("AAA", "BBB"), seed=3)
    targets = StrategyRunner(
        strategy_class("ma_crossover")({"fast": 3, "slow": 8, "quantity": 5}), "s"
    ).on_batch(batch)

    assert len(targets) > 10 and len(set(targets.instrument)) == 2
    assert targets.to_table("s", "a").to_records() == targets.to_records("s", "a")
