"""KafkaSink and KafkaEpochSink against the session's real broker: placement by key, checked
delivery (per batch, or at each epoch's snapshot), broker restart."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import bytewax.operators as op
import pytest
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource, run_main
from confluent_kafka import Consumer, KafkaError, TopicPartition

from connectors.kafka.sink import KafkaDeliveryError, KafkaEpochSink, KafkaSink, OutboundRecord, kafka_output
from connectors.partitioning import partition_for
from schemas.errors import ConfigError, TapeError


def read_topic(bootstrap: str, topic: str, partitions: int) -> dict[int, list]:
    """Every record of ``topic`` by partition, in offset order (a plain consumer, not the source)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "sink-test", "enable.partition.eof": True}
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    by_partition: dict[int, list] = {p: [] for p in range(partitions)}
    at_end: set[int] = set()
    while len(at_end) < partitions:
        for message in consumer.consume(500, timeout=1.0):
            if message.error() is None:
                by_partition[message.partition()].append(message)
            elif message.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(message.partition())
            else:
                raise AssertionError(message.error())
    consumer.close()
    return by_partition


def write(bootstrap: str, items: list, batch_size: int = 100) -> None:
    flow = Dataflow("write")
    op.output(
        "kafka", op.input("items", flow, TestingSource(items, batch_size=batch_size)), KafkaSink(bootstrap)
    )
    run_main(flow)


def write_per_epoch(bootstrap: str, items: list, batch_size: int = 100) -> None:
    flow = Dataflow("write_per_epoch")
    kafka_output("kafka", op.input("items", flow, TestingSource(items, batch_size=batch_size)), bootstrap)
    run_main(flow, epoch_interval=timedelta(milliseconds=1))


def test_epoch_sink_writes_every_record_placed_by_key_in_order(kafka_bootstrap, new_topic):
    topic = new_topic("epoch-sink", partitions=3)
    keys = [f"k{i}".encode() for i in range(7)]
    items = [OutboundRecord(topic, keys[i % 7], f"{i}".encode()) for i in range(700)]

    write_per_epoch(kafka_bootstrap, items, batch_size=9)

    by_partition = read_topic(kafka_bootstrap, topic, 3)
    values = [int(m.value()) for messages in by_partition.values() for m in messages]
    assert sorted(values) == list(range(700))
    for partition, messages in by_partition.items():
        assert {partition_for(m.key(), 3) for m in messages} <= {partition}
        for key in {m.key() for m in messages}:
            sequence = [int(m.value()) for m in messages if m.key() == key]
            assert sequence == sorted(sequence)


def test_epoch_sink_snapshot_confirms_delivery_and_raises_on_failure(kafka_bootstrap, new_topic):
    topic = new_topic("epoch-sink", config={"max.message.bytes": "1024"})  # rejects larger batches
    sink = KafkaEpochSink(kafka_bootstrap, {"compression.type": "none"})
    partition = sink.build_part("write", sink.list_parts()[0], None)

    partition.write_batch([OutboundRecord(topic, b"k", b"small")])
    partition.snapshot()  # delivered: the epoch may commit
    assert [m.value() for m in read_topic(kafka_bootstrap, topic, 1)[0]] == [b"small"]

    partition.write_batch([OutboundRecord(topic, b"k", bytes(4096))])
    with pytest.raises(KafkaDeliveryError, match=f"{topic}/0: .*MSG_SIZE_TOO_LARGE"):
        partition.snapshot()


def test_sink_places_each_key_in_partition_for_key(kafka_bootstrap, new_topic):
    topic = new_topic("sink", partitions=4)
    keys = [f"instrument-{i}".encode() for i in range(20)]
    items = [OutboundRecord(topic, keys[i % 20], f"{i}".encode()) for i in range(400)]

    write(kafka_bootstrap, items)

    by_partition = read_topic(kafka_bootstrap, topic, 4)
    assert sum(len(messages) for messages in by_partition.values()) == 400
    for partition, messages in by_partition.items():
        assert {partition_for(m.key(), 4) for m in messages} <= {partition}


def test_sink_keeps_order_per_key_and_headers(kafka_bootstrap, new_topic):
    topic = new_topic("sink", partitions=3)
    items = [OutboundRecord(topic, b"AAPL", f"{i}".encode(), (("seq", f"{i}".encode()),)) for i in range(50)]

    write(kafka_bootstrap, items, batch_size=7)

    messages = read_topic(kafka_bootstrap, topic, 3)[partition_for(b"AAPL", 3)]
    assert [int(m.value()) for m in messages] == list(range(50))
    assert [m.headers() for m in messages[:2]] == [[("seq", b"0")], [("seq", b"1")]]


def test_sink_accepts_tuples_and_null_keys(kafka_bootstrap, new_topic):
    topic = new_topic("sink", partitions=2)

    write(kafka_bootstrap, [(topic, None, b"a", [("h", b"1")]), (topic, b"k", b"b", None)])

    by_partition = read_topic(kafka_bootstrap, topic, 2)
    assert [m.value() for m in by_partition[0] if m.key() is None] == [b"a"]
    assert sum(len(m) for m in by_partition.values()) == 2


def test_sink_explicit_timestamp_is_kept(kafka_bootstrap, new_topic):
    topic = new_topic("sink")

    write(kafka_bootstrap, [OutboundRecord(topic, b"k", b"v", timestamp_ms=1_600_000_000_123)])

    (message,) = read_topic(kafka_bootstrap, topic, 1)[0]
    assert message.timestamp()[1] == 1_600_000_000_123


def test_sink_delivery_error_raises_naming_topic_and_partition(kafka_bootstrap, new_topic):
    topic = new_topic("sink", config={"max.message.bytes": "1024"})  # the broker rejects larger batches
    partition = KafkaSink(kafka_bootstrap, {"compression.type": "none"}).build("write", 0, 1)

    with pytest.raises(KafkaDeliveryError, match=f"{topic}/0: .*MSG_SIZE_TOO_LARGE"):
        partition.write_batch([OutboundRecord(topic, b"k", bytes(4096))])

    assert issubclass(KafkaDeliveryError, TapeError)


def test_sink_missing_topic_raises_naming_it(kafka_bootstrap):
    partition = KafkaSink(kafka_bootstrap).build("write", 0, 1)

    with pytest.raises(KafkaDeliveryError, match="no-such-topic-y1.*tape topics create"):
        partition.write_batch([OutboundRecord("no-such-topic-y1", None, b"v")])


def test_sink_bad_item_raises_type_error_naming_the_shape():
    with pytest.raises(TypeError, match=r"\(topic, key, value, headers\)"):
        OutboundRecord.of(("topic", b"value"))


def test_sink_refuses_to_turn_idempotence_off():
    with pytest.raises(ConfigError, match="enable.idempotence"):
        KafkaSink("127.0.0.1:1", {"enable.idempotence": False})


def test_sink_survives_broker_restart_exactly_once_in_order(kafka_broker, kafka_bootstrap, new_topic):
    topic = new_topic("restart", partitions=3)
    total, batch = 3000, 50
    keys = [f"k{i}".encode() for i in range(9)]
    items = [OutboundRecord(topic, keys[i % 9], f"{i}".encode()) for i in range(total)]
    sink = KafkaSink(kafka_bootstrap).build("write", 0, 1)
    a_third_written = threading.Event()
    written_while_down: list[int] = []
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            for start in range(0, total, batch):
                sink.write_batch(items[start : start + batch])
                if start == total // 3:
                    a_third_written.set()
                    while kafka_broker.is_running():  # keep producing into the restart
                        time.sleep(0.01)
                    written_while_down.append(start + batch)
        except BaseException as e:  # reported to the main thread
            errors.append(e)
        finally:
            a_third_written.set()

    producer = threading.Thread(target=produce)
    producer.start()
    assert a_third_written.wait(timeout=60)
    kafka_broker.restart()
    producer.join(timeout=240)

    assert not producer.is_alive() and errors == []
    assert written_while_down and written_while_down[0] < total  # the rest was produced across the restart
    by_partition = read_topic(kafka_bootstrap, topic, 3)
    values = [int(m.value()) for messages in by_partition.values() for m in messages]
    assert sorted(values) == list(range(total))  # nothing lost, nothing twice
    for messages in by_partition.values():
        for key in {m.key() for m in messages}:
            sequence = [int(m.value()) for m in messages if m.key() == key]
            assert sequence == sorted(sequence)
