"""The live ``strategies`` service: market data in, targets (and predictions) out.

    md.bar.1m ─ read_market (KafkaSource + decode; bad records → dlq.md.bar.1m)
      → batch_events       (consecutive events → columnar EventBatch)
      → key_by_strategy    (each strategy gets only its topics' rows and its universe's bars;
                            a strategy with no rows in a batch is not called)
      → decide_targets     (StrategyRunner: the same operator the backtest runs)
      → encode_outputs     (TargetPosition → sig.target, side events → their topics,
                            then a Watermark on sig.target: "done up to ts_event")
      → write_outputs

Keys: every output is keyed by the strategy id, so a strategy's targets and watermarks stay in order.
``--config`` names one run config, or a directory whose ``*.yaml`` files each add a strategy (each
strategy gets the rows of its topics and universe).
Run: ``tape run strategies --config FILE|DIR`` or ``TAPE_CONFIG=… python -m bytewax.run streams.strategies:flow``.
"""

from __future__ import annotations

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from operators.config import RunConfig
from operators.strategy import StrategyRunner
from replay.backtest import load_configs, make_runner
from schemas.batch import EventBatch
from schemas.errors import ConfigError
from streams.edges import group_into_batches, outbound, read_events, route_by_universe, write_records
from streams.options import ServiceOptions


def decisions(runner: StrategyRunner, config: RunConfig, batch: EventBatch) -> list[tuple[str, dict]]:
    """The events a batch makes the strategy publish: targets, side events, then its watermark."""
    targets = runner.on_batch(batch)
    events = [
        ("TargetPosition", t) for t in targets.to_records(config.strategy.strategy_id, config.account.id)
    ]
    events += runner.take_events()
    if batch.schema == "Bar":
        events.append(
            (
                "Watermark",
                {
                    "source": config.strategy.strategy_id,
                    "ts_event": int(batch.columns["ts_event"].max()),
                    "ts_init": int(batch.columns["ts_init"][-1]),
                },
            )
        )
    return events


def build_flow(options: ServiceOptions) -> Dataflow:
    """The strategies service's dataflow for the run config in ``options.config``."""
    if options.config is None:
        raise ConfigError("strategies service: --config (TAPE_CONFIG) is required")
    configs = {c.strategy.strategy_id: c for c in load_configs(options.config)}
    for config in configs.values():
        make_runner(config)  # fail fast on a bad strategy config
    topics = sorted({t for c in configs.values() for t in c.data.topics})

    def decide(runner: StrategyRunner | None, keyed_batch: tuple[str, EventBatch]):
        strategy_id, batch = keyed_batch
        config = configs[strategy_id]
        runner = runner or make_runner(config)
        return runner, outbound(options, strategy_id, decisions(runner, config, batch))

    universes = {sid: None if c.universe is None else frozenset(c.universe) for sid, c in configs.items()}
    subscribed = {sid: frozenset(options.topic(t) for t in c.data.topics) for sid, c in configs.items()}

    def to_each_strategy(batch: EventBatch) -> list[tuple[str, tuple[str, EventBatch]]]:
        return [(sid, (sid, part)) for sid, part in route_by_universe(batch, universes, subscribed)]

    flow = Dataflow("strategies")
    events = read_events("read_market", flow, options, topics)
    batches = op.flat_map_batch("batch_events", events, group_into_batches)
    keyed = op.flat_map("key_by_strategy", batches, to_each_strategy)
    decided = op.stateful_map("decide_targets", keyed, decide)
    records = op.flat_map("encode_outputs", decided, lambda key_records: key_records[1])
    write_records("write_outputs", records, options)
    return flow


def flow() -> Dataflow:
    """Entry point for ``python -m bytewax.run streams.strategies:flow`` (options from TAPE_* env)."""
    return build_flow(ServiceOptions.from_env())
