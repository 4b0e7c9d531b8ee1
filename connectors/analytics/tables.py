"""The analytics tables: one schema per table, used by both backends and the server DDL.

Event tables are derived from the ``.avsc`` files (`schemas.codec.CODEC`), so a column is spelled
exactly like its Avro field; every event table adds ``run_id``. The others (equity, runs,
dead_letters) are declared here. `create_statement` renders the ClickHouse server DDL that
``deploy/clickhouse/<table>.sql`` holds (a test checks the files match).

Deduplication key (`Table.key`): ``(run_id, id)`` for events with a deterministic ``id``,
``(run_id,)`` for runs, the source record and reason for dead letters, otherwise every column (an
identical row is the same fact). The embedded
store's views keep one row per key; the server's ReplacingMergeTree uses the key in its ORDER BY.

Examples
--------
>>> TABLES["fills"].key
('run_id', 'id')
>>> TABLES["bars"].column_type("close"), TABLES["orders"].column_type("limit_price")
('Float64', 'Nullable(Float64)')
>>> TABLES["bars"].partition_of([0, 2_678_400_000_000_000]).tolist()
[197001, 197002]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from schemas.codec import CODEC

#: Event table name → Avro schema name.
EVENT_TABLES = {
    "bars": "Bar",
    "targets": "TargetPosition",
    "orders": "Order",
    "reports": "ExecutionReport",
    "fills": "Fill",
    "positions": "Position",
    "pnl": "PnL",
    "risk_alerts": "RiskAlert",
    "predictions": "Prediction",
    "features": "Features",
    "controls": "Control",
    "model_metrics": "ModelMetric",
}

#: Columns whose few distinct values suit LowCardinality(String) on the server.
_LOW_CARDINALITY = {"instrument", "strategy_id", "account_id", "run_id", "model_id", "feature_set", "rule"}

#: Metrics of a `operators.performance.Metrics` that get their own column in ``runs``.
RUN_METRICS = {
    "total_return": "Float64",
    "annual_return": "Float64",
    "annual_volatility": "Float64",
    "sharpe": "Float64",
    "sortino": "Float64",
    "calmar": "Float64",
    "max_drawdown": "Float64",
    "win_rate": "Float64",
    "profit_factor": "Float64",
    "turnover": "Float64",
    "exposure": "Float64",
    "round_trips": "Int64",
    "fills": "Int64",
}

_PRIMITIVES = {"string": "String", "long": "Int64", "int": "Int32", "double": "Float64", "boolean": "Bool"}
_ARROW = {
    "String": pa.string(),
    "Int64": pa.int64(),
    "Int32": pa.int32(),
    "Float64": pa.float64(),
    "Bool": pa.bool_(),
    "Map(String, Float64)": pa.map_(pa.string(), pa.float64()),
    "Map(String, String)": pa.map_(pa.string(), pa.string()),
}
_NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class Table:
    """One analytics table.

    Parameters
    ----------
    name
        Table (and embedded view) name.
    columns
        ``(column, ClickHouse type)`` pairs, in order; types are plain (``Nullable(T)`` where a
        value may be missing), the server adds LowCardinality and codecs.
    key
        Columns that identify a row (duplicates by key are shown once).
    time
        The int-ns time column that partitions the table by month; it is the same for every copy of
        a row (the server deduplicates within a partition).
    ttl
        ``(column, days)``: the server drops a row ``days`` after its int-ns ``column`` (None: never).
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    time: str
    ttl: tuple[str, int] | None = None

    @property
    def column_names(self) -> list[str]:
        """The column names, in order."""
        return [name for name, _ in self.columns]

    def column_type(self, column: str) -> str:
        """The ClickHouse type of ``column``."""
        return dict(self.columns)[column]

    @property
    def structure(self) -> str:
        """``name Type, …``: the structure of the embedded store's Parquet parts."""
        return ", ".join(f"`{name}` {kind}" for name, kind in self.columns)

    @property
    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema parts are written with."""
        fields = []
        for name, kind in self.columns:
            nullable = kind.startswith("Nullable(")
            fields.append(
                pa.field(
                    name,
                    _ARROW[kind.removeprefix("Nullable(").removesuffix(")") if nullable else kind],
                    nullable=nullable,
                )
            )
        return pa.schema(fields)

    @property
    def sort_key(self) -> tuple[str, ...]:
        """Server ORDER BY (also the order inside compacted parts): run, instrument, time, then the key."""
        if "id" not in self.key and len(self.key) < len(self.columns):
            return self.key
        lead = [
            c
            for c in ("run_id", "instrument", "model_id")
            if c in self.column_names and not self._nullable(c)
        ]
        lead.append(self.time)
        return tuple(
            dict.fromkeys(lead + [c for c in self.key if not self._map(c) and not self._nullable(c)])
        )

    def _nullable(self, column: str) -> bool:
        return self.column_type(column).startswith("Nullable(")

    def _map(self, column: str) -> bool:
        return self.column_type(column).startswith("Map(")

    def partition_of(self, times: Iterable[int]) -> np.ndarray:
        """The month partition (``YYYYMM`` as an int, UTC) of each time in ``times`` (int ns)."""
        seconds = np.fromiter(times, dtype=np.int64) // _NS_PER_S
        months = seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
        return (1970 + months // 12) * 100 + months % 12 + 1


def _avro_type(field_type: Any) -> str:
    if isinstance(field_type, list):
        (inner,) = [t for t in field_type if t != "null"]
        return f"Nullable({_avro_type(inner)})"
    if isinstance(field_type, dict):
        if field_type["type"] == "enum":
            return "String"
        if field_type["type"] == "map":
            return f"Map(String, {_avro_type(field_type['values'])})"
        return _avro_type(field_type["type"])
    return _PRIMITIVES[field_type]


def _event_table(name: str, schema: str) -> Table:
    fields = CODEC.schema(schema)["fields"]
    columns = tuple((f["name"], _avro_type(f["type"])) for f in fields) + (("run_id", "String"),)
    names = [c for c, _ in columns]
    key = ("run_id", "id") if "id" in names else tuple(names)
    return Table(name, columns, key, "ts_event")


def _build_tables() -> dict[str, Table]:
    tables = {name: _event_table(name, schema) for name, schema in EVENT_TABLES.items()}
    equity = (
        ("run_id", "String"),
        ("ts_event", "Int64"),
        ("equity", "Float64"),
        ("cash", "Float64"),
        ("gross_exposure", "Float64"),
    )
    tables["equity"] = Table("equity", equity, ("run_id", "ts_event"), "ts_event")
    runs = (
        ("run_id", "String"),
        ("kind", "String"),
        ("strategy", "String"),
        ("params_json", "String"),
        ("config_json", "String"),
        ("config_hash", "String"),
        ("code_version", "String"),
        ("tape", "String"),
        ("ts_started", "Int64"),
        ("ts_finished", "Int64"),
        ("metrics_json", "String"),
        *RUN_METRICS.items(),
        ("ts_init", "Int64"),
    )
    tables["runs"] = Table("runs", runs, ("run_id",), "ts_started")
    dead = (
        ("topic", "String"),
        ("partition", "Int32"),
        ("offset", "Int64"),
        ("reason", "String"),
        ("error", "String"),
        ("source_timestamp", "Int64"),
        ("ts_init", "Int64"),
    )
    # One row per bad source record and reason, however often it was sent to the DLQ (replays).
    dead_key = ("topic", "partition", "offset", "reason")
    tables["dead_letters"] = Table("dead_letters", dead, dead_key, "source_timestamp", ttl=("ts_init", 90))
    return tables


#: Every analytics table by name.
TABLES: dict[str, Table] = _build_tables()


def _server_type(column: str, kind: str) -> str:
    if kind == "String" and column in _LOW_CARDINALITY:
        kind = "LowCardinality(String)"
    if column.startswith("ts_") or column == "source_timestamp":
        return f"{kind} CODEC(DoubleDelta, ZSTD(1))"
    if kind == "Float64":
        return f"{kind} CODEC(Gorilla, ZSTD(1))"
    return kind


def create_statement(table: Table) -> str:
    """The ClickHouse server DDL of ``table`` (ReplacingMergeTree keyed by `Table.sort_key`).

    Examples
    --------
    >>> print(create_statement(TABLES["equity"]))  # doctest: +NORMALIZE_WHITESPACE
    CREATE TABLE IF NOT EXISTS equity
    (
        `run_id` LowCardinality(String),
        `ts_event` Int64 CODEC(DoubleDelta, ZSTD(1)),
        `equity` Float64 CODEC(Gorilla, ZSTD(1)),
        `cash` Float64 CODEC(Gorilla, ZSTD(1)),
        `gross_exposure` Float64 CODEC(Gorilla, ZSTD(1))
    )
    ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(fromUnixTimestamp64Nano(`ts_event`))
    ORDER BY (`run_id`, `ts_event`);
    """
    columns = ",\n".join(f"    `{name}` {_server_type(name, kind)}" for name, kind in table.columns)
    order = ", ".join(f"`{c}`" for c in table.sort_key)
    lines = [
        f"CREATE TABLE IF NOT EXISTS {table.name}",
        f"(\n{columns}\n)",
        "ENGINE = ReplacingMergeTree",
        f"PARTITION BY toYYYYMM(fromUnixTimestamp64Nano(`{table.time}`))",
        f"ORDER BY ({order})",
    ]
    if table.ttl is not None:
        column, days = table.ttl
        lines.append(f"TTL toDateTime(fromUnixTimestamp64Nano(`{column}`)) + INTERVAL {days} DAY")
    return "\n".join(lines) + ";"


def write_ddl(directory: Path) -> list[Path]:
    """Write ``<table>.sql`` for every table into ``directory`` (``deploy/clickhouse``); return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in TABLES.values():
        path = directory / f"{table.name}.sql"
        path.write_text(
            f"-- Generated by `python -m connectors.analytics.tables`; edit tables.py instead.\n{create_statement(table)}\n"
        )
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_ddl(Path(__file__).resolve().parents[2] / "deploy" / "clickhouse"):
        print(written)
