"""`AnalyticsStore`: the interface both backends implement, and `open_store` that picks one.

A location that is a directory opens the embedded store (`EmbeddedStore`: Parquet parts read by
chDB, any number of reader processes); ``http(s)://…`` opens a ClickHouse server and
``chdb:///path`` an embedded chDB data directory with the server's MergeTree tables (one process
only; used to run the server code path without a server). Queries name the tables (``FROM fills``)
and run unchanged on every backend; duplicates by key never show.

Examples
--------
>>> import tempfile
>>> store = open_store(tempfile.mkdtemp())
>>> store.insert("equity", [{"run_id": "r1", "ts_event": 0, "equity": 100.0, "cash": 100.0, "gross_exposure": 0.0}])
1
>>> store.query("SELECT run_id, equity FROM equity").to_dict("records")
[{'run_id': 'r1', 'equity': 100.0}]
>>> store.close()
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import pandas as pd

from connectors.analytics.errors import AnalyticsError
from connectors.analytics.rows import Rows
from connectors.analytics.tables import TABLES, Table

SERVER_SCHEMES = ("http://", "https://", "chdb://")


class AnalyticsStore(ABC):
    """Tables of events, runs and metrics; insert rows, query with ClickHouse SQL."""

    @abstractmethod
    def insert(self, table: str, rows: Rows) -> int:
        """Write ``rows`` (DataFrame or list of dicts with the table's columns) durably; return the count."""

    @abstractmethod
    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run ``sql`` (ClickHouse dialect, ``{name:Type}`` parameters) and return the result."""

    def tables(self) -> list[str]:
        """The table names (the same on every backend)."""
        return list(TABLES)

    @abstractmethod
    def compact(self) -> int:
        """Merge small parts (MergeTree-style); return how many parts were merged."""

    @abstractmethod
    def close(self) -> None:
        """Release the store's sessions and clients."""

    def __enter__(self) -> AnalyticsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_EMPTY_DTYPES = {"Int64": "int64", "Int32": "int32", "UInt64": "uint64", "Float64": "float64", "Bool": "bool"}


def query_frame(
    client: Any, sql: str, parameters: dict[str, Any] | None, settings: dict[str, Any]
) -> pd.DataFrame:
    """``client.query_df``, except that an empty result keeps its columns (chDB returns none)."""
    frame = client.query_df(sql, parameters=parameters, settings=settings)
    if len(frame.columns) or len(frame):
        return frame
    described = client.query(f"DESCRIBE ({sql})", parameters=parameters, settings=settings).result_rows
    return pd.DataFrame(
        {
            row[0]: pd.Series(
                dtype=_EMPTY_DTYPES.get(row[1].removeprefix("LowCardinality(").rstrip(")"), "object")
            )
            for row in described
        }
    )


def table_of(name: str) -> Table:
    """The `Table` called ``name``, or an `AnalyticsError` listing the known ones."""
    try:
        return TABLES[name]
    except KeyError:
        raise AnalyticsError(f"unknown analytics table {name!r}; known: {', '.join(TABLES)}") from None


def open_store(location: str | Path) -> AnalyticsStore:
    """The store at ``location``: a directory (embedded), ``http(s)://…`` (server) or ``chdb:///path``."""
    text = str(location)
    if text.startswith(SERVER_SCHEMES):
        from connectors.analytics.server import ServerStore

        return ServerStore.connect(text)
    if "://" in text:
        raise AnalyticsError(f"store location {text!r}: expected a directory, http(s)://… or chdb:///…")
    from connectors.analytics.embedded import EmbeddedStore

    return EmbeddedStore(Path(location))
