"""Replay throughput of `tape backtest`: bars/s through the real Bytewax flow, end to end.

Workload (issue "Performance"): one instrument of 1-minute bars, EMA(10)/EMA(30) long/flat
crossover, 100 units, no costs, written as a vectorised (on_batch) and as a per-event (on_bar)
strategy. The tape is generated once (seeded) and cached under bench/out/. Reports the median of
several alternating runs and checks both paths trade identically.

    python bench/bench_replay.py --bars 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from connectors.feeds.synthetic import write_tape
from replay.backtest import backtest

OUT = Path(__file__).resolve().parent / "out"


def make_tape(bars: int, instruments: int) -> Path:
    path = OUT / f"replay-{instruments}x{bars}"
    if not (path / "manifest.json").exists():
        names = [{"name": f"I{i:03d}"} for i in range(instruments)]
        write_tape({"seed": 1, "instruments": names, "bars": bars // instruments}, path, overwrite=True)
    return path


def config(callback: str) -> dict:
    return {
        "strategy": {"name": "ma_crossover", "callback": callback, "params": {"fast": 10, "slow": 30, "quantity": 100}},
        "metrics": {"calendar": "crypto"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=200_000)
    parser.add_argument("--instruments", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tape = make_tape(args.bars, args.instruments)
    timings: dict[str, list[float]] = {"batch": [], "bar": []}
    fills = {}
    for _ in range(args.runs):
        for callback in timings:
            start = time.perf_counter()
            result = backtest(tape, config(callback))
            timings[callback].append(time.perf_counter() - start)
            fills[callback] = result.fills
    assert fills["batch"].equals(fills["bar"]), "vectorised and per-event paths traded differently"
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| path | bars | instruments | median s | bars/s | round trips | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for callback, values in timings.items():
        median = statistics.median(values)
        print(
            f"| {'vectorised' if callback == 'batch' else 'per-event'} | {args.bars:,} | {args.instruments} | "
            f"{median:.2f} | {args.bars / median:,.0f} | {len(fills[callback]) // 2:,} | {peak_mb:,.0f} |"
        )


if __name__ == "__main__":
    main()
