"""Column-wise Avro encoding: byte-identical to the codec, and tapes written by batch equal tapes by event."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import fastavro
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.tape_archive import TapeReader, TapeWriter
from connectors.tape_archive.columns import column_spec
from connectors.tape_archive.encoding import encode_events, varint
from connectors.tape_archive.layout import log_path
from schemas.batch import EventBatch
from schemas.codec import CODEC

FLAT_SCHEMAS = [name for name in CODEC.names if column_spec(name) is not None]

_LIMITS = {"int": 2**31, "long": 2**63}


def _value(field: dict, kind: str, draw) -> object:
    if kind == "nullable_double":
        return draw(st.none() | st.floats(allow_nan=False))
    if kind == "enum":
        return draw(st.sampled_from(field["type"]["symbols"]))
    if kind == "string":
        return draw(st.text(max_size=12))
    if kind in _LIMITS:
        return draw(st.integers(-_LIMITS[kind], _LIMITS[kind] - 1))
    if kind == "boolean":
        return draw(st.booleans())
    return draw(st.floats(width=32 if kind == "float" else 64))


@st.composite
def flat_batches(draw) -> tuple[str, list[dict]]:
    schema = draw(st.sampled_from(FLAT_SCHEMAS))
    fields = CODEC.schema(schema)["fields"]
    kinds = [spec.kind for spec in column_spec(schema)]
    rows = draw(st.integers(1, 20))
    records = [
        {f["name"]: _value(f, k, draw) for f, k in zip(fields, kinds, strict=True)} for _ in range(rows)
    ]
    return schema, records


def _batch(schema: str, records: list[dict]) -> EventBatch:
    columns, categories = {}, {}
    for spec in column_spec(schema):
        values = [r[spec.name] for r in records]
        if spec.coded:
            uniques = sorted(set(values))
            categories[spec.name] = tuple(uniques)
            columns[spec.name] = np.asarray([uniques.index(v) for v in values], dtype=np.int32)
        elif spec.kind == "nullable_double":
            columns[spec.name] = np.asarray([np.nan if v is None else v for v in values])
        else:
            columns[spec.name] = np.asarray(values, dtype=spec.dtype)
    return EventBatch(schema, "t", columns, categories)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flat_batches())
def test_encode_events_flat_schema_equals_codec_bytes(case: tuple[str, list[dict]]) -> None:
    schema, records = case
    batch = _batch(schema, records)

    encoded = encode_events(schema, batch.columns, batch.categories)

    assert encoded.to_list() == [CODEC.encode(schema, r) for r in records]


def test_varint_extremes_match_fastavro_longs() -> None:
    values = np.array([0, -1, 1, 63, -64, 64, 2**31, -(2**63), 2**63 - 1], dtype=np.int64)

    matrix, lengths = varint(values)

    for row, value in enumerate(values.tolist()):
        out = BytesIO()
        fastavro.schemaless_writer(out, "long", value)
        assert matrix[row, : lengths[row]].tobytes() == out.getvalue()


def _bars(n: int, instruments: list[str]) -> EventBatch:
    rng = np.random.default_rng(3)
    rows = [
        {
            "instrument": instruments[i % len(instruments)],
            "interval_ns": 60_000_000_000,
            "open": float(rng.normal()),
            "high": float(rng.normal()),
            "low": float(rng.normal()),
            "close": float(rng.normal()),
            "volume": float(rng.integers(0, 10**6)),
            "ts_event": (i // len(instruments) + 1) * 60_000_000_000,
            "ts_init": (i // len(instruments) + 1) * 60_000_000_000 + 7,
        }
        for i in range(n)
    ]
    return EventBatch.from_records("Bar", "md.bar.1m", rows)


def _log(path: Path, partitions: int) -> list[dict]:
    records = []
    for partition in range(partitions):
        with open(log_path(path, "md.bar.1m", partition), "rb") as f:
            records += list(fastavro.reader(f))
    return records


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_append_batch_writes_same_log_and_cache_as_append_event(tmp_path: Path) -> None:
    batch = _bars(1_000, ["AAPL", "MSFT", "IBM", "SPY"])
    with TapeWriter(tmp_path / "by_batch") as w:
        w.append_batch("md.bar.1m", batch.select(slice(0, 600)), partitions=3)
        w.append_batch("md.bar.1m", batch.select(slice(600, None)), partitions=3)
    with TapeWriter(tmp_path / "by_event") as w:
        for record in batch.to_records():
            w.append_event("md.bar.1m", "Bar", record, key=record["instrument"].encode(), partitions=3)

    by_batch, by_event = TapeReader(tmp_path / "by_batch"), TapeReader(tmp_path / "by_event")

    assert _log(tmp_path / "by_batch", 3) == _log(tmp_path / "by_event", 3)
    assert list(by_batch.records()) == list(by_event.records())
    assert _files(tmp_path / "by_batch" / "columns") == _files(tmp_path / "by_event" / "columns")
    merged = [b.to_records() for b in by_batch.batches()]
    assert sum(merged, []) == sum((b.to_records() for b in by_event.batches()), [])
