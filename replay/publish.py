"""Publish a tape archive back into Kafka: same keys, values, headers, timestamps and partitions."""

from __future__ import annotations

import time
from pathlib import Path

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from tqdm import tqdm

from connectors.kafka.clients import producer_config
from connectors.tape_archive import TapeReader
from schemas.errors import ConfigError, TapeError

_TIMEOUT_S = 30.0


def ensure_topics(bootstrap: str, partition_counts: dict[str, int], need_all_partitions: bool) -> None:
    """Create missing topics with the given partition counts; check existing ones have enough partitions."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = admin.list_topics(timeout=_TIMEOUT_S).topics
    missing = [NewTopic(t, num_partitions=n) for t, n in partition_counts.items() if t not in existing]
    for topic, future in (
        admin.create_topics(missing, operation_timeout=_TIMEOUT_S).items() if missing else ()
    ):
        try:
            future.result(timeout=_TIMEOUT_S)
        except KafkaException as e:
            raise TapeError(f"publish: cannot create topic {topic}: {e}") from e
    for topic, n in partition_counts.items():
        if topic in existing and need_all_partitions and len(existing[topic].partitions) < n:
            raise TapeError(
                f"publish: topic {topic} has {len(existing[topic].partitions)} partitions, the tape needs {n}"
            )


def publish(
    tape_dir: str | Path,
    bootstrap: str,
    topics: list[str] | None = None,
    namespace: str = "",
    preserve_partitions: bool = True,
    rate: float | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """Produce every record of the tape (``topics``: names or globs) into ``namespace + topic``.

    Each partition is published in offset order (so a re-recording has the same per-partition
    sequences). With ``preserve_partitions`` a record goes to its recorded partition, else the key
    decides. ``rate`` caps records per second. Returns the count per target topic; raises `TapeError`
    if any delivery fails.
    """
    if rate is not None and rate <= 0:
        raise ConfigError(f"rate must be > 0 records/s, was {rate}")
    reader = TapeReader(tape_dir)
    names = reader.select_topics(topics)
    ensure_topics(bootstrap, {namespace + t: reader.partition_count(t) for t in names}, preserve_partitions)
    failures: list[str] = []

    def delivered(error, message) -> None:
        if error is not None:
            failures.append(f"{message.topic()}/{message.partition()}: {error}")

    producer = Producer(producer_config(bootstrap))
    counts = {namespace + t: 0 for t in names}
    started, sent = time.monotonic(), 0
    with tqdm(total=reader.count(names), unit="rec", disable=not progress, desc="publish") as bar:
        for topic in names:
            for partition in reader.partitions(topic):
                for record in reader.partition_records(topic, partition):
                    _produce(producer, namespace + topic, record, preserve_partitions, delivered)
                    counts[namespace + topic] += 1
                    sent += 1
                    bar.update(1)
                    if rate is not None and sent / rate > time.monotonic() - started:
                        time.sleep(sent / rate - (time.monotonic() - started))
    remaining = producer.flush(_TIMEOUT_S * 4)
    if remaining:
        raise TapeError(f"publish: {remaining} records were still undelivered after flushing")
    if failures:
        raise TapeError(f"publish: {len(failures)} deliveries failed; first: {failures[0]}")
    return counts


def _produce(producer: Producer, topic: str, record, preserve_partitions: bool, delivered) -> None:
    kwargs = {"partition": record.partition} if preserve_partitions else {}
    while True:
        try:
            producer.produce(
                topic,
                value=record.value,
                key=record.key,
                timestamp=record.timestamp_ms,
                headers=list(record.headers) or None,
                on_delivery=delivered,
                **kwargs,
            )
            break
        except BufferError:
            producer.poll(0.1)
    producer.poll(0)
