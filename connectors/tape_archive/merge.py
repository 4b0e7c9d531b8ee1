"""Chunked k-way merge of sorted sources into one event-time order, with bounded memory.

Each source is a sequence already sorted by ``(ts_event, offset)`` that belongs to one ``(topic,
partition)``, ranked by ``rank`` (the sort position of ``(topic, partition)``). The merge yields the
global order by ``(ts_event, rank, offset)`` one chunk at a time; a chunk looks at most ``window``
rows ahead in each source, so memory is ``O(sources × window)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class MergeSource:
    """A sorted run: ``ts`` and ``offset`` in merge order, ``rank`` of its (topic, partition)."""

    ts: np.ndarray
    offset: np.ndarray
    rank: int


@dataclass(frozen=True, slots=True)
class MergeChunk:
    """One merged chunk: ``parts`` are ``(source, start, stop)`` slices, concatenated in that order;
    ``order`` permutes the concatenation into merge order (None: the concatenation already is)."""

    parts: list[tuple[int, int, int]]
    order: np.ndarray | None


def merged_chunks(sources: Sequence[MergeSource], window: int) -> Iterator[MergeChunk]:
    """Merge ``sources`` chunk by chunk.

    Examples
    --------
    >>> a = MergeSource(np.array([1, 3, 5]), np.array([0, 1, 2]), rank=0)
    >>> b = MergeSource(np.array([2, 3, 4]), np.array([0, 1, 2]), rank=1)
    >>> [(c.parts, c.order.tolist()) for c in merged_chunks([a, b], window=8)]
    [([(0, 0, 3), (1, 0, 3)], [0, 3, 1, 4, 5, 2])]
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, was {window}")
    cursors = [0] * len(sources)
    while True:
        active = [i for i, s in enumerate(sources) if cursors[i] < len(s.ts)]
        if not active:
            return
        stops = {i: min(len(sources[i].ts), cursors[i] + window) for i in active}
        limited = [i for i in active if stops[i] < len(sources[i].ts)]
        if limited:
            bound = min(_key(sources[i], stops[i] - 1) for i in limited)
            stops = {i: _cut(sources[i], cursors[i], stops[i], bound) for i in active}
        parts = [(i, cursors[i], stops[i]) for i in active if stops[i] > cursors[i]]
        for i, _, stop in parts:
            cursors[i] = stop
        yield MergeChunk(parts, _order(sources, parts))


def _key(source: MergeSource, row: int) -> tuple[int, int, int]:
    return int(source.ts[row]), source.rank, int(source.offset[row])


def _cut(source: MergeSource, start: int, stop: int, bound: tuple[int, int, int]) -> int:
    """The end of the rows in ``[start, stop)`` whose key is <= ``bound``."""
    ts, rank, offset = bound
    window = source.ts[start:stop]
    if source.rank < rank:
        return start + int(np.searchsorted(window, ts, "right"))
    if source.rank > rank:
        return start + int(np.searchsorted(window, ts, "left"))
    low, high = np.searchsorted(window, ts, "left"), np.searchsorted(window, ts, "right")
    return start + int(low + np.searchsorted(source.offset[start + low : start + high], offset, "right"))


def _order(sources: Sequence[MergeSource], parts: list[tuple[int, int, int]]) -> np.ndarray | None:
    if len(parts) == 1:
        return None
    ts = np.concatenate([sources[i].ts[a:b] for i, a, b in parts])
    ranks = [sources[i].rank for i, _, _ in parts]
    if all(r < s for r, s in zip(ranks, ranks[1:], strict=False)):
        return np.argsort(ts, kind="stable")  # runs are in rank order and offset-sorted on ties
    rank = np.concatenate([np.full(b - a, sources[i].rank) for i, a, b in parts])
    offset = np.concatenate([sources[i].offset[a:b] for i, a, b in parts])
    return np.lexsort((offset, rank, ts))
