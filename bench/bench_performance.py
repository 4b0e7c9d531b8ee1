"""Benchmark the performance metrics: batch metrics on minute bars, FIFO matching, running updates.

Run: ``python bench/bench_performance.py [--bars N] [--fills N] [--repeats N] [--fresh N]``; prints one
line per figure, the median of ``--repeats`` runs. The trading fills alternate buys and sells of 100
units at random bars (a long/flat strategy; ``--flips``: long/short, every fill after the first a flip);
the random fills of ``round_trips`` scale in, close in part and flip across 20 instruments. "arrays":
the equity curve as a ``(timestamps, values)`` pair and the fills as a mapping of NumPy arrays, as a
backtest can pass them, instead of a Series and a DataFrame. ``--fresh N`` also times the first call
in each of N new processes (the arrays case), where every large temporary is new memory.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

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


def _inputs(
    bars: int, trading_fills: int, flips: bool
) -> tuple[pd.Series, pd.Series, pd.DataFrame, np.random.Generator]:
    """The equity curve, a benchmark, the strategy's fills, and the seeded generator they came from."""
    rng = np.random.default_rng(42)
    index = np.arange(bars, dtype=np.int64) * MINUTE
    equity = pd.Series(1e6 * np.cumprod(1 + rng.normal(0, 1e-4, bars)), index=index)
    benchmark = pd.Series(100 * np.cumprod(1 + rng.normal(0, 1e-4, bars)), index=index)
    return equity, benchmark, _trading_fills(rng, index, trading_fills, flips), rng


def _as_arrays(equity: pd.Series, fills: pd.DataFrame) -> tuple[tuple[np.ndarray, np.ndarray], dict]:
    """The curve as a ``(timestamps, values)`` pair and the fills as NumPy arrays (``str`` for text)."""
    columns = {name: fills[name].to_numpy() for name in fills.columns}
    columns.update(instrument=columns["instrument"].astype(str), side=columns["side"].astype(str))
    return (equity.index.to_numpy(), equity.to_numpy()), columns


def _first_call_seconds(bars: int, trading_fills: int) -> float:
    """Build the inputs and time one `compute_metrics` call on them, as arrays, in this process."""
    equity, _, fills, _ = _inputs(bars, trading_fills, flips=False)
    pair, columns = _as_arrays(equity, fills)
    start = time.perf_counter()
    compute_metrics(pair, fills=columns, config=MetricsConfig(calendar="crypto"))
    return time.perf_counter() - start


def _median_in_fresh_processes(processes: int, bars: int, trading_fills: int) -> float:
    """Return the median of `_first_call_seconds` over ``processes`` new Python processes, each started
    in the repository root so that it imports this module and the package from there."""
    code = f"import bench.bench_performance as b; print(b._first_call_seconds({bars}, {trading_fills}))"
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-c", code]
    return statistics.median(
        float(subprocess.run(command, cwd=root, check=True, capture_output=True, text=True).stdout)
        for _ in range(processes)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=1_000_000, help="equity points (default: 1M minutes)")
    parser.add_argument("--trading-fills", type=int, default=37_000, help="fills of the equity's strategy")
    parser.add_argument("--fills", type=int, default=100_000, help="random fills for round_trips")
    parser.add_argument("--flips", action="store_true", help="trade long/short instead of long/flat")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--fresh", type=int, default=0, help="new processes for the first-call figure")
    args = parser.parse_args()
    equity, benchmark, trading, rng = _inputs(args.bars, args.trading_fills, args.flips)
    fills = _random_fills(rng, int(equity.index[-1]), args.fills)
    pair, columns = _as_arrays(equity, trading)
    config = MetricsConfig(calendar="crypto")

    for label, curve, kwargs in (
        ("no fills", equity, {}),
        (f"{args.trading_fills} fills", equity, {"fills": trading}),
        (f"{args.trading_fills} fills, arrays", pair, {"fills": columns}),
        (f"{args.trading_fills} fills and a benchmark", equity, {"fills": trading, "benchmark": benchmark}),
    ):
        seconds = _median_of(
            args.repeats, lambda curve=curve, kwargs=kwargs: compute_metrics(curve, config=config, **kwargs)
        )
        print(f"compute_metrics, {args.bars} bars, {label}: {seconds * 1e3:.1f} ms")
    if args.fresh:
        seconds = _median_in_fresh_processes(args.fresh, args.bars, args.trading_fills)
        print(
            f"compute_metrics, {args.bars} bars, {args.trading_fills} fills, arrays, first call: {seconds * 1e3:.1f} ms"
        )
    seconds = _median_of(args.repeats, lambda: round_trips(fills))
    rate = args.fills / seconds
    print(f"round_trips, {args.fills} random fills: {seconds * 1e3:.1f} ms ({rate:,.0f} fills/s)")
    running = RunningMetrics(periods_per_year=525_600)
    points = list(zip(equity.index[:100_000].tolist(), equity[:100_000].tolist(), strict=True))
    seconds = _median_of(1, lambda: [running.update(ts, value) for ts, value in points])
    print(f"RunningMetrics.update: {seconds / len(points) * 1e6:.2f} us per update")


if __name__ == "__main__":
    main()
