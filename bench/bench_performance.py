"""Benchmark the performance metrics: batch metrics on minute bars, FIFO matching, running updates.

Run: ``python bench/bench_performance.py [--bars N] [--fills N] [--repeats N]``; prints one line per
figure, the median of ``--repeats`` runs. The trading fills alternate buys and sells of 100 units at
random bars (a long/flat strategy; ``--flips``: long/short, every fill after the first a flip); the
random fills of ``round_trips`` scale in, close in part and flip across 20 instruments.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from operators.performance import MetricsConfig, RunningMetrics, compute_metrics, round_trips

MINUTE = 60_000_000_000


def _median_of(repeats: int, work) -> float:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def _trading_fills(rng: np.random.Generator, index: np.ndarray, count: int, flips: bool) -> pd.DataFrame:
    side = np.where(np.arange(count) % 2 == 0, "BUY", "SELL")
    quantity = np.full(count, 100.0)
    if flips:
        quantity[1:] = 200.0
    return pd.DataFrame(
        {
            "ts_event": np.sort(rng.choice(index, count, replace=False)),
            "instrument": "I000",
            "side": side,
            "quantity": quantity,
            "price": rng.uniform(90, 110, count),
            "commission": rng.uniform(0, 2, count),
        }
    )


def _random_fills(rng: np.random.Generator, end: int, count: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts_event": np.sort(rng.integers(0, end, count)),
            "instrument": rng.choice([f"I{i}" for i in range(20)], count),
            "side": rng.choice(["BUY", "SELL"], count),
            "quantity": rng.integers(1, 100, count).astype(float),
            "price": rng.uniform(10, 500, count),
            "commission": rng.uniform(0, 2, count),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=1_000_000, help="equity points (default: 1M minutes)")
    parser.add_argument("--trading-fills", type=int, default=37_000, help="fills of the equity's strategy")
    parser.add_argument("--fills", type=int, default=100_000, help="random fills for round_trips")
    parser.add_argument("--flips", action="store_true", help="trade long/short instead of long/flat")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    index = np.arange(args.bars, dtype=np.int64) * MINUTE
    equity = pd.Series(1e6 * np.cumprod(1 + rng.normal(0, 1e-4, args.bars)), index=index)
    benchmark = pd.Series(100 * np.cumprod(1 + rng.normal(0, 1e-4, args.bars)), index=index)
    trading = _trading_fills(rng, index, args.trading_fills, args.flips)
    fills = _random_fills(rng, int(index[-1]), args.fills)
    config = MetricsConfig(calendar="crypto")

    for label, kwargs in (
        ("no fills", {}),
        (f"{args.trading_fills} fills", {"fills": trading}),
        (f"{args.trading_fills} fills and a benchmark", {"fills": trading, "benchmark": benchmark}),
    ):
        seconds = _median_of(
            args.repeats, lambda kwargs=kwargs: compute_metrics(equity, config=config, **kwargs)
        )
        print(f"compute_metrics, {args.bars} bars, {label}: {seconds * 1e3:.1f} ms")
    seconds = _median_of(args.repeats, lambda: round_trips(fills))
    rate = args.fills / seconds
    print(f"round_trips, {args.fills} random fills: {seconds * 1e3:.1f} ms ({rate:,.0f} fills/s)")
    running = RunningMetrics(periods_per_year=525_600)
    points = list(zip(index[:100_000].tolist(), equity[:100_000].tolist(), strict=True))
    seconds = _median_of(1, lambda: [running.update(ts, value) for ts, value in points])
    print(f"RunningMetrics.update: {seconds / len(points) * 1e6:.2f} us per update")


if __name__ == "__main__":
    main()
