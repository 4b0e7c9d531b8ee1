"""Kafka round trip: Bar events through `KafkaSink` into a topic, back out through `KafkaSource`.

Starts its own `LocalBroker` (free ports, temp dir), then for each of ``--repeats`` runs: encodes
``--count`` Bars with CODEC (outside the timer), writes them with a Bytewax flow (TestingSource →
KafkaSink) into a fresh topic, and reads them back (KafkaSource, ``tail=False`` → count). Prints
records/s for produce, consume and the round trip (produce + consume), median of the runs.

    python bench/bench_kafka_roundtrip.py --count 200000 --partitions 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, TestingSource, run_main

from connectors.kafka.admin import TopicSpec, TopicsSpec, ensure_topics
from connectors.kafka.sink import KafkaSink, OutboundRecord
from connectors.kafka.source import KafkaSource
from schemas.codec import CODEC
from tape.broker import LocalBroker, free_ports


def encoded_bars(topic: str, count: int, instruments: int = 50) -> list[OutboundRecord]:
    """``count`` Bar records keyed by instrument, Avro single-object encoded."""
    records = []
    for i in range(count):
        instrument = f"SYM{i % instruments:03d}"
        bar = {
            "instrument": instrument,
            "interval_ns": 60_000_000_000,
            "open": 100.0,
            "high": 101.0,
            "low": 99.5,
            "close": 100.5,
            "volume": 1000.0 + i,
            "ts_event": 60_000_000_000 * (i // instruments + 1),
            "ts_init": 60_000_000_000 * (i // instruments + 1) + 1,
        }
        records.append(OutboundRecord(topic, instrument.encode(), CODEC.encode("Bar", bar)))
    return records


def produce(bootstrap: str, records: list[OutboundRecord], batch_size: int) -> float:
    flow = Dataflow("bench_produce")
    items = op.input("bars", flow, TestingSource(records, batch_size=batch_size))
    op.output("kafka", items, KafkaSink(bootstrap))
    start = time.perf_counter()
    run_main(flow)
    return time.perf_counter() - start


def consume(bootstrap: str, topic: str, batch_size: int) -> tuple[float, int]:
    counts: list[int] = []
    flow = Dataflow("bench_consume")
    raws = op.input("kafka", flow, KafkaSource(bootstrap, [topic], tail=False, batch_size=batch_size))
    sizes = op.flat_map_batch("count", raws, lambda batch: [len(batch)])
    op.output("counts", sizes, TestingSink(counts))
    start = time.perf_counter()
    run_main(flow)
    return time.perf_counter() - start, sum(counts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    port, controller_port = free_ports(2)
    broker = LocalBroker(
        Path(tempfile.mkdtemp(prefix="bench-kafka-")), port, controller_port, die_with_parent=True
    )
    broker.start()
    try:
        produce_rates, consume_rates, roundtrip_rates = [], [], []
        for run in range(args.repeats):
            topic = f"bench.bars.{run}"
            ensure_topics(broker.bootstrap, TopicsSpec(topics={topic: TopicSpec(partitions=args.partitions)}))
            records = encoded_bars(topic, args.count)
            produce_s = produce(broker.bootstrap, records, args.batch_size)
            consume_s, read = consume(broker.bootstrap, topic, args.batch_size)
            if read != args.count:
                raise SystemExit(f"run {run}: read {read} records, wrote {args.count}")
            produce_rates.append(args.count / produce_s)
            consume_rates.append(args.count / consume_s)
            roundtrip_rates.append(args.count / (produce_s + consume_s))
            print(
                f"run {run}: produce {produce_s:.2f} s, consume {consume_s:.2f} s "
                f"({len(records[0].value)}-byte values)"
            )
        print(
            f"records={args.count} partitions={args.partitions} batch_size={args.batch_size} "
            f"(median of {args.repeats})"
        )
        print(f"produce    {statistics.median(produce_rates):>12,.0f} records/s")
        print(f"consume    {statistics.median(consume_rates):>12,.0f} records/s")
        print(f"round trip {statistics.median(roundtrip_rates):>12,.0f} records/s")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
