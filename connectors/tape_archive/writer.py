"""`TapeWriter`: write Kafka records (or events to be encoded) into a tape archive directory."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from types import TracebackType

import fastavro.write
import numpy as np

from connectors.partitioning import partition_for
from connectors.records import RawRecord
from connectors.tape_archive import manifest as manifests
from connectors.tape_archive.cache import PartitionCacheBuilder
from connectors.tape_archive.columns import column_spec
from connectors.tape_archive.encoding import avro_bytes, encode_envelopes, event_pieces, join, lookup
from connectors.tape_archive.layout import ENVELOPE_SCHEMA, LOG_CODEC, columns_path, log_path
from schemas.batch import EventBatch
from schemas.codec import CODEC
from schemas.errors import DecodeError, TapeError

#: Rows encoded at once by `TapeWriter.append_batch` (bounds its memory: ~100 bytes a row per matrix).
_CHUNK_ROWS = 65_536


def decode_or_none(value: bytes | None) -> tuple[str, dict] | None:
    """The decoded ``(schema, event)`` of a record value, or None when it cannot be decoded."""
    if value is None:
        return None
    try:
        return CODEC.decode(value)
    except DecodeError:
        return None


@dataclass(frozen=True, slots=True)
class _Keys:
    """Record keys as codes into a table of distinct keys."""

    table: list[bytes]
    codes: np.ndarray

    def __getitem__(self, rows: np.ndarray) -> _Keys:
        return _Keys(self.table, self.codes[rows])


@dataclass(frozen=True, slots=True)
class _Block:
    """An encoded block of log records, in the form ``fastavro`` writes as is (``write_block``)."""

    num_records: int
    bytes_: BytesIO


class PartitionWriter:
    """Appends one partition's records to its log file and its cache builder."""

    def __init__(self, root: Path, topic: str, partition: int):
        self.root = root
        self.topic = topic
        self.partition = partition
        self.next_offset = 0
        path = log_path(root, topic, partition)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "wb")
        self._log = fastavro.write.Writer(self._file, ENVELOPE_SCHEMA, codec=LOG_CODEC, compression_level=1)
        self.cache = PartitionCacheBuilder(columns_path(root, topic, partition))

    def check_offset(self, offset: int) -> None:
        if offset < self.next_offset:
            raise TapeError(
                f"{self.topic}/{self.partition}: offsets must increase; "
                f"{offset} came after {self.next_offset - 1}"
            )

    def write_log(self, offset: int, timestamp_ms: int, key, value, headers) -> None:
        self._log.write(
            {
                "offset": offset,
                "timestamp_ms": timestamp_ms,
                "key": key,
                "value": value,
                "headers": [{"name": n, "value": v} for n, v in headers],
            }
        )
        self.next_offset = offset + 1

    def append_chunk(self, batch: EventBatch, keys: _Keys | None, timestamp_ms: np.ndarray) -> None:
        """Append a batch's rows at the next offsets, encoded column-wise (see `encoding`)."""
        rows = len(batch)
        offsets = self.next_offset + np.arange(rows, dtype=np.int64)
        spec = column_spec(batch.schema)
        if spec is not None:
            pieces = event_pieces(batch.schema, batch.columns, batch.categories)
            columns = {f.name: np.asarray(batch.columns[f.name]) for f in spec}
        else:
            pieces = [lookup(_encode(batch), np.arange(rows))]
            columns = {"ts_event": np.asarray(batch.columns["ts_event"])}
        key_piece = None if keys is None else lookup([avro_bytes(k) for k in keys.table], keys.codes)
        envelopes = encode_envelopes(offsets, timestamp_ms, key_piece, pieces)
        self._log.write_block(_Block(rows, BytesIO(envelopes.data.tobytes())))
        self.next_offset += rows
        key_blob = None if keys is None else join([lookup(keys.table, keys.codes)])
        self.cache.add_columns(
            batch.schema, offsets, timestamp_ms, key_blob, join(pieces), columns, dict(batch.categories)
        )

    def close(self) -> dict:
        """Close the files; return the partition's manifest entry (with file hashes)."""
        self._log.flush()
        self._file.close()
        stats = self.cache.close()
        stats["files"] = manifests.file_hashes(
            self.root, [log_path(self.root, self.topic, self.partition), self.cache.folder]
        )
        return stats


class TapeWriter:
    """Writes a tape archive: the faithful log, the columnar cache and, on close, the manifest.

    Parameters
    ----------
    path
        The archive directory to create.
    overwrite
        Replace ``path`` if it exists (otherwise an existing path is an error).

    Examples
    --------
    >>> import tempfile
    >>> from connectors.tape_archive import TapeReader
    >>> bar = {"instrument": "AAPL", "interval_ns": 60, "open": 1.0, "high": 2.0, "low": 0.5,
    ...        "close": 1.5, "volume": 10.0, "ts_event": 60_000_000, "ts_init": 60_000_001}
    >>> path = Path(tempfile.mkdtemp()) / "tape"
    >>> with TapeWriter(path) as w:
    ...     record = w.append_event("md.bar.1m", "Bar", bar, key=b"AAPL")
    >>> record.coordinates, record.timestamp_ms
    ('md.bar.1m/0@0', 60)
    >>> [event for _, _, event in TapeReader(path).events()] == [bar]
    True
    """

    def __init__(self, path: str | Path, overwrite: bool = False):
        self.path = Path(path)
        if self.path.exists():
            if not overwrite:
                raise TapeError(f"{self.path} already exists; pass overwrite=True to replace it")
            if self.path.is_dir():
                shutil.rmtree(self.path)
            else:
                self.path.unlink()
        self.path.mkdir(parents=True)
        self._partitions: dict[tuple[str, int], PartitionWriter] = {}
        self._partition_counts: dict[str, int] = {}
        self.manifest: dict | None = None

    def __enter__(self) -> TapeWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:  # leave no manifest: the directory is not a valid archive
            for writer in self._partitions.values():
                writer.close()

    def declare_topic(self, topic: str, partitions: int) -> None:
        """Record that ``topic`` has ``partitions`` partitions (publish creates topics with this count)."""
        if partitions < 1:
            raise TapeError(f"{topic}: partitions must be >= 1, was {partitions}")
        self._partition_counts[topic] = max(self._partition_counts.get(topic, 1), partitions)

    def _partition(self, topic: str, partition: int) -> PartitionWriter:
        writer = self._partitions.get((topic, partition))
        if writer is None:
            if self.manifest is not None:
                raise TapeError(f"{self.path}: the writer is closed")
            writer = self._partitions[(topic, partition)] = PartitionWriter(self.path, topic, partition)
            self.declare_topic(topic, partition + 1)
        return writer

    def append(self, record: RawRecord) -> None:
        """Append a Kafka record as it is (offsets must increase within each partition)."""
        writer = self._partition(record.topic, record.partition)
        writer.check_offset(record.offset)
        writer.write_log(record.offset, record.timestamp_ms, record.key, record.value, record.headers)
        writer.cache.add(record, decode_or_none(record.value))

    def append_event(
        self,
        topic: str,
        schema: str,
        record: dict,
        key: bytes | None = None,
        partitions: int = 1,
        timestamp_ms: int | None = None,
    ) -> RawRecord:
        """Encode ``record``; append it at the next offset of partition ``partition_for(key, partitions)``."""
        value = CODEC.encode(schema, record)
        self.declare_topic(topic, partitions)
        writer = self._partition(topic, partition_for(key, partitions))
        stamp = record["ts_event"] // 1_000_000 if timestamp_ms is None else timestamp_ms
        raw = RawRecord(topic, writer.partition, writer.next_offset, stamp, key, value)
        writer.write_log(raw.offset, stamp, key, value, ())
        writer.cache.add(raw, (schema, record))
        return raw

    def append_batch(
        self, topic: str, batch: EventBatch, key_field: str | None = "instrument", partitions: int = 1
    ) -> None:
        """Append a batch of events, keyed by ``key_field`` (UTF-8 of its value) and partitioned by key.

        The Kafka timestamp of each record is ``ts_event // 1_000_000``. Flat schemas are encoded
        column-wise (`encoding`), byte-identical to encoding each row with the codec.
        """
        if len(batch) == 0:
            return
        self.declare_topic(topic, partitions)
        keys, partition_of_row = _keys(batch, key_field, partitions)
        stamps = np.asarray(batch.columns["ts_event"], dtype=np.int64) // 1_000_000
        single = partitions == 1 or bool(np.all(partition_of_row == partition_of_row[0]))
        for partition in np.unique(partition_of_row).tolist():
            rows = np.arange(len(batch)) if single else np.flatnonzero(partition_of_row == partition)
            writer = self._partition(topic, partition)
            for start in range(0, len(rows), _CHUNK_ROWS):
                chunk = rows[start : start + _CHUNK_ROWS]
                part = batch if len(chunk) == len(batch) else batch.select(chunk)
                writer.append_chunk(part, None if keys is None else keys[chunk], stamps[chunk])

    def close(self) -> dict:
        """Finish every file, write ``manifest.json`` and return the manifest (idempotent)."""
        if self.manifest is None:
            topics: dict[str, dict] = {
                t: {"partition_count": n, "partitions": {}} for t, n in self._partition_counts.items()
            }
            for (topic, partition), writer in sorted(self._partitions.items()):
                topics[topic]["partitions"][str(partition)] = writer.close()
            self.manifest = manifests.build(dict(sorted(topics.items())))
            manifests.write(self.path, self.manifest)
        return self.manifest


def _keys(batch: EventBatch, key_field: str | None, partitions: int) -> tuple[_Keys | None, np.ndarray]:
    """Every row's key (UTF-8 of ``key_field``) as codes into a table, and its partition."""
    if key_field is None:
        return None, np.zeros(len(batch), dtype=np.int64)
    column = np.asarray(batch.columns[key_field])
    if key_field in batch.categories:
        table, codes = [c.encode() for c in batch.categories[key_field]], column
    else:
        uniques, codes = np.unique(np.asarray([str(v) for v in column.tolist()]), return_inverse=True)
        table = [u.encode() for u in uniques.tolist()]
    table_partitions = np.asarray([partition_for(k, partitions) for k in table], dtype=np.int64)
    return _Keys(table, np.asarray(codes, dtype=np.int64)), table_partitions[codes]


def _encode(batch: EventBatch) -> list[bytes]:
    nullable = [f["name"] for f in CODEC.schema(batch.schema)["fields"] if isinstance(f["type"], list)]
    records = batch.to_records()
    if nullable:
        for r in records:
            for name in nullable:
                if isinstance(r[name], float) and r[name] != r[name]:
                    r[name] = None
    return [CODEC.encode(batch.schema, r) for r in records]
