"""A real analytics store seeded once per session for the dashboard tests, plus an empty one.

The seed runs real backtests of the shipped sample tape and stores them with
`replay.store.store_backtest`; it adds the tape's bars (as the live ingest would, run_id ``live``,
with three ALFA bars left out to make a known gap) and dead letters that the real Kafka decoder
produced from bad bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from connectors.analytics import open_store
from connectors.kafka.operators import decode_record
from connectors.records import RawRecord
from connectors.tape_archive import TapeReader
from replay.backtest import BacktestResult, backtest
from replay.store import store_backtest
from tests.dashboards.helpers import CONFIGS, DROPPED_ALFA_BARS, SAMPLE


@dataclass(frozen=True)
class Seeded:
    """The seeded store's location and what went into it."""

    location: str
    results: dict[str, BacktestResult]
    run_ids: dict[str, str]
    bars: pd.DataFrame
    dead_letters: pd.DataFrame


def _tape_bars() -> pd.DataFrame:
    rows = [event for _record, name, event in TapeReader(SAMPLE).events() if name == "Bar"]
    bars = pd.DataFrame(rows)
    alfa = bars.index[bars["instrument"] == "ALFA"]
    return bars.drop(index=alfa[list(DROPPED_ALFA_BARS)]).reset_index(drop=True).assign(run_id="live")


def _dead_letters(first_ts: int) -> pd.DataFrame:
    bad = [
        RawRecord("md.bar.1m", 0, 10 + i, first_ts // 1_000_000 + i * 60_000, b"ALFA", value)
        for i, value in enumerate([b"junk", b"\xc3\x01" + bytes(8), b"\xc3\x01", b"not avro", b"\x00\x01"])
    ]
    rows = []
    for i, raw in enumerate(bad):
        letter = decode_record(raw)
        rows.append(
            {
                "topic": raw.topic,
                "partition": raw.partition,
                "offset": raw.offset,
                "reason": letter.reason,
                "error": letter.error,
                "source_timestamp": raw.timestamp_ms * 1_000_000,
                "ts_init": first_ts + i * 3_600_000_000_000,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """A store holding three stored backtests, the sample tape's bars and five dead letters."""
    location = str(tmp_path_factory.mktemp("analytics") / "store")
    store = open_store(location)
    results = {name: backtest(SAMPLE, config) for name, config in CONFIGS.items()}
    run_ids = {
        name: store_backtest(result, store, tape="samples/sample-1m") for name, result in results.items()
    }
    bars = _tape_bars()
    store.insert("bars", bars)
    dead_letters = _dead_letters(int(bars["ts_event"].min()))
    store.insert("dead_letters", dead_letters)
    return Seeded(location, results, run_ids, bars, dead_letters)


@pytest.fixture
def empty_store(tmp_path: Path) -> str:
    """The location of a store nothing was written to."""
    return str(tmp_path / "empty-store")


@pytest.fixture(scope="session")
def live_store(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store as the live services leave it: the RSI run's events under run_id ``live``, no
    ``equity`` rows (only ``pnl``), and one extra order that has no execution report yet."""
    location = str(tmp_path_factory.mktemp("analytics-live") / "store")
    store = open_store(location)
    result = seeded.results["rsi"]
    for table in ("orders", "reports", "fills", "positions", "pnl"):
        store.insert(table, result.tables[table].assign(run_id="live"))
    working = result.orders.iloc[[-1]].assign(id="working-order", run_id="live")
    store.insert("orders", working)
    return location
