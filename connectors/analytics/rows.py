"""Rows → Arrow tables in a table's exact schema: the one conversion both backends insert.

Examples
--------
>>> from connectors.analytics.tables import TABLES
>>> rows = [{"run_id": "r1", "ts_event": 60, "equity": 1e6, "cash": 1e6, "gross_exposure": 0.0}]
>>> to_arrow(TABLES["equity"], rows).num_rows
1
>>> to_arrow(TABLES["equity"], [{"run_id": "r1"}])
Traceback (most recent call last):
...
connectors.analytics.errors.AnalyticsError: equity: rows lack the columns ['cash', 'equity', 'gross_exposure', 'ts_event']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from connectors.analytics.errors import AnalyticsError
from connectors.analytics.tables import Table

Rows = pd.DataFrame | Sequence[dict[str, Any]]


def to_arrow(table: Table, rows: Rows) -> pa.Table:
    """``rows`` (a DataFrame or a list of dicts) as an Arrow table with ``table``'s schema.

    Nullable columns may be absent (they become nulls); any other missing column, or a column the
    table does not have, raises `AnalyticsError` naming them.
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(list(rows))
    schema = table.arrow_schema
    present = set(frame.columns) if len(frame.columns) or len(frame) else set(table.column_names)
    missing = sorted(f.name for f in schema if f.name not in present and not f.nullable)
    extra = sorted(str(c) for c in present - set(table.column_names))
    if missing:
        raise AnalyticsError(f"{table.name}: rows lack the columns {missing}")
    if extra:
        raise AnalyticsError(f"{table.name}: rows have columns the table does not: {extra}")
    arrays = []
    for field in schema:
        values = frame[field.name] if field.name in frame.columns else [None] * len(frame)
        arrays.append(_array(table, field, values))
    return pa.Table.from_arrays(arrays, schema=schema)


def _array(table: Table, field: pa.Field, values: Any) -> pa.Array:
    if isinstance(values, pd.Series):
        values = values.astype(object).where(values.notna(), None) if field.nullable else values
        values = (
            values.tolist() if pa.types.is_map(field.type) or values.dtype == object else values.to_numpy()
        )
    try:
        return pa.array(values, type=field.type, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as e:
        raise AnalyticsError(f"{table.name}.{field.name}: values are not {field.type}: {e}") from e
