"""Encode/decode throughput of `schemas.codec.CODEC` against ``json.dumps``/``json.loads``.

Prints a markdown table of records per second (median of ``--runs`` runs of ``--count`` records)
for Bar (flat) and Order (enums, nullable unions), one record per call as a Kafka producer or
consumer loop would do, with the mean message size; and the column-wise encoder the tape writer
uses (`connectors.tape_archive.encoding.encode_events`: a whole batch at once, byte-identical).

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
import numpy as np
from fastavro.utils import generate_many

from connectors.tape_archive.columns import column_spec
from connectors.tape_archive.encoding import encode_events
from schemas.codec import CODEC


def records_of(name: str, count: int) -> list[dict]:
    random.seed(name)
    return list(generate_many(CODEC.schema(name), count))


def columns_of(name: str, records: list[dict]) -> tuple[dict, dict]:
    """The records as columns (strings and enums dictionary-coded, null doubles as NaN)."""
    columns, categories = {}, {}
    for spec in column_spec(name):
        values = [r[spec.name] for r in records]
        if spec.coded:
            categories[spec.name] = tuple(sorted(set(values)))
            index = {v: i for i, v in enumerate(categories[spec.name])}
            columns[spec.name] = np.asarray([index[v] for v in values], dtype=np.int32)
        else:
            columns[spec.name] = np.asarray([np.nan if v is None else v for v in values], dtype=spec.dtype)
    return columns, categories


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
    columns, categories = columns_of(name, records)
    assert encode_events(name, columns, categories).to_list() == messages
    columnar = rates({"columns": lambda: encode_events(name, columns, categories)}, count, runs)["columns"]
    label = "column-wise Avro (`encode_events`, one batch)"
    size = sum(map(len, messages)) / count
    lines.append(f"| {name} | {label} | {columnar:,.0f} | (columnar cache: tape read) | {size:.0f} |")
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
