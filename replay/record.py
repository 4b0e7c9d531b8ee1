"""Record Kafka topics into a tape archive: a fixed offset range per partition, captured at start.

Positions (``start``/``end``) are ``"earliest"`` or ``"latest"``, an int offset (every partition), a
`datetime` or `Timestamp` (the first offset whose Kafka timestamp is at or after it), or a mapping
``{(topic, partition): offset}``. ``end`` is exclusive; ``"latest"`` means the end of each partition
when recording starts, so recording always finishes.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, TopicPartition
from tqdm import tqdm

from connectors.kafka.clients import consumer_config
from connectors.records import RawRecord
from connectors.tape_archive import TapeWriter
from schemas.errors import ConfigError, TapeError

_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A position given as a Kafka record timestamp, ms since epoch."""

    ms: int


Position = str | int | datetime | Timestamp | Mapping[tuple[str, int], int]


def resolve_topics(consumer: Consumer, patterns: list[str]) -> list[str]:
    """Exact names or glob patterns → the matching topics on the broker (internal topics excluded)."""
    names = sorted(t for t in consumer.list_topics(timeout=_TIMEOUT_S).topics if not t.startswith("__"))
    chosen: set[str] = set()
    for pattern in patterns:
        matched = fnmatch.filter(names, pattern)
        if not matched:
            raise ConfigError(f"topics: {pattern!r} matches no topic on the broker")
        chosen.update(matched)
    return sorted(chosen)


def _offset(consumer: Consumer, tp: TopicPartition, position: Position, field: str) -> int:
    low, high = consumer.get_watermark_offsets(tp, timeout=_TIMEOUT_S)
    if isinstance(position, Mapping):
        position = position.get((tp.topic, tp.partition), "latest" if field == "end" else "earliest")
    if position == "earliest":
        return low
    if position == "latest":
        return high
    if isinstance(position, datetime | Timestamp):
        ms = position.ms if isinstance(position, Timestamp) else int(position.timestamp() * 1000)
        found = consumer.offsets_for_times([TopicPartition(tp.topic, tp.partition, ms)], timeout=_TIMEOUT_S)[
            0
        ]
        return high if found.offset < 0 else found.offset
    if isinstance(position, int) and not isinstance(position, bool):
        return min(max(position, low), high)
    raise ConfigError(
        f"{field}: expected 'earliest', 'latest', an offset, a datetime or a Timestamp, was {position!r}"
    )


def record(
    bootstrap: str,
    topics: list[str],
    out: Path,
    start: Position = "earliest",
    end: Position = "latest",
    progress: bool = True,
    overwrite: bool = False,
) -> dict:
    """Consume ``topics`` from ``start`` to ``end`` (exclusive) and write them to the tape ``out``.

    Returns the tape's manifest. Raises `ConfigError` for unknown topics or bad positions and
    `TapeError` when the broker stops delivering before the end positions are reached.
    """
    consumer = Consumer(consumer_config(bootstrap, group_id="tape-record"))
    try:
        names = resolve_topics(consumer, topics)
        metadata = consumer.list_topics(timeout=_TIMEOUT_S).topics
        ranges: dict[tuple[str, int], tuple[int, int]] = {}
        for topic in names:
            for partition in sorted(metadata[topic].partitions):
                tp = TopicPartition(topic, partition)
                ranges[(topic, partition)] = (
                    _offset(consumer, tp, start, "start"),
                    _offset(consumer, tp, end, "end"),
                )
        with TapeWriter(out, overwrite=overwrite) as writer:
            for topic in names:
                writer.declare_topic(topic, len(metadata[topic].partitions))
            _consume(consumer, writer, {k: v for k, v in ranges.items() if v[0] < v[1]}, progress)
        return writer.manifest
    finally:
        consumer.close()


def _consume(
    consumer: Consumer, writer: TapeWriter, ranges: dict[tuple[str, int], tuple[int, int]], progress: bool
) -> None:
    if not ranges:
        return
    consumer.assign([TopicPartition(t, p, start) for (t, p), (start, _) in ranges.items()])
    pending = set(ranges)
    bar = tqdm(total=sum(e - s for s, e in ranges.values()), unit="rec", disable=not progress, desc="record")
    last_progress = time.monotonic()
    with bar:
        while pending:
            messages = consumer.consume(1000, 0.2)
            if not messages and time.monotonic() - last_progress > _TIMEOUT_S:
                raise TapeError(
                    f"record: no progress for {_TIMEOUT_S:.0f} s; still waiting on {sorted(pending)}"
                )
            for message in messages:
                coordinates = (message.topic(), message.partition())
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        pending.discard(coordinates)
                        continue
                    raise TapeError(f"record: consuming {coordinates} failed: {error}")
                if coordinates not in pending:
                    continue
                end = ranges[coordinates][1]
                if message.offset() >= end:
                    pending.discard(coordinates)
                    continue
                writer.append(
                    RawRecord(
                        message.topic(),
                        message.partition(),
                        message.offset(),
                        message.timestamp()[1],
                        message.key(),
                        message.value(),
                        tuple(message.headers() or ()),
                    )
                )
                bar.update(1)
                last_progress = time.monotonic()
                if message.offset() + 1 >= end:
                    pending.discard(coordinates)
