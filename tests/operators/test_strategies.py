"""Strategies: the vectorised and per-bar paths agree, batch size does not matter, configs fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.feeds.synthetic import SyntheticMarket
from operators.strategies import strategy_class
from operators.strategy import StrategyRunner
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
