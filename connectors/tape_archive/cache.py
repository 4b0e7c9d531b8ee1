"""The per-partition cache: every record's coordinates, bytes and event time as mmap-able arrays, plus
the columns of columnar schemas. Built while a tape is written or from its log; never the truth.

Files in ``columns/<topic>/<partition>/``: ``offset.npy``, ``timestamp_ms.npy``, ``ts_event.npy`` (int64
ns; ``timestamp_ms * 1e6`` for an undecodable record), ``schema.npy`` (int16 code into
``meta.json["schemas"]``, -1 = undecodable), ``key.bin``/``value.bin`` with ``key_end.npy``/``value_end.npy``
(cumulative ends) and ``key_null.npy``/``value_null.npy``, ``meta.json`` (schemas, categories, headers by
row; whether ``ts_event`` never decreases and how many records are undecodable, so a reader need not
scan for either) and ``<Schema>/<field>.npy`` for each columnar schema (that schema's rows in log order).
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np

from connectors.records import RawRecord
from connectors.tape_archive.columns import ColumnSink, column_spec
from connectors.tape_archive.encoding import Blob
from connectors.tape_archive.storage import NpyAppender, load_array, load_blob
from schemas.codec import CODEC

_FLUSH_ROWS = 8192
_SCALARS = {"offset": np.int64, "timestamp_ms": np.int64, "ts_event": np.int64, "schema": np.int16}


class PartitionCacheBuilder:
    """Builds one partition's cache from records appended in offset order; `close` returns its stats."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._arrays = {name: NpyAppender(folder / f"{name}.npy", dtype) for name, dtype in _SCALARS.items()}
        for blob in ("key", "value"):
            self._arrays[f"{blob}_end"] = NpyAppender(folder / f"{blob}_end.npy", np.int64)
            self._arrays[f"{blob}_null"] = NpyAppender(folder / f"{blob}_null.npy", np.bool_)
        self._blobs = {blob: open(folder / f"{blob}.bin", "wb") for blob in ("key", "value")}
        self._blob_size = {"key": 0, "value": 0}
        self._pending: dict[str, list] = {name: [] for name in (*_SCALARS, "key", "value")}
        self._schemas: dict[str, int] = {}
        self._schema_counts: dict[str, int] = {}
        self._sinks: dict[str, ColumnSink] = {}
        self._headers: dict[str, list] = {}
        self.count = 0
        self.undecodable = 0
        self.first_offset: int | None = None
        self.last_offset: int | None = None
        self._ts_min: int | None = None
        self._ts_max: int | None = None
        self._ts_last: int | None = None
        self._in_time_order = True  # ts_event never decreases in log order

    def add(self, record: RawRecord, decoded: tuple[str, dict] | None) -> None:
        """Add one record with its decoded ``(schema, event)``, or None when it is undecodable."""
        if record.headers:
            self._headers[str(self.count)] = [[n, None if v is None else v.hex()] for n, v in record.headers]
        if decoded is None:
            code, ts_event = -1, record.timestamp_ms * 1_000_000
        else:
            name, event = decoded
            code, ts_event = self._schema_code(name, 1), event["ts_event"]
            self._see_ts(ts_event, ts_event)
            if name in self._sinks:
                self._sinks[name].add_record(event)
        self._push(record.offset, record.timestamp_ms, ts_event, code, record.key, record.value)

    def add_columns(
        self,
        schema: str,
        offsets: np.ndarray,
        timestamp_ms: np.ndarray,
        keys: Blob | None,
        values: Blob,
        columns: dict[str, np.ndarray],
        categories: dict[str, tuple[str, ...]],
    ) -> None:
        """Add a run of header-less records of one schema whose events are given as columns.

        ``keys`` are the records' key bytes (None: every key is null), ``values`` their value bytes.
        """
        n = len(offsets)
        if n == 0:
            return
        self._flush()
        code = self._schema_code(schema, n)
        ts_event = np.asarray(columns["ts_event"], dtype=np.int64)
        self._see_ts(int(ts_event.min()), int(ts_event.max()))
        self._follow_time(int(ts_event[0]), bool(np.all(ts_event[1:] >= ts_event[:-1])), int(ts_event[-1]))
        if schema in self._sinks:
            self._sinks[schema].add_columns(columns, categories)
        for name, array in (("offset", offsets), ("timestamp_ms", timestamp_ms), ("ts_event", ts_event)):
            self._arrays[name].append(array)
        self._arrays["schema"].append(np.full(n, code, dtype=np.int16))
        self._append_blob("key", keys, n)
        self._append_blob("value", values, n)
        self._track(int(offsets[0]), int(offsets[-1]), n)

    def _append_blob(self, blob: str, items: Blob | None, n: int) -> None:
        self._arrays[f"{blob}_null"].append(np.full(n, items is None))
        if items is None:
            self._arrays[f"{blob}_end"].append(np.full(n, self._blob_size[blob], dtype=np.int64))
            return
        self._arrays[f"{blob}_end"].append(self._blob_size[blob] + items.ends)
        self._blobs[blob].write(items.data.tobytes())
        self._blob_size[blob] += len(items.data)

    def _schema_code(self, name: str, n: int) -> int:
        if name not in self._schemas:
            self._schemas[name] = len(self._schemas)
            if column_spec(name) is not None:
                self._sinks[name] = ColumnSink(self.folder / name, name)
        self._schema_counts[name] = self._schema_counts.get(name, 0) + n
        return self._schemas[name]

    def _see_ts(self, low: int, high: int) -> None:
        self._ts_min = low if self._ts_min is None else min(self._ts_min, low)
        self._ts_max = high if self._ts_max is None else max(self._ts_max, high)

    def _push(self, offset: int, timestamp_ms: int, ts_event: int, code: int, key, value) -> None:
        pending = self._pending
        pending["offset"].append(offset)
        pending["timestamp_ms"].append(timestamp_ms)
        pending["ts_event"].append(ts_event)
        pending["schema"].append(code)
        pending["key"].append(key)
        pending["value"].append(value)
        self.undecodable += code < 0
        self._follow_time(ts_event, True, ts_event)
        self._track(offset, offset, 1)

    def _follow_time(self, first: int, ordered_within: bool, last: int) -> None:
        """Note a run of event times (its first, whether it never decreases, its last) in log order."""
        if not ordered_within or (self._ts_last is not None and first < self._ts_last):
            self._in_time_order = False
        self._ts_last = last

    def _track(self, first: int, last: int, n: int) -> None:
        if self.first_offset is None:
            self.first_offset = first
        self.last_offset = last
        self.count += n
        if len(self._pending["offset"]) >= _FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        pending = self._pending
        for name in _SCALARS:
            self._arrays[name].append(np.asarray(pending[name], dtype=_SCALARS[name]))
            pending[name].clear()
        for blob in ("key", "value"):
            items = pending[blob]
            lengths = np.fromiter(
                (0 if b is None else len(b) for b in items), dtype=np.int64, count=len(items)
            )
            self._arrays[f"{blob}_null"].append(np.fromiter((b is None for b in items), dtype=np.bool_))
            self._arrays[f"{blob}_end"].append(self._blob_size[blob] + np.cumsum(lengths))
            self._blobs[blob].write(b"".join(b for b in items if b is not None))
            self._blob_size[blob] += int(lengths.sum())
            items.clear()

    def close(self) -> dict:
        """Write every file; return the partition's statistics for the manifest."""
        self._flush()
        for f in self._blobs.values():
            f.close()
        for out in self._arrays.values():
            out.close()
        categories = {name: sink.close() for name, sink in self._sinks.items()}
        meta = {
            "schemas": list(self._schemas),
            "categories": categories,
            "headers": self._headers,
            "ts_event_sorted": self._in_time_order,
            "undecodable": self.undecodable,
        }
        (self.folder / "meta.json").write_text(json.dumps(meta, sort_keys=True))
        return {
            "start_offset": self.first_offset,
            "end_offset": None if self.last_offset is None else self.last_offset + 1,
            "count": self.count,
            "first_ts_event": self._ts_min,
            "last_ts_event": self._ts_max,
            "schemas": {
                name: {"fingerprint": CODEC.fingerprint(name).hex(), "count": self._schema_counts[name]}
                for name in self._schemas
            },
            "undecodable": self.undecodable,
            "columnar": sorted(self._sinks),
        }


class PartitionCache:
    """Read side of one partition's cache: arrays memory-mapped on first use."""

    def __init__(self, folder: Path, topic: str, partition: int):
        self.folder = folder
        self.topic = topic
        self.partition = partition
        meta = json.loads((folder / "meta.json").read_text())
        self.schemas: list[str] = meta["schemas"]
        self.categories: dict[str, dict[str, list[str]]] = meta["categories"]
        self._headers = {
            int(row): tuple((n, None if v is None else bytes.fromhex(v)) for n, v in hs)
            for row, hs in meta["headers"].items()
        }
        self._arrays: dict[str, np.ndarray] = {}
        self._columns: dict[str, dict[str, np.ndarray]] = {}
        # what the builder noted (None in caches built before it did: then scanned for)
        self._ts_event_sorted: bool | None = meta.get("ts_event_sorted")
        self._undecodable: int | None = meta.get("undecodable")

    def array(self, name: str) -> np.ndarray:
        """A memory-mapped per-record array (``offset``, ``ts_event``, ``schema``, …)."""
        if name not in self._arrays:
            self._arrays[name] = load_array(self.folder / f"{name}.npy")
        return self._arrays[name]

    def __len__(self) -> int:
        return len(self.array("offset"))

    @cached_property
    def order(self) -> np.ndarray | None:
        """Rows in (ts_event, offset) order, or None when log order already is that order."""
        ts = self.array("ts_event")
        if self._ts_event_sorted or len(ts) < 2:
            return None
        if self._ts_event_sorted is None and bool(np.all(ts[1:] >= ts[:-1])):
            return None
        return np.argsort(ts, kind="stable")

    def rows_of(self, schema: str) -> np.ndarray | None:
        """Rows holding ``schema`` in merge order, or None when that is every row in log order."""
        code = self.schemas.index(schema)
        codes = self.array("schema")
        if self.order is None and len(self.schemas) == 1:
            undecodable = self._undecodable if self._undecodable is not None else int(np.sum(codes < 0))
            if undecodable == 0:
                return None
        order = np.arange(len(codes)) if self.order is None else self.order
        return order[codes[order] == code]

    def columns(self, schema: str) -> dict[str, np.ndarray]:
        """The memory-mapped columns of a columnar schema (its rows in log order)."""
        if schema not in self._columns:
            spec = column_spec(schema)
            self._columns[schema] = {f.name: load_array(self.folder / schema / f"{f.name}.npy") for f in spec}
        return self._columns[schema]

    @cached_property
    def _blobs(self) -> dict:
        out = {}
        for blob in ("key", "value"):
            end = self.array(f"{blob}_end")
            start = np.concatenate(([0], end[:-1])) if len(end) else end
            out[blob] = (load_blob(self.folder / f"{blob}.bin"), start, end, self.array(f"{blob}_null"))
        return out

    def values(self, rows: np.ndarray) -> list[bytes | None]:
        """The value bytes of ``rows``."""
        return self._slices("value", rows)

    def _slices(self, blob: str, rows: np.ndarray) -> list[bytes | None]:
        data, start, end, null = self._blobs[blob]
        out = [data[s:e] for s, e in zip(start[rows].tolist(), end[rows].tolist(), strict=True)]
        if null[rows].any():
            out = [None if n else b for b, n in zip(out, null[rows].tolist(), strict=True)]
        return out

    def records(self, rows: np.ndarray) -> list[RawRecord]:
        """The records at ``rows``."""
        keys = self._slices("key", rows)
        values = self._slices("value", rows)
        offsets = self.array("offset")[rows].tolist()
        stamps = self.array("timestamp_ms")[rows].tolist()
        topic, partition, headers = self.topic, self.partition, self._headers
        if headers:
            return [
                RawRecord(topic, partition, o, t, k, v, headers.get(r, ()))
                for r, o, t, k, v in zip(rows.tolist(), offsets, stamps, keys, values, strict=True)
            ]
        return [
            RawRecord(topic, partition, o, t, k, v)
            for o, t, k, v in zip(offsets, stamps, keys, values, strict=True)
        ]
