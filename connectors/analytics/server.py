"""`ServerStore`: the analytics tables as ReplacingMergeTree tables of a ClickHouse server.

Tables are created with the DDL of `connectors.analytics.tables.create_statement` (the same text as
``deploy/clickhouse/<table>.sql``). Duplicates by key can arrive (a replayed epoch); every query
runs with the ``final`` setting, so each key shows once whatever the merge state. ``chdb:///path``
runs the same code on an embedded chDB data directory (one process may open it).

Examples
--------
>>> store = ServerStore.connect("chdb://memory/server_doc")
>>> row = {"run_id": "r1", "ts_event": 0, "equity": 100.0, "cash": 100.0, "gross_exposure": 0.0}
>>> store.insert("equity", [row]), store.insert("equity", [row])
(1, 1)
>>> int(store.query("SELECT count() AS n FROM equity")["n"][0])
1
"""

from __future__ import annotations

from typing import Any

import clickhouse_connect
import pandas as pd

from connectors.analytics.errors import AnalyticsError
from connectors.analytics.rows import Rows, to_arrow
from connectors.analytics.store import AnalyticsStore, query_frame, table_of
from connectors.analytics.tables import TABLES, create_statement

#: Settings of every query: deduplicate ReplacingMergeTree rows at read time.
QUERY_SETTINGS = {"final": 1}


class ServerStore(AnalyticsStore):
    """The store on a clickhouse-connect client (HTTP server, or chDB for a local data path).

    Parameters
    ----------
    client
        A clickhouse-connect client whose current database holds (or will hold) the tables.
    """

    def __init__(self, client: Any):
        self._client = client
        for spec in TABLES.values():
            client.command(create_statement(spec))

    @classmethod
    def connect(cls, dsn: str) -> ServerStore:
        """Connect to ``http(s)://user:password@host:port/database`` or ``chdb:///path``."""
        if dsn.startswith("chdb://") and not dsn.startswith("chdb://memory"):
            database = None
        else:
            database = dsn.rsplit("/", 1)[1] if dsn.count("/") > 2 else None
        try:
            if database:
                admin = clickhouse_connect.get_client(dsn=dsn.rsplit("/", 1)[0])
                admin.command(f"CREATE DATABASE IF NOT EXISTS {database}")
            client = clickhouse_connect.get_client(dsn=dsn)
        except Exception as e:  # connection failures come in several types
            raise AnalyticsError(f"cannot open the analytics store {dsn}: {e}") from e
        return cls(client)

    def insert(self, table: str, rows: Rows) -> int:
        spec = table_of(table)
        arrow = to_arrow(spec, rows)
        if arrow.num_rows:
            self._client.insert_arrow(spec.name, arrow)
        return arrow.num_rows

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> pd.DataFrame:
        return query_frame(self._client, sql, parameters, QUERY_SETTINGS)

    def compact(self) -> int:
        for spec in TABLES.values():
            self._client.command(f"OPTIMIZE TABLE {spec.name} FINAL")
        return 0

    def close(self) -> None:
        self._client.close()
