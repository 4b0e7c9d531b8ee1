"""`RawRecord`: one Kafka record exactly as the log holds it, the unit tapes store and replay."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A Kafka record with its source coordinates.

    Parameters
    ----------
    topic, partition, offset
        Where the record lives in the log.
    timestamp_ms
        The Kafka record timestamp (ms since epoch; CreateTime unless the topic says LogAppendTime).
    key, value
        Raw bytes; ``value`` is normally an Avro single-object message.
    headers
        Kafka headers in order, as ``(name, value)`` pairs.

    Examples
    --------
    >>> r = RawRecord("md.bar.1m", 0, 42, 1_700_000_000_000, b"AAPL", b"\\xc3\\x01...")
    >>> r.coordinates
    'md.bar.1m/0@42'
    """

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = field(default=())

    @property
    def coordinates(self) -> str:
        """``topic/partition@offset``, for messages and dead letters."""
        return f"{self.topic}/{self.partition}@{self.offset}"
