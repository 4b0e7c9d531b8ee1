"""The live ``features`` service: market data in, streaming indicators per instrument out.

    md.bar.1m ─ read_market (decode; bad records → DLQ) → batch_events → key_by_instrument
      → compute_features (FeatureSet: TA-Lib-matched streaming indicators, state per instrument)
      → encode_outputs (Features → feat.<set>) → write_outputs

The feature set comes from the run config's ``features`` section (indicator name → spec).
Run: ``tape run features --config FILE``.
"""

from __future__ import annotations

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from connectors.kafka.sink import OutboundRecord
from operators.feature_set import FeatureSet, FeatureSetConfig
from replay.backtest import load_config
from schemas.batch import EventBatch
from schemas.codec import CODEC
from streams.edges import group_into_batches, read_events, settle_heap, write_records
from streams.options import ServiceOptions


def split_by_instrument(batch: EventBatch) -> list[tuple[str, EventBatch]]:
    """One keyed sub-batch per instrument, rows in their original order."""
    if batch.schema != "Bar":
        return []
    return [(name, batch.select(rows)) for name, rows in batch.rows_by("instrument").items()]


def build_flow(options: ServiceOptions) -> Dataflow:
    """The features service's dataflow (feature set from ``options.config``, else the default set)."""
    config = load_config(options.config) if options.config is not None else None
    spec = config.features if config is not None else FeatureSetConfig()
    topic = options.topic(f"feat.{spec.name}")

    def compute(feature_set: FeatureSet | None, batch: EventBatch):
        feature_set = feature_set or FeatureSet(spec)
        records = feature_set.on_batch(batch)
        return feature_set, [
            OutboundRecord(
                topic, r["instrument"].encode(), CODEC.encode("Features", r), (), r["ts_event"] // 1_000_000
            )
            for r in records
        ]

    flow = Dataflow("features")
    topics = config.data.topics if config is not None else ["md.bar.1m"]
    batches = op.flat_map_batch(
        "batch_events", read_events("read_market", flow, options, topics), group_into_batches
    )
    keyed = op.flat_map("key_by_instrument", batches, split_by_instrument)
    computed = op.stateful_map("compute_features", keyed, compute)
    records = op.flat_map("encode_outputs", computed, lambda key_records: key_records[1])
    write_records("write_outputs", records, options)
    return flow


def flow() -> Dataflow:
    """Entry point for ``python -m bytewax.run streams.features:flow`` (options from TAPE_* env)."""
    dataflow = build_flow(ServiceOptions.from_env())
    settle_heap()
    return dataflow
