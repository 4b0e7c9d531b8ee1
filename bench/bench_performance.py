"""Benchmark the performance metrics: batch metrics on a year of minute bars, FIFO matching, running updates.

Run: ``python bench/bench_performance.py [--bars N] [--fills N]``; prints one line per figure.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from operators.performance import RunningMetrics, compute_metrics, round_trips

MINUTE = 60_000_000_000


def _best_of(repeats: int, work) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=98_280, help="equity points (default: a year of minutes)")
    parser.add_argument("--fills", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    index = np.arange(args.bars, dtype=np.int64) * MINUTE
    equity = pd.Series(1e6 * np.cumprod(1 + rng.normal(0, 1e-4, args.bars)), index=index)
    benchmark = pd.Series(100 * np.cumprod(1 + rng.normal(0, 1e-4, args.bars)), index=index)
    fills = pd.DataFrame({
        "ts_event": np.sort(rng.integers(0, index[-1], args.fills)),
        "instrument": rng.choice([f"I{i}" for i in range(20)], args.fills),
        "side": rng.choice(["BUY", "SELL"], args.fills),
        "quantity": rng.integers(1, 100, args.fills).astype(float),
        "price": rng.uniform(10, 500, args.fills),
        "commission": rng.uniform(0, 2, args.fills),
    })

    seconds = _best_of(3, lambda: compute_metrics(equity, benchmark=benchmark))
    print(f"compute_metrics, {args.bars} bars, no fills: {seconds * 1e3:.1f} ms")
    seconds = _best_of(3, lambda: round_trips(fills))
    print(f"round_trips, {args.fills} fills: {seconds * 1e3:.1f} ms ({args.fills / seconds:,.0f} fills/s)")
    seconds = _best_of(1, lambda: compute_metrics(equity, benchmark=benchmark, fills=fills))
    print(f"compute_metrics, {args.bars} bars, {args.fills} fills: {seconds * 1e3:.1f} ms")
    running = RunningMetrics(periods_per_year=98_280)
    points = list(zip(index.tolist(), equity.tolist(), strict=True))
    seconds = _best_of(1, lambda: [running.update(ts, value) for ts, value in points])
    print(f"RunningMetrics.update: {seconds / len(points) * 1e6:.2f} us per update")


if __name__ == "__main__":
    main()
