"""Analytics store benchmark: insert rows/s and query latency on both backends (median of 3).

    python bench/bench_analytics.py [--rows 200000]

Embedded = Parquet parts + chDB views (the default store); server path = the ReplacingMergeTree DDL
on chDB's engine (``chdb://memory/…``; no ClickHouse server here). Prints markdown tables.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid

import numpy as np
import pandas as pd

from connectors.analytics import open_store

MINUTE = 60_000_000_000
BASE = 1_704_205_860_000_000_000
QUERIES = {
    "count()": "SELECT count() FROM fills",
    "group by instrument": "SELECT instrument, sum(quantity * price) AS notional, count() AS n FROM fills GROUP BY instrument",
    "one run, time range": "SELECT * FROM fills WHERE run_id = 'r1' AND ts_event BETWEEN {a:Int64} AND {b:Int64}",
}


def fills(rows: int, offset: int = 0) -> pd.DataFrame:
    i = np.arange(offset, offset + rows)
    return pd.DataFrame(
        {
            "id": [f"f{k}" for k in i],
            "order_id": [f"o{k}" for k in i],
            "strategy_id": "s1",
            "account_id": "paper",
            "instrument": np.array(["ALFA", "BRVO", "CHRL", "DLTA"])[i % 4],
            "side": np.where(i % 2 == 0, "BUY", "SELL"),
            "quantity": 1.0 + i % 7,
            "price": 100.0 + (i % 1000) / 10,
            "commission": 0.01,
            "liquidity": "TAKER",
            "ts_event": BASE + i * MINUTE,
            "ts_init": BASE + i * MINUTE + 5,
            "run_id": np.where(i % 2 == 0, "r1", "r2"),
        }
    )


def median_seconds(action, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench(location: str, total: int, batch: int) -> tuple[float, dict[str, float], dict[str, float]]:
    store = open_store(location)
    frames = [fills(batch, k) for k in range(0, total, batch)]
    start = time.perf_counter()
    for frame in frames:
        store.insert("fills", frame)
    rows_per_s = total / (time.perf_counter() - start)
    params = {"a": BASE + total // 4 * MINUTE, "b": BASE + total // 4 * MINUTE + 1000 * MINUTE}
    store.query("SELECT 1")  # open the session outside the timings
    before = {name: median_seconds(lambda q=q: store.query(q, params)) for name, q in QUERIES.items()}
    store.compact()
    after = {name: median_seconds(lambda q=q: store.query(q, params)) for name, q in QUERIES.items()}
    store.close()
    return rows_per_s, before, after


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    print(f"## analytics store, {args.rows:,} fills\n")
    print("| backend | rows per insert | insert rows/s | query | before compact (ms) | after compact (ms) |")
    print("|---|---|---|---|---|---|")
    for backend in ("embedded", "server path (chDB MergeTree)"):
        for batch in (1_000, 10_000, 100_000):
            location = (
                tempfile.mkdtemp() if backend == "embedded" else f"chdb://memory/bench{uuid.uuid4().hex[:8]}"
            )
            rate, before, after = bench(location, args.rows, batch)
            for n, name in enumerate(QUERIES):
                rate_text = f"{rate:,.0f}" if n == 0 else ""
                print(
                    f"| {backend} | {batch:,} | {rate_text} | {name} | {before[name] * 1e3:.1f} | {after[name] * 1e3:.1f} |"
                )


if __name__ == "__main__":
    main()
