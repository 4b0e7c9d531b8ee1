"""KafkaSource against the session's real broker: start positions, stop at end, recovery, errors."""

from __future__ import annotations

import time
from datetime import timedelta

import bytewax.operators as op
import pytest
from bytewax.dataflow import Dataflow
from bytewax.errors import BytewaxRuntimeError
from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.testing import TestingSink, run_main
from confluent_kafka import Producer

from connectors.kafka.source import KafkaSource, KafkaSourceError, StartAt
from connectors.partitioning import partition_for
from connectors.records import RawRecord
from schemas.errors import ConfigError


def produce(bootstrap: str, topic: str, count: int, partitions: int = 1, start: int = 0, **kwargs) -> None:
    """``count`` records valued ``v<i>`` keyed ``k<i % 5>``, placed with `partition_for`."""
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for i in range(start, start + count):
        key = f"k{i % 5}".encode()
        producer.produce(topic, f"v{i}".encode(), key, partition=partition_for(key, partitions), **kwargs)
    assert producer.flush(30) == 0


def read_all(source: KafkaSource, **run_kwargs) -> list[RawRecord]:
    out: list[RawRecord] = []
    flow = Dataflow("read")
    op.output("collect", op.input("kafka", flow, source), TestingSink(out))
    run_main(flow, **run_kwargs)
    return out


def by_partition(records: list[RawRecord]) -> dict[int, list[int]]:
    offsets: dict[int, list[int]] = {}
    for record in records:
        offsets.setdefault(record.partition, []).append(record.offset)
    return offsets


def test_source_earliest_reads_every_record_of_every_partition_then_stops(kafka_bootstrap, new_topic):
    topic = new_topic("src", partitions=3)
    produce(kafka_bootstrap, topic, 200, partitions=3)

    records = read_all(KafkaSource(kafka_bootstrap, [topic], tail=False, batch_size=16))

    assert sorted(int(r.value[1:]) for r in records) == list(range(200))
    for partition, offsets in by_partition(records).items():
        assert offsets == list(range(len(offsets))), f"partition {partition} out of order or gapped"
    first = min(records, key=lambda r: int(r.value[1:]))
    assert (first.topic, first.key, first.timestamp_ms > 0) == (topic, b"k0", True)


def test_source_several_topics_are_read_together(kafka_bootstrap, new_topic):
    first, second = new_topic("src", partitions=1), new_topic("src", partitions=2)
    produce(kafka_bootstrap, first, 10)
    produce(kafka_bootstrap, second, 20, partitions=2)

    records = read_all(KafkaSource(kafka_bootstrap, [first, second], tail=False))

    counts = {topic: sum(r.topic == topic for r in records) for topic in (first, second)}
    assert counts == {first: 10, second: 20}


def test_source_headers_and_null_key_arrive_unchanged(kafka_bootstrap, new_topic):
    topic = new_topic("src")
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(topic, b"value", None, headers=[("trace", b"abc"), ("trace", b"def")])
    producer.flush(30)

    (record,) = read_all(KafkaSource(kafka_bootstrap, [topic], tail=False))

    assert (record.key, record.value, record.headers) == (
        None,
        b"value",
        (("trace", b"abc"), ("trace", b"def")),
    )


def test_source_latest_skips_what_was_there_when_the_partition_was_built(kafka_bootstrap, new_topic):
    topic = new_topic("src")
    produce(kafka_bootstrap, topic, 30)

    assert read_all(KafkaSource(kafka_bootstrap, [topic], start=StartAt.latest(), tail=False)) == []


def poll_until(partition, count: int, timeout: float = 30) -> list[RawRecord]:
    """Call ``next_batch`` like the runtime does until ``count`` records arrived."""
    records: list[RawRecord] = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        records.extend(partition.next_batch())
        time.sleep(0.01)
    return records


def test_source_latest_with_tail_reads_records_produced_after_start(kafka_bootstrap, new_topic):
    topic = new_topic("src")
    produce(kafka_bootstrap, topic, 30)
    source = KafkaSource(kafka_bootstrap, [topic], start=StartAt.latest(), tail=True)
    partition = source.build_part("read", f"{topic}/0", None)
    try:
        assert partition.next_batch() == []
        produce(kafka_bootstrap, topic, 5, start=100)

        records = poll_until(partition, 5)

        assert [r.value for r in records] == [f"v{i}".encode() for i in range(100, 105)]
        assert [r.offset for r in records] == list(range(30, 35))
        assert partition.snapshot() == 35
    finally:
        partition.close()


def test_source_given_offsets_start_there_and_others_start_at_otherwise(kafka_bootstrap, new_topic):
    topic = new_topic("src", partitions=2)
    produce(kafka_bootstrap, topic, 100, partitions=2)
    start = StartAt.at_offsets({(topic, 0): 7}, otherwise="latest")

    records = read_all(KafkaSource(kafka_bootstrap, [topic], start=start, tail=False))

    offsets = by_partition(records)
    assert offsets[0][0] == 7
    assert offsets[0] == list(range(7, 7 + len(offsets[0])))
    assert 1 not in offsets


def test_source_timestamp_starts_at_first_record_at_or_after_it(kafka_bootstrap, new_topic):
    topic = new_topic("src")
    base = 1_700_000_000_000
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for i in range(50):
        producer.produce(topic, f"v{i}".encode(), timestamp=base + 1000 * i)
    producer.flush(30)

    from_middle = read_all(
        KafkaSource(kafka_bootstrap, [topic], start=StartAt.at_timestamp(base + 20_500), tail=False)
    )
    after_all = read_all(
        KafkaSource(kafka_bootstrap, [topic], start=StartAt.at_timestamp(base + 10**9), tail=False)
    )

    assert [r.offset for r in from_middle] == list(range(21, 50))
    assert from_middle[0].timestamp_ms == base + 21_000
    assert after_all == []


def test_source_stops_at_watermark_captured_at_start_on_empty_topic(kafka_bootstrap, new_topic):
    topic = new_topic("src", partitions=2)

    assert read_all(KafkaSource(kafka_bootstrap, [topic], tail=False)) == []


def test_source_resumes_from_recovery_snapshot_without_gaps(kafka_bootstrap, new_topic, tmp_path):
    topic = new_topic("src", partitions=2)
    produce(kafka_bootstrap, topic, 300, partitions=2)
    init_db_dir(tmp_path, 1)
    recovery = RecoveryConfig(str(tmp_path))
    seen = 0

    def crash_after_150(record: RawRecord) -> RawRecord:
        nonlocal seen
        seen += 1
        if seen > 150:
            raise RuntimeError("simulated crash")
        return record

    def build(step, out: list[RawRecord]) -> Dataflow:
        flow = Dataflow("resume")
        records = op.input("kafka", flow, KafkaSource(kafka_bootstrap, [topic], tail=False, batch_size=10))
        op.output("collect", op.map("work", records, step), TestingSink(out))
        return flow

    first: list[RawRecord] = []
    with pytest.raises(BytewaxRuntimeError):
        run_main(build(crash_after_150, first), epoch_interval=timedelta(0), recovery_config=recovery)
    second: list[RawRecord] = []
    run_main(build(lambda record: record, second), epoch_interval=timedelta(0), recovery_config=recovery)

    assert 0 < len(first) <= 150
    assert len(second) < 300, "the second run replayed from the start instead of resuming"
    assert sorted(int(r.value[1:]) for r in set(first) | set(second)) == list(range(300))
    for partition, offsets in by_partition(second).items():
        assert offsets == list(range(offsets[0], offsets[0] + len(offsets))), f"gap in partition {partition}"


def test_source_offset_past_end_with_tail_raises_naming_partition(kafka_bootstrap, new_topic):
    topic = new_topic("src")
    produce(kafka_bootstrap, topic, 3)
    source = KafkaSource(kafka_bootstrap, [topic], start=StartAt.at_offsets({(topic, 0): 1000}))
    partition = source.build_part("read", f"{topic}/0", None)
    try:
        with pytest.raises(KafkaSourceError, match=f"{topic}/0 at offset 1000"):
            poll_until(partition, 1)
    finally:
        partition.close()


def error_chain(error: BaseException | None) -> str:
    """Every message of an exception and its causes (Bytewax wraps connector errors)."""
    messages = []
    while error is not None:
        messages.append(str(error))
        error = error.__cause__ or error.__context__
    return " <- ".join(messages)


def test_source_unknown_topic_raises_naming_it(kafka_bootstrap):
    with pytest.raises(BytewaxRuntimeError) as raised:
        read_all(KafkaSource(kafka_bootstrap, ["no-such-topic-x1"], tail=False))

    assert "topic 'no-such-topic-x1'" in error_chain(raised.value)


def test_source_string_topics_is_a_config_error():
    with pytest.raises(ConfigError, match="topics"):
        KafkaSource("127.0.0.1:1", "md.trade")


def test_start_at_negative_offset_is_a_config_error():
    with pytest.raises(ConfigError, match=r"offsets\['md.trade', 0\]"):
        StartAt.at_offsets({("md.trade", 0): -5})
