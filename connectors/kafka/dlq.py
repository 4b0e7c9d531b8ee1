"""Dead letters: records a flow could not use, kept with the reason and where they came from.

A `DeadLetter` goes to ``dlq.<source topic>`` (inside the run's namespace) with the original key,
value and headers untouched, plus ``dlq.*`` headers that say why and where from, so it can be
inspected, fixed and replayed. `dead_letter_to_outbound` is the pure mapping; the Bytewax side is
`connectors.kafka.operators.dlq_output`.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.kafka.sink import OutboundRecord
from connectors.records import RawRecord

DLQ_PREFIX = "dlq."


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that was not processed, and why.

    Parameters
    ----------
    source
        The record as read from Kafka (its bytes and coordinates).
    reason
        Short machine-friendly code: the decoder's (``bad-marker``, ``unknown-fingerprint``,
        ``truncated``, ``bad-body``) or ``invalid`` for a failed validation.
    error
        Human-readable detail.

    Examples
    --------
    >>> source = RawRecord("md.trade", 2, 17, 1_700_000_000_000, b"AAPL", b"junk")
    >>> DeadLetter(source, "bad-marker", "expected c301").source.coordinates
    'md.trade/2@17'
    """

    source: RawRecord
    reason: str
    error: str


def dlq_topic(topic: str, namespace: str = "") -> str:
    """The dead-letter topic of ``topic``: ``dlq.<topic>``, kept inside ``namespace``.

    Examples
    --------
    >>> dlq_topic("md.trade")
    'dlq.md.trade'
    >>> dlq_topic("run42.md.trade", namespace="run42.")
    'run42.dlq.md.trade'
    """
    if namespace and topic.startswith(namespace):
        topic = topic[len(namespace) :]
    return f"{namespace}{DLQ_PREFIX}{topic}"


def dead_letter_to_outbound(dead_letter: DeadLetter, namespace: str = "") -> OutboundRecord:
    """The Kafka record that stores ``dead_letter`` in its dead-letter topic.

    Key, value and the original headers are kept byte for byte; ``dlq.reason``, ``dlq.error``,
    ``dlq.source.topic``, ``dlq.source.partition``, ``dlq.source.offset`` and
    ``dlq.source.timestamp`` (UTF-8 text) come first. The record gets the producer's current
    timestamp, so replaying old data does not land dead letters outside the DLQ's retention.

    Examples
    --------
    >>> source = RawRecord("md.trade", 2, 17, 1_700_000_000_000, b"AAPL", b"junk", (("trace", b"x"),))
    >>> out = dead_letter_to_outbound(DeadLetter(source, "bad-marker", "expected c301"))
    >>> out.topic, out.key, out.value
    ('dlq.md.trade', b'AAPL', b'junk')
    >>> dict(out.headers)["dlq.source.offset"], out.headers[-1]
    (b'17', ('trace', b'x'))
    """
    source = dead_letter.source
    headers = (
        ("dlq.reason", dead_letter.reason.encode()),
        ("dlq.error", dead_letter.error.encode()),
        ("dlq.source.topic", source.topic.encode()),
        ("dlq.source.partition", str(source.partition).encode()),
        ("dlq.source.offset", str(source.offset).encode()),
        ("dlq.source.timestamp", str(source.timestamp_ms).encode()),
    )
    return OutboundRecord(
        topic=dlq_topic(source.topic, namespace),
        key=source.key,
        value=source.value,
        headers=headers + tuple(source.headers),
    )
