"""`TapeReader`: read a tape archive back as raw records, decoded events or columnar batches."""

from __future__ import annotations

import fnmatch
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import fastavro
import numpy as np

from connectors.records import RawRecord
from connectors.tape_archive import manifest as manifests
from connectors.tape_archive.cache import PartitionCache, PartitionCacheBuilder
from connectors.tape_archive.columns import column_spec
from connectors.tape_archive.layout import columns_path, log_path
from connectors.tape_archive.merge import MergeChunk, MergeSource, merged_chunks
from connectors.tape_archive.writer import decode_or_none
from schemas.batch import EventBatch
from schemas.codec import CODEC
from schemas.errors import DecodeError, TapeError

DEFAULT_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class _Stream:
    """The rows of one schema in one partition, in merge order (``rows``/``local`` None = identity)."""

    cache: PartitionCache
    schema: str
    group: int
    rows: np.ndarray | None  # partition rows
    local: np.ndarray | None  # index into the schema's columns


class TapeReader:
    """Reads a tape archive written by `TapeWriter` (or ``tape record``).

    ``records``, ``events`` and ``batches`` all yield the tape in one merged event-time order: by
    ``ts_event``, ties broken by ``(topic, partition, offset)``. An undecodable record takes
    ``timestamp_ms * 1_000_000`` as its event time; ``records`` yields it, ``events`` and ``batches`` skip
    it and count it in ``skipped`` (the manifest counts them per partition too).

    Parameters
    ----------
    path
        The archive directory; its manifest is validated on open.

    Examples
    --------
    >>> import tempfile
    >>> from connectors.tape_archive import TapeWriter
    >>> bars = [{"instrument": i, "interval_ns": 60, "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5,
    ...          "volume": 10.0, "ts_event": t, "ts_init": t} for t, i in [(2, "D"), (1, "A"), (3, "A")]]
    >>> path = Path(tempfile.mkdtemp()) / "tape"
    >>> with TapeWriter(path) as w:
    ...     for bar in bars:
    ...         _ = w.append_event("md.bar.1m", "Bar", bar, key=bar["instrument"].encode(), partitions=2)
    >>> r = TapeReader(path)
    >>> r.topics, r.count()
    (['md.bar.1m'], 3)
    >>> [(rec.partition, event["ts_event"]) for rec, _, event in r.events()]
    [(1, 1), (0, 2), (1, 3)]
    >>> [(b.strings("instrument").tolist(), b.partition.tolist()) for b in r.batches()]
    [(['A', 'D', 'A'], [1, 0, 1])]
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.manifest = manifests.read(self.path)
        self.skipped = 0
        self._caches: dict[tuple[str, int], PartitionCache] = {}

    @property
    def topics(self) -> list[str]:
        """The topics on the tape, sorted."""
        return sorted(self.manifest["topics"])

    def partitions(self, topic: str) -> list[int]:
        """The partitions of ``topic`` that hold records on the tape, sorted."""
        return sorted(int(p) for p in self._topic(topic)["partitions"])

    def partition_count(self, topic: str) -> int:
        """The partition count ``topic`` had when recorded (publish creates topics with it)."""
        return self._topic(topic)["partition_count"]

    def count(self, topics: list[str] | None = None) -> int:
        """The number of records on the tape (in ``topics``: names or glob patterns)."""
        return sum(self._entry(t, p)["count"] for t, p in self._selection(topics))

    def undecodable(self, topics: list[str] | None = None) -> int:
        """The number of records whose value cannot be decoded (``events``/``batches`` skip them)."""
        return sum(self._entry(t, p)["undecodable"] for t, p in self._selection(topics))

    def select_topics(self, topics: list[str] | None) -> list[str]:
        """The tape's topics matching ``topics`` (names or glob patterns; None = all), sorted."""
        return sorted({t for t, _ in self._selection(topics)} if topics is not None else self.topics)

    def _topic(self, topic: str) -> dict:
        try:
            return self.manifest["topics"][topic]
        except KeyError:
            raise TapeError(f"topic {topic!r} is not on the tape {self.path}; it has {self.topics}") from None

    def _entry(self, topic: str, partition: int) -> dict:
        return self._topic(topic)["partitions"][str(partition)]

    def _selection(self, topics: list[str] | None) -> list[tuple[str, int]]:
        """(topic, partition) pairs selected by names or glob patterns, sorted (that is the rank order)."""
        if topics is None:
            chosen = self.topics
        else:
            chosen = set()
            for pattern in topics:
                matched = fnmatch.filter(self.topics, pattern)
                if not matched:
                    raise TapeError(
                        f"no topic on the tape {self.path} matches {pattern!r}; it has {self.topics}"
                    )
                chosen.update(matched)
        return [(t, p) for t in sorted(chosen) for p in self.partitions(t)]

    def _cache(self, topic: str, partition: int) -> PartitionCache:
        key = (topic, partition)
        if key not in self._caches:
            folder = columns_path(self.path, topic, partition)
            if not (folder / "meta.json").is_file():
                raise TapeError(f"{folder}: the columnar cache is missing; run TapeReader.rebuild_columns()")
            self._caches[key] = PartitionCache(folder, topic, partition)
        return self._caches[key]

    # -- raw records and events -------------------------------------------------------------------

    def records(self, topics: list[str] | None = None) -> Iterator[RawRecord]:
        """Every record (undecodable ones too), in merged event-time order."""
        caches = [self._cache(t, p) for t, p in self._selection(topics)]
        sources = []
        for rank, cache in enumerate(caches):
            ts, offset = cache.array("ts_event"), cache.array("offset")
            if cache.order is not None:
                ts, offset = ts[cache.order], offset[cache.order]
            sources.append(MergeSource(ts, offset, rank))
        for chunk in merged_chunks(sources, DEFAULT_CHUNK):
            records: list[RawRecord] = []
            for i, start, stop in chunk.parts:
                order = caches[i].order
                records.extend(
                    caches[i].records(np.arange(start, stop) if order is None else order[start:stop])
                )
            if chunk.order is None:
                yield from records
            else:
                yield from map(records.__getitem__, chunk.order.tolist())

    def events(self, topics: list[str] | None = None) -> Iterator[tuple[RawRecord, str, dict]]:
        """Every decodable record with its ``(schema name, event)``, in merged event-time order."""
        self.skipped = 0
        decode = CODEC.decode
        for record in self.records(topics):
            try:
                name, event = decode(record.value)
            except (DecodeError, TypeError):  # TypeError: a tombstone's value is None
                self.skipped += 1
                continue
            yield record, name, event

    def partition_records(self, topic: str, partition: int) -> Iterator[RawRecord]:
        """One partition's records in offset (log) order."""
        cache = self._cache(topic, partition)
        for start in range(0, len(cache), DEFAULT_CHUNK):
            yield from cache.records(np.arange(start, min(len(cache), start + DEFAULT_CHUNK)))

    # -- columnar batches -------------------------------------------------------------------------

    def batches(self, topics: list[str] | None = None, max_rows: int = DEFAULT_CHUNK) -> Iterator[EventBatch]:
        """The decodable events as `EventBatch` es in merged event-time order.

        Each batch is a run of one topic and one schema, at most ``max_rows`` long, with ``partition`` and
        ``offset`` filled. Coded columns share one sorted dictionary per topic. Columnar schemas are read
        from memory-mapped columns; other schemas are decoded from the cached values.
        """
        if max_rows < 1:
            raise TapeError(f"max_rows must be >= 1, was {max_rows}")
        selection = self._selection(topics)
        self.skipped = sum(self._entry(t, p)["undecodable"] for t, p in selection)
        streams, categories, groups = self._streams(selection)
        sources = []
        for stream in streams:
            ts, offset = stream.cache.array("ts_event"), stream.cache.array("offset")
            if stream.rows is not None:
                ts, offset = ts[stream.rows], offset[stream.rows]
            sources.append(
                MergeSource(ts, offset, selection.index((stream.cache.topic, stream.cache.partition)))
            )
        remaps = self._remaps(streams, categories)
        for chunk in merged_chunks(sources, max_rows):
            yield from self._chunk_batches(chunk, streams, groups, categories, remaps, max_rows)

    def _streams(self, selection: list[tuple[str, int]]):
        """Streams sorted by (group, rank); topic-level categories per group; groups as (topic, schema)."""
        found = []
        for rank, (topic, partition) in enumerate(selection):
            cache = self._cache(topic, partition)
            for schema in cache.schemas:
                found.append(((topic, schema), rank, cache, schema))
        groups = sorted({g for g, _, _, _ in found})
        streams, categories = [], {}
        for group, _, cache, schema in sorted(found, key=lambda s: (s[0], s[1])):
            rows = cache.rows_of(schema)
            local = None
            if rows is not None and column_spec(schema) is not None:
                codes = cache.array("schema")
                local = np.searchsorted(np.flatnonzero(codes == cache.schemas.index(schema)), rows)
            streams.append(_Stream(cache, schema, groups.index(group), rows, local))
            for name, values in cache.categories.get(schema, {}).items():
                categories.setdefault(group, {}).setdefault(name, set()).update(values)
        categories = {g: {n: tuple(sorted(v)) for n, v in fields.items()} for g, fields in categories.items()}
        for (_, schema), fields in categories.items():  # enum codes are symbol indices: keep symbol order
            for f in column_spec(schema) or ():
                if f.kind == "enum":
                    fields[f.name] = f.symbols
        return streams, categories, groups

    @staticmethod
    def _remaps(streams: list[_Stream], categories: dict) -> list[dict[str, np.ndarray]]:
        """Per stream, code maps from its partition's categories to the topic's (where they differ)."""
        out = []
        for stream in streams:
            shared = categories.get((stream.cache.topic, stream.schema), {})
            remap = {}
            for name, own in stream.cache.categories.get(stream.schema, {}).items():
                if tuple(own) != shared[name]:
                    index = {c: i for i, c in enumerate(shared[name])}
                    remap[name] = np.asarray([index[c] for c in own], dtype=np.int32)
            out.append(remap)
        return out

    def _chunk_batches(self, chunk: MergeChunk, streams, groups, categories, remaps, max_rows):
        lengths = [stop - start for _, start, stop in chunk.parts]
        part_groups = [streams[i].group for i, _, _ in chunk.parts]
        bounds = np.cumsum([0, *lengths])
        if chunk.order is None:
            order_groups, runs = np.asarray(part_groups), [(0, int(bounds[-1]))]
        else:
            order_groups = np.repeat(part_groups, lengths)[chunk.order]
            cuts = np.flatnonzero(order_groups[1:] != order_groups[:-1]) + 1
            edges = [0, *cuts.tolist(), len(order_groups)]
            runs = list(zip(edges[:-1], edges[1:], strict=True))
        blocks: dict[int, _Block] = {}
        for start, stop in runs:
            group = int(order_groups[start])
            if group not in blocks:
                members = [k for k, g in enumerate(part_groups) if g == group]
                blocks[group] = _Block(
                    [
                        (streams[chunk.parts[k][0]], remaps[chunk.parts[k][0]], *chunk.parts[k][1:])
                        for k in members
                    ],
                    groups[group],
                    categories.get(groups[group], {}),
                    int(bounds[members[0]]),
                )
            for first in range(start, stop, max_rows):
                last = min(stop, first + max_rows)
                rows = (
                    slice(first, last)
                    if chunk.order is None
                    else chunk.order[first:last] - blocks[group].base
                )
                yield blocks[group].take(rows)

    # -- integrity --------------------------------------------------------------------------------

    def verify(self) -> None:
        """Check every file against its sha256 and the content hash; raise `TapeError` naming a bad file."""
        for topic, entry in self.manifest["topics"].items():
            for partition, part in entry["partitions"].items():
                for relative, digest in part["files"].items():
                    path = self.path / relative
                    if not path.is_file():
                        raise TapeError(f"{path} ({topic}/{partition}) is missing")
                    if manifests.sha256_of(path) != digest:
                        raise TapeError(
                            f"{path} ({topic}/{partition}) does not match its sha256 in the manifest"
                        )
        if manifests.content_hash(self.manifest["topics"]) != self.manifest["content_hash"]:
            raise TapeError(f"{self.path}: the manifest's content_hash does not match its log file hashes")

    def rebuild_columns(self) -> None:
        """Rebuild the whole cache from the log files and rewrite the manifest's cache hashes."""
        for topic, partition in self._selection(None):
            entry = self._entry(topic, partition)
            folder = columns_path(self.path, topic, partition)
            shutil.rmtree(folder, ignore_errors=True)
            builder = PartitionCacheBuilder(folder)
            with open(log_path(self.path, topic, partition), "rb") as f:
                for envelope in fastavro.reader(f):
                    headers = tuple((h["name"], h["value"]) for h in envelope["headers"])
                    record = RawRecord(
                        topic,
                        partition,
                        envelope["offset"],
                        envelope["timestamp_ms"],
                        envelope["key"],
                        envelope["value"],
                        headers,
                    )
                    builder.add(record, decode_or_none(record.value))
            stats = builder.close()
            logs = {
                k: v for k, v in entry["files"].items() if not k.startswith(f"{folder.parent.parent.name}/")
            }
            stats["files"] = {**logs, **manifests.file_hashes(self.path, [folder])}
            entry.update(stats)
        manifests.write(self.path, self.manifest)
        self._caches.clear()


class _Block:
    """The rows of one group (topic, schema) in one merge chunk, concatenated part by part."""

    def __init__(self, parts, group: tuple[str, str], categories: dict, base: int):
        self.topic, self.schema = group
        self.categories = categories
        self.base = base
        self.partition = _concat(  # one partition: a read-only view repeating its number, no memory
            [np.broadcast_to(np.int32(s.cache.partition), (b - a,)) for s, _, a, b in parts]
        )
        self.offset = _concat([_pick(s.cache.array("offset"), s.rows, a, b) for s, _, a, b in parts])
        self.columns: dict[str, np.ndarray] | None = None
        spec = column_spec(self.schema)
        if spec is not None:
            self.columns = {}
            for f in spec:
                pieces = []
                for stream, remap, a, b in parts:
                    values = _pick(stream.cache.columns(self.schema)[f.name], stream.local, a, b)
                    pieces.append(remap[f.name][values] if f.name in remap else values)
                self.columns[f.name] = _concat(pieces)
        else:
            self.events = [
                CODEC.decode(v)[1]
                for s, _, a, b in parts
                for v in s.cache.values(np.arange(a, b) if s.rows is None else s.rows[a:b])
            ]

    def take(self, rows: slice | np.ndarray) -> EventBatch:
        if self.columns is None:
            picked = [self.events[i] for i in np.arange(len(self.events))[rows].tolist()]
            batch = EventBatch.from_records(self.schema, self.topic, picked)
            return replace(batch, partition=self.partition[rows], offset=self.offset[rows])
        return EventBatch(
            self.schema,
            self.topic,
            {n: c[rows] for n, c in self.columns.items()},
            self.categories,
            self.partition[rows],
            self.offset[rows],
        )


def _pick(values: np.ndarray, index: np.ndarray | None, start: int, stop: int) -> np.ndarray:
    return values[start:stop] if index is None else values[index[start:stop]]


def _concat(pieces: list[np.ndarray]) -> np.ndarray:
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
