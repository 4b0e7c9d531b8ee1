"""Strategy groups of the ``strategies`` service decide exactly what each instance decides alone."""

from __future__ import annotations

import numpy as np
import pytest

from connectors.feeds.synthetic import SyntheticMarket
from operators.config import RunConfig
from replay.backtest import make_runner
from streams.edges import route_by_universe
from streams.strategies import StrategyGroup, group_decisions, group_strategies

INSTRUMENTS = ["AAA", "BBB", "CCC", "DDD", "EEE"]


def config(strategy_id: str, name: str, params: dict, universe: list[str]) -> RunConfig:
    return RunConfig.from_dict(
        {
            "strategy": {"name": name, "id": strategy_id, "params": params},
            "universe": universe,
            "account": {"id": f"acct-{strategy_id}"},
        }
    )


def live_like_batches(batch_size: int):
    """A synthetic session's bars, in small batches cutting across instruments as a live poll does."""
    market = SyntheticMarket({"seed": 8, "instruments": [{"name": n} for n in INSTRUMENTS], "bars": 400})
    (bars,) = list(market.bars())
    return [bars.select(slice(start, start + batch_size)) for start in range(0, len(bars), batch_size)]


def run(groups: list[StrategyGroup], batches) -> dict[str, list]:
    """Every strategy's published events, in order, with each group routed its universe's rows."""
    runners = {g.key: make_runner(g.config) for g in groups}
    universes = {g.key: frozenset(g.config.universe) for g in groups}
    topics = {g.key: frozenset(["md.bar.1m"]) for g in groups}
    by_group = {g.key: g for g in groups}
    published: dict[str, list] = {}
    for batch in batches:
        for key, part in route_by_universe(batch, universes, topics):
            for strategy_id, events in group_decisions(runners[key], by_group[key], part):
                published.setdefault(strategy_id, []).extend(events)
    return published


@pytest.mark.parametrize("batch_size", [1, 7, 64])
@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("ma_crossover", {"fast": 3, "slow": 8, "quantity": 10, "allow_short": True}),
        ("rsi_reversion", {"period": 5, "quantity": 10}),
    ],
)
def test_a_group_publishes_what_its_instances_publish_alone(name, params, batch_size):
    configs = [
        config("one-a", name, params, ["AAA"]),
        config("two-bc", name, params, ["BBB", "CCC"]),
        config("one-d", name, params, ["DDD"]),
    ]
    batches = live_like_batches(batch_size)

    groups = group_strategies(configs)
    alone = [StrategyGroup(c.strategy.strategy_id, (c,)) for c in configs]

    assert [len(g.members) for g in groups] == [3]
    grouped, separate = run(groups, batches), run(alone, batches)
    assert grouped == separate
    targets = [e for e in grouped["two-bc"] if e[0] == "TargetPosition"]
    assert targets and {t["instrument"] for _, t in targets} == {"BBB", "CCC"}
    assert {t["account_id"] for _, t in targets} == {"acct-two-bc"}
    watermarks = [e for e in grouped["one-d"] if e[0] == "Watermark"]
    assert watermarks[-1][1]["ts_event"] == max(int(b.columns["ts_event"].max()) for b in batches)


def test_only_per_instrument_strategies_with_equal_shape_and_disjoint_universes_group():
    ema = {"fast": 2, "slow": 4}
    configs = [
        config("a", "ma_crossover", ema, ["AAA"]),
        config("b", "ma_crossover", ema, ["AAA"]),  # overlaps a
        config("c", "ma_crossover", {"fast": 3, "slow": 4}, ["BBB"]),  # other params
        config("d", "pairs_trading", {"leg_a": "AAA", "leg_b": "BBB"}, ["AAA", "BBB"]),  # not per-instrument
        config("e", "ma_crossover", ema, ["CCC"]),
        config("f", "ma_crossover", ema, ["BBB"]),
    ]

    groups = group_strategies(configs)

    members = [[m.strategy.strategy_id for m in g.members] for g in groups]
    assert members == [["a", "e", "f"], ["b"], ["c"], ["d"]]
    assert groups[0].key.startswith("group-") and groups[1].key == "b"
    assert groups[0].config.universe == ["AAA", "CCC", "BBB"]
    assert np.array_equal(sorted(groups[0].owners()), ["AAA", "BBB", "CCC"])
