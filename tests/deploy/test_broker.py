"""The local Kafka broker: runs from the Maven jars, carries messages, keeps data across a restart,
and the ``tape kafka`` commands drive one from a separate home."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from connectors.kafka.clients import consumer_config, producer_config
from schemas.errors import ConfigError, TapeError
from tape.broker import LocalBroker, free_ports
from tape.commands.kafka import command as kafka_cli


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = Producer(producer_config(bootstrap))
    for key, value in records:
        producer.produce(topic, value=value, key=key)
    assert producer.flush(30) == 0


def consume_all(bootstrap: str, topic: str, partitions: int = 1) -> list[tuple[bytes, bytes]]:
    """Everything in ``topic`` from offset 0 up to the end of every partition."""
    consumer = Consumer(consumer_config(bootstrap))
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    out: list[tuple[bytes, bytes]] = []
    at_end: set[int] = set()
    try:
        while len(at_end) < partitions:
            msg = consumer.poll(10)
            assert msg is not None, f"no message or EOF within 10 s from {topic}"
            if msg.error():
                assert msg.error().code() == KafkaError._PARTITION_EOF, msg.error()
                at_end.add(msg.partition())
                continue
            out.append((msg.key(), msg.value()))
    finally:
        consumer.close()
    return out


def test_broker_runs_from_maven_jars(kafka_broker: LocalBroker) -> None:
    assert kafka_broker.is_running()
    cmdline = Path(f"/proc/{kafka_broker.status().pid}/cmdline").read_bytes().split(b"\0")
    classpath = cmdline[cmdline.index(b"-cp") + 1].decode()
    assert classpath == f"{kafka_broker.deploy_dir / 'lib'}/*"
    assert b"kafka.Kafka" in cmdline
    assert "Kafka Server started" in kafka_broker.log_tail(200)


def test_produce_then_consume(kafka_bootstrap: str, new_topic) -> None:
    topic = new_topic("roundtrip", partitions=3)
    records = [(f"k{i}".encode(), f"v{i}".encode()) for i in range(30)]
    produce(kafka_bootstrap, topic, records)
    assert sorted(consume_all(kafka_bootstrap, topic, partitions=3)) == sorted(records)


def test_restart_keeps_data(kafka_broker: LocalBroker, new_topic) -> None:
    topic = new_topic("restart", config={"cleanup.policy": "compact"})
    port = kafka_broker.port
    produce(kafka_broker.bootstrap, topic, [(b"before", b"1")])
    kafka_broker.restart()
    assert kafka_broker.is_running() and kafka_broker.port == port
    produce(kafka_broker.bootstrap, topic, [(b"after", b"2")])
    assert consume_all(kafka_broker.bootstrap, topic) == [(b"before", b"1"), (b"after", b"2")]


@pytest.mark.kafka
def test_cli_start_status_stop(tmp_path: Path) -> None:
    home = tmp_path / "kafka"
    port, cport = free_ports(2)
    runner = CliRunner()
    started = runner.invoke(
        kafka_cli, ["start", "--home", str(home), "--port", str(port), "--controller-port", str(cport)]
    )
    try:
        assert started.exit_code == 0, started.output
        assert f"127.0.0.1:{port}" in started.output
        status = runner.invoke(kafka_cli, ["status", "--home", str(home)])
        assert status.exit_code == 0, status.output
        assert f"127.0.0.1:{port}" in status.output and "topics: 0" in status.output
        logs = runner.invoke(kafka_cli, ["logs", "--home", str(home), "-n", "100"])
        assert "Kafka Server started" in logs.output
    finally:
        stopped = runner.invoke(kafka_cli, ["stop", "--home", str(home)])
    assert stopped.exit_code == 0, stopped.output
    assert not LocalBroker.at(home).is_running()
    after = runner.invoke(kafka_cli, ["status", "--home", str(home)])
    assert after.exit_code != 0 and "not running" in after.output


@pytest.mark.kafka
def test_start_failure_raises_with_log_tail(tmp_path: Path) -> None:
    port, cport = free_ports(2)
    broker = LocalBroker(tmp_path, port=port, controller_port=cport, jvm_opts=["-Xmx1m"])
    with pytest.raises(TapeError, match="exited with code") as raised:
        broker.start(timeout=30)
    assert "heap" in str(raised.value).lower()  # the JVM's own complaint, taken from kafka.log
    assert not broker.is_running() and not broker.pid_path.exists()


def test_start_on_a_taken_port_names_it(kafka_broker: LocalBroker, tmp_path: Path) -> None:
    clash = LocalBroker(tmp_path, port=kafka_broker.port, controller_port=free_ports(1)[0])
    with pytest.raises(TapeError, match=f"port {kafka_broker.port} "):
        clash.start()


def test_missing_java_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TapeError, match="install a JDK >= 17"):
        LocalBroker(tmp_path).ensure_jars()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"port": 0}, "port"), ({"port": 19093}, "controller_port"), ({"heap_mb": 64}, "heap_mb")],
)
def test_bad_config_names_the_field(tmp_path: Path, kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(ConfigError, match=f"^{field} "):
        LocalBroker(tmp_path, **kwargs)
