"""Vectorised Avro encoding of columnar events: single-object messages and log envelopes as arrays.

`TapeWriter.append_batch` needs the Avro bytes of every row twice over: the single-object message
(``C3 01`` + fingerprint + body, exactly what `CODEC.encode` produces) and the log's envelope record
around it. Encoding row by row costs ~40 µs a row; here each field is encoded for all rows at once
as a ``(rows, width)`` byte matrix with a per-row length (zig-zag varints, little-endian doubles,
length-prefixed strings looked up per dictionary code), and the rows are assembled by one masked
gather. The result is a `Blob`: every row's bytes back to back plus their end offsets.

Only flat schemas are handled (`columns.column_spec`: booleans, ints, longs, floats, doubles,
strings, enums and nullable doubles, with NaN for null); others go through the codec per row.

Examples
--------
>>> from schemas.batch import EventBatch
>>> rows = [{"instrument": "AAPL", "interval_ns": 60, "open": 1.0, "high": 2.0, "low": 0.5,
...          "close": 1.5, "volume": 10.0, "ts_event": t, "ts_init": t + 1} for t in (60, -3)]
>>> batch = EventBatch.from_records("Bar", "md.bar.1m", rows)
>>> blob = encode_events("Bar", batch.columns, batch.categories)
>>> blob.to_list() == [CODEC.encode("Bar", r) for r in rows]
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from schemas.codec import CODEC, MARKER

#: One encoded field for every row: a ``(rows, width)`` uint8 matrix and each row's used length.
Piece = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True, slots=True)
class Blob:
    """Variable-length byte strings back to back: row ``i`` is ``data[ends[i-1]:ends[i]]``."""

    data: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.ends)

    @property
    def lengths(self) -> np.ndarray:
        """The byte length of every row."""
        return np.diff(self.ends, prepend=0)

    def to_list(self) -> list[bytes]:
        """Every row as ``bytes``."""
        raw = self.data.tobytes()
        starts = (self.ends - self.lengths).tolist()
        return [raw[s:e] for s, e in zip(starts, self.ends.tolist(), strict=True)]


def join(pieces: Sequence[Piece]) -> Blob:
    """Concatenate the pieces of every row, row by row, into one `Blob`."""
    matrix = np.hstack([m for m, _ in pieces])
    mask = np.hstack([np.arange(m.shape[1]) < lengths[:, None] for m, lengths in pieces])
    ends = np.cumsum(np.sum([lengths for _, lengths in pieces], axis=0), dtype=np.int64)
    return Blob(matrix[mask], ends)


def constant(value: bytes, rows: int) -> Piece:
    """The same bytes on every row."""
    matrix = np.broadcast_to(np.frombuffer(value, dtype=np.uint8), (rows, len(value)))
    return matrix, np.full(rows, len(value), dtype=np.int64)


def varint(values: np.ndarray) -> Piece:
    """Avro ``int``/``long``: zig-zag, then 7 bits a byte, low groups first, high bit = more follow."""
    signed = np.asarray(values, dtype=np.int64)
    zigzag = ((signed << 1) ^ (signed >> 63)).view(np.uint64)
    top = int(zigzag.max()) if len(zigzag) else 0
    width = max(1, (top.bit_length() + 6) // 7)
    shifts = np.arange(width, dtype=np.uint64) * np.uint64(7)
    groups = (zigzag[:, None] >> shifts) & np.uint64(0x7F)
    more = (zigzag[:, None] >> (shifts + np.uint64(7))) != 0
    matrix = (groups | (more.astype(np.uint64) << np.uint64(7))).astype(np.uint8)
    return matrix, 1 + more.sum(axis=1, dtype=np.int64)


def fixed(values: np.ndarray, dtype: str) -> Piece:
    """Avro ``float``/``double``: little-endian IEEE 754."""
    array = np.ascontiguousarray(values, dtype=dtype)
    matrix = array.view(np.uint8).reshape(len(array), array.itemsize)
    return matrix, np.full(len(array), array.itemsize, dtype=np.int64)


def lookup(encoded: Sequence[bytes], codes: np.ndarray) -> Piece:
    """Row ``i`` gets ``encoded[codes[i]]`` (per-dictionary-entry bytes, e.g. strings)."""
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    width = int(lengths.max()) if len(lengths) else 0
    table = np.zeros((len(encoded), width), dtype=np.uint8)
    table[np.arange(width) < lengths[:, None]] = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    codes = np.asarray(codes, dtype=np.int64)
    return table[codes], lengths[codes]


def avro_bytes(value: bytes) -> bytes:
    """Avro ``bytes``/``string`` of one value: varint length (zig-zag of a non-negative int), the bytes."""
    length, prefix = len(value) << 1, bytearray()
    while length > 0x7F:
        prefix.append((length & 0x7F) | 0x80)
        length >>= 7
    prefix.append(length)
    return bytes(prefix) + value


def _field(field: dict, values: np.ndarray, categories: Mapping[str, tuple[str, ...]]) -> list[Piece]:
    kind, name, rows = field["type"], field["name"], len(values)
    if isinstance(kind, list):  # ["null", "double"] in either order; NaN is null
        null = np.isnan(values)
        branch = np.where(null, kind.index("null"), 1 - kind.index("null"))
        body, lengths = fixed(values, "<f8")
        return [varint(branch), (body, np.where(null, 0, lengths))]
    if isinstance(kind, dict) and kind.get("type") == "enum":
        symbols = {s: i for i, s in enumerate(kind["symbols"])}
        index = np.asarray([symbols[c] for c in categories[name]], dtype=np.int64)
        return [varint(index[values])]
    if isinstance(kind, dict):
        kind = kind["type"]
    if kind == "string":
        return [lookup([avro_bytes(c.encode()) for c in categories[name]], values)]
    if kind in ("int", "long"):
        return [varint(values)]
    if kind == "boolean":
        return [(np.asarray(values, dtype=np.uint8).reshape(rows, 1), np.ones(rows, dtype=np.int64))]
    return [fixed(values, "<f8" if kind == "double" else "<f4")]


def event_pieces(
    schema: str, columns: Mapping[str, np.ndarray], categories: Mapping[str, tuple[str, ...]]
) -> list[Piece]:
    """The pieces of every row's single-object message (`join` them for the bytes)."""
    rows = len(columns["ts_event"])
    pieces = [constant(MARKER + CODEC.fingerprint(schema), rows)]
    for field in CODEC.schema(schema)["fields"]:
        pieces += _field(field, np.asarray(columns[field["name"]]), categories)
    return pieces


def encode_events(
    schema: str, columns: Mapping[str, np.ndarray], categories: Mapping[str, tuple[str, ...]]
) -> Blob:
    """The single-object Avro message of every row, byte-identical to `CODEC.encode` of the row."""
    return join(event_pieces(schema, columns, categories))


def encode_envelopes(
    offsets: np.ndarray, timestamp_ms: np.ndarray, keys: Piece | None, values: list[Piece]
) -> Blob:
    """The tape log's ``Envelope`` record of every row: offset, timestamp, key, value, no headers.

    ``keys`` holds each row's key as Avro bytes (`lookup` of `avro_bytes`), or None for null keys;
    ``values`` are the `event_pieces` of the rows' messages.
    """
    rows = len(offsets)
    key = [constant(b"\x00", rows)] if keys is None else [constant(b"\x02", rows), keys]
    value_lengths = np.sum([lengths for _, lengths in values], axis=0, dtype=np.int64)
    return join(
        [
            varint(offsets),
            varint(timestamp_ms),
            *key,
            constant(b"\x02", rows),
            varint(value_lengths),
            *values,
            constant(b"\x00", rows),
        ]
    )
