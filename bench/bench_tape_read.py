"""Benchmark: read a 1M-bar tape (10 instruments, random walk) with records(), events() and batches().

Prints events/s (median of 3 runs) and the peak RSS of each reader in a fresh process.
Run: ``python bench/bench_tape_read.py [--bars 1000000] [--dir /tmp/bench-tape]``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from connectors.tape_archive import TapeReader, TapeWriter
from schemas.batch import EventBatch

INSTRUMENTS = [f"SYM{i}" for i in range(10)]
MINUTE_NS = 60_000_000_000


def make_tape(path: Path, bars: int, chunk: int = 100_000) -> float:
    """Write ``bars`` bars (10 instruments, 2 partitions); return the seconds it took."""
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    with TapeWriter(path, overwrite=True) as w:
        for first in range(0, bars, chunk):
            n = min(chunk, bars - first)
            rows = np.arange(first, first + n)
            close = 100 + rng.normal(0, 0.1, n).cumsum()
            ts = (rows // len(INSTRUMENTS) + 1) * MINUTE_NS
            columns = {
                "instrument": (rows % len(INSTRUMENTS)).astype(np.int32),
                "interval_ns": np.full(n, MINUTE_NS),
                "open": close,
                "high": close + 0.05,
                "low": close - 0.05,
                "close": close,
                "volume": rng.integers(1, 1000, n).astype(np.float64),
                "ts_event": ts,
                "ts_init": ts + 1,
            }
            batch = EventBatch("Bar", "md.bar.1m", columns, {"instrument": tuple(INSTRUMENTS)})
            w.append_batch("md.bar.1m", batch, partitions=2)
    return time.perf_counter() - started


def read_once(path: Path, mode: str) -> tuple[int, float]:
    reader = TapeReader(path)
    started = time.perf_counter()
    if mode == "batches":
        n = sum(len(b) for b in reader.batches())
    else:
        n = sum(1 for _ in getattr(reader, mode)())
    return n, time.perf_counter() - started


def child(path: Path, mode: str) -> None:
    times = []
    for _ in range(3):
        n, seconds = read_once(path, mode)
        times.append(seconds)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{n} {statistics.median(times)} {peak_mib}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench-tape"))
    parser.add_argument("--child", choices=["records", "events", "batches"])
    args = parser.parse_args()
    if args.child:
        child(args.dir, args.child)
        return
    seconds = make_tape(args.dir, args.bars)
    print(f"wrote {args.bars:,} bars in {seconds:.1f} s ({args.bars / seconds:,.0f} bars/s) to {args.dir}")
    print(f"{'reader':<10}{'events':>12}{'median s':>10}{'events/s':>14}{'peak RSS MiB':>14}")
    for mode in ("records", "events", "batches"):
        out = subprocess.run(
            [sys.executable, __file__, "--dir", str(args.dir), "--child", mode],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        n, median, peak = int(out[0]), float(out[1]), float(out[2])
        print(f"{mode:<10}{n:>12,}{median:>10.2f}{n / median:>14,.0f}{peak:>14.0f}")


if __name__ == "__main__":
    main()
