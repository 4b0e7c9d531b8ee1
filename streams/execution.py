"""The live ``execution`` service (paper mode): targets + market data + controls → orders, fills, P&L.

    md.bar.1m  ─ read_market  → batch_events ─┐
    sig.target ─ read_targets (TargetPosition, Watermark) ─┤→ merge_inputs → key_by_strategy
    ctl.command ─ read_controls ──────────────┘
      (each input batch becomes one list of inputs per strategy, in arrival order)
      → execute (LiveExecution: watermark-ordered, then the backtest's TradingEngine:
                 risk → orders → simulated exchange → fills → portfolio)
      → encode_outputs (Order → oms.order, ExecutionReport → oms.report, Fill → oms.fill,
                        Position → pf.position, PnL → pf.pnl, RiskAlert → risk.alert)
      → write_outputs

Each strategy (one run config, or every ``*.yaml`` of a ``--config`` directory) has its own gate,
engine and portfolio, keyed by strategy id; market data goes to every strategy subscribed to its
topic, targets and watermarks to their strategy, global controls to all. Bad records of any input go
to its ``dlq.<topic>``. Run: ``tape run execution --config FILE|DIR`` or
``TAPE_CONFIG=… python -m bytewax.run streams.execution:flow``.
"""

from __future__ import annotations

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from connectors.kafka.operators import DecodedEvent
from operators.live_execution import LiveExecution
from replay.backtest import load_configs
from schemas.batch import EventBatch
from schemas.errors import ConfigError
from streams.edges import group_into_batches, outbound, read_events, route_by_universe, write_records
from streams.options import ServiceOptions

#: What the service publishes (intents stay internal: every Order carries its intent_id).
PUBLISHED = frozenset({"Order", "ExecutionReport", "Fill", "Position", "PnL", "RiskAlert"})


def handle(gate: LiveExecution, items: list[EventBatch | DecodedEvent]) -> list[tuple[str, dict]]:
    """Feed one strategy's inputs of a service batch to its gate, in arrival order.

    Watermarks only move the gate's watermark; what they cover is released once, at the end (or
    before a Control, which applies at once), so a burst of watermarks costs one engine run.
    """
    events: list[tuple[str, dict]] = []
    advanced = False
    for item in items:
        if isinstance(item, EventBatch):
            if item.schema == "Bar":
                gate.on_bars(item)
        elif item.schema == "TargetPosition":
            gate.on_target(item.record)
        elif item.schema == "Watermark":
            advanced = gate.advance(item.record) or advanced
        elif item.schema == "Control":
            if advanced:
                events += gate.release()
                advanced = False
            events += gate.on_control(item.record)
    if advanced:
        events += gate.release()
    return events


def build_flow(options: ServiceOptions) -> Dataflow:
    """The execution service's dataflow for the run config in ``options.config``."""
    if options.config is None:
        raise ConfigError("execution service: --config (TAPE_CONFIG) is required")
    configs = {c.strategy.strategy_id: c for c in load_configs(options.config)}
    topics = sorted({t for c in configs.values() for t in c.data.topics})

    def execute(gate: LiveExecution | None, keyed_items: tuple[str, list[EventBatch | DecodedEvent]]):
        strategy_id, items = keyed_items
        config = configs[strategy_id]
        gate = gate or LiveExecution(config.stage_config(), strategy_id, config.account.id)
        events = [(name, event) for name, event in handle(gate, items) if name in PUBLISHED]
        return gate, outbound(options, strategy_id, events)

    universes = {sid: None if c.universe is None else frozenset(c.universe) for sid, c in configs.items()}
    subscribed = {sid: frozenset(options.topic(t) for t in c.data.topics) for sid, c in configs.items()}

    def route(item: EventBatch | DecodedEvent) -> list[tuple[str, EventBatch | DecodedEvent]]:
        if isinstance(item, EventBatch):
            return route_by_universe(item, universes, subscribed)
        if item.schema == "Control" and item.record["strategy_id"] is None:
            owners = list(configs)
        else:
            owner = item.record.get("strategy_id", item.record.get("source"))
            owners = [owner] if owner in configs else []
        return [(sid, item) for sid in owners]

    def key_by_strategy(
        items: list[EventBatch | DecodedEvent],
    ) -> list[tuple[str, tuple[str, list[EventBatch | DecodedEvent]]]]:
        per_strategy: dict[str, list[EventBatch | DecodedEvent]] = {}
        for item in items:
            for sid, part in route(item):
                per_strategy.setdefault(sid, []).append(part)
        return [(sid, (sid, parts)) for sid, parts in per_strategy.items()]

    flow = Dataflow("execution")
    market = op.flat_map_batch(
        "batch_events", read_events("read_market", flow, options, topics), group_into_batches
    )
    targets = read_events("read_targets", flow, options, ["sig.target"])
    controls = read_events("read_controls", flow, options, ["ctl.command"])
    merged = op.merge("merge_inputs", market, targets, controls)
    keyed = op.flat_map_batch("key_by_strategy", merged, key_by_strategy)
    executed = op.stateful_map("execute", keyed, execute)
    records = op.flat_map("encode_outputs", executed, lambda key_records: key_records[1])
    write_records("write_outputs", records, options)
    return flow


def flow() -> Dataflow:
    """Entry point for ``python -m bytewax.run streams.execution:flow`` (options from TAPE_* env)."""
    return build_flow(ServiceOptions.from_env())
