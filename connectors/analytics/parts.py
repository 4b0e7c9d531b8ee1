"""Parquet part files of the embedded store: atomic writes and MergeTree-like compaction.

Layout: ``<root>/<table>/<YYYYMM>/<name>.parquet``. A part is written to a hidden ``.tmp`` file in
its partition directory and renamed into place, so a reader's glob (``*.parquet``) sees a part
whole or not at all. A part's name is a digest of its content, so writing the same rows twice
replaces the file instead of adding one. `compact_partition` merges the small parts of a partition
into one (deduplicated by the table key, sorted by `Table.sort_key`), renames it into place, then
removes the inputs; during that instant a reader may see a row twice (views deduplicate by key) or
miss a removed file (the reader retries).

Examples
--------
>>> import tempfile
>>> from connectors.analytics.tables import TABLES
>>> from connectors.analytics.rows import to_arrow
>>> table = TABLES["equity"]
>>> rows = to_arrow(table, [{"run_id": "r", "ts_event": 1, "equity": 1.0, "cash": 1.0, "gross_exposure": 0.0}])
>>> root = Path(tempfile.mkdtemp())
>>> first = write_part(root / "equity" / "197001", rows)
>>> write_part(root / "equity" / "197001", rows) == first  # same rows, same part
True
>>> _ = write_part(root / "equity" / "197001", rows.set_column(1, "ts_event", pa.array([2])))
>>> compact_partition(table, root / "equity" / "197001"), len(list_parts(root / "equity" / "197001"))
(2, 1)
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.analytics.tables import Table

#: Parts smaller than this are merged by compaction.
SMALL_PART_BYTES = 32 * 1024 * 1024
SUFFIX = ".parquet"


def list_parts(partition: Path) -> list[Path]:
    """The visible parts of a partition directory (sorted by name)."""
    return sorted(partition.glob(f"*{SUFFIX}"))


def _digest(rows: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, rows.schema) as writer:
        writer.write_table(rows)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:24]


def write_part(partition: Path, rows: pa.Table, prefix: str = "part") -> Path:
    """Write ``rows`` as one part of ``partition`` atomically; return its path."""
    partition.mkdir(parents=True, exist_ok=True)
    final = partition / f"{prefix}-{_digest(rows)}{SUFFIX}"
    temporary = partition / f".{final.stem}-{uuid.uuid4().hex[:8]}.tmp"
    pq.write_table(rows, temporary, compression="zstd")
    os.rename(temporary, final)
    return final


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[bool]:
    """Hold an exclusive advisory lock on ``lock_path`` if free; yield whether it was taken."""
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_parts(paths: list[Path], schema: pa.Schema) -> pa.Table | None:
    tables = []
    for path in paths:
        try:
            tables.append(pq.read_table(path, schema=schema))
        except FileNotFoundError:
            return None  # another compaction took this part; leave the partition to it
    return pa.concat_tables(tables)


def deduplicate(table: Table, rows: pa.Table) -> pa.Table:
    """``rows`` with one row per `Table.key` (the first seen)."""
    keys = rows.select(list(table.key)).to_pandas()
    return rows.filter(pa.array(~keys.duplicated().to_numpy()))


def compact_partition(table: Table, partition: Path) -> int:
    """Merge the small parts of ``partition`` into one; return how many parts were merged.

    Another process compacting the same table at the same time makes this call a no-op (0).
    """
    with _exclusive(partition.parent / ".compact.lock") as owned:
        if not owned:
            return 0
        small = [p for p in list_parts(partition) if p.stat().st_size < SMALL_PART_BYTES]
        if len(small) < 2:
            return 0
        rows = _read_parts(small, table.arrow_schema)
        if rows is None:
            return 0
        rows = deduplicate(table, rows).sort_by([(c, "ascending") for c in table.sort_key])
        merged = write_part(partition, rows, prefix="merged")
        for path in small:
            if path != merged:
                path.unlink(missing_ok=True)
        return len(small)
