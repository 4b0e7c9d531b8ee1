"""Bytewax operators at the Kafka edge: decode raw records into events, write dead letters.

``decode_events`` turns `RawRecord`s into `DecodedEvent`s with `schemas.codec.CODEC`; anything that
does not decode, or that an optional validator rejects, becomes a `DeadLetter` on a second stream.
``dlq_output`` logs each dead letter (one structured line with its coordinates) and writes it to
``dlq.<source topic>``. Nothing is dropped: every input record leaves on exactly one of the two streams.

Examples
--------
>>> import bytewax.operators as op
>>> from bytewax.dataflow import Dataflow
>>> from bytewax.testing import TestingSink, TestingSource, run_main
>>> from schemas.codec import CODEC
>>> bar = {"instrument": "AAPL", "interval_ns": 60, "open": 1.0, "high": 2.0, "low": 0.5,
...        "close": 1.5, "volume": 10.0, "ts_event": 60, "ts_init": 61}
>>> raws = [RawRecord("md.bar.1m", 0, 0, 0, b"AAPL", CODEC.encode("Bar", bar)),
...         RawRecord("md.bar.1m", 0, 1, 0, b"AAPL", b"junk")]
>>> flow = Dataflow("decode_example")
>>> decoded = decode_events("decode", op.input("read", flow, TestingSource(raws)))
>>> events, dead = [], []
>>> op.output("events", decoded.events, TestingSink(events))
>>> op.output("dead", decoded.dead_letters, TestingSink(dead))
>>> run_main(flow)
>>> [(e.schema, e.record["close"]) for e in events], [(d.source.offset, d.reason) for d in dead]
([('Bar', 1.5)], [(1, 'bad-marker')])
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Stream, operator

from connectors.kafka.dlq import DeadLetter, dead_letter_to_outbound, dlq_topic
from connectors.kafka.sink import KafkaSink
from connectors.records import RawRecord
from schemas.codec import CODEC
from schemas.errors import DecodeError

logger = logging.getLogger("tape.dlq")

INVALID = "invalid"

Validator = Callable[[str, dict[str, Any]], "str | None"]
"""``validate(schema, record) -> reason or None``; a reason sends the record to the DLQ."""


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """An event decoded from Kafka, with the record it came from.

    Parameters
    ----------
    schema
        Short schema name (``Bar``).
    record
        The decoded fields.
    source
        The raw record (coordinates for lineage and dead letters).

    Examples
    --------
    >>> event = DecodedEvent("Bar", {"close": 1.5}, RawRecord("md.bar.1m", 0, 7, 0, None, b""))
    >>> event.source.coordinates
    'md.bar.1m/0@7'
    """

    schema: str
    record: dict[str, Any]
    source: RawRecord


@dataclass(frozen=True)
class DecodeOut:
    """The two streams `decode_events` returns: every input lands on exactly one."""

    events: Stream[DecodedEvent]
    dead_letters: Stream[DeadLetter]


def decode_record(raw: RawRecord, validate: Validator | None = None) -> DecodedEvent | DeadLetter:
    """Decode one raw record, or say why it cannot be used.

    Examples
    --------
    >>> decode_record(RawRecord("md.trade", 0, 3, 0, None, b"\\xc3\\x01" + bytes(8))).reason
    'unknown-fingerprint'
    """
    try:
        schema, record = CODEC.decode(raw.value)
    except DecodeError as e:
        return DeadLetter(raw, e.reason, str(e))
    if validate is not None:
        problem = validate(schema, record)
        if problem is not None:
            return DeadLetter(raw, INVALID, f"{schema}: {problem}")
    return DecodedEvent(schema, record, raw)


@operator
def decode_events(step_id: str, up: Stream[RawRecord], validate: Validator | None = None) -> DecodeOut:
    """Decode raw Kafka records into events; undecodable or invalid ones become dead letters.

    Parameters
    ----------
    step_id
        Unique id of this step.
    up
        Stream of `RawRecord`.
    validate
        Optional ``validate(schema, record) -> str | None``: a returned reason sends the record
        to ``dead_letters`` with reason ``invalid``. Exceptions it raises stop the flow (a bug,
        not bad data).

    Returns
    -------
    DecodeOut
        ``events`` (`DecodedEvent`) and ``dead_letters`` (`DeadLetter`).
    """
    results = op.map("decode", up, lambda raw: decode_record(raw, validate))
    split = op.branch("split", results, lambda result: isinstance(result, DecodedEvent))
    return DecodeOut(split.trues, split.falses)  # type: ignore[arg-type]


def log_dead_letter(step_id: str, dead_letter: DeadLetter, namespace: str = "") -> None:
    """Log one line per dead letter, with its coordinates as structured fields."""
    source = dead_letter.source
    logger.warning(
        "dead letter %s reason=%s -> %s: %s",
        source.coordinates,
        dead_letter.reason,
        dlq_topic(source.topic, namespace),
        dead_letter.error,
        extra={
            "dlq_step": step_id,
            "dlq_reason": dead_letter.reason,
            "dlq_source_topic": source.topic,
            "dlq_source_partition": source.partition,
            "dlq_source_offset": source.offset,
        },
    )


@operator
def dlq_output(
    step_id: str,
    dead_letters: Stream[DeadLetter],
    bootstrap: str,
    namespace: str = "",
    config: dict[str, Any] | None = None,
) -> None:
    """Log and write dead letters to ``dlq.<source topic>`` (inside ``namespace``).

    Parameters
    ----------
    step_id
        Unique id of this step.
    dead_letters
        Stream of `DeadLetter`.
    bootstrap
        Kafka bootstrap servers.
    namespace
        Topic-name prefix of the run (``"run42."``); the DLQ topic is ``<namespace>dlq.<topic>``.
    config
        Extra producer settings for the `KafkaSink`.
    """
    logged = op.inspect("log", dead_letters, lambda _step, dl: log_dead_letter(step_id, dl, namespace))
    records = op.map("to_record", logged, lambda dl: dead_letter_to_outbound(dl, namespace))
    op.output("write", records, KafkaSink(bootstrap, config))
