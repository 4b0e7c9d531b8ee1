"""The engine's columnar path (one traded instrument) emits exactly the events of `_MarketSweep` and of the
generic sweep, in the same order, with the same account path and the same portfolio afterwards."""

from __future__ import annotations

import numpy as np
import pytest

import operators.engine as engine_module
from operators.engine import COLUMNAR_MIN_ROWS, TradingEngine
from operators.execution.stage import ExecutionStageConfig
from operators.strategies import strategy_class
from operators.strategy import StrategyRunner
from tests.operators.test_strategies import market_batch

CONFIGS = {
    "plain": {},
    "costs_and_lots": {
        "exchange": {
            "commission": {"kind": "per_share", "rate": 0.01, "minimum": 1.0},
            "slippage": {"kind": "bps", "bps": 2.0},
        },
        "executor": {"lot_size": 3.0},
    },
    "volume_share_slippage": {"exchange": {"slippage": {"kind": "volume_share", "price_impact": 0.2}}},
    "position_limit": {"risk": {"max_position": 9}},
    "position_limit_passes_all": {"risk": {"max_position_by_instrument": {"AAA": 1000}}},
}

STRATEGIES = {
    "long_flat": ("ma_crossover", {"fast": 5, "slow": 20, "quantity": 10}),
    "long_short_flips": ("ma_crossover", {"fast": 3, "slow": 8, "quantity": 20, "allow_short": True}),
    "rsi_fractional": ("rsi_reversion", {"period": 5, "quantity": 7.5}),
}


def _batches(batch, targets, cuts):
    from tests.operators.test_engine import _split

    parts, offset = [(batch, targets)], 0
    for cut in cuts:
        head, tail = _split(parts[-1][0], parts[-1][1], cut - offset)
        parts[-1:] = [head, tail]
        offset = cut
    return parts


def run(batch, targets, config, path: str, cuts=()):
    engine = TradingEngine(config, "s", "a")
    engine._columnar = path == "columnar"
    engine._market_orders_only = path != "generic" and engine._market_orders_only
    events, equity, cash, gross = [], [], [], []
    for part, part_targets in _batches(batch, targets, cuts):
        result = engine.on_batch(part, part_targets)
        events += result.events
        equity.append(result.equity)
        cash.append(result.cash)
        gross.append(result.gross_exposure)
    portfolio = engine.portfolio
    state = (
        portfolio.cash,
        portfolio.equity,
        portfolio.realized_pnl,
        portfolio.commission,
        portfolio.gross_exposure,
        {name: (portfolio.position(name), portfolio.price(name)) for name in portfolio.instruments()},
        engine.stage.exchange.open_orders(),
    )
    return events, [np.concatenate(c) for c in (equity, cash, gross)], state


@pytest.fixture(scope="module", params=sorted(STRATEGIES))
def scenario(request):
    """Bars of AAA and of a benchmark BBB the strategy does not trade; targets for AAA only."""
    name, params = STRATEGIES[request.param]
    batch = market_batch(bars=1500, instruments=("AAA", "BBB"), seed=11)
    runner = StrategyRunner(strategy_class(name)(params), "s", universe=("AAA",))
    return batch, runner.on_batch(batch)


@pytest.fixture
def columnar_runs(monkeypatch):
    """Count the batches the columnar path handled itself."""
    counts = {"handled": 0, "handed_over": 0}
    run_columnar = engine_module._ColumnarSweep.run

    def counting(self):
        result = run_columnar(self)
        counts["handled" if result is not None else "handed_over"] += 1
        return result

    monkeypatch.setattr(engine_module._ColumnarSweep, "run", counting)
    return counts


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("cuts", [(), (1,), (700,), (377, 1500, 2999)])
def test_columnar_path_equals_market_sweep_and_generic_sweep(name, cuts, scenario, columnar_runs):
    batch, targets = scenario
    config = ExecutionStageConfig(initial_cash=100_000.0, **CONFIGS[name])

    columnar = run(batch, targets, config, "columnar", cuts)
    handled = columnar_runs["handled"]
    market = run(batch, targets, config, "market", cuts)
    generic = run(batch, targets, config, "generic", cuts)

    assert len(targets) > 20 and len(columnar[0]) > 50
    for other in (market, generic):
        assert columnar[0] == other[0]
        for mine, theirs in zip(columnar[1], other[1], strict=True):
            np.testing.assert_array_equal(mine, theirs)
        assert columnar[2] == other[2]
    refused = any(e.get("status") == "REJECTED" for _, e in columnar[0])
    assert refused == (name == "position_limit" and np.abs(targets.quantity).max() > 9)
    if not cuts:  # one batch: only a refusal or an order at its very last bar hands it over
        assert handled == 1 or refused or targets.rows[-1] == batch.rows_by("instrument")["AAA"][-1]


def test_an_order_left_working_at_the_end_of_a_batch_is_filled_by_the_next_one(scenario, columnar_runs):
    """The batch whose last AAA bar gets a target leaves the order in the exchange's book; the next
    batch takes it back and fills it on its first AAA bar — both batches on the columnar path."""
    batch, targets = scenario
    config = ExecutionStageConfig(initial_cash=100_000.0)
    aaa = batch.rows_by("instrument")["AAA"]
    late = targets.rows[np.searchsorted(targets.rows, COLUMNAR_MIN_ROWS + 50)]
    cut = int(aaa[np.searchsorted(aaa, late) + 1])  # the next AAA bar opens the second batch

    columnar = run(batch, targets, config, "columnar", (cut,))
    generic = run(batch, targets, config, "generic", (cut,))

    assert columnar_runs == {"handled": 2, "handed_over": 0}
    assert columnar[0] == generic[0]
    for mine, theirs in zip(columnar[1], generic[1], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert columnar[2] == generic[2]


@pytest.mark.parametrize("lot", [1.0, 3.0, 0.1, 0.25])
@pytest.mark.parametrize("seed", [1, 2])
def test_columnar_path_scaling_in_and_out_equals_generic_sweep(lot, seed, columnar_runs):
    """Random targets that add to, reduce, close and flip positions, with whole and fractional lots."""
    from operators.strategy.runner import Targets

    batch = market_batch(bars=800, instruments=("AAA",), seed=seed)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(np.setdiff1d(np.arange(len(batch) - 1), [399]), size=120, replace=False))
    quantity = np.round(rng.normal(0.0, 40.0, size=len(rows)), 2)
    quantity[rng.random(len(rows)) < 0.2] = 0.0
    targets = Targets(
        rows,
        ("AAA",) * len(rows),
        quantity,
        ("",) * len(rows),
        batch.columns["ts_event"][rows],
        batch.columns["ts_init"][rows],
    )
    config = ExecutionStageConfig(
        initial_cash=100_000.0,
        executor={"lot_size": lot},
        exchange={"commission": {"kind": "bps", "bps": 1.0, "minimum": 0.5}},
    )

    columnar = run(batch, targets, config, "columnar", (400,))
    generic = run(batch, targets, config, "generic", (400,))

    assert columnar_runs["handled"] >= 1
    assert sum(name == "Fill" for name, _ in columnar[0]) > 50
    assert columnar[0] == generic[0]
    for mine, theirs in zip(columnar[1], generic[1], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert columnar[2] == generic[2]
