"""`EventBatch`: events of one schema as columns, the unit that moves through Tape's hot path.

One numpy array per Avro field, all of the same length, in event-time order. String fields are
dictionary-coded: the column holds ``int32`` codes into ``categories[field]``. ``partition`` and
``offset`` keep each row's source coordinates (``-1`` where a row did not come from a log).
Nullable fields are stored as float arrays with NaN (doubles) or as object arrays (anything else).

Examples
--------
>>> rows = [{"instrument": "AAPL", "interval_ns": 60, "open": 1.0, "high": 2.0, "low": 0.5,
...          "close": 1.5, "volume": 10.0, "ts_event": 60, "ts_init": 61}]
>>> batch = EventBatch.from_records("Bar", "md.bar.1m", rows)
>>> len(batch), batch.columns["close"].tolist(), batch.strings("instrument").tolist()
(1, [1.5], ['AAPL'])
>>> batch.to_records() == rows
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=8)
def every_row(rows: int) -> np.ndarray:
    """``np.arange(rows)``, read-only and shared: the rows of a batch of one instrument, which every
    batch of a replay's fixed size would otherwise allocate afresh (twice, for strategy and engine)."""
    every = np.arange(rows)
    every.flags.writeable = False
    return every


@dataclass(frozen=True, slots=True)
class EventBatch:
    """A columnar batch of events of one schema from one topic."""

    schema: str
    topic: str
    columns: Mapping[str, np.ndarray]
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    partition: np.ndarray | None = None
    offset: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.columns["ts_event"])

    def strings(self, name: str) -> np.ndarray:
        """A dictionary-coded column decoded to an object array of str."""
        return np.asarray(self.categories[name], dtype=object)[self.columns[name]]

    def rows_by(self, name: str) -> dict[str, np.ndarray]:
        """The row indices (ascending) of each value of dictionary-coded column ``name`` present in the batch
        (not to be written to: one shared `every_row` range when every row has the same value).

        >>> rows = [{"instrument": i, "ts_event": t} for t, i in enumerate("ABA")]
        >>> {k: v.tolist() for k, v in EventBatch.from_records("Bar", "md", rows).rows_by("instrument").items()}
        {'A': [0, 2], 'B': [1]}
        """
        codes = self.columns[name]
        values = self.categories[name]
        if len(values) == 1 and len(codes):  # a dictionary of one value (a one-instrument tape)
            return {values[0]: every_row(len(codes))}
        if len(codes) and (codes == codes[0]).all():  # one value (a routed or one-instrument batch)
            return {values[codes[0]]: every_row(len(codes))}
        present = np.flatnonzero(np.bincount(codes, minlength=len(values)))
        if len(present) == 1:
            return {values[present[0]]: every_row(len(codes))}
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], present).tolist() + [len(order)]
        return {values[code]: order[bounds[i] : bounds[i + 1]] for i, code in enumerate(present.tolist())}

    def to_records(self) -> list[dict]:
        """The rows as plain dicts (the Avro record form), strings decoded."""
        decoded = {
            name: (self.strings(name) if name in self.categories else values).tolist()
            for name, values in self.columns.items()
        }
        names = list(decoded)
        return [dict(zip(names, row, strict=True)) for row in zip(*decoded.values(), strict=True)]

    @classmethod
    def from_records(cls, schema: str, topic: str, records: Sequence[dict]) -> EventBatch:
        """Build a batch from Avro-form dicts (all of one schema); str fields are dictionary-coded."""
        if not records:
            raise ValueError("from_records needs at least one record")
        columns: dict[str, np.ndarray] = {}
        categories: dict[str, tuple[str, ...]] = {}
        for name in records[0]:
            values = [r[name] for r in records]
            if isinstance(values[0], str):
                uniques, codes = np.unique(np.asarray(values, dtype=object), return_inverse=True)
                categories[name] = tuple(uniques.tolist())
                columns[name] = codes.astype(np.int32)
            else:
                columns[name] = np.asarray(values)
        return cls(schema, topic, columns, categories)

    def select(self, rows: np.ndarray | slice) -> EventBatch:
        """The rows picked by a boolean mask, index array or slice (categories are shared)."""
        return EventBatch(
            self.schema,
            self.topic,
            {name: values[rows] for name, values in self.columns.items()},
            self.categories,
            None if self.partition is None else self.partition[rows],
            None if self.offset is None else self.offset[rows],
        )


def merge_categories(batches: Sequence[EventBatch], name: str) -> tuple[tuple[str, ...], list[np.ndarray]]:
    """Re-code column ``name`` of several batches onto one shared, sorted dictionary."""
    values = sorted({v for b in batches for v in b.categories[name]})
    index: Mapping[str, int] = {v: i for i, v in enumerate(values)}
    recoded = [
        np.asarray([index[v] for v in b.categories[name]], dtype=np.int32)[b.columns[name]] for b in batches
    ]
    return tuple(values), recoded
