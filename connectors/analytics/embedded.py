"""`EmbeddedStore`: the default store, Parquet parts on disk queried through chDB views.

Writers need no database: `insert` writes one atomic part per month partition (`parts`). Each
reader opens its own in-memory chDB session through clickhouse-connect and defines, in a database of
its own, a view per table over the table's part files (``file('<root>/<table>/*/*.parquet')``)
that keeps one row per key (``LIMIT 1 BY``). chDB lets one process own a data path; nothing here
holds one, so the dashboard, notebooks and the analytics service all read while services write.

Examples
--------
>>> import tempfile
>>> store = EmbeddedStore(Path(tempfile.mkdtemp()))
>>> row = {"run_id": "r1", "ts_event": 0, "equity": 100.0, "cash": 100.0, "gross_exposure": 0.0}
>>> store.insert("equity", [row]), store.insert("equity", [row])  # the same row twice
(1, 1)
>>> int(store.query("SELECT count() AS n FROM equity")["n"][0])
1
>>> store.close()
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import clickhouse_connect
import numpy as np
import pandas as pd
import pyarrow as pa

from connectors.analytics.parts import compact_partition, write_part
from connectors.analytics.rows import Rows, to_arrow
from connectors.analytics.store import AnalyticsStore, query_frame, table_of
from connectors.analytics.tables import TABLES, Table

#: Errors a query meets when compaction removed a part it had listed; the query is retried.
_VANISHED = ("FILE_DOESNT_EXIST", "CANNOT_OPEN_FILE", "No such file", "CANNOT_STAT")
QUERY_ATTEMPTS = 8


def view_statement(database: str, root: Path, table: Table) -> str:
    """The view over ``table``'s parts, one row per key."""
    pattern = str(root / table.name / "*" / "*.parquet").replace("\\", "\\\\").replace("'", "\\'")
    key = ", ".join(f"`{c}`" for c in table.key)
    return (
        f"CREATE OR REPLACE VIEW {database}.{table.name} AS SELECT * FROM "
        f"file('{pattern}', Parquet, '{table.structure}') LIMIT 1 BY {key}"
    )


class EmbeddedStore(AnalyticsStore):
    """Parquet parts under ``root`` (one directory per table and month), read by chDB views.

    Parameters
    ----------
    root
        The data directory (created if missing), e.g. ``var/analytics``.
    """

    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self.database = "tape_" + hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
        self._client: Any = None
        self._admin: Any = None

    def __repr__(self) -> str:
        return f"EmbeddedStore({str(self.root)!r})"

    def insert(self, table: str, rows: Rows) -> int:
        spec = table_of(table)
        arrow = to_arrow(spec, rows)
        if arrow.num_rows == 0:
            return 0
        months = spec.partition_of(arrow.column(spec.time).to_numpy())
        for month in np.unique(months):
            part = (
                arrow
                if len(months) == 1 or (months == month).all()
                else arrow.filter(pa.array(months == month))
            )
            write_part(self.root / spec.name / str(month), part)
        return arrow.num_rows

    def _session(self) -> Any:
        if self._client is None:
            admin = clickhouse_connect.get_client(dsn="chdb://memory")
            admin.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
            for spec in TABLES.values():
                admin.command(view_statement(self.database, self.root, spec))
            self._client = clickhouse_connect.get_client(dsn=f"chdb://memory/{self.database}")
            self._admin = admin  # the engine (and the views) live while a client is open
        return self._client

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> pd.DataFrame:
        client = self._session()
        attempt = 0
        while True:
            try:
                return query_frame(client, sql, parameters, {})
            except Exception as e:  # clickhouse-connect wraps engine errors in several types
                attempt += 1
                if attempt == QUERY_ATTEMPTS or not any(marker in str(e) for marker in _VANISHED):
                    raise
                time.sleep(0.01 * attempt)

    def compact(self) -> int:
        merged = 0
        for spec in TABLES.values():
            directory = self.root / spec.name
            if directory.is_dir():
                for partition in sorted(p for p in directory.iterdir() if p.is_dir()):
                    merged += compact_partition(spec, partition)
        return merged

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._admin.close()
            self._client = self._admin = None
