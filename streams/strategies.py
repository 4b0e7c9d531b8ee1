"""The live ``strategies`` service: market data in, targets (and predictions) out.

    md.bar.1m ─ read_market (KafkaSource + decode; bad records → dlq.md.bar.1m)
      → batch_events       (consecutive events → columnar EventBatch)
      → key_by_group       (each strategy group gets only its topics' rows and its universe's bars;
                            a group with no rows in a batch is not called)
      → decide_targets     (StrategyRunner: the same operator the backtest runs)
      → encode_outputs     (per strategy: TargetPosition → sig.target, side events → their topics,
                            then a Watermark on sig.target: "done up to ts_event")
      → write_outputs      (delivery confirmed at each epoch's end, not per batch)

Strategy groups: instances of a per-instrument strategy (`Strategy.per_instrument`: moving-average
crossover, RSI, MACD, Bollinger) with the same name, params, callback and topics over disjoint
universes run as one `StrategyRunner` over the union of their universes — one call per batch instead
of one per instance, deciding for each instrument what its own instance decides alone. Every other
config is a group of one. Outputs are still per strategy: each target goes out with the id and
account of the instance that owns its instrument, and each instance with bars in a batch gets its
own Watermark.

Keys: every output is keyed by its strategy id, so a strategy's targets and watermarks stay in order.
``--config`` names one run config, or a directory whose ``*.yaml`` files each add a strategy.
Run: ``tape run strategies --config FILE|DIR`` or ``TAPE_CONFIG=… python -m bytewax.run streams.strategies:flow``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

import bytewax.operators as op
import numpy as np
from bytewax.dataflow import Dataflow

from operators.config import RunConfig
from operators.strategies import strategy_class
from operators.strategy import StrategyRunner, Targets
from replay.backtest import load_configs, make_runner
from schemas.batch import EventBatch
from schemas.errors import ConfigError
from streams.edges import (
    group_into_batches,
    outbound,
    read_events,
    route_by_universe,
    settle_heap,
    write_records,
)
from streams.options import ServiceOptions


@dataclass(frozen=True)
class StrategyGroup:
    """Run configs whose strategy runs as one `StrategyRunner`; see the module docstring.

    ``key`` is the stateful key: the strategy id of a group of one, else ``group-<hash of the ids>``
    (a recovery store of a different grouping never resumes a group's runner from a stranger's state).
    """

    key: str
    members: tuple[RunConfig, ...]

    @property
    def config(self) -> RunConfig:
        """The runner's config: the only member's, or the first member's over every member's universe."""
        if len(self.members) == 1:
            return self.members[0]
        universe = [name for member in self.members for name in member.universe or ()]
        return self.members[0].model_copy(update={"universe": universe})

    def owners(self) -> dict[str, RunConfig]:
        """The member trading each instrument of the group's universe."""
        return {name: member for member in self.members for name in member.universe or ()}


def _shape(config: RunConfig) -> tuple | None:
    """What configs must share to run as one group; None if this one must run alone."""
    if config.universe is None or not strategy_class(config.strategy.name).per_instrument:
        return None
    params = json.dumps(config.strategy.params, sort_keys=True, default=str)
    return (config.strategy.name, params, config.strategy.callback, tuple(config.data.topics))


def group_strategies(configs: Iterable[RunConfig]) -> list[StrategyGroup]:
    """Group ``configs`` (in order): same `_shape` and disjoint universes run as one.

    >>> def cfg(sid, universe, fast=2):
    ...     return RunConfig.from_dict({"strategy": {"name": "ma_crossover", "id": sid,
    ...         "params": {"fast": fast, "slow": 4}}, "universe": universe})
    >>> groups = group_strategies([cfg("a", ["X"]), cfg("b", ["Y"]), cfg("c", ["X"]), cfg("d", ["Z"], fast=3)])
    >>> [[m.strategy.strategy_id for m in g.members] for g in groups]
    [['a', 'b'], ['c'], ['d']]
    >>> groups[1].key
    'c'
    """
    grouped: list[tuple[tuple | None, set[str], list[RunConfig]]] = []
    for config in configs:
        shape = _shape(config)
        universe = set(config.universe or ())
        for group_shape, taken, members in grouped:
            if shape is not None and group_shape == shape and not taken & universe:
                taken |= universe
                members.append(config)
                break
        else:
            grouped.append((shape, universe, [config]))
    return [StrategyGroup(_group_key(members), tuple(members)) for _, _, members in grouped]


def _group_key(members: list[RunConfig]) -> str:
    ids = [member.strategy.strategy_id for member in members]
    if len(ids) == 1:
        return ids[0]
    return "group-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]


def group_decisions(
    runner: StrategyRunner, group: StrategyGroup, batch: EventBatch
) -> list[tuple[str, list[tuple[str, dict]]]]:
    """``(strategy id, events)`` of each member a batch concerns: its targets, then (for bars) its
    watermark. Side events are the first member's."""
    targets = runner.on_batch(batch)
    first = group.members[0]
    if len(group.members) == 1 or batch.schema != "Bar":
        per_member = {first.strategy.strategy_id: (first, targets, batch)}
    else:
        per_member = _split_by_member(group, targets, batch)
    side_events = runner.take_events()
    decided = []
    for strategy_id, (config, own_targets, own_rows) in per_member.items():
        events = [("TargetPosition", t) for t in own_targets.to_records(strategy_id, config.account.id)]
        if config is first:
            events += side_events
        if batch.schema == "Bar":
            events.append(("Watermark", _watermark(strategy_id, own_rows)))
        decided.append((strategy_id, events))
    return decided


def _split_by_member(
    group: StrategyGroup, targets: Targets, batch: EventBatch
) -> dict[str, tuple[RunConfig, Targets, EventBatch]]:
    """For each member with bars in ``batch``: its config, its targets and its rows of the batch."""
    owners = group.owners()
    members: dict[str, RunConfig] = {}
    rows_of: dict[str, list[np.ndarray]] = {}
    for instrument, rows in batch.rows_by("instrument").items():
        member = owners.get(instrument)
        if member is not None:
            members[member.strategy.strategy_id] = member
            rows_of.setdefault(member.strategy.strategy_id, []).append(rows)
    targets_of: dict[str, list[int]] = {}
    for i, instrument in enumerate(targets.instrument):
        targets_of.setdefault(owners[instrument].strategy.strategy_id, []).append(i)
    return {
        strategy_id: (
            members[strategy_id],
            targets.take(targets_of.get(strategy_id, [])),
            batch.select(rows[0] if len(rows) == 1 else np.sort(np.concatenate(rows))),
        )
        for strategy_id, rows in rows_of.items()
    }


def _watermark(strategy_id: str, rows: EventBatch) -> dict:
    """ "Done up to" the latest event time of the strategy's rows (ts_init of its last row)."""
    return {
        "source": strategy_id,
        "ts_event": int(rows.columns["ts_event"].max()),
        "ts_init": int(rows.columns["ts_init"][-1]),
    }


def build_flow(options: ServiceOptions) -> Dataflow:
    """The strategies service's dataflow for the run config in ``options.config``."""
    if options.config is None:
        raise ConfigError("strategies service: --config (TAPE_CONFIG) is required")
    groups = {g.key: g for g in group_strategies(load_configs(options.config))}
    for group in groups.values():
        make_runner(group.config)  # fail fast on a bad strategy config
    topics = sorted({t for g in groups.values() for c in g.members for t in c.data.topics})

    def decide(runner: StrategyRunner | None, keyed_batch: tuple[str, EventBatch]):
        key, batch = keyed_batch
        group = groups[key]
        runner = runner or make_runner(group.config)
        return runner, [
            record
            for strategy_id, events in group_decisions(runner, group, batch)
            for record in outbound(options, strategy_id, events)
        ]

    universes = {
        key: None if g.config.universe is None else frozenset(g.config.universe) for key, g in groups.items()
    }
    subscribed = {key: frozenset(options.topic(t) for t in g.config.data.topics) for key, g in groups.items()}

    def to_each_group(batch: EventBatch) -> list[tuple[str, tuple[str, EventBatch]]]:
        return [(key, (key, part)) for key, part in route_by_universe(batch, universes, subscribed)]

    flow = Dataflow("strategies")
    events = read_events("read_market", flow, options, topics)
    batches = op.flat_map_batch("batch_events", events, group_into_batches)
    keyed = op.flat_map("key_by_group", batches, to_each_group)
    decided = op.stateful_map("decide_targets", keyed, decide)
    records = op.flat_map("encode_outputs", decided, lambda key_records: key_records[1])
    write_records("write_outputs", records, options)
    return flow


def flow() -> Dataflow:
    """Entry point for ``python -m bytewax.run streams.strategies:flow`` (options from TAPE_* env)."""
    dataflow = build_flow(ServiceOptions.from_env())
    settle_heap()
    return dataflow
