"""`tape run strategies` under Bytewax recovery: a kill -9 mid-stream loses no decision.

The service is killed after the first half of a session, the second half is published, and the
service restarts from its recovery store. Every target a backtest of the whole session decides must
be on ``sig.target`` with identical content (recovery replays the last epoch, so a target may appear
twice — with the same id and content, which downstream execution treats as a no-op).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from connectors.feeds.emit import produce_batches
from connectors.feeds.synthetic import SyntheticMarket
from connectors.kafka.admin import ensure_topics, load_spec
from replay.backtest import backtest
from replay.record import record
from tests.streams.test_parity import read_topic, wait_for

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {
    "strategy": {"name": "ma_crossover", "id": "ema-rec", "params": {"fast": 5, "slow": 20, "quantity": 10}},
    "account": {"id": "paper"},
}


def start_service(env: dict, config: Path, recovery: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tape",
            "run",
            "strategies",
            "--config",
            str(config),
            "--recovery-dir",
            str(recovery),
            "--snapshot-interval",
            "0.2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def watermark_reached(bootstrap: str, topic: str, ts: int):
    return lambda: any(
        name == "Watermark" and e["ts_event"] >= ts for name, e in read_topic(bootstrap, topic)
    )


@pytest.mark.timeout(600)
def test_strategies_service_resumes_after_kill_without_losing_or_changing_targets(kafka_bootstrap, tmp_path):
    namespace = f"rec{uuid.uuid4().hex[:8]}."
    ensure_topics(kafka_bootstrap, load_spec(), namespace)
    market = SyntheticMarket({"seed": 4, "instruments": [{"name": "AAA"}, {"name": "BBB"}], "bars": 800})
    (bars,) = list(market.bars())
    half = len(bars) // 2
    first, second = bars.select(slice(0, half)), bars.select(slice(half, len(bars)))
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    env = {**os.environ, "TAPE_BOOTSTRAP": kafka_bootstrap, "TAPE_NAMESPACE": namespace}
    recovery = tmp_path / "recovery"
    signal_topic = f"{namespace}sig.target"

    produce_batches([first], kafka_bootstrap, namespace=namespace, partitions=2)
    service = start_service(env, config, recovery)
    try:
        wait_for(
            watermark_reached(kafka_bootstrap, signal_topic, int(first.columns["ts_event"].max())),
            240,
            "the first half",
            [service],
        )
    finally:
        service.send_signal(signal.SIGKILL)
        service.wait(timeout=30)

    produce_batches([second], kafka_bootstrap, namespace=namespace, partitions=2)
    service = start_service(env, config, recovery)
    try:
        wait_for(
            watermark_reached(kafka_bootstrap, signal_topic, int(second.columns["ts_event"].max())),
            240,
            "the second half",
            [service],
        )
    finally:
        service.terminate()
        service.wait(timeout=30)

    live = [e for name, e in read_topic(kafka_bootstrap, signal_topic) if name == "TargetPosition"]
    by_id = {}
    for target in live:
        assert by_id.setdefault(target["id"], target) == target  # a replayed duplicate is identical
    tape = tmp_path / "tape"
    record(kafka_bootstrap, [f"{namespace}md.bar.1m"], tape, progress=False)
    expected = backtest(tape, {**CONFIG, "data": {"topics": [f"{namespace}md.bar.1m"]}}).targets
    assert len(expected) > 10
    assert set(by_id) == set(expected["id"])
    for row in expected.to_dict("records"):
        assert by_id[row["id"]]["target_quantity"] == row["target_quantity"]
