"""Encode/decode throughput of `schemas.codec.CODEC` against ``json.dumps``/``json.loads``.

Prints a markdown table of records per second (median of ``--runs`` runs of ``--count`` records)
for Bar (flat) and Order (enums, nullable unions), one record per call as a Kafka producer or
consumer loop would do, with the mean message size.

Run: ``python bench/bench_codec.py [--count 20000] [--runs 5]``
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable

import fastavro
from fastavro.utils import generate_many

from schemas.codec import CODEC


def records_of(name: str, count: int) -> list[dict]:
    random.seed(name)
    return list(generate_many(CODEC.schema(name), count))


def rates(runners: dict[str, Callable[[], object]], count: int, runs: int) -> dict[str, float]:
    """Median records per second of each runner (``count`` records per call).

    The runners take turns within each run, so a burst of load from other processes hits them alike.
    """
    seconds: dict[str, list[float]] = {label: [] for label in runners}
    for _ in range(runs):
        for label, run in runners.items():
            start = time.perf_counter()
            run()
            seconds[label].append(time.perf_counter() - start)
    return {label: count / statistics.median(s) for label, s in seconds.items()}


def bench(name: str, count: int, runs: int) -> list[str]:
    records = records_of(name, count)
    messages = [CODEC.encode(name, r) for r in records]
    texts = [json.dumps(r) for r in records]
    labels = ("Tape codec (Avro single-object)", "json.dumps / json.loads")
    encode = rates(
        {
            labels[0]: lambda: [CODEC.encode(name, r) for r in records],
            labels[1]: lambda: [json.dumps(r) for r in records],
        },
        count,
        runs,
    )
    decode = rates(
        {
            labels[0]: lambda: [CODEC.decode(m) for m in messages],
            labels[1]: lambda: [json.loads(t) for t in texts],
        },
        count,
        runs,
    )
    sizes = dict(zip(labels, (messages, texts), strict=True))
    lines = []
    for label in labels:
        size = sum(map(len, sizes[label])) / count
        lines.append(f"| {name} | {label} | {encode[label]:,.0f} | {decode[label]:,.0f} | {size:.0f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="records per run")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (the median is shown)")
    args = parser.parse_args()
    print(f"{args.count:,} records per run, median of {args.runs} runs, fastavro {fastavro.__version__}\n")
    print("| schema | implementation | encode records/s | decode records/s | bytes/record |")
    print("|---|---|---:|---:|---:|")
    for name in ("Bar", "Order"):
        for line in bench(name, args.count, args.runs):
            print(line)


if __name__ == "__main__":
    main()
