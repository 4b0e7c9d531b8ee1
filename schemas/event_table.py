"""`EventTable`: events of one schema as columns, in the causal order of the batch that made them.

What the execution engine produces for a batch, per event type: one numpy array per Avro field,
in schema field order, plus ``sequence`` — each row's position in the batch's causal order, so
the event types can be interleaved back into the order they happened (`merge_records`).

Storage, by field: id fields (``id``, ``order_id``, ``intent_id``) are fixed-width ``S32`` byte
arrays when every value is a 32-character ASCII id (Tape's own), or the ids' 128-bit numbers
(`ID_LANES`, written out as text when read) where the engine derived them with arrays, other strings and enums are
dictionary-coded like `EventBatch` (``int32`` codes into ``categories[field]``, -1 for null),
doubles are float arrays (NaN for the null of a nullable double), longs int64, anything else
(maps, arrays) an object array. A column may also be computed when first read (`Columns`): the
columnar engine defers what a backtest's metrics do not read (ids, reports, positions), and a
concatenated table joins each column when it is read. A backtest concatenates tables and turns them
into DataFrames (strings as pandas' ``str`` dtype) without ever building a dict per event; the live
service turns them into records for its sinks.

Examples
--------
>>> fills = [{"id": "0" * 32, "order_id": "1" * 32, "strategy_id": "s", "account_id": "a",
...           "instrument": "X", "side": "BUY", "quantity": 2.0, "price": 10.0, "commission": 0.0,
...           "liquidity": "TAKER", "ts_event": 5, "ts_init": 6}]
>>> table = EventTable.from_records("Fill", fills, sequence=[0])
>>> table.columns["id"].dtype, table.categories["side"], table.to_records() == fills
(dtype('S32'), ('BUY',), True)
>>> built = EventTable.build("Fill", [0], id=table.columns["id"], order_id=table.columns["order_id"],
...     strategy_id="s", account_id="a", instrument="X", side=Coded(np.array([1]), ("SELL", "BUY")),
...     quantity=np.array([2.0]), price=np.array([10.0]), commission=np.array([0.0]),
...     liquidity="TAKER", ts_event=np.array([5]), ts_init=np.array([6]))
>>> built.to_records() == fills
True
>>> frame = EventTable.concat("Fill", [table, built]).to_frame()
>>> len(frame), str(frame["id"].dtype), frame["side"].tolist()
(2, 'str', ['BUY', 'BUY'])
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from schemas.codec import CODEC

ID_FIELDS = frozenset({"id", "order_id", "intent_id"})
_ID_WIDTH = 32


#: Ids as numbers: each id's two 64-bit lanes (NumPy joins such arrays in this native byte order).
ID_LANES = np.dtype([("hi", np.uint64), ("lo", np.uint64)])
#: The lanes big-endian: an id's 16 bytes in this layout, written in hex, are the id.
_ID_WORDS = np.dtype([("hi", ">u8"), ("lo", ">u8")])


def id_lanes(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Lanes as one `ID_LANES` array: ids kept as numbers until they are read as text (`id_text`),
    which a backtest that only reads its metrics never does."""
    ids = np.empty(len(hi), ID_LANES)
    ids["hi"], ids["lo"] = hi, lo
    return ids


def id_text(ids: np.ndarray) -> np.ndarray:
    """An `ID_LANES` array as a fixed-width ``S32`` array of 32-hex-digit ids (ASCII bytes, the form
    `operators.execution.ids` gives)."""
    words = np.ascontiguousarray(ids, dtype=_ID_WORDS)
    return np.frombuffer(words.tobytes().hex().encode("ascii"), dtype="S32")


class Coded(NamedTuple):
    """A dictionary-coded string column: ``codes`` (-1 for null) into ``categories``; ``codes`` may
    be a function that returns them (`Columns`)."""

    codes: np.ndarray | Callable[[], np.ndarray]
    categories: tuple[str, ...]


class Columns(Mapping[str, np.ndarray]):
    """A table's columns by name, each an array or a function that computes it when first read.

    The columnar engine derives columns a backtest may never read (ids, the reports' and positions'
    fields) this way: reading the fills' prices never derives the orders' ids. The functions must
    depend only on arrays nobody changes. Pickled, the columns are a plain dict of arrays.

    >>> computed = []
    >>> columns = Columns({"a": np.arange(2), "b": lambda: computed.append("b") or np.zeros(2)})
    >>> columns["a"].tolist(), computed
    ([0, 1], [])
    >>> columns["b"].tolist(), columns["b"].tolist(), computed
    ([0.0, 0.0], [0.0, 0.0], ['b'])
    """

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, np.ndarray | Callable[[], np.ndarray]]):
        self._values = values

    def __getitem__(self, name: str) -> np.ndarray:
        value = self._values[name]
        if callable(value):
            value = self._values[name] = value()
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __reduce__(self):
        return dict, (dict(self.items()),)


@cache
def fields(schema: str) -> tuple[str, ...]:
    """The field names of ``schema`` in order."""
    return tuple(f["name"] for f in CODEC.schema(schema)["fields"])


@cache
def _kinds(schema: str) -> dict[str, str]:
    """Each field's storage: "id", "string", "double", "nullable double", "long", "boolean" or "object"."""
    kinds = {}
    for f in CODEC.schema(schema)["fields"]:
        kind = f["type"]
        members = sorted(map(str, kind)) if isinstance(kind, list) else None
        if f["name"] in ID_FIELDS:
            kinds[f["name"]] = "id"
        elif kind == "string" or (isinstance(kind, dict) and kind.get("type") == "enum"):
            kinds[f["name"]] = "string"
        elif members == ["null", "string"]:
            kinds[f["name"]] = "string"
        elif members == ["double", "null"]:
            kinds[f["name"]] = "nullable double"
        elif kind in ("double", "float"):
            kinds[f["name"]] = "double"
        elif kind in ("long", "int"):
            kinds[f["name"]] = "long"
        elif kind == "boolean":
            kinds[f["name"]] = "boolean"
        else:
            kinds[f["name"]] = "object"
    return kinds


def _repeated(value: object, n: int) -> np.ndarray:
    """``value`` ``n`` times as a read-only view of one value (a constant column takes no memory)."""
    one = np.asarray(value)
    if one.dtype.hasobject:  # no buffer to view: NumPy's own (slower) broadcast
        return np.broadcast_to(one, (n,))
    view = np.ndarray((n,), one.dtype, one, 0, (0,))
    view.flags.writeable = False
    return view


def _objects(values: Sequence) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def _coded(values: Sequence) -> Coded:
    if len(values) and values[0] is not None and values.count(values[0]) == len(values):
        return Coded(_repeated(np.int32(0), len(values)), (values[0],))  # one value (count is C-fast)
    categories = tuple(dict.fromkeys(values))
    index = {value: code for code, value in enumerate(v for v in categories if v is not None)}
    index[None] = -1
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int32, count=len(values))
    return Coded(codes, tuple(v for v in categories if v is not None))


def _column(kind: str, values: list) -> np.ndarray | Coded:
    if kind == "id":
        if all(isinstance(v, str) and len(v) == _ID_WIDTH and v.isascii() for v in values):
            return np.array(values, dtype=f"S{_ID_WIDTH}")
        return _objects(values)
    if kind == "string":
        return _coded(values)
    if kind == "nullable double":
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if kind == "double":
        return np.array(values, dtype=np.float64)
    if kind == "long":
        return np.array(values, dtype=np.int64)
    if kind == "boolean":
        return np.array(values, dtype=bool)
    return _objects(values)


def _id_bytes(column: np.ndarray) -> np.ndarray:
    """An id column with ids kept as numbers (`ID_LANES`) written out as ``S32`` text."""
    return id_text(column) if column.dtype == ID_LANES else column


def _decoded_ids(column: np.ndarray) -> np.ndarray:
    column = _id_bytes(column)
    return column.astype("U").astype(object) if column.dtype.kind == "S" else column


def _arrow_ids(column: np.ndarray) -> pa.Array:
    column = _id_bytes(column)
    if column.dtype.kind == "S" and column.dtype.itemsize == _ID_WIDTH and _ID_WIDTH * len(column) < 2**31:
        data = np.ascontiguousarray(column).tobytes()
        offsets = np.arange(0, _ID_WIDTH * (len(column) + 1), _ID_WIDTH, dtype=np.int32)
        return pa.StringArray.from_buffers(len(column), pa.py_buffer(offsets), pa.py_buffer(data))
    return pa.array(column.tolist(), pa.string())


def _arrow_coded(codes: np.ndarray, categories: tuple[str, ...]) -> pa.Array:
    constant = len(categories) == 1 and len(categories[0].encode()) * len(codes) < 2**31
    if constant and not np.any(codes < 0):  # lay the bytes out directly
        value = categories[0].encode()
        offsets = np.arange(len(codes) + 1, dtype=np.int32) * np.int32(len(value))
        return pa.StringArray.from_buffers(
            len(codes), pa.py_buffer(offsets), pa.py_buffer(value * len(codes))
        )
    indices = pa.array(codes, mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(categories, pa.string())).cast(pa.string())


@dataclass(frozen=True, slots=True)
class EventTable:
    """Events of one schema as columns (see the module docstring)."""

    schema: str
    columns: Mapping[str, np.ndarray]
    sequence: np.ndarray
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.sequence)

    @classmethod
    def build(cls, schema: str, sequence: np.ndarray | Sequence[int], **values: object) -> EventTable:
        """A table from one value per field: an array, a function computing one when first read (see
        `Columns`), a `Coded` column, or one str/float/int for every row (kept as one value, see
        `_repeated`)."""
        missing = [name for name in fields(schema) if name not in values]
        unknown = sorted(set(values) - set(fields(schema)))
        if missing or unknown:
            raise ValueError(
                f"EventTable.build({schema}): missing fields {missing}, unknown fields {unknown}"
            )
        sequence = np.asarray(sequence, dtype=np.int64)
        n = len(sequence)
        columns: dict[str, np.ndarray] = {}
        categories: dict[str, tuple[str, ...]] = {}
        kinds = _kinds(schema)
        deferred = False
        for name in fields(schema):
            value = values[name]
            if isinstance(value, Coded):
                codes = value.codes
                deferred |= callable(codes)
                columns[name] = codes if callable(codes) else codes.astype(np.int32, copy=False)
                categories[name] = value.categories
            elif callable(value):
                columns[name], deferred = value, True
            elif kinds[name] == "string" and isinstance(value, str):
                columns[name], categories[name] = _repeated(np.int32(0), n), (value,)
            elif kinds[name] == "string":
                columns[name], categories[name] = _coded(list(value))
            elif isinstance(value, np.ndarray):
                columns[name] = value
            else:
                columns[name] = _repeated(value, n)
        return cls(schema, Columns(columns) if deferred else columns, sequence, categories)

    @classmethod
    def from_records(cls, schema: str, records: Sequence[dict], sequence: Sequence[int]) -> EventTable:
        """Build a table from Avro-form dicts of ``schema`` at positions ``sequence`` of their batch."""
        kinds = _kinds(schema)
        values = {name: _column(kinds[name], [r[name] for r in records]) for name in fields(schema)}
        return cls.build(schema, sequence, **values)

    @classmethod
    def concat(cls, schema: str, tables: Sequence[EventTable]) -> EventTable:
        """One table of ``tables`` in order (their sequences are kept as they are)."""
        tables = [t for t in tables if len(t)]
        kinds = _kinds(schema)
        if not tables:
            empty = {
                name: Coded(np.empty(0, np.int32), ()) if kinds[name] == "string" else np.empty(0)
                for name in fields(schema)
            }
            return cls.build(schema, [], **empty)
        columns: dict[str, Callable[[], np.ndarray]] = {}
        categories = {}
        parts = [t.columns for t in tables]
        for name in fields(schema):  # each column joined when first read
            if name in tables[0].categories:
                categories[name], recodings = _merged_categories([t.categories[name] for t in tables])
                columns[name] = partial(_joined_codes, parts, name, recodings)
            else:
                columns[name] = partial(_joined_column, parts, name)
        return cls(schema, Columns(columns), np.concatenate([t.sequence for t in tables]), categories)

    def array(self, name: str) -> np.ndarray:
        """Column ``name`` as one array: strings decoded to an object array (null strings None)."""
        column = self.columns[name]
        if name in self.categories:
            return np.array([*self.categories[name], None], dtype=object)[column]  # -1 picks the None
        return _decoded_ids(column)

    def values(self, name: str) -> list:
        """Column ``name`` as a list of Python values (strings decoded, null strings None)."""
        return self.array(name).tolist()

    def to_records(self) -> list[dict]:
        """The rows as Avro-form dicts (ids decoded to str, NaN of nullable doubles to None)."""
        kinds = _kinds(self.schema)
        decoded = []
        for name in self.columns:
            values = self.values(name)
            if kinds[name] == "nullable double":
                values = [None if v != v else v for v in values]
            decoded.append(values)
        names = list(self.columns)
        return [dict(zip(names, row, strict=True)) for row in zip(*decoded, strict=True)]

    def to_arrow(self) -> pa.Table:
        """An Arrow table with one column per field: coded strings as dictionary arrays (Parquet writes
        their dictionary as it is), ids as strings, NaN of doubles as null (as pandas converts them)."""
        data = {}
        for name, column in self.columns.items():
            if name in self.categories:
                categories = pa.array(self.categories[name], pa.string())
                data[name] = pa.DictionaryArray.from_arrays(pa.array(column, mask=column < 0), categories)
            elif _kinds(self.schema)[name] == "id":
                data[name] = _arrow_ids(column)
            elif column.dtype == object:
                data[name] = pa.array(column.tolist())
            else:
                data[name] = pa.array(column, from_pandas=True)
        return pa.table(data)

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame with one column per field; strings as pandas' ``str`` dtype."""
        data = {}
        for name, column in self.columns.items():
            if name in self.categories:
                data[name] = pd.Series(_arrow_coded(column, self.categories[name]), dtype="str")
            elif _kinds(self.schema)[name] == "id":
                data[name] = pd.Series(_arrow_ids(column), dtype="str")
            else:
                data[name] = column
        return pd.DataFrame(data, columns=list(fields(self.schema)))


def _merged_categories(
    categories: list[tuple[str, ...]],
) -> tuple[tuple[str, ...], list[np.ndarray] | None]:
    """One dictionary for several coded parts (first-seen order), and for each part the array that
    maps its codes onto it (its last entry, -1, keeps null); None when the parts share one already."""
    if all(values == categories[0] for values in categories):
        return categories[0], None
    merged: dict[str, int] = {}
    for values in categories:
        for value in values:
            merged.setdefault(value, len(merged))
    recodings = [np.array([*(merged[v] for v in values), -1], dtype=np.int32) for values in categories]
    return tuple(merged), recodings


def _joined_codes(
    parts: list[Mapping[str, np.ndarray]], name: str, recodings: list[np.ndarray] | None
) -> np.ndarray:
    if recodings is None:
        return np.concatenate([part[name] for part in parts])
    return np.concatenate([recoding[part[name]] for part, recoding in zip(parts, recodings, strict=True)])


def _joined_column(parts: list[Mapping[str, np.ndarray]], name: str) -> np.ndarray:
    columns = [part[name] for part in parts]
    if len({column.dtype for column in columns}) > 1:  # ids as text and as numbers
        columns = [_id_bytes(column) for column in columns]
        if len({column.dtype for column in columns}) > 1:
            columns = [_decoded_ids(column) for column in columns]
    return np.concatenate(columns)


def merge_records(tables: Mapping[str, EventTable]) -> list[tuple[str, dict]]:
    """The events of several tables of one batch as ``(schema, record)`` in their causal order."""
    streams = [
        [
            (position, schema, record)
            for position, record in zip(table.sequence.tolist(), table.to_records(), strict=True)
        ]
        for schema, table in tables.items()
        if len(table)
    ]
    return [(schema, record) for _, schema, record in heapq.merge(*streams, key=lambda item: item[0])]


def tables_of(events: Sequence[tuple[str, dict]]) -> dict[str, EventTable]:
    """Group ``(schema, record)`` events into one table per schema, remembering their positions."""
    grouped: dict[str, tuple[list[dict], list[int]]] = {}
    for position, (schema, record) in enumerate(events):
        records, positions = grouped.setdefault(schema, ([], []))
        records.append(record)
        positions.append(position)
    return {
        schema: EventTable.from_records(schema, records, positions)
        for schema, (records, positions) in grouped.items()
    }
