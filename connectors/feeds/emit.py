"""Send event batches somewhere: into a tape archive, or into Kafka topics with checked delivery.

Both place an instrument-keyed event in partition ``partition_for(instrument, partitions)``, so a
tape written here and a topic filled by `produce_batches` hold the same events in the same partitions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from connectors.kafka.clients import producer_config
from connectors.partitioning import partition_for
from schemas.batch import EventBatch
from schemas.codec import CODEC
from schemas.errors import TapeError

Progress = Callable[[int], object]
KEY_FIELD = "instrument"
_POLL_EVERY = 1_000


def write_batches(
    batches: Iterable[EventBatch],
    path: str | Path,
    partitions: int = 1,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> int:
    """Append every batch to a new tape archive at ``path``; return the number of events written.

    ``progress`` is called with the row count of each batch once it is written.
    """
    from connectors.tape_archive import TapeWriter

    written = 0
    with TapeWriter(Path(path), overwrite=overwrite) as writer:
        for batch in batches:
            writer.append_batch(batch.topic, batch, key_field=KEY_FIELD, partitions=partitions)
            written += len(batch)
            if progress is not None:
                progress(len(batch))
    return written


def produce_batches(
    batches: Iterable[EventBatch],
    bootstrap: str,
    rate: float | None = None,
    namespace: str = "",
    partitions: int = 1,
    progress: Progress | None = None,
    timeout_s: float = 60.0,
) -> int:
    """Produce every row of ``batches`` to ``namespace + batch.topic``; return the number delivered.

    Missing topics are created with ``partitions`` partitions; existing ones keep theirs (keys are
    placed with `partition_for` over the topic's actual partition count). With ``rate`` (events per
    second) production is paced in real time; without it, it runs as fast as the broker takes it.
    Every delivery report is checked: any failure raises `TapeError` after the flush.
    """
    if rate is not None and rate <= 0:
        raise ValueError(f"rate must be positive events per second, was {rate}")
    producer = Producer(producer_config(bootstrap))
    failures: list[str] = []
    delivered = 0

    def on_delivery(error: KafkaError | None, message: Message) -> None:
        nonlocal delivered
        if error is None:
            delivered += 1
        elif len(failures) < 10:
            failures.append(f"{message.topic()}: {error}")

    counts: dict[str, int] = {}
    sent = 0
    started = time.monotonic()
    for batch in batches:
        topic = namespace + batch.topic
        if topic not in counts:
            counts[topic] = _ensure_topic(bootstrap, topic, partitions, timeout_s)
        keys = batch.strings(KEY_FIELD) if KEY_FIELD in batch.categories else None
        for row, record in enumerate(batch.to_records()):
            key = None if keys is None else str(keys[row]).encode()
            value = CODEC.encode(batch.schema, record)
            _produce(
                producer,
                topic,
                key,
                value,
                partition_for(key, counts[topic]),
                record["ts_event"],
                on_delivery,
            )
            sent += 1
            if sent % _POLL_EVERY == 0:
                producer.poll(0)
            if rate is not None:
                _pace(started, sent, rate)
        if progress is not None:
            progress(len(batch))
    remaining = producer.flush(timeout_s)
    if failures or remaining:
        raise TapeError(
            f"{sent - delivered} of {sent} events were not delivered to {bootstrap}"
            f" ({remaining} still queued after {timeout_s} s); first failures: {failures}"
        )
    return delivered


def _produce(
    producer: Producer,
    topic: str,
    key: bytes | None,
    value: bytes,
    partition: int,
    ts_event: int,
    on_delivery: Callable[[KafkaError | None, Message], None],
) -> None:
    while True:
        try:
            producer.produce(
                topic,
                value,
                key,
                partition=partition,
                timestamp=ts_event // 1_000_000,
                on_delivery=on_delivery,
            )
            return
        except BufferError:
            producer.poll(0.1)  # local queue full: serve delivery reports, then retry


def _pace(started: float, sent: int, rate: float) -> None:
    ahead = started + sent / rate - time.monotonic()
    if ahead > 0:
        time.sleep(ahead)


def _ensure_topic(bootstrap: str, topic: str, partitions: int, timeout_s: float) -> int:
    """Create ``topic`` if it is missing; return its partition count once every partition has a leader."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = admin.list_topics(timeout=timeout_s).topics.get(topic)
    if existing is None or existing.error is not None:
        future = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[
            topic
        ]
        try:
            future.result(timeout=timeout_s)
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise TapeError(f"cannot create topic {topic} on {bootstrap}: {e}") from e
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        meta = admin.list_topics(topic=topic, timeout=timeout_s).topics.get(topic)
        if meta is not None and meta.error is None and meta.partitions:
            if all(p.leader >= 0 for p in meta.partitions.values()):
                return len(meta.partitions)
        time.sleep(0.05)
    raise TapeError(f"topic {topic} on {bootstrap} has no leader for every partition after {timeout_s} s")
