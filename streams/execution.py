"""The live ``execution`` service (paper mode): targets + market data + controls → orders, fills, P&L.

    md.bar.1m ─ read_market ──────────────────────────────┐
    sig.target ─ read_targets (TargetPosition, Watermark) ─┤→ merge_inputs → key_by_strategy
    ctl.command ─ read_controls ──────────────────────────┘
      (each input batch becomes one list of inputs per strategy, in arrival order; a bar goes only
       to the strategies whose topics and universe include it)
      → execute (LiveExecution: watermark-ordered, then the backtest's TradingEngine:
                 risk → orders → simulated exchange → fills → portfolio)
      → encode_outputs (Order → oms.order, ExecutionReport → oms.report, Fill → oms.fill,
                        Position → pf.position, PnL → pf.pnl, RiskAlert → risk.alert)
      → write_outputs

Each strategy (one run config, or every ``*.yaml`` of a ``--config`` directory) has its own gate,
engine and portfolio, keyed by strategy id; market data goes to every strategy subscribed to its
topic, targets and watermarks to their strategy, global controls to all. Bars stay records until a
strategy's release needs the engine (most releases only mark the portfolio: see `LiveExecution`).
Bad records of any input go to its ``dlq.<topic>``. Run: ``tape run execution --config FILE|DIR`` or
``TAPE_CONFIG=… python -m bytewax.run streams.execution:flow``.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from connectors.kafka.operators import DecodedEvent
from connectors.kafka.sink import OutboundRecord
from operators.config import RunConfig
from operators.live_execution import LiveExecution
from replay.backtest import load_configs
from schemas.errors import ConfigError
from streams.edges import outbound, read_events, settle_heap, write_records
from streams.options import ServiceOptions

#: What the service publishes (intents stay internal: every Order carries its intent_id).
PUBLISHED = frozenset({"Order", "ExecutionReport", "Fill", "Position", "PnL", "RiskAlert"})


def handle(gate: LiveExecution, items: list[DecodedEvent]) -> list[tuple[str, dict]]:
    """Feed one strategy's inputs of a service batch to its gate, in arrival order.

    Watermarks only move the gate's watermark; what they cover is released once, at the end (or
    before a Control, which applies at once), so a burst of watermarks costs one engine run.
    """
    events: list[tuple[str, dict]] = []
    advanced = False
    for item in items:
        if item.schema == "Bar":
            source = item.source
            gate.on_bar(item.record, source.topic, source.partition, source.offset)
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


class StrategyRouter:
    """Splits a service batch into one list of inputs per strategy, in arrival order.

    A bar goes to the strategies subscribed to its topic whose universe holds its instrument (or that
    have no universe), looked up once per (topic, instrument); other market data is not used; targets
    and watermarks go to their strategy, a Control to its strategy or (no strategy) to all.
    """

    def __init__(self, configs: dict[str, RunConfig], options: ServiceOptions):
        self._strategy_ids = list(configs)
        self._known = frozenset(configs)
        self._subscriptions = [
            (sid, frozenset(options.topic(t) for t in c.data.topics), _universe(c))
            for sid, c in configs.items()
        ]
        self._market_topics = frozenset(t for _, topics, _ in self._subscriptions for t in topics)
        self._bar_owners: dict[tuple[str, str], list[str]] = {}

    def __call__(self, items: list[DecodedEvent]) -> list[tuple[str, tuple[str, list[DecodedEvent]]]]:
        """``(strategy id, (strategy id, its inputs))`` for each strategy with inputs in ``items``."""
        per_strategy: dict[str, list[DecodedEvent]] = {}
        for item in items:
            for sid in self.owners(item):
                per_strategy.setdefault(sid, []).append(item)
        return [(sid, (sid, parts)) for sid, parts in per_strategy.items()]

    def owners(self, item: DecodedEvent) -> list[str]:
        """The strategy ids ``item`` goes to."""
        if item.source.topic in self._market_topics:
            return (
                self._bar_owners_of(item.source.topic, item.record["instrument"])
                if item.schema == "Bar"
                else []
            )
        if item.schema == "Control" and item.record["strategy_id"] is None:
            return self._strategy_ids
        owner = item.record.get("strategy_id", item.record.get("source"))
        return [owner] if owner in self._known else []

    def _bar_owners_of(self, topic: str, instrument: str) -> list[str]:
        owners = self._bar_owners.get((topic, instrument))
        if owners is None:
            owners = self._bar_owners[topic, instrument] = [
                sid
                for sid, topics, universe in self._subscriptions
                if topic in topics and (universe is None or instrument in universe)
            ]
        return owners


def _universe(config: RunConfig) -> frozenset[str] | None:
    return None if config.universe is None else frozenset(config.universe)


class ExecutionLogic(op.StatefulLogic):
    """One strategy's gate in the flow: its inputs in, its encoded outputs out (one list per input list).

    Bytewax snapshots every logic touched in an epoch at the epoch's end, with or without recovery;
    this one snapshots its gate as a pickle (about a third of the time of the deep copy `stateful_map`
    makes), and a resumed logic unpickles it.
    """

    def __init__(
        self, new_gate: Callable[[str], LiveExecution], options: ServiceOptions, snapshot: bytes | None
    ):
        self._new_gate = new_gate
        self._options = options
        self.gate: LiveExecution | None = None if snapshot is None else pickle.loads(snapshot)

    def on_item(self, value: tuple[str, list[DecodedEvent]]) -> tuple[list[list[OutboundRecord]], bool]:
        """Feed a strategy's inputs to its gate (made on its first input); return its encoded outputs."""
        strategy_id, items = value
        if self.gate is None:
            self.gate = self._new_gate(strategy_id)
        events = [(name, event) for name, event in handle(self.gate, items) if name in PUBLISHED]
        return [outbound(self._options, strategy_id, events)], self.RETAIN

    def snapshot(self) -> bytes:
        """The gate, pickled."""
        return pickle.dumps(self.gate, protocol=pickle.HIGHEST_PROTOCOL)


def build_flow(options: ServiceOptions) -> Dataflow:
    """The execution service's dataflow for the run config in ``options.config``."""
    if options.config is None:
        raise ConfigError("execution service: --config (TAPE_CONFIG) is required")
    configs = {c.strategy.strategy_id: c for c in load_configs(options.config)}
    topics = sorted({t for c in configs.values() for t in c.data.topics})

    def new_gate(strategy_id: str) -> LiveExecution:
        config = configs[strategy_id]
        return LiveExecution(config.stage_config(), strategy_id, config.account.id)

    flow = Dataflow("execution")
    market = read_events("read_market", flow, options, topics)
    targets = read_events("read_targets", flow, options, ["sig.target"])
    controls = read_events("read_controls", flow, options, ["ctl.command"])
    merged = op.merge("merge_inputs", market, targets, controls)
    keyed = op.flat_map_batch("key_by_strategy", merged, StrategyRouter(configs, options))
    executed = op.stateful("execute", keyed, lambda snapshot: ExecutionLogic(new_gate, options, snapshot))
    records = op.flat_map("encode_outputs", executed, lambda key_records: key_records[1])
    write_records("write_outputs", records, options)
    return flow


def flow() -> Dataflow:
    """Entry point for ``python -m bytewax.run streams.execution:flow`` (options from TAPE_* env)."""
    dataflow = build_flow(ServiceOptions.from_env())
    settle_heap()
    return dataflow
