"""Tape archives: faithful round trip, merged order, columnar batches, hashes and cache rebuild."""

from __future__ import annotations

import json
from pathlib import Path

import fastavro
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.records import RawRecord
from connectors.tape_archive import TapeReader, TapeWriter
from schemas.batch import EventBatch
from schemas.codec import CODEC
from schemas.errors import TapeError


def bar(instrument: str, ts: int, close: float = 1.5) -> dict:
    return {
        "instrument": instrument,
        "interval_ns": 60_000_000_000,
        "open": 1.0,
        "high": 2.0,
        "low": 0.5,
        "close": close,
        "volume": 10.0,
        "ts_event": ts,
        "ts_init": ts + 1,
    }


def quote(instrument: str, ts: int) -> dict:
    return {
        "instrument": instrument,
        "bid": 1.0,
        "ask": 1.1,
        "bid_size": 5.0,
        "ask_size": 6.0,
        "ts_event": ts,
        "ts_init": ts,
    }


def trade(instrument: str, ts: int, side: str) -> dict:
    return {
        "instrument": instrument,
        "price": 2.0,
        "size": 3.0,
        "aggressor": side,
        "trade_id": f"x{ts}",
        "ts_event": ts,
        "ts_init": ts,
    }


def random_bars(n: int, instruments: list[str], seed: int = 7) -> EventBatch:
    rng = np.random.default_rng(seed)
    close = 100 + rng.normal(0, 1, n).cumsum()
    names = [instruments[i % len(instruments)] for i in range(n)]
    ts = (np.arange(n) // len(instruments) + 1) * 60_000_000_000
    rows = [bar(names[i], int(ts[i]), float(close[i])) for i in range(n)]
    return EventBatch.from_records("Bar", "md.bar.1m", rows)


def test_tape_roundtrip_keeps_keys_values_headers_and_timestamps(tmp_path: Path) -> None:
    originals = [
        RawRecord(
            "md.bar.1m", 0, 3, 1_000, b"AAPL", CODEC.encode("Bar", bar("AAPL", 5)), (("trace", b"\x00\x01"),)
        ),
        RawRecord("md.bar.1m", 0, 9, 2_000, None, CODEC.encode("Bar", bar("MSFT", 6))),
        RawRecord("md.bar.1m", 1, 0, 3_000, b"", b"\xc3\x01garbage", (("a", b"1"), ("a", None))),
        RawRecord("ctl.command", 0, 4, 4_000, b"halt", None),
    ]
    with TapeWriter(tmp_path / "tape") as w:
        for record in originals:
            w.append(record)

    reader = TapeReader(tmp_path / "tape")
    got = sorted(reader.records(), key=lambda r: (r.topic, r.partition, r.offset))

    assert got == sorted(originals, key=lambda r: (r.topic, r.partition, r.offset))
    assert list(reader.partition_records("md.bar.1m", 0)) == originals[:2]
    assert reader.undecodable() == 2
    part = reader.manifest["topics"]["md.bar.1m"]["partitions"]["0"]
    assert (part["start_offset"], part["end_offset"], part["count"]) == (3, 10, 2)
    assert part["schemas"]["Bar"]["fingerprint"] == CODEC.fingerprint("Bar").hex()


def test_tape_log_is_a_standard_avro_container_of_the_exact_bytes(tmp_path: Path) -> None:
    value = CODEC.encode("Bar", bar("AAPL", 5))
    with TapeWriter(tmp_path / "tape") as w:
        w.append(RawRecord("md.bar.1m", 0, 0, 7, b"AAPL", value, (("h", b"v"),)))

    with open(tmp_path / "tape" / "log" / "md.bar.1m" / "0.avro", "rb") as f:
        envelopes = list(fastavro.reader(f))

    assert envelopes == [
        {
            "offset": 0,
            "timestamp_ms": 7,
            "key": b"AAPL",
            "value": value,
            "headers": [{"name": "h", "value": b"v"}],
        }
    ]


def test_tape_writer_with_existing_path_or_decreasing_offset_raises(tmp_path: Path) -> None:
    (tmp_path / "tape").mkdir()
    with pytest.raises(TapeError, match="already exists"):
        TapeWriter(tmp_path / "tape")
    with (
        pytest.raises(TapeError, match="offsets must increase"),
        TapeWriter(tmp_path / "tape", overwrite=True) as w,
    ):
        w.append(RawRecord("t", 0, 5, 0, None, b"x"))
        w.append(RawRecord("t", 0, 5, 0, None, b"x"))
    with pytest.raises(TapeError, match="manifest.json is missing"):
        TapeReader(tmp_path / "tape")


def test_append_event_places_by_key_and_events_decode(tmp_path: Path) -> None:
    with TapeWriter(tmp_path / "tape") as w:
        first = w.append_event("md.bar.1m", "Bar", bar("AAPL", 2_000_000), key=b"AAPL", partitions=2)
        second = w.append_event("md.bar.1m", "Bar", bar("AAPL", 3_000_000), key=b"AAPL", partitions=2)

    events = list(TapeReader(tmp_path / "tape").events())

    assert (first.offset, second.offset, first.timestamp_ms) == (0, 1, 2)
    assert [e for _, _, e in events] == [bar("AAPL", 2_000_000), bar("AAPL", 3_000_000)]
    assert TapeReader(tmp_path / "tape").partition_count("md.bar.1m") == 2


def _batch_rows(reader: TapeReader, **kwargs) -> list[tuple]:
    rows = []
    for batch in reader.batches(**kwargs):
        records = batch.to_records()
        for record, p, o in zip(records, batch.partition.tolist(), batch.offset.tolist(), strict=True):
            rows.append((batch.topic, p, o, batch.schema, record))
    return rows


def _event_rows(reader: TapeReader) -> list[tuple]:
    return [(r.topic, r.partition, r.offset, name, e) for r, name, e in reader.events()]


def test_batches_equal_events_across_partitions_topics_and_schemas(tmp_path: Path) -> None:
    with TapeWriter(tmp_path / "tape") as w:
        w.append_batch("md.bar.1m", random_bars(500, ["AAPL", "MSFT", "IBM", "SPY", "D"]), partitions=3)
        for i, side in enumerate(["BUY", "SELL", "NONE"] * 20):
            w.append_event(
                "md.trade", "Trade", trade("AAPL" if i % 2 else "Z", i * 30_000_000_000, side), b"k"
            )
            w.append_event("md.quote", "Quote", quote("MSFT", i * 30_000_000_000 + 1), partitions=1)

    reader = TapeReader(tmp_path / "tape")
    events = _event_rows(reader)

    assert _batch_rows(reader, max_rows=7) == events
    assert _batch_rows(reader) == events
    bars = next(b for b in reader.batches(["md.bar.*"]) if b.topic == "md.bar.1m")
    assert bars.categories["instrument"] == ("AAPL", "D", "IBM", "MSFT", "SPY")
    assert set(np.unique(bars.partition).tolist()) == {0, 1, 2}


record_specs = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.integers(0, 2),
        st.integers(0, 5),
        st.sampled_from(["Bar", "Quote", "junk"]),
        st.sampled_from(["X", "Y", "Z"]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=record_specs, max_rows=st.integers(1, 6))
def test_merged_order_is_sorted_by_event_time_then_coordinates(
    tmp_path_factory: pytest.TempPathFactory, specs: list, max_rows: int
) -> None:
    path = tmp_path_factory.mktemp("prop") / "tape"
    next_offset: dict[tuple[str, int], int] = {}
    expected = []
    with TapeWriter(path) as w:
        for topic, partition, ts, schema, name in specs:
            offset = next_offset.get((topic, partition), 0) + 2
            next_offset[(topic, partition)] = offset
            event = bar(name, ts) if schema == "Bar" else quote(name, ts)
            value = b"junk" if schema == "junk" else CODEC.encode(schema, event)
            w.append(RawRecord(topic, partition, offset, ts * 7, name.encode(), value))
            event_time = ts * 7 * 1_000_000 if schema == "junk" else ts
            expected.append((event_time, topic, partition, offset, schema))
    expected.sort()
    reader = TapeReader(path)

    merged = [(r.topic, r.partition, r.offset) for r in reader.records()]
    decoded = [(t, p, o) for t, p, o, _, _ in _batch_rows(reader, max_rows=max_rows)]

    assert merged == [(t, p, o) for _, t, p, o, _ in expected]
    assert decoded == [(t, p, o) for _, t, p, o, s in expected if s != "junk"]
    assert [(r.topic, r.partition, r.offset) for r, _, _ in reader.events()] == decoded
    assert reader.skipped == sum(s == "junk" for *_, s in expected)

    # the cache notes what a reader would otherwise scan for; a cache without the notes reads the same
    for meta_path in path.rglob("meta.json"):
        meta = json.loads(meta_path.read_text())
        ts, codes = np.load(meta_path.parent / "ts_event.npy"), np.load(meta_path.parent / "schema.npy")
        assert meta["ts_event_sorted"] == bool(np.all(ts[1:] >= ts[:-1]))
        assert meta["undecodable"] == int(np.sum(codes < 0))
        del meta["ts_event_sorted"], meta["undecodable"]
        meta_path.write_text(json.dumps(meta))
    assert [(t, p, o) for t, p, o, _, _ in _batch_rows(TapeReader(path), max_rows=max_rows)] == decoded


def test_verify_with_flipped_byte_names_the_file(tmp_path: Path) -> None:
    with TapeWriter(tmp_path / "tape") as w:
        w.append_batch("md.bar.1m", random_bars(100, ["AAPL", "MSFT"]), partitions=2)
    reader = TapeReader(tmp_path / "tape")
    reader.verify()
    for relative in ("log/md.bar.1m/1.avro", "columns/md.bar.1m/0/Bar/close.npy"):
        path = tmp_path / "tape" / relative
        original = path.read_bytes()
        flipped = bytearray(original)
        flipped[len(flipped) // 2] ^= 0x01
        path.write_bytes(bytes(flipped))

        with pytest.raises(TapeError, match=relative.replace(".", r"\.")):
            reader.verify()
        path.write_bytes(original)


def test_rebuild_columns_reproduces_the_cache_byte_for_byte(tmp_path: Path) -> None:
    with TapeWriter(tmp_path / "tape") as w:
        w.append_batch("md.bar.1m", random_bars(300, ["AAPL", "MSFT", "SPY"]), partitions=2)
        for i, side in enumerate(["SELL", "BUY"] * 5):
            w.append_event("md.trade", "Trade", trade("AAPL", 10 - i, side))
        w.append(RawRecord("md.trade", 0, 50, 1, b"k", b"bad", (("h", b"v"),)))
    reader = TapeReader(tmp_path / "tape")
    before = json.loads((tmp_path / "tape" / "manifest.json").read_text())
    batches_before = _batch_rows(reader)

    reader.rebuild_columns()

    after = TapeReader(tmp_path / "tape")
    after.verify()
    assert after.manifest["topics"] == before["topics"]
    assert after.manifest["content_hash"] == before["content_hash"]
    assert _batch_rows(after) == batches_before


def test_reader_with_unknown_topic_raises(tmp_path: Path) -> None:
    with TapeWriter(tmp_path / "tape") as w:
        w.append_event("md.bar.1m", "Bar", bar("AAPL", 1))

    with pytest.raises(TapeError, match="md.quote"):
        list(TapeReader(tmp_path / "tape").records(["md.quote"]))
