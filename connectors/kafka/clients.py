"""librdkafka settings shared by every Kafka client Tape makes (sources, sinks, record, publish).

Producers are idempotent (``enable.idempotence``: no duplicates or reordering on retries) and use the
``consistent`` partitioner, which matches `connectors.partitioning.partition_for`.
"""

from __future__ import annotations

from typing import Any

DEFAULT_BOOTSTRAP = "127.0.0.1:19092"


def producer_config(bootstrap: str, **overrides: Any) -> dict[str, Any]:
    """Settings for an idempotent, batching producer; ``overrides`` win (use dotted keys via dict)."""
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "partitioner": "consistent",
        "linger.ms": 5,
        "batch.num.messages": 10000,
        "compression.type": "lz4",
        "message.timeout.ms": 120000,
    }
    config.update(overrides)
    return config


def consumer_config(bootstrap: str, group_id: str = "tape", **overrides: Any) -> dict[str, Any]:
    """Settings for a consumer that manages its own offsets (assign, no auto-commit)."""
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "group.id": group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 50,
        "queued.max.messages.kbytes": 65536,
    }
    config.update(overrides)
    return config
