"""The analytics store on both code paths: every table round-trips, duplicates never show.

The embedded path (Parquet parts + chDB views) runs as in production. The server path
(`ServerStore`: the DDL of deploy/clickhouse, ReplacingMergeTree, ``final``) runs on chDB's engine
through clickhouse-connect's chdb interface: no ClickHouse server is installable here (Debian only
offers 18.16, which predates Map columns and the codecs the DDL uses), and chDB *is* ClickHouse.
"""

from __future__ import annotations

import math
import time
import uuid
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from connectors.analytics import TABLES, AnalyticsError, open_store
from connectors.analytics.parts import list_parts
from connectors.analytics.tables import create_statement

ROOT = Path(__file__).resolve().parents[2]
MINUTE = 60_000_000_000
BASE = 1_704_205_860_000_000_000  # 2024-01-02 14:31 UTC
ROWS = 40


def value(column: str, kind: str, i: int, base: int = BASE, step: int = 20 * 24 * 60 * MINUTE):
    """A distinct, typed value of ``column`` for row ``i`` (every third nullable value is null)."""
    if kind.startswith("Nullable("):
        return None if i % 3 == 0 else value(column, kind[9:-1], i, base, step)
    if kind.startswith("Map("):
        return {"a": float(i), "b": float(-i)} if "Float64" in kind else {"p": str(i)}
    if column.startswith("ts_") or column == "source_timestamp":
        return base + i * step  # 20 days apart by default: several month partitions
    if kind in ("Int64", "Int32"):
        return i
    if kind == "Float64":
        return i + 0.25
    return f"{column}-{i}"


def sample_rows(table: str, step: int = 20 * 24 * 60 * MINUTE) -> pd.DataFrame:
    spec = TABLES[table]
    base = BASE
    if spec.ttl:  # dead letters expire (server TTL) after 90 days: date them from now
        base, step = time.time_ns() // MINUTE * MINUTE - ROWS * MINUTE, MINUTE
    return pd.DataFrame([{c: value(c, k, i, base, step) for c, k in spec.columns} for i in range(ROWS)])


@pytest.fixture(params=["embedded", "server"])
def store(request, tmp_path):
    if request.param == "embedded":
        location = str(tmp_path / "store")
    else:
        location = f"chdb://memory/t{uuid.uuid4().hex[:10]}"
    with open_store(location) as opened:
        yield opened


def normalised(records: list[dict]) -> list[dict]:
    def clean(v):
        if isinstance(v, float) and math.isnan(v):
            return None
        return dict(v) if isinstance(v, dict) else v

    return [{k: clean(v) for k, v in r.items()} for r in records]


@pytest.mark.parametrize("table", list(TABLES))
def test_store_round_trips_every_table_with_its_columns_and_types(store, table):
    rows = sample_rows(table)
    assert store.insert(table, rows) == ROWS
    order = ", ".join(
        f"`{c}`" for c in TABLES[table].key if not TABLES[table].column_type(c).startswith("Map")
    )
    back = store.query(f"SELECT * FROM {table} ORDER BY {order}")
    assert list(back.columns) == TABLES[table].column_names
    expected = rows.sort_values([c.strip("`") for c in order.split(", ")]).to_dict("records")
    assert normalised(back.to_dict("records")) == normalised(expected)


def test_store_shows_a_batch_inserted_twice_once(store):
    rows = sample_rows("fills")
    store.insert("fills", rows)
    store.insert("fills", rows.iloc[::-1])  # the same events again, in another order
    store.insert("bars", sample_rows("bars"))
    store.insert("bars", sample_rows("bars"))
    counts = store.query("SELECT (SELECT count() FROM fills) AS fills, (SELECT count() FROM bars) AS bars")
    assert counts.to_dict("records") == [{"fills": ROWS, "bars": ROWS}]


def test_store_queries_take_parameters_and_empty_results_keep_their_columns(store):
    store.insert("fills", sample_rows("fills"))
    picked = store.query("SELECT id FROM fills WHERE id = {wanted:String}", {"wanted": "id-3"})
    assert picked["id"].tolist() == ["id-3"]
    empty = store.query("SELECT * FROM orders")
    assert len(empty) == 0 and list(empty.columns) == TABLES["orders"].column_names


def test_store_rejects_unknown_tables_and_rows_of_the_wrong_shape(store):
    with pytest.raises(AnalyticsError, match="unknown analytics table 'trades'"):
        store.insert("trades", [])
    with pytest.raises(AnalyticsError, match=r"fills: rows lack the columns \['commission'"):
        store.insert("fills", sample_rows("fills").drop(columns=["commission"]))
    with pytest.raises(AnalyticsError, match=r"rows have columns the table does not: \['colour'\]"):
        store.insert("equity", sample_rows("equity").assign(colour="red"))
    with pytest.raises(AnalyticsError, match=r"equity\.equity: values are not double"):
        store.insert("equity", sample_rows("equity").assign(equity="lots"))


def test_store_tables_lists_every_table(store):
    assert store.tables() == list(TABLES)


def test_embedded_compaction_merges_parts_atomically_and_drops_duplicates(tmp_path):
    store = open_store(tmp_path / "store")
    rows = sample_rows("fills", step=MINUTE)  # one month: one partition
    for start in range(0, ROWS, 5):
        store.insert("fills", rows.iloc[start : start + 5])
    store.insert("fills", rows.iloc[:10])  # a replayed batch
    (partition,) = (tmp_path / "store" / "fills").iterdir()
    assert len(list_parts(partition)) == ROWS // 5 + 1
    assert store.compact() == ROWS // 5 + 1
    (merged,) = list_parts(partition)
    assert pq.read_metadata(merged).num_rows == ROWS  # the replayed batch's duplicates merged away
    assert not list((tmp_path / "store").rglob("*.tmp"))
    assert int(store.query("SELECT count() AS n FROM fills")["n"][0]) == ROWS
    assert store.compact() == 0  # nothing left to merge


def test_embedded_parts_are_partitioned_by_month_of_event_time(tmp_path):
    store = open_store(tmp_path / "store")
    store.insert("equity", sample_rows("equity"))
    months = sorted(p.name for p in (tmp_path / "store" / "equity").iterdir())
    expected = sorted(
        {pd.Timestamp(v, unit="ns").strftime("%Y%m") for v in sample_rows("equity")["ts_event"]}
    )
    assert months == expected


def test_open_store_rejects_an_unknown_scheme():
    with pytest.raises(AnalyticsError, match="expected a directory, http"):
        open_store("ftp://example.com/store")


@pytest.mark.parametrize("table", list(TABLES))
def test_deploy_ddl_files_are_the_generated_ddl(table):
    text = (ROOT / "deploy" / "clickhouse" / f"{table}.sql").read_text()
    assert create_statement(TABLES[table]) in text


def test_deploy_ddl_uses_mergetree_partitions_codecs_and_ttl():
    fills = create_statement(TABLES["fills"])
    assert "ENGINE = ReplacingMergeTree" in fills
    assert "PARTITION BY toYYYYMM(fromUnixTimestamp64Nano(`ts_event`))" in fills
    assert "ORDER BY (`run_id`, `instrument`, `ts_event`, `id`)" in fills
    assert "`ts_event` Int64 CODEC(DoubleDelta, ZSTD(1))" in fills
    assert "`price` Float64 CODEC(Gorilla, ZSTD(1))" in fills
    assert "TTL " in create_statement(TABLES["dead_letters"])
