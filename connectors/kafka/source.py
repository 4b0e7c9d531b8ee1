"""`KafkaSource`: read Kafka topics into a Bytewax flow as `RawRecord`s, resumable at exact offsets.

Each topic-partition is one Bytewax partition, read by its own librdkafka consumer with ``assign()``
(no consumer group, no committed offsets). The position lives in Bytewax recovery: a partition's
snapshot is the offset of the next record to emit, so a resumed flow continues exactly where the last
complete epoch ended. Output written after that epoch is produced again, so the end-to-end contract is
**at-least-once** (make sinks idempotent).

Where to start is a `StartAt` value (earliest, latest, a timestamp or explicit offsets); logical
positions are resolved to concrete offsets when a partition is built, so a snapshot taken before the
first record still points at a real offset. With ``tail=False`` each partition captures its high
watermark when built and stops (``StopIteration``) once everything below it has been emitted: a
bounded, repeatable read of "what the topic held at start".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient

from connectors.kafka.clients import consumer_config
from connectors.records import RawRecord
from schemas.errors import ConfigError, TapeError

logger = logging.getLogger(__name__)

T = TypeVar("T")

METADATA_TIMEOUT_S = 10.0

# Errors a consumer reports while a broker is unreachable; librdkafka reconnects by itself.
TRANSIENT_ERRORS = frozenset(
    {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._TIMED_OUT, KafkaError._RESOLVE}
)
# Errors a metadata request may meet while a new topic's leadership settles, or a broker restarts.
RETRIABLE_METADATA_ERRORS = TRANSIENT_ERRORS | {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError.REQUEST_TIMED_OUT,
}


class KafkaSourceError(TapeError):
    """The broker reported an error for a partition being read (anything but end-of-partition)."""


@dataclass(frozen=True)
class StartAt:
    """Where each partition starts when there is no recovery snapshot for it.

    Parameters
    ----------
    position
        ``"earliest"`` (the oldest retained record), ``"latest"`` (the high watermark: only records
        produced after the partition is built), ``"timestamp"`` (the first record whose Kafka timestamp
        is at or after ``timestamp_ms``; the end of the partition if none is) or ``"offsets"``.
    timestamp_ms
        Milliseconds since epoch, for ``position="timestamp"``.
    offsets
        ``{(topic, partition): offset}`` for ``position="offsets"``; partitions not listed start at
        ``otherwise``.
    otherwise
        ``"earliest"`` or ``"latest"``: where partitions missing from ``offsets`` start.

    Examples
    --------
    >>> StartAt.earliest().position
    'earliest'
    >>> StartAt.at_offsets({("md.trade", 0): 42}).offset_for("md.trade", 0)
    42
    >>> StartAt.at_timestamp(1_700_000_000_000).timestamp_ms
    1700000000000
    """

    position: Literal["earliest", "latest", "timestamp", "offsets"] = "earliest"
    timestamp_ms: int | None = None
    offsets: Mapping[tuple[str, int], int] = field(default_factory=dict)
    otherwise: Literal["earliest", "latest"] = "earliest"

    def __post_init__(self) -> None:
        if self.position not in ("earliest", "latest", "timestamp", "offsets"):
            raise ConfigError(
                f"StartAt.position must be earliest|latest|timestamp|offsets, was {self.position!r}"
            )
        if self.position == "timestamp" and (self.timestamp_ms is None or self.timestamp_ms < 0):
            raise ConfigError(
                f"StartAt.timestamp_ms must be >= 0 for a timestamp start, was {self.timestamp_ms!r}"
            )
        if self.otherwise not in ("earliest", "latest"):
            raise ConfigError(f"StartAt.otherwise must be earliest|latest, was {self.otherwise!r}")
        for (topic, partition), offset in self.offsets.items():
            if offset < 0:
                raise ConfigError(f"StartAt.offsets[{topic!r}, {partition}] must be >= 0, was {offset}")

    @classmethod
    def earliest(cls) -> StartAt:
        """Start at the oldest retained record."""
        return cls("earliest")

    @classmethod
    def latest(cls) -> StartAt:
        """Start at the high watermark (records produced from now on)."""
        return cls("latest")

    @classmethod
    def at_timestamp(cls, timestamp_ms: int) -> StartAt:
        """Start at the first record with a Kafka timestamp ``>= timestamp_ms``."""
        return cls("timestamp", timestamp_ms=timestamp_ms)

    @classmethod
    def at_offsets(
        cls, offsets: Mapping[tuple[str, int], int], otherwise: Literal["earliest", "latest"] = "earliest"
    ) -> StartAt:
        """Start each listed ``(topic, partition)`` at its offset, the others at ``otherwise``."""
        return cls("offsets", offsets=dict(offsets), otherwise=otherwise)

    def offset_for(self, topic: str, partition: int) -> int | None:
        """The explicit offset of a partition, or ``None`` if the position is logical."""
        if self.position != "offsets":
            return None
        return self.offsets.get((topic, partition))


def retry_metadata(request: Callable[[], T], failure: str, timeout: float = METADATA_TIMEOUT_S) -> T:
    """Run a metadata request, retrying retriable errors (a new topic's leader not known yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return request()
        except KafkaException as e:
            error = e.args[0]
            retriable = error.retriable() or error.code() in RETRIABLE_METADATA_ERRORS
            if not retriable or time.monotonic() > deadline:
                raise KafkaSourceError(f"{failure}: {error.str()} (code {error.name()})") from e
            time.sleep(0.1)


def part_name(topic: str, partition: int) -> str:
    """The Bytewax partition name of a topic-partition (``md.trade/3``)."""
    return f"{topic}/{partition}"


def parse_part_name(name: str) -> tuple[str, int]:
    """Invert `part_name`."""
    topic, _, partition = name.rpartition("/")
    return topic, int(partition)


def to_raw_record(message: Message) -> RawRecord:
    """A consumed librdkafka message as a `RawRecord` (a tombstone's missing value becomes ``b""``)."""
    _, timestamp_ms = message.timestamp()
    return RawRecord(
        topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
        timestamp_ms=timestamp_ms,
        key=message.key(),
        value=message.value() or b"",
        headers=tuple(message.headers() or ()),
    )


class _KafkaSourcePartition(StatefulSourcePartition[RawRecord, int]):
    """Reads one topic-partition from a concrete offset; snapshot = next offset to emit."""

    def __init__(
        self,
        config: dict[str, Any],
        topic: str,
        partition: int,
        start: StartAt,
        resume_offset: int | None,
        tail: bool,
        batch_size: int,
        idle_wait: timedelta,
    ):
        self._topic = topic
        self._partition = partition
        self._tail = tail
        self._batch_size = batch_size
        self._idle_wait = idle_wait
        self._awake: datetime | None = None
        self._consumer = Consumer(config)
        low, high = self._watermarks()
        self._end = high
        self._offset = resume_offset if resume_offset is not None else self._resolve(start, low, high)
        self._done = not tail and self._offset >= self._end
        self._consumer.assign([TopicPartition(topic, partition, self._offset)])
        logger.info(
            "kafka source partition %s/%d starts at offset %d (low %d, high %d, %s)",
            topic,
            partition,
            self._offset,
            low,
            high,
            "tail" if tail else f"stop at {high}",
        )

    def _where(self) -> str:
        return f"{self._topic}/{self._partition}"

    def _watermarks(self) -> tuple[int, int]:
        partition = TopicPartition(self._topic, self._partition)
        return retry_metadata(
            lambda: self._consumer.get_watermark_offsets(partition, timeout=METADATA_TIMEOUT_S, cached=False),
            f"cannot read the offsets of {self._where()}",
        )

    def _resolve(self, start: StartAt, low: int, high: int) -> int:
        explicit = start.offset_for(self._topic, self._partition)
        if explicit is not None:
            return explicit
        position = start.otherwise if start.position == "offsets" else start.position
        if position == "earliest":
            return low
        if position == "latest":
            return high
        query = TopicPartition(self._topic, self._partition, start.timestamp_ms)
        failure = f"cannot look up timestamp {start.timestamp_ms} in {self._where()}"
        (found,) = retry_metadata(
            lambda: self._consumer.offsets_for_times([query], timeout=METADATA_TIMEOUT_S), failure
        )
        if found.error is not None:
            raise KafkaSourceError(f"{failure}: {found.error}")
        return high if found.offset < 0 else found.offset

    def next_batch(self) -> list[RawRecord]:
        if self._done:
            raise StopIteration
        messages = self._consumer.consume(num_messages=self._batch_size, timeout=0)
        batch: list[RawRecord] = []
        for message in messages:
            error = message.error()
            if error is None:
                if not self._tail and message.offset() >= self._end:
                    self._done = True
                    break
                batch.append(to_raw_record(message))
                self._offset = message.offset() + 1
            elif error.code() == KafkaError._PARTITION_EOF:
                self._done = self._done or (not self._tail and message.offset() >= self._end)
            elif error.code() in TRANSIENT_ERRORS:
                logger.warning("kafka source %s: transient error, retrying: %s", self._where(), error)
            else:
                raise KafkaSourceError(
                    f"error reading {self._where()} at offset {self._offset}: {error.str()} "
                    f"(code {error.name()}); offsets before the log start or past its end raise here too"
                )
        if not self._tail and self._offset >= self._end:
            self._done = True
        now = datetime.now(UTC)
        self._awake = None if batch or self._done else now + self._idle_wait
        return batch

    def next_awake(self) -> datetime | None:
        return self._awake

    def snapshot(self) -> int:
        return self._offset

    def close(self) -> None:
        self._consumer.close()


class KafkaSource(FixedPartitionedSource[RawRecord, int]):
    """Read Kafka topics as `RawRecord`s: one Bytewax partition per topic-partition.

    Parameters
    ----------
    bootstrap
        Kafka bootstrap servers, ``host:port[,host:port]``.
    topics
        The topics to read (every partition of each, discovered when the flow starts).
    start
        Where partitions without a recovery snapshot begin (default: earliest).
    tail
        ``True``: keep reading forever. ``False``: stop each partition at the high watermark it saw
        when it was built (the flow ends once every partition has).
    batch_size
        Most records one ``next_batch`` returns.
    idle_wait
        How long an idle partition sleeps before polling again (the runtime polls immediately
        otherwise, which burns a core per idle partition).
    config
        Extra librdkafka consumer settings; they win over Tape's defaults.

    Examples
    --------
    >>> source = KafkaSource("127.0.0.1:19092", ["md.bar.1m"], start=StartAt.earliest(), tail=False)
    >>> source.topics
    ('md.bar.1m',)
    >>> KafkaSource("127.0.0.1:19092", "md.bar.1m")
    Traceback (most recent call last):
    ...
    schemas.errors.ConfigError: KafkaSource.topics must be a list of topic names, was the string 'md.bar.1m'
    """

    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        *,
        start: StartAt | None = None,
        tail: bool = True,
        batch_size: int = 1000,
        idle_wait: timedelta = timedelta(milliseconds=10),
        config: Mapping[str, Any] | None = None,
    ):
        if isinstance(topics, str):
            raise ConfigError(f"KafkaSource.topics must be a list of topic names, was the string {topics!r}")
        if not topics:
            raise ConfigError("KafkaSource.topics must name at least one topic, was empty")
        if batch_size < 1:
            raise ConfigError(f"KafkaSource.batch_size must be >= 1, was {batch_size}")
        self.bootstrap = bootstrap
        self.topics = tuple(topics)
        self.start = start or StartAt.earliest()
        self.tail = tail
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.config = dict(config or {})

    def list_parts(self) -> list[str]:
        """Every partition of every topic, as ``topic/partition``; unknown topics raise."""
        admin = AdminClient({"bootstrap.servers": self.bootstrap, **self.config})
        parts = []
        for topic in self.topics:
            try:
                metadata = admin.list_topics(topic, timeout=METADATA_TIMEOUT_S).topics[topic]
            except Exception as e:
                raise KafkaSourceError(
                    f"cannot list the partitions of topic {topic!r} at {self.bootstrap}: {e}"
                ) from e
            if metadata.error is not None:
                raise KafkaSourceError(
                    f"cannot read topic {topic!r} at {self.bootstrap}: {metadata.error.str()}; "
                    "create it first (tape topics create)"
                )
            parts.extend(part_name(topic, p) for p in sorted(metadata.partitions))
        return parts

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _KafkaSourcePartition:
        """Open a consumer on one partition, at the snapshot offset if resuming."""
        topic, partition = parse_part_name(for_part)
        if topic not in self.topics:
            raise ConfigError(
                f"step {step_id!r}: recovery holds partition {for_part!r} of a topic this source does not "
                f"read (topics {list(self.topics)}); use a fresh recovery directory"
            )
        config = consumer_config(
            self.bootstrap,
            group_id="tape-assign-only",
            **{"auto.offset.reset": "error", "enable.partition.eof": not self.tail},
        )
        config.update(self.config)
        return _KafkaSourcePartition(
            config, topic, partition, self.start, resume_state, self.tail, self.batch_size, self.idle_wait
        )
