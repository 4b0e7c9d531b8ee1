"""The engine's MARKET-order fast path emits exactly the events of its generic sweep, in the same order."""

from __future__ import annotations

import numpy as np
import pytest

from operators.engine import TradingEngine
from operators.execution.stage import ExecutionStageConfig
from operators.strategies import strategy_class
from operators.strategy import StrategyRunner
from tests.operators.test_engine import _split
from tests.operators.test_strategies import market_batch

CONFIGS = {
    "plain": {},
    "closed_form_costs": {
        "exchange": {
            "commission": {"kind": "per_share", "rate": 0.01, "minimum": 1.0},
            "slippage": {"kind": "bps", "bps": 2.0},
        },
        "executor": {"lot_size": 3.0},
    },
    "risk_limits": {
        "risk": {
            "max_position": 15,
            "max_gross_exposure": 2500,
            "max_orders_per_interval": {"count": 3, "interval_ns": 3_600_000_000_000},
        }
    },
}

STRATEGIES = {
    "ma_crossover": {"fast": 5, "slow": 20, "quantity": 10, "allow_short": True},
    "pairs_trading": {
        "leg_a": "AAA",
        "leg_b": "BBB",
        "lookback": 30,
        "entry_z": 1.0,
        "quantity": 10,
        "max_pvalue": 1.0,
    },
}


def run(batch, targets, config, fast: bool, split: int | None = None):
    engine = TradingEngine(config, "s", "a")
    engine._market_orders_only = fast and engine._market_orders_only
    parts = [(batch, targets)] if split is None else _split(batch, targets, split)
    events, equity = [], []
    for part, part_targets in parts:
        result = engine.on_batch(part, part_targets)
        events += result.events
        equity.append(result.equity)
    return events, np.concatenate(equity), engine.stage.exchange.open_orders()


@pytest.fixture(scope="module", params=sorted(STRATEGIES))
def scenario(request):
    batch = market_batch(bars=1200, instruments=("AAA", "BBB"), seed=5)
    strategy = strategy_class(request.param)(STRATEGIES[request.param])
    return batch, StrategyRunner(strategy, "s").on_batch(batch)


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("split", [None, 1, 601, 1799])
def test_fast_path_events_equal_generic_sweep(name, split, scenario):
    batch, targets = scenario
    config = ExecutionStageConfig(initial_cash=100_000.0, **CONFIGS[name])

    fast_events, fast_equity, fast_open = run(batch, targets, config, fast=True, split=split)
    events, equity, open_orders = run(batch, targets, config, fast=False, split=split)

    assert len(fast_events) > 20
    assert fast_events == events
    np.testing.assert_array_equal(fast_equity, equity)
    assert fast_open == open_orders
