"""Shared test fixtures: ONE real Kafka broker per test session, and unique topics per test.

Integration tests just request a fixture::

    def test_roundtrip(kafka_bootstrap, new_topic):
        topic = new_topic("bars", partitions=3)
        ...

Tests that use ``kafka_broker`` (directly or through the other two) get the ``kafka`` marker, so
``pytest -m "not kafka"`` runs everything else. The broker log is copied to
``tests/artifacts/kafka-broker.log`` at the end of the session (and its tail is printed if it fails
to start).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from hypothesis import settings

from tape.broker import LocalBroker, free_ports

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# The same generated examples on every run, so CI cannot pass or fail by the luck of the draw;
# `HYPOTHESIS_PROFILE=explore pytest …` searches fresh examples while developing.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "kafka_broker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """The session's real Kafka broker (free ports, fresh data dir).

    A test may ``restart()`` it (same data and ports) but must leave it running.
    """
    port, controller_port = free_ports(2)
    broker = LocalBroker(
        tmp_path_factory.mktemp("kafka"), port=port, controller_port=controller_port, die_with_parent=True
    )
    try:
        broker.start()
    except Exception:
        _keep_log(broker)
        print(f"\nKafka broker failed to start; log tail:\n{broker.log_tail(80)}")
        raise
    try:
        yield broker
    finally:
        broker.stop()
        _keep_log(broker)


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: LocalBroker) -> str:
    """``bootstrap.servers`` of the session broker, e.g. ``127.0.0.1:40123``."""
    return kafka_broker.bootstrap


@pytest.fixture
def new_topic(kafka_bootstrap: str) -> Iterator[Callable[..., str]]:
    """Factory: ``new_topic(prefix="t", partitions=1, config=None) -> name`` of a fresh, ready topic.

    Names are ``<prefix>-<8 hex>``; ``config`` holds topic configs (e.g. ``{"cleanup.policy": "compact"}``).
    The topics are deleted when the test ends.
    """
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    created: list[str] = []

    def make(prefix: str = "t", partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        spec = NewTopic(name, num_partitions=partitions, replication_factor=1, config=dict(config or {}))
        admin.create_topics([spec], operation_timeout=30)[name].result(timeout=30)
        created.append(name)
        _wait_for_topic(admin, name, partitions)
        return name

    yield make
    if created:
        for future in admin.delete_topics(created, operation_timeout=30).values():
            future.result(timeout=30)


def _wait_for_topic(admin: AdminClient, name: str, partitions: int, timeout: float = 30) -> None:
    """Block until the topic's metadata shows every partition with a leader."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        meta = admin.list_topics(topic=name, timeout=10).topics.get(name)
        if (
            meta is not None
            and meta.error is None
            and len(meta.partitions) == partitions
            and all(p.leader >= 0 for p in meta.partitions.values())
        ):
            return
        time.sleep(0.05)
    raise TimeoutError(f"topic {name} not ready with {partitions} partitions after {timeout} s")


def _keep_log(broker: LocalBroker) -> None:
    if broker.log_path.exists():
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(broker.log_path, ARTIFACTS / "kafka-broker.log")
