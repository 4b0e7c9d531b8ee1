"""`tape run analytics` on the real broker: every event stored exactly once across a kill -9.

Events are produced to a fresh namespace, the service (Bytewax recovery, 0.2 s epochs) is killed
with SIGKILL while it writes, more events are produced, and it is restarted from its recovery
store. Queries must then show every event exactly once; undecodable records and events without a
table must arrive in ``dead_letters`` through the DLQ.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from confluent_kafka import Producer

from connectors.analytics import open_store
from connectors.kafka.admin import ensure_topics, load_spec
from connectors.kafka.clients import producer_config
from schemas.codec import CODEC
from tests.streams.test_parity import wait_for

ROOT = Path(__file__).resolve().parents[2]
MINUTE = 60_000_000_000
BASE = 1_704_205_860_000_000_000
INSTRUMENTS = ("ALFA", "BRVO", "CHRL")
HALF = 6000  # fills, and bars, per half


def fill(i: int) -> dict:
    return {
        "id": f"fill-{i}",
        "order_id": f"order-{i}",
        "strategy_id": "s1",
        "account_id": "paper",
        "instrument": INSTRUMENTS[i % 3],
        "side": "BUY" if i % 2 else "SELL",
        "quantity": 1.0 + i % 5,
        "price": 100.0 + i / 100,
        "commission": 0.01,
        "liquidity": "TAKER",
        "ts_event": BASE + i * MINUTE,
        "ts_init": BASE + i * MINUTE + 1,
    }


def bar(i: int) -> dict:
    price = 100.0 + (i % 97)
    return {
        "instrument": INSTRUMENTS[i % 3],
        "interval_ns": MINUTE,
        "open": price,
        "high": price + 1,
        "low": price - 1,
        "close": price + 0.5,
        "volume": 10.0 + i,
        "ts_event": BASE + (i // 3) * MINUTE,
        "ts_init": BASE + (i // 3) * MINUTE + 7,
    }


def produce(bootstrap: str, namespace: str, events: list[tuple[str, str, str, bytes]]) -> None:
    producer = Producer(producer_config(bootstrap))
    errors = []
    for topic, key, _schema, value in events:
        producer.produce(
            namespace + topic, value, key.encode(), on_delivery=lambda e, _m: e and errors.append(e)
        )
        producer.poll(0)
    assert producer.flush(60) == 0 and not errors


def encoded(schema: str, topic: str, records: list[dict]) -> list[tuple[str, str, str, bytes]]:
    return [(topic, r["instrument"], schema, CODEC.encode(schema, r)) for r in records]


def start_service(env: dict, store: Path, recovery: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "tape", "run", "analytics", "--store", str(store)]
    command += ["--recovery-dir", str(recovery), "--snapshot-interval", "0.2"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def counts(store) -> dict[str, int]:
    frame = store.query(
        "SELECT (SELECT count() FROM fills) AS fills, (SELECT uniqExact(id) FROM fills) AS fill_ids,"
        " (SELECT count() FROM bars) AS bars, (SELECT count() FROM dead_letters) AS dead_letters"
    )
    return {k: int(v) for k, v in frame.iloc[0].items()}


@pytest.mark.timeout(600)
def test_analytics_service_stores_every_event_exactly_once_across_kill_and_restart(kafka_bootstrap, tmp_path):
    namespace = f"an{uuid.uuid4().hex[:8]}."
    ensure_topics(kafka_bootstrap, load_spec(), namespace)
    env = {**os.environ, "TAPE_BOOTSTRAP": kafka_bootstrap, "TAPE_NAMESPACE": namespace}
    location, recovery = tmp_path / "store", tmp_path / "recovery"
    store = open_store(location)
    watermark = {"source": "s1", "ts_event": BASE, "ts_init": BASE}
    junk = [("md.bar.1m", "ALFA", "", b"junk"), ("md.bar.1m", "BRVO", "", b"\xc3\x01" + bytes(8))]
    trade = {"instrument": "ALFA", "price": 1.0, "size": 1.0, "aggressor": "BUY", "trade_id": "t1"}
    trade |= {"ts_event": BASE, "ts_init": BASE}  # a valid event with no analytics table
    first = encoded("Fill", "oms.fill", [fill(i) for i in range(HALF)])
    first += encoded("Bar", "md.bar.1m", [bar(i) for i in range(HALF)])
    first += [("sig.target", "s1", "Watermark", CODEC.encode("Watermark", watermark))] + junk
    first += [("oms.fill", "ALFA", "Trade", CODEC.encode("Trade", trade))]
    produce(kafka_bootstrap, namespace, first)

    service = start_service(env, location, recovery)
    try:
        wait_for(lambda: counts(store)["fills"] > 0, 240, "the first rows", [service])
    finally:
        service.send_signal(signal.SIGKILL)
        service.wait(timeout=30)
    at_kill = counts(store)

    second = encoded("Fill", "oms.fill", [fill(i) for i in range(HALF, 2 * HALF)])
    second += encoded("Bar", "md.bar.1m", [bar(i) for i in range(HALF, 2 * HALF)])
    produce(kafka_bootstrap, namespace, second)
    expected = {"fills": 2 * HALF, "fill_ids": 2 * HALF, "bars": 2 * HALF, "dead_letters": 3}
    service = start_service(env, location, recovery)
    try:
        wait_for(lambda: counts(store) == expected, 240, f"{expected}", [service])
        time.sleep(2.0)  # anything written twice would show up now
    finally:
        service.terminate()
        service.wait(timeout=30)

    assert at_kill["fills"] < 2 * HALF
    assert counts(store) == expected
    stored = store.query("SELECT id, price FROM fills ORDER BY ts_event")
    assert stored["id"].tolist() == [f"fill-{i}" for i in range(2 * HALF)]
    assert stored["price"].tolist() == [fill(i)["price"] for i in range(2 * HALF)]
    dead = store.query("SELECT topic, reason, error FROM dead_letters ORDER BY reason")
    assert dead[["topic", "reason"]].values.tolist() == [
        [f"{namespace}md.bar.1m", "bad-marker"],
        [f"{namespace}oms.fill", "invalid"],
        [f"{namespace}md.bar.1m", "unknown-fingerprint"],
    ]
    assert "no analytics table for Trade events" in dead["error"][1]
    raw_fill_rows = sum(pq.read_metadata(p).num_rows for p in (location / "fills").rglob("*.parquet"))
    assert raw_fill_rows >= 2 * HALF
