"""Parity on the real broker: what the live services decide equals a backtest of what they saw.

A synthetic session is published to ``md.bar.1m``; the live ``strategies`` and ``execution``
services (real processes, ``python -m bytewax.run streams.<name>:flow``) trade it; every topic is
recorded to a tape; the tape is backtested with the same config. Orders and fills must be identical.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
import yaml
from confluent_kafka import Consumer, TopicPartition

from connectors.feeds.synthetic import produce_to_kafka
from connectors.kafka.admin import ensure_topics, load_spec
from connectors.kafka.clients import consumer_config
from connectors.kafka.source import retry_metadata
from replay.backtest import backtest
from replay.record import record
from schemas.codec import CODEC
from schemas.event_table import EventTable

ROOT = Path(__file__).resolve().parents[2]
BARS = 1200
CONFIG = {
    "strategy": {
        "name": "ma_crossover",
        "id": "ema-live",
        "params": {"fast": 5, "slow": 20, "quantity": 10, "allow_short": True},
    },
    "account": {"id": "paper", "initial_cash": 100000},
    "exchange": {
        "commission": {"kind": "per_share", "rate": 0.01, "minimum": 1.0},
        "slippage": {"kind": "bps", "bps": 1.0},
    },
    "risk": {"max_position": 10, "max_order_notional": 5000},
}


def read_topic(bootstrap: str, topic: str) -> list[tuple[str, dict]]:
    consumer = Consumer(consumer_config(bootstrap, group_id=f"parity-{uuid.uuid4().hex}"))
    metadata = consumer.list_topics(topic, timeout=10).topics[topic]
    events = []
    for partition in metadata.partitions:
        where = TopicPartition(topic, partition)
        low, high = retry_metadata(  # a topic the service just created may have no leader yet
            lambda where=where: consumer.get_watermark_offsets(where, timeout=10),
            f"cannot read the offsets of {topic}/{partition}",
        )
        if high <= low:
            continue
        consumer.assign([TopicPartition(topic, partition, low)])
        while True:
            message = consumer.poll(5)
            if message is None or message.error() is not None:
                continue
            events.append(CODEC.decode(message.value()))
            if message.offset() >= high - 1:
                break
    consumer.close()
    return events


def wait_for(predicate, timeout: float, what: str, processes) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in processes:
            if proc.poll() is not None:
                raise AssertionError(
                    f"a service exited early ({proc.returncode}) while waiting for {what}: {proc.stdout.read()[-3000:]}"
                )
        if predicate():
            return
        time.sleep(1.0)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.timeout(600)
def test_live_services_and_backtest_of_their_tape_make_identical_orders_and_fills(kafka_bootstrap, tmp_path):
    namespace = f"parity{uuid.uuid4().hex[:8]}."
    ensure_topics(kafka_bootstrap, load_spec(), namespace)
    market = {
        "seed": 21,
        "instruments": [{"name": "AAA"}, {"name": "BBB"}],
        "bars": BARS // 2,
        "partitions": 2,
    }
    produced = produce_to_kafka(market, kafka_bootstrap, namespace=namespace)
    assert produced == BARS
    config_path = tmp_path / "live.yaml"
    config_path.write_text(yaml.safe_dump({**CONFIG, "data": {"topics": ["md.bar.1m"]}}))
    env = {
        **os.environ,
        "TAPE_BOOTSTRAP": kafka_bootstrap,
        "TAPE_NAMESPACE": namespace,
        "TAPE_CONFIG": str(config_path),
    }
    services = [
        subprocess.Popen(
            [sys.executable, "-m", "bytewax.run", f"streams.{name}:flow"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in ("strategies", "execution")
    ]
    try:
        bars = read_topic(kafka_bootstrap, f"{namespace}md.bar.1m")
        last_ts = max(record["ts_event"] for _, record in bars)

        def caught_up() -> bool:
            pnl = read_topic(kafka_bootstrap, f"{namespace}pf.pnl")
            return any(event["ts_event"] == last_ts for _, event in pnl)

        wait_for(caught_up, 300, "the execution service to reach the last bar", services)
    finally:
        for proc in services:
            proc.terminate()
        for proc in services:
            proc.wait(timeout=30)

    tape = tmp_path / "tape"
    record(kafka_bootstrap, [f"{namespace}*"], tape, progress=False)
    replay_config = {**CONFIG, "data": {"topics": [f"{namespace}md.bar.1m"]}}
    result = backtest(tape, replay_config)

    def live_table(topic: str, schema: str) -> pd.DataFrame:
        """A live topic's events as the backtest's result table of that schema (same column types)."""
        events = [e for name, e in read_topic(kafka_bootstrap, f"{namespace}{topic}") if name == schema]
        return EventTable.from_records(schema, events, range(len(events))).to_frame()

    live_orders = live_table("oms.order", "Order")
    live_fills = live_table("oms.fill", "Fill")
    assert len(live_fills) > 10
    by_id = ["id"]
    pd.testing.assert_frame_equal(
        live_orders.sort_values(by_id).reset_index(drop=True),
        result.orders.sort_values(by_id).reset_index(drop=True)[live_orders.columns],
    )
    pd.testing.assert_frame_equal(
        live_fills.sort_values(by_id).reset_index(drop=True),
        result.fills.sort_values(by_id).reset_index(drop=True)[live_fills.columns],
    )
    live_targets = [
        e for name, e in read_topic(kafka_bootstrap, f"{namespace}sig.target") if name == "TargetPosition"
    ]
    assert sorted(t["id"] for t in live_targets) == sorted(result.targets["id"])
