"""Decode + dead-letter queue: pure mapping, and a real flow KafkaSource → decode_events → sinks + DLQ."""

from __future__ import annotations

import logging
import uuid

import bytewax.operators as op
import pytest
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, run_main
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from connectors.kafka.admin import TopicSpec, TopicsSpec, ensure_topics
from connectors.kafka.dlq import DeadLetter, dead_letter_to_outbound, dlq_topic
from connectors.kafka.operators import DecodedEvent, decode_events, decode_record, dlq_output
from connectors.kafka.source import KafkaSource
from connectors.partitioning import partition_for
from connectors.records import RawRecord
from schemas.codec import CODEC


def bar(i: int) -> dict:
    return {
        "instrument": f"SYM{i % 4}",
        "interval_ns": 60_000_000_000,
        "open": 100.0 + i,
        "high": 101.0 + i,
        "low": 99.0 + i,
        "close": 100.5 + i,
        "volume": 1000.0 + i,
        "ts_event": 60_000_000_000 * (i + 1),
        "ts_init": 60_000_000_000 * (i + 1) + 1,
    }


@pytest.fixture
def namespace(kafka_bootstrap):
    """A fresh topic namespace; its topics are deleted after the test."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    yield prefix
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    names = [name for name in admin.list_topics(timeout=10).topics if name.startswith(prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result(timeout=30)


def test_dead_letter_to_outbound_keeps_bytes_and_adds_coordinates():
    source = RawRecord("md.trade", 2, 17, 1_700_000_000_000, b"AAPL", b"\x00junk", (("trace", b"t1"),))

    record = dead_letter_to_outbound(DeadLetter(source, "bad-marker", "expected c301"))

    assert (record.topic, record.key, record.value) == ("dlq.md.trade", b"AAPL", b"\x00junk")
    assert record.headers == (
        ("dlq.reason", b"bad-marker"),
        ("dlq.error", b"expected c301"),
        ("dlq.source.topic", b"md.trade"),
        ("dlq.source.partition", b"2"),
        ("dlq.source.offset", b"17"),
        ("dlq.source.timestamp", b"1700000000000"),
        ("trace", b"t1"),
    )


def test_dlq_topic_stays_inside_namespace():
    assert dlq_topic("run7.md.quote", "run7.") == "run7.dlq.md.quote"
    assert dlq_topic("md.quote") == "dlq.md.quote"


def test_decode_record_good_bytes_give_event():
    raw = RawRecord("md.bar.1m", 0, 5, 0, b"SYM1", CODEC.encode("Bar", bar(1)))

    event = decode_record(raw)

    assert event == DecodedEvent("Bar", bar(1), raw)


def test_decode_record_truncated_body_is_dead_letter_with_decoder_reason():
    raw = RawRecord("md.bar.1m", 0, 5, 0, None, CODEC.encode("Bar", bar(1))[:14])

    dead = decode_record(raw)

    assert isinstance(dead, DeadLetter) and dead.source is raw
    assert dead.reason in {"truncated", "bad-body"}


def test_decode_record_validator_reason_sends_to_dlq_as_invalid():
    raw = RawRecord("md.bar.1m", 0, 5, 0, None, CODEC.encode("Bar", bar(1)))

    dead = decode_record(raw, lambda schema, record: "high < low" if record["high"] > 0 else None)

    assert isinstance(dead, DeadLetter)
    assert (dead.reason, dead.error) == ("invalid", "Bar: high < low")


def test_flow_good_and_garbage_end_as_events_and_dead_letters(kafka_bootstrap, namespace, caplog):
    spec = TopicsSpec(topics={"md.bar.1m": TopicSpec(partitions=2)}, dead_letter=TopicSpec(partitions=1))
    ensure_topics(kafka_bootstrap, spec, namespace=namespace)
    topic, dead_topic = f"{namespace}md.bar.1m", f"{namespace}dlq.md.bar.1m"
    good, garbage, invalid = 60, 7, 3
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    payloads = [CODEC.encode("Bar", bar(i)) for i in range(good)]
    payloads += [b"not avro %d" % i for i in range(garbage)]
    payloads += [CODEC.encode("Bar", {**bar(i), "volume": -1.0}) for i in range(invalid)]
    for i, payload in enumerate(payloads):
        key = f"SYM{i % 4}".encode()
        producer.produce(topic, payload, key, partition=partition_for(key, 2), headers=[("n", b"%d" % i)])
    assert producer.flush(30) == 0

    def validate(schema: str, record: dict) -> str | None:
        return f"volume must be >= 0, was {record['volume']}" if record["volume"] < 0 else None

    events: list[DecodedEvent] = []
    flow = Dataflow("decode")
    raws = op.input("read", flow, KafkaSource(kafka_bootstrap, [topic], tail=False))
    decoded = decode_events("decode", raws, validate=validate)
    op.output("events", decoded.events, TestingSink(events))
    dlq_output("dead_letters", decoded.dead_letters, kafka_bootstrap, namespace=namespace)
    with caplog.at_level(logging.WARNING, logger="tape.dlq"):
        run_main(flow)

    assert sorted(e.record["ts_event"] for e in events) == [bar(i)["ts_event"] for i in range(good)]
    dead = []
    flow = Dataflow("read_dlq")
    op.output(
        "collect",
        op.input("read", flow, KafkaSource(kafka_bootstrap, [dead_topic], tail=False)),
        TestingSink(dead),
    )
    run_main(flow)
    assert len(dead) == garbage + invalid
    assert sorted(r.value for r in dead) == sorted(payloads[good:])
    for record in dead:
        headers = dict(record.headers)
        original_index = int(headers["n"])
        assert headers["dlq.source.topic"] == topic.encode()
        assert record.key == f"SYM{original_index % 4}".encode()
        assert headers["dlq.reason"] == (b"bad-marker" if original_index < good + garbage else b"invalid")
        assert int(headers["dlq.source.partition"]) == partition_for(record.key, 2)
    offsets = sorted(
        (int(dict(r.headers)["dlq.source.partition"]), int(dict(r.headers)["dlq.source.offset"]))
        for r in dead
    )
    assert len(set(offsets)) == garbage + invalid
    logged = [r for r in caplog.records if r.name == "tape.dlq"]
    assert len(logged) == garbage + invalid
    assert all(r.dlq_source_topic == topic and r.dlq_source_offset >= 0 for r in logged)
