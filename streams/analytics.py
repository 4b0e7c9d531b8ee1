"""The live ``analytics`` service: every platform topic (and its dead letters) → the analytics store.

    md.bar.1m, feat.default, sig.target, ml.prediction, oms.order, oms.report, oms.fill,
    pf.position, pf.pnl, risk.alert, ctl.command
      ─ read_events (decode; undecodable or table-less records → dlq.<topic>) → to_rows ─┐
    dlq.<each of them> ─ read_dead_letters → to_dead_letter_rows ─────────────────────┤
      → merge_rows → write_store (AnalyticsSink: table ← schema, run_id 'live')

Rows go to the table of their schema (`connectors.analytics.tables.EVENT_TABLES`); ``Watermark``
events on ``sig.target`` are flow control, not facts, and are skipped. Idempotent: each
``write_batch`` writes its rows durably (content-named Parquet parts, or inserts), nothing is buffered
across calls, and the store shows each row once per key, so the epoch Bytewax recovery replays after
a ``kill -9`` is written again but never seen twice. Run: ``tape run analytics --store DIR|URL`` or
``TAPE_STORE=… python -m bytewax.run streams.analytics:flow``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from connectors.analytics.sink import AnalyticsSink
from connectors.analytics.tables import EVENT_TABLES
from connectors.kafka.dlq import dlq_topic
from connectors.kafka.operators import DecodedEvent, decode_events, dlq_output
from connectors.kafka.source import KafkaSource, StartAt
from connectors.records import RawRecord
from streams.edges import settle_heap
from streams.options import ServiceOptions

#: The topics the service stores (before the namespace prefix).
TOPICS = (
    "md.bar.1m",
    "feat.default",
    "sig.target",
    "ml.prediction",
    "oms.order",
    "oms.report",
    "oms.fill",
    "pf.position",
    "pf.pnl",
    "risk.alert",
    "ctl.command",
)
#: ``run_id`` of rows written by the live services.
LIVE_RUN_ID = "live"
#: Events that are flow control rather than facts; read but not stored.
SKIPPED = frozenset({"Watermark"})

TABLE_OF_SCHEMA = {schema: table for table, schema in EVENT_TABLES.items()}
_NS_PER_MS = 1_000_000


def check_storable(schema: str, record: dict[str, Any]) -> str | None:
    """Why an event cannot be stored (no table for its schema), or None."""
    if schema in TABLE_OF_SCHEMA or schema in SKIPPED:
        return None
    return f"no analytics table for {schema} events"


def to_rows(event: DecodedEvent) -> list[tuple[str, dict[str, Any]]]:
    """The ``(table, row)`` of an event (none for skipped schemas)."""
    if event.schema in SKIPPED:
        return []
    return [(TABLE_OF_SCHEMA[event.schema], {**event.record, "run_id": LIVE_RUN_ID})]


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def to_dead_letter_row(raw: RawRecord) -> tuple[str, dict[str, Any]]:
    """The ``dead_letters`` row of a record of a ``dlq.*`` topic (its ``dlq.*`` headers say what and why).

    Examples
    --------
    >>> raw = RawRecord("dlq.md.bar.1m", 0, 5, 2_000, b"k", b"junk",
    ...     (("dlq.reason", b"bad-marker"), ("dlq.source.topic", b"md.bar.1m"), ("dlq.source.offset", b"9")))
    >>> table, row = to_dead_letter_row(raw)
    >>> table, row["topic"], row["offset"], row["reason"], row["ts_init"]
    ('dead_letters', 'md.bar.1m', 9, 'bad-marker', 2000000000)
    """
    headers = {
        name: value.decode("utf-8", "replace") for name, value in raw.headers if name.startswith("dlq.")
    }
    row = {
        "topic": headers.get("dlq.source.topic", ""),
        "partition": _int(headers.get("dlq.source.partition"), -1),
        "offset": _int(headers.get("dlq.source.offset"), -1),
        "reason": headers.get("dlq.reason", "missing-dlq-headers"),
        "error": headers.get("dlq.error", f"record {raw.coordinates} has no dlq.* headers"),
        "source_timestamp": _int(headers.get("dlq.source.timestamp"), 0) * _NS_PER_MS,
        "ts_init": raw.timestamp_ms * _NS_PER_MS,
    }
    return "dead_letters", row


def _source(options: ServiceOptions, topics: list[str]) -> KafkaSource:
    return KafkaSource(
        options.bootstrap,
        topics,
        start=StartAt.earliest() if options.start == "earliest" else StartAt.latest(),
        tail=True,
        batch_size=options.batch_size,
        idle_wait=timedelta(milliseconds=20),
    )


def build_flow(options: ServiceOptions) -> Dataflow:
    """The analytics service's dataflow: ``options`` topics → ``options.store``."""
    flow = Dataflow("analytics")
    raw = op.input("read_events", flow, _source(options, [options.topic(t) for t in TOPICS]))
    decoded = decode_events("decode_events", raw, check_storable)
    dlq_output("write_dead_letters", decoded.dead_letters, options.bootstrap, options.namespace)
    event_rows = op.flat_map("to_rows", decoded.events, to_rows)
    dlq_topics = [dlq_topic(options.topic(t), options.namespace) for t in TOPICS]
    dead = op.input("read_dead_letters", flow, _source(options, dlq_topics))
    dead_rows = op.map("to_dead_letter_rows", dead, to_dead_letter_row)
    rows = op.merge("merge_rows", event_rows, dead_rows)
    op.output("write_store", rows, AnalyticsSink(options.store))
    return flow


def flow() -> Dataflow:
    """Entry point for ``python -m bytewax.run streams.analytics:flow`` (options from TAPE_* env)."""
    dataflow = build_flow(ServiceOptions.from_env())
    settle_heap()
    return dataflow
