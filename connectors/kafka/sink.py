"""Kafka sinks: write records from a Bytewax flow to Kafka, placed by key, with checked delivery.

Two sinks share one producing partition (an idempotent producer writing to any topic the items name):

* `KafkaSink`, a `DynamicSink` (one producer per worker): every ``write_batch`` ends with a flush and
  raises `TapeError` if any record of the batch was not delivered. Simple, but the worker waits for a
  broker round trip on every batch.
* `KafkaEpochSink`, a `FixedPartitionedSink` of one partition, for latency-sensitive services:
  ``write_batch`` hands records to librdkafka and returns (failures reported so far raise at once);
  the partition's ``snapshot``, which Bytewax calls at the end of every epoch in which it wrote and
  before that epoch can be committed, flushes and raises if any record of the epoch was not delivered.
  Records go out after ``linger.ms`` while the worker moves on. Items are ``(key, record)`` pairs; the
  key is ignored (`kafka_output` adds it).

Either way an epoch never completes with a lost record. Placement: partition =
`connectors.partitioning.partition_for(key, partition count of the topic)`, counts looked up once per
topic from the broker's metadata. The idempotent producer makes librdkafka's retries (a broker
restart, a lost connection) free of duplicates and reordering. librdkafka reports only failed
deliveries (`ONLY_FAILURES_REPORTED`): a flush still waits for every record, and a failure still
raises. Guarantee: **at-least-once** (a resumed flow writes its last incomplete epoch again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Stream, operator
from bytewax.outputs import DynamicSink, FixedPartitionedSink, StatefulSinkPartition, StatelessSinkPartition
from confluent_kafka import KafkaError as ConfluentKafkaError
from confluent_kafka import KafkaException, Message, Producer
from confluent_kafka.admin import TopicMetadata

from connectors.kafka.clients import producer_config
from connectors.partitioning import partition_for
from schemas.errors import ConfigError, TapeError

logger = logging.getLogger(__name__)

METADATA_TIMEOUT_S = 10.0
FLUSH_STEP_S = 1.0


class KafkaDeliveryError(TapeError):
    """Kafka did not accept a record (after librdkafka's retries), or its topic cannot be written."""


@dataclass(frozen=True, slots=True)
class OutboundRecord:
    """A record to write to Kafka.

    Parameters
    ----------
    topic
        Destination topic (must exist).
    key
        Key bytes; decides the partition (`partition_for`). ``None`` goes to partition 0.
    value
        Value bytes, normally an Avro single-object message.
    headers
        ``(name, value)`` pairs, in order.
    timestamp_ms
        Kafka record timestamp; ``None`` lets the producer stamp the current time.

    Examples
    --------
    >>> record = OutboundRecord("md.trade", b"AAPL", b"\\xc3\\x01...", (("source", b"test"),))
    >>> record.topic, record.key
    ('md.trade', b'AAPL')
    >>> OutboundRecord.of(("md.trade", None, b"v", [])).headers
    ()
    """

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = field(default=())
    timestamp_ms: int | None = None

    @classmethod
    def of(cls, item: OutboundRecord | Sequence[Any]) -> OutboundRecord:
        """Accept an `OutboundRecord` or a ``(topic, key, value, headers)`` tuple."""
        if isinstance(item, OutboundRecord):
            return item
        try:
            topic, key, value, headers = item
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"KafkaSink items must be OutboundRecord or (topic, key, value, headers), was {item!r:.200}"
            ) from e
        return cls(topic, key, value, tuple(headers or ()))


class _Producing:
    """One producer: places records by key and collects delivery failures until they are raised."""

    def __init__(self, producer: Producer, bootstrap: str):
        self._producer = producer
        self._bootstrap = bootstrap
        self._partition_counts: dict[str, int] = {}
        self._failures: list[str] = []

    def _partition_count(self, topic: str) -> int:
        count = self._partition_counts.get(topic)
        if count is None:
            count = self._partition_counts[topic] = len(self._topic_metadata(topic).partitions)
        return count

    def _topic_metadata(self, topic: str) -> TopicMetadata:
        deadline = time.monotonic() + METADATA_TIMEOUT_S
        while True:
            try:
                metadata = self._producer.list_topics(topic, timeout=METADATA_TIMEOUT_S).topics[topic]
            except KafkaException as e:
                raise KafkaDeliveryError(
                    f"cannot read metadata of topic {topic!r} at {self._bootstrap}: {e}"
                ) from e
            if metadata.error is None and metadata.partitions:
                return metadata
            error = metadata.error
            settling = error is None or error.code() == ConfluentKafkaError.LEADER_NOT_AVAILABLE
            if not settling or time.monotonic() > deadline:
                reason = error.str() if error is not None else "no partitions"
                raise KafkaDeliveryError(
                    f"cannot write to topic {topic!r} at {self._bootstrap}: {reason}; "
                    "create it first (tape topics create)"
                )
            time.sleep(0.1)

    def _on_delivery(self, error: ConfluentKafkaError | None, message: Message) -> None:
        if error is not None:
            where = f"{message.topic()}/{message.partition()}"
            self._failures.append(f"{where}: {error.str()} (code {error.name()})")

    def produce(self, record: OutboundRecord) -> None:
        """Hand one record to librdkafka (waiting for room if its local queue is full)."""
        topic, key = record.topic, record.key
        partition = partition_for(key, self._partition_count(topic))
        headers = list(record.headers) if record.headers else None
        timestamp = record.timestamp_ms or 0  # 0: the producer stamps the current time
        while True:
            try:
                self._producer.produce(
                    topic,
                    record.value,
                    key,
                    partition=partition,
                    on_delivery=self._on_delivery,
                    timestamp=timestamp,
                    headers=headers,
                )
                return
            except BufferError:
                self._producer.poll(0.1)  # local queue full: serve delivery reports, then retry
            except KafkaException as e:
                raise KafkaDeliveryError(f"cannot produce to topic {topic!r}: {e.args[0].str()}") from e

    def serve_reports(self) -> None:
        """Take the delivery reports that arrived (no wait); raise if any record failed."""
        self._producer.poll(0)
        self._raise_failures()

    def confirm(self) -> None:
        """Wait until every record handed over so far is delivered; raise if any failed."""
        while self._producer.flush(FLUSH_STEP_S) > 0:
            pass
        self._raise_failures()

    def _raise_failures(self) -> None:
        if self._failures:
            failures, self._failures = self._failures, []
            raise KafkaDeliveryError(
                f"{len(failures)} record(s) were not delivered to {self._bootstrap}; first: {failures[0]}"
            )


class _KafkaSinkPartition(StatelessSinkPartition[OutboundRecord | tuple]):
    """Each batch is produced, flushed and checked before ``write_batch`` returns."""

    def __init__(self, producing: _Producing):
        self._producing = producing

    def write_batch(self, items: list[OutboundRecord | tuple]) -> None:
        for item in items:
            self._producing.produce(OutboundRecord.of(item))
        self._producing.confirm()

    def close(self) -> None:
        self._producing.confirm()


class _EpochSinkPartition(StatefulSinkPartition[OutboundRecord | tuple, None]):
    """Batches are handed to librdkafka as they come; each epoch's snapshot confirms their delivery."""

    def __init__(self, producing: _Producing):
        self._producing = producing

    def write_batch(self, values: list[OutboundRecord | tuple]) -> None:
        for value in values:
            self._producing.produce(OutboundRecord.of(value))
        self._producing.serve_reports()

    def snapshot(self) -> None:
        """The end of an epoch: everything written in it must be delivered before it can commit."""
        self._producing.confirm()

    def close(self) -> None:
        self._producing.confirm()


#: Producer settings of both sinks unless overridden: librdkafka reports only failed deliveries, so
#: the worker runs no Python callback per delivered record (``flush`` still waits for every record).
ONLY_FAILURES_REPORTED = {"delivery.report.only.error": True}


class KafkaSink(DynamicSink[OutboundRecord | tuple]):
    """Write `OutboundRecord`s (or ``(topic, key, value, headers)`` tuples) to Kafka.

    Parameters
    ----------
    bootstrap
        Kafka bootstrap servers.
    config
        Extra librdkafka producer settings; they win over `clients.producer_config`'s.

    Examples
    --------
    >>> sink = KafkaSink("127.0.0.1:19092", config={"linger.ms": 20})
    >>> sink.config["linger.ms"], sink.config["enable.idempotence"], sink.config["delivery.report.only.error"]
    (20, True, True)
    >>> KafkaSink("127.0.0.1:19092", config={"enable.idempotence": False})
    Traceback (most recent call last):
    ...
    schemas.errors.ConfigError: KafkaSink.config['enable.idempotence'] must stay true, was False
    """

    def __init__(self, bootstrap: str, config: dict[str, Any] | None = None):
        self.bootstrap = bootstrap
        self.config = producer_config(bootstrap, **{**ONLY_FAILURES_REPORTED, **(config or {})})
        if self.config.get("enable.idempotence") not in (True, "true"):
            raise ConfigError(
                "KafkaSink.config['enable.idempotence'] must stay true, "
                f"was {self.config.get('enable.idempotence')!r}"
            )

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _KafkaSinkPartition:
        """One producer for this worker."""
        return _KafkaSinkPartition(_Producing(Producer(self.config), self.bootstrap))


#: The one partition of a `KafkaEpochSink`.
EPOCH_SINK_PART = "producer"

#: Producer settings of `KafkaEpochSink` unless overridden: records leave after at most 1 ms.
LOW_LATENCY = {"linger.ms": 1}


class KafkaEpochSink(FixedPartitionedSink[OutboundRecord | tuple, None]):
    """Write ``(key, record)`` pairs to Kafka without waiting per batch; delivery confirmed per epoch.

    One partition (one producer, on the worker Bytewax makes its primary): a service with several
    workers sends its records to that worker. ``linger.ms`` defaults to 1 (`LOW_LATENCY`).

    Parameters
    ----------
    bootstrap
        Kafka bootstrap servers.
    config
        Extra librdkafka producer settings; they win over `clients.producer_config`'s and `LOW_LATENCY`.

    Examples
    --------
    >>> sink = KafkaEpochSink("127.0.0.1:19092")
    >>> sink.list_parts(), sink.part_fn("any key"), sink.config["linger.ms"]
    (['producer'], 0, 1)
    """

    def __init__(self, bootstrap: str, config: dict[str, Any] | None = None):
        self.bootstrap = bootstrap
        self.config = KafkaSink(bootstrap, {**LOW_LATENCY, **(config or {})}).config

    def list_parts(self) -> list[str]:
        """The single partition."""
        return [EPOCH_SINK_PART]

    def part_fn(self, item_key: str) -> int:
        """Every item goes to the single partition."""
        return 0

    def build_part(self, step_id: str, for_part: str, resume_state: None) -> _EpochSinkPartition:
        """One producer; there is nothing to resume (delivered records are in Kafka)."""
        return _EpochSinkPartition(_Producing(Producer(self.config), self.bootstrap))


@operator
def kafka_output(
    step_id: str, records: Stream[OutboundRecord], bootstrap: str, config: dict[str, Any] | None = None
) -> None:
    """Write records to Kafka through a `KafkaEpochSink` (delivery confirmed at each epoch's end).

    Parameters
    ----------
    step_id
        Unique id of this step.
    records
        Stream of `OutboundRecord` (or ``(topic, key, value, headers)`` tuples).
    bootstrap
        Kafka bootstrap servers.
    config
        Extra producer settings.
    """
    keyed = op.map("to_sink_part", records, lambda record: (EPOCH_SINK_PART, record))
    op.output("write", keyed, KafkaEpochSink(bootstrap, config))
