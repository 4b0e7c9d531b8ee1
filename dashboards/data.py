"""Data access for the dashboard: cached queries over the analytics store, returned as DataFrames.

Pages never write SQL or open the store themselves: they call the functions here with the store's
location (a directory for embedded chDB, or a ClickHouse server URL; see `connectors.analytics`).
The dashboard only reads. Every function returns an empty DataFrame (or list) while its table does
not exist yet, so a page can show an empty state instead of an error. Results are cached for
`TTL_SECONDS`, so a page that refreshes itself sees rows the services wrote since.

Times stay int nanoseconds here (``ts_event``, ``ts_init``); pages convert them for display.

Examples
--------
>>> store_location(["--store", "/data/analytics"], environ={})
'/data/analytics'
>>> store_location([], environ={"TAPE_STORE": "http://clickhouse:8123"})
'http://clickhouse:8123'
>>> store_location([], environ={})
'var/analytics'
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

#: Environment variable naming the store when ``--store`` is not given.
STORE_ENV = "TAPE_STORE"
#: The embedded store's default directory.
DEFAULT_STORE = "var/analytics"
#: The ``run_id`` of rows written by the live services.
LIVE = "live"
#: Seconds a query result is reused before the store is asked again.
TTL_SECONDS = 5
#: Execution report statuses after which an order is no longer working.
TERMINAL_STATUSES = ("FILLED", "CANCELED", "REJECTED", "EXPIRED")
#: Tables whose rows carry both ``ts_event`` and ``ts_init`` (for the lateness view).
EVENT_TABLES = (
    "bars",
    "targets",
    "orders",
    "reports",
    "fills",
    "positions",
    "pnl",
    "risk_alerts",
    "predictions",
    "features",
    "controls",
)


def store_location(argv: Sequence[str], environ: Mapping[str, str] = os.environ) -> str:
    """Return the store to read: ``--store`` in ``argv``, else ``$TAPE_STORE``, else `DEFAULT_STORE`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--store")
    known, _ = parser.parse_known_args(list(argv))
    return known.store or environ.get(STORE_ENV) or DEFAULT_STORE


@st.cache_resource(show_spinner=False)
def _store(location: str) -> Any:
    from connectors.analytics import open_store

    return open_store(location)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def tables(location: str) -> list[str]:
    """Return the names of the tables in the store (none for a store never written)."""
    return sorted(_store(location).tables())


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _query(location: str, sql: str, parameters: dict[str, Any] | None) -> pd.DataFrame:
    return _store(location).query(sql, parameters)


def _read(location: str, needs: Sequence[str], sql: str, **parameters: Any) -> pd.DataFrame:
    """Run ``sql`` when every table in ``needs`` exists, else return an empty frame."""
    present = tables(location)
    if any(table not in present for table in needs):
        return pd.DataFrame()
    return _query(location, sql, parameters or None)


def runs(location: str) -> pd.DataFrame:
    """Return every stored run (one row per ``run_id``, the ``runs`` table's columns), newest first."""
    return _read(location, ["runs"], "SELECT * FROM runs ORDER BY ts_init DESC, run_id")


def run_ids(location: str, table: str) -> list[str]:
    """Return the distinct ``run_id`` values of ``table`` (``live`` first), or [] without it."""
    if table not in tables(location):
        return []
    found = _query(location, f"SELECT DISTINCT run_id FROM {table}", None)
    return sorted(found["run_id"] if len(found) else [], key=lambda run_id: (run_id != LIVE, run_id))


def accounts(location: str) -> list[str]:
    """Return the runs that have an equity curve: ``live`` first, then the stored backtests."""
    found = set(run_ids(location, "equity")) | set(run_ids(location, "pnl"))
    return sorted(found, key=lambda run_id: (run_id != LIVE, run_id))


def equity(location: str, run_id: str) -> pd.DataFrame:
    """Return the equity curve of ``run_id``: ``ts_event, equity, cash, gross_exposure`` in time order.

    Runs without an ``equity`` row (a live account whose services write only ``pnl``) get the sum
    over strategies of each one's last ``PnL`` at each ``ts_event``: the one with the largest
    ``ts_init``; ``PnL`` rows carry no sequence number, so among rows with equal ``ts_init`` the one
    with the largest equity is taken (deterministic, but a guess: prefer writing ``equity`` rows).
    """
    curve = _read(
        location,
        ["equity"],
        "SELECT ts_event, equity, cash, gross_exposure FROM equity "
        "WHERE run_id = {run_id:String} ORDER BY ts_event",
        run_id=run_id,
    )
    if len(curve):
        return curve
    return _read(
        location,
        ["pnl"],
        "SELECT ts_event, sum(last_equity) AS equity, sum(last_cash) AS cash, "
        "sum(last_gross) AS gross_exposure FROM (SELECT strategy_id, account_id, ts_event, "
        "argMax(equity, (ts_init, equity)) AS last_equity, argMax(cash, (ts_init, equity)) AS last_cash, "
        "argMax(gross_exposure, (ts_init, equity)) AS last_gross FROM pnl WHERE run_id = {run_id:String} "
        "GROUP BY strategy_id, account_id, ts_event) GROUP BY ts_event ORDER BY ts_event",
        run_id=run_id,
    )


def positions(location: str, run_id: str) -> pd.DataFrame:
    """Return the latest ``Position`` of each (strategy, account, instrument) of ``run_id``."""
    return _read(
        location,
        ["positions"],
        "SELECT strategy_id, account_id, instrument, "
        "argMax(quantity, (ts_event, ts_init)) AS quantity, "
        "argMax(avg_price, (ts_event, ts_init)) AS avg_price, "
        "argMax(realized_pnl, (ts_event, ts_init)) AS realized_pnl, "
        "argMax(unrealized_pnl, (ts_event, ts_init)) AS unrealized_pnl, "
        "max(ts_event) AS last_ts FROM positions WHERE run_id = {run_id:String} "
        "GROUP BY strategy_id, account_id, instrument ORDER BY strategy_id, account_id, instrument",
        run_id=run_id,
    )


def position_history(location: str, run_id: str) -> pd.DataFrame:
    """Return ``ts_event, instrument, quantity`` of every position change of ``run_id`` in time order."""
    return _read(
        location,
        ["positions"],
        "SELECT ts_event, instrument, sum(quantity) AS quantity FROM (SELECT strategy_id, account_id, "
        "instrument, ts_event, argMax(quantity, ts_init) AS quantity FROM positions "
        "WHERE run_id = {run_id:String} GROUP BY strategy_id, account_id, instrument, ts_event) "
        "GROUP BY instrument, ts_event ORDER BY ts_event, instrument",
        run_id=run_id,
    )


def open_orders(location: str, run_id: str) -> pd.DataFrame:
    """Return the orders of ``run_id`` with no terminal execution report (still working)."""
    terminal = ", ".join(f"'{status}'" for status in TERMINAL_STATUSES)
    return _read(
        location,
        ["orders", "reports"],
        "SELECT * FROM orders WHERE run_id = {run_id:String} AND id NOT IN "
        f"(SELECT order_id FROM reports WHERE run_id = {{run_id:String}} AND status IN ({terminal})) "
        "ORDER BY ts_event",
        run_id=run_id,
    )


def order_count(location: str, run_id: str) -> int:
    """Return how many orders ``run_id`` sent."""
    counted = _read(
        location, ["orders"], "SELECT count() AS n FROM orders WHERE run_id = {run_id:String}", run_id=run_id
    )
    return int(counted["n"].iloc[0]) if len(counted) else 0


def fills(location: str, run_id: str, limit: int | None = None) -> pd.DataFrame:
    """Return the fills of ``run_id``, newest first (the latest ``limit`` when given)."""
    cap = f" LIMIT {int(limit)}" if limit is not None else ""
    return _read(
        location,
        ["fills"],
        "SELECT * FROM fills WHERE run_id = {run_id:String} ORDER BY ts_event DESC, id" + cap,
        run_id=run_id,
    )


def largest_order_notional(location: str, run_id: str) -> float | None:
    """Return the largest filled notional of one order of ``run_id`` (None before any fill)."""
    found = _read(
        location,
        ["fills"],
        "SELECT max(notional) AS notional FROM (SELECT order_id, sum(quantity * price) AS notional "
        "FROM fills WHERE run_id = {run_id:String} GROUP BY order_id)",
        run_id=run_id,
    )
    value = found["notional"].iloc[0] if len(found) else None
    return None if value is None or pd.isna(value) else float(value)


def risk_alerts(location: str, run_id: str) -> pd.DataFrame:
    """Return the risk alerts of ``run_id`` in time order."""
    return _read(
        location,
        ["risk_alerts"],
        "SELECT * FROM risk_alerts WHERE run_id = {run_id:String} ORDER BY ts_event, id",
        run_id=run_id,
    )


def instruments(location: str, run_id: str) -> list[str]:
    """Return the instruments with bars in ``run_id``."""
    found = _read(
        location,
        ["bars"],
        "SELECT DISTINCT instrument FROM bars WHERE run_id = {run_id:String} ORDER BY instrument",
        run_id=run_id,
    )
    return found["instrument"].tolist() if len(found) else []


def bars(location: str, run_id: str, instrument: str) -> pd.DataFrame:
    """Return the bars of ``instrument`` in ``run_id`` in time order (one per ``ts_event``)."""
    return _read(
        location,
        ["bars"],
        "SELECT ts_event, any(interval_ns) AS interval_ns, argMax(open, ts_init) AS open, "
        "argMax(high, ts_init) AS high, argMax(low, ts_init) AS low, argMax(close, ts_init) AS close, "
        "argMax(volume, ts_init) AS volume FROM bars "
        "WHERE run_id = {run_id:String} AND instrument = {instrument:String} "
        "GROUP BY ts_event ORDER BY ts_event",
        run_id=run_id,
        instrument=instrument,
    )


def bar_times(location: str, run_id: str) -> pd.DataFrame:
    """Return ``instrument, interval_ns, ts_event`` of every distinct bar of ``run_id`` (for gaps)."""
    return _read(
        location,
        ["bars"],
        "SELECT DISTINCT instrument, interval_ns, ts_event FROM bars WHERE run_id = {run_id:String} "
        "ORDER BY instrument, interval_ns, ts_event",
        run_id=run_id,
    )


def dead_letters(location: str) -> pd.DataFrame:
    """Return every dead letter: ``topic, partition, offset, reason, error, source_timestamp, ts_init``."""
    return _read(location, ["dead_letters"], "SELECT * FROM dead_letters ORDER BY ts_init, topic, `offset`")


def latencies(location: str, table: str, run_id: str, limit: int = 200_000) -> pd.Series:
    """Return ``ts_init - ts_event`` (ns) of the latest ``limit`` rows of ``table`` in ``run_id``."""
    if table not in EVENT_TABLES:
        raise ValueError(f"table must be one of {EVENT_TABLES}, was {table!r}")
    found = _read(
        location,
        [table],
        f"SELECT ts_init - ts_event AS latency_ns FROM {table} WHERE run_id = {{run_id:String}} "
        f"ORDER BY ts_init DESC LIMIT {int(limit)}",
        run_id=run_id,
    )
    return found["latency_ns"].astype("int64") if len(found) else pd.Series([], dtype="int64")


def refresh() -> None:
    """Forget every cached result, so the next read asks the store again."""
    _query.clear()
    tables.clear()
