"""Which schemas have a columnar cache, and the sink that turns their events into ``.npy`` columns.

A schema is columnar when every field is a boolean, int, long, float, double, string or enum (no
logical type), or a nullable double (``["null", "double"]``, null stored as NaN). Strings are
dictionary-coded (int32 codes into a sorted list of categories per partition); enums are int32 codes
into their symbols, which serve as the categories.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from connectors.tape_archive.storage import NpyAppender
from schemas.codec import CODEC

_PRIMITIVES = {
    "boolean": np.bool_,
    "int": np.int32,
    "long": np.int64,
    "float": np.float32,
    "double": np.float64,
}
_FLUSH_ROWS = 8192


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one Avro field is stored as a column: ``kind`` is a primitive name, ``string``, ``enum`` or
    ``nullable_double``; ``symbols`` are an enum's symbols."""

    name: str
    kind: str
    dtype: np.dtype
    symbols: tuple[str, ...] = ()

    @property
    def coded(self) -> bool:
        """Whether the column holds int32 codes into categories."""
        return self.kind in ("string", "enum")


def _field_spec(field: dict[str, Any]) -> FieldSpec | None:
    kind = field["type"]
    if isinstance(kind, list):
        if sorted(kind) == ["double", "null"]:
            return FieldSpec(field["name"], "nullable_double", np.dtype(np.float64))
        return None
    if isinstance(kind, dict):
        if kind.get("type") == "enum":
            return FieldSpec(field["name"], "enum", np.dtype(np.int32), tuple(kind["symbols"]))
        if "logicalType" in kind or kind.get("type") not in _PRIMITIVES and kind.get("type") != "string":
            return None
        kind = kind["type"]
    if kind == "string":
        return FieldSpec(field["name"], "string", np.dtype(np.int32))
    if kind in _PRIMITIVES:
        return FieldSpec(field["name"], kind, np.dtype(_PRIMITIVES[kind]))
    return None


@cache
def column_spec(schema: str) -> tuple[FieldSpec, ...] | None:
    """The column layout of ``schema``, or None when it is not columnar.

    Examples
    --------
    >>> [f.kind for f in column_spec("Bar")][:3]
    ['string', 'long', 'double']
    """
    specs = [_field_spec(f) for f in CODEC.schema(schema)["fields"]]
    if any(s is None for s in specs):
        return None
    return tuple(specs)


class ColumnSink:
    """Collects the events of one columnar schema in one partition and writes ``<field>.npy`` files.

    Feed it decoded records (`add_record`) or column chunks (`add_columns`); memory stays bounded.
    `close` returns the categories of the coded fields.
    """

    def __init__(self, folder: Path, schema: str):
        spec = column_spec(schema)
        if spec is None:
            raise ValueError(f"schema {schema} is not columnar")
        folder.mkdir(parents=True, exist_ok=True)
        self.spec = spec
        self._out = {f.name: NpyAppender(folder / f"{f.name}.npy", f.dtype) for f in spec}
        self._codes: dict[str, dict[str, int]] = {
            f.name: {s: i for i, s in enumerate(f.symbols)} for f in spec if f.coded
        }
        self._rows: list[dict] = []

    def add_record(self, record: dict) -> None:
        """Add one decoded event."""
        self._rows.append(record)
        if len(self._rows) >= _FLUSH_ROWS:
            self._flush_rows()

    def add_columns(self, columns: dict[str, np.ndarray], categories: dict[str, tuple[str, ...]]) -> None:
        """Add a chunk of events given as columns (coded fields as codes into ``categories``)."""
        self._flush_rows()
        for f in self.spec:
            values = np.asarray(columns[f.name])
            if f.coded:
                values = self._recode(f, categories[f.name], values)
            self._out[f.name].append(values)

    def _recode(self, f: FieldSpec, categories: tuple[str, ...], values: np.ndarray) -> np.ndarray:
        """``values`` (codes into ``categories``) as this sink's codes; only used categories are added."""
        codes = self._codes[f.name]
        mapping = np.full(len(categories), -1, dtype=np.int32)
        for used in np.unique(values).tolist():
            if f.kind == "enum" and categories[used] not in codes:
                raise ValueError(f"field {f.name}: {categories[used]!r} is not a symbol of the enum")
            mapping[used] = codes.setdefault(categories[used], len(codes))
        return mapping[values]

    def _flush_rows(self) -> None:
        if not self._rows:
            return
        for f in self.spec:
            values = [r[f.name] for r in self._rows]
            if f.coded:
                codes = self._codes[f.name]
                array = np.asarray([codes.setdefault(v, len(codes)) for v in values], dtype=np.int32)
            elif f.kind == "nullable_double":
                array = np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
            else:
                array = np.asarray(values, dtype=f.dtype)
            self._out[f.name].append(array)
        self._rows.clear()

    def close(self) -> dict[str, list[str]]:
        """Write the column files; string codes are re-coded to sorted categories."""
        self._flush_rows()
        categories: dict[str, list[str]] = {}
        for f in self.spec:
            remap = None
            if f.kind == "string":
                values = list(self._codes[f.name])
                ranks = np.argsort(np.argsort(np.asarray(values, dtype=object))).astype(np.int32)
                remap = ranks if len(values) else None
                categories[f.name] = sorted(values)
            elif f.kind == "enum":
                categories[f.name] = list(f.symbols)
            self._out[f.name].close(remap)
        return categories
