"""publish → record through a real Kafka broker gives back the same records; the CLI drives both."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka.admin import AdminClient

from connectors.records import RawRecord
from connectors.tape_archive import TapeReader, TapeWriter
from replay.publish import publish
from replay.record import Timestamp, record
from schemas.codec import CODEC
from schemas.errors import ConfigError
from tape.cli import main


def bar(instrument: str, ts: int) -> dict:
    return {
        "instrument": instrument,
        "interval_ns": 60_000_000_000,
        "open": 1.0,
        "high": 2.0,
        "low": 0.5,
        "close": 1.5,
        "volume": 10.0,
        "ts_event": ts,
        "ts_init": ts + 1,
    }


@pytest.fixture
def namespace(kafka_bootstrap: str) -> Iterator[str]:
    """A fresh topic prefix; the topics under it are deleted afterwards."""
    prefix = f"ns{uuid.uuid4().hex[:8]}."
    yield prefix
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result(timeout=30)


@pytest.fixture
def source_tape(tmp_path: Path) -> Path:
    """2 topics x 2 partitions: keyed bars, one with headers, a null key and an undecodable value."""
    path = tmp_path / "source"
    with TapeWriter(path) as w:
        for i in range(40):
            name = ["AAPL", "MSFT", "IBM", "D"][i % 4]
            w.append_event(
                "md.bar.1m", "Bar", bar(name, 1_700_000_000_000_000_000 + i * 10**9), name.encode(), 2
            )
        w.declare_topic("md.raw", 2)
        w.append(RawRecord("md.raw", 0, 0, 1_700_000_000_001, None, CODEC.encode("Bar", bar("X", 5))))
        w.append(
            RawRecord("md.raw", 1, 0, 1_700_000_000_002, b"k", b"not-avro", (("trace", b"\x01"), ("n", None)))
        )
        w.append(
            RawRecord(
                "md.raw", 1, 1, 1_700_000_000_003, b"k", CODEC.encode("Bar", bar("Y", 6)), (("a", b""),)
            )
        )
    return path


def _content(reader: TapeReader, prefix: str = "") -> dict:
    return {
        (t.removeprefix(prefix), p): [
            (r.partition, r.offset, r.timestamp_ms, r.key, r.value, r.headers)
            for r in reader.partition_records(t, p)
        ]
        for t in reader.topics
        for p in reader.partitions(t)
    }


def test_publish_then_record_gives_identical_records(
    kafka_bootstrap: str, namespace: str, source_tape: Path, tmp_path: Path
) -> None:
    counts = publish(source_tape, kafka_bootstrap, namespace=namespace, progress=False)

    manifest = record(kafka_bootstrap, [f"{namespace}md.*"], tmp_path / "copy", progress=False)

    source, copy = TapeReader(source_tape), TapeReader(tmp_path / "copy")
    assert counts == {f"{namespace}md.bar.1m": 40, f"{namespace}md.raw": 3}
    assert _content(copy, namespace) == _content(source)
    assert manifest["topics"][f"{namespace}md.raw"]["partition_count"] == 2
    assert copy.undecodable() == source.undecodable() == 1
    copy.verify()


def test_record_with_offset_and_time_range_takes_only_that_range(
    kafka_bootstrap: str, namespace: str, source_tape: Path, tmp_path: Path
) -> None:
    publish(source_tape, kafka_bootstrap, ["md.raw"], namespace=namespace, progress=False)
    topic = f"{namespace}md.raw"

    by_offset = record(kafka_bootstrap, [topic], tmp_path / "a", start=1, end="latest", progress=False)
    by_time = record(
        kafka_bootstrap,
        [topic],
        tmp_path / "b",
        start=Timestamp(1_700_000_000_002),
        end=Timestamp(1_700_000_000_003),
        progress=False,
    )

    assert {p: e["count"] for p, e in by_offset["topics"][topic]["partitions"].items()} == {"1": 1}
    assert [r.timestamp_ms for r in TapeReader(tmp_path / "b").records()] == [1_700_000_000_002]
    assert by_time["topics"][topic]["partition_count"] == 2
    with pytest.raises(ConfigError, match="matches no topic"):
        record(kafka_bootstrap, [f"{namespace}nothing*"], tmp_path / "c", progress=False)


def test_cli_publish_record_inspect(
    kafka_bootstrap: str, namespace: str, source_tape: Path, tmp_path: Path
) -> None:
    runner = CliRunner()

    published = runner.invoke(
        main,
        [
            "publish",
            str(source_tape),
            "--namespace",
            namespace,
            "--bootstrap",
            kafka_bootstrap,
            "--topics",
            "md.bar.*",
        ],
    )
    recorded = runner.invoke(
        main,
        [
            "record",
            "--topics",
            f"{namespace}*",
            "--from",
            "earliest",
            "--to",
            "latest",
            "--out",
            str(tmp_path / "copy"),
            "--bootstrap",
            kafka_bootstrap,
        ],
    )
    inspected = runner.invoke(main, ["inspect", str(tmp_path / "copy"), "--verify"])

    assert published.exit_code == 0, published.output
    assert recorded.exit_code == 0, recorded.output
    assert inspected.exit_code == 0, inspected.output
    assert f"{namespace}md.bar.1m" in inspected.output
    assert "total 40 records, 0 undecodable" in inspected.output
    assert _content(TapeReader(tmp_path / "copy"), namespace) == {
        k: v for k, v in _content(TapeReader(source_tape)).items() if k[0] == "md.bar.1m"
    }
