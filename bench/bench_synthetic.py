"""Throughput of the synthetic market generator (prints figures; not a test).

Run ``python bench/bench_synthetic.py [--bars 1000000] [--instruments 10]``: generates
``bars × instruments`` bars (with regimes and jumps), median of 3 runs, then the same with one
trade and one quote per bar, and the time to write 200k bars to a tape archive.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from connectors.feeds.synthetic import SyntheticMarket, write_tape


def _median_seconds(run, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    """Measure and print bars/s and events/s."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=1_000_000, help="bars per instrument")
    parser.add_argument("--instruments", type=int, default=10)
    args = parser.parse_args()
    config = {
        "instruments": [f"I{i:02d}" for i in range(args.instruments)],
        "bars": args.bars,
        "correlation": 0.4,
        "regimes": {},
        "jumps": {},
    }
    total = args.bars * args.instruments
    seconds = _median_seconds(lambda: sum(len(b) for b in SyntheticMarket(config).bars()))
    print(f"bars only        {total:>12,} bars   {seconds:7.2f} s   {total / seconds / 1e6:6.2f} M bars/s")
    with_ticks = {**config, "bars": args.bars // 10, "trades_per_bar": 1, "quotes_per_bar": 1}
    events = SyntheticMarket(with_ticks).event_count
    seconds = _median_seconds(lambda: sum(len(b) for b in SyntheticMarket(with_ticks).events()))
    print(
        f"bars+trade+quote {events:>12,} events {seconds:7.2f} s   {events / seconds / 1e6:6.2f} M events/s"
    )
    to_tape = {**config, "bars": 200_000 // args.instruments}
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        count = write_tape(to_tape, Path(tmp) / "tape")
        seconds = time.perf_counter() - began
    print(f"write_tape       {count:>12,} bars   {seconds:7.2f} s   {count / seconds / 1e6:6.2f} M bars/s")


if __name__ == "__main__":
    main()
