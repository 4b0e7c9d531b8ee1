"""Live latency through the real broker: bar produced → TargetPosition → Order.

Starts its own Kafka broker, the live ``strategies`` and ``execution`` services (real processes,
``python -m bytewax.run``) with N strategy instances (one EMA-crossover strategy per instrument, one
run config each), then produces bars at each rate for a while, stamping ``ts_init`` with the wall
clock just before each produce. Consumers on ``sig.target`` and ``oms.order`` measure
``receive time − ts_init`` of every TargetPosition and Order (both carry the causing bar's ts_init).
Only events caused by the bars of a rate's run count for it (by ts_init), and each rate waits for the
services to drain (no new sample for 1 s, at most 20 s), so backlog of the warm-up or of a previous
rate is not charged to it. A rate is sustained when latency does not grow over the run (the median of
the last quarter of bars, by produce time, < 2 × the first quarter's + 5 ms) and p99 < 1 s. Each
rate also reports the CPU seconds the two services and the broker used from its start until drained,
and the 1-minute load average before and after (the machine may be shared).

    python bench/bench_latency.py --strategies 100 --rates 10000,20000 --seconds 20
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import yaml
from confluent_kafka import OFFSET_END, Consumer, Producer, TopicPartition

from connectors.kafka.admin import ensure_topics, load_spec
from connectors.kafka.clients import consumer_config, producer_config
from connectors.partitioning import partition_for
from schemas.codec import CODEC
from tape.broker import LocalBroker, free_ports

ROOT = Path(__file__).resolve().parents[1]
MINUTE = 60_000_000_000
#: Seconds of 1k bars/s before the measured rates. A freshly started set (broker, services) stalls
#: about once, for ~1 s, in its first ~40 s under load (measured: rates 1000 ×4 after a 12 s warm-up,
#: p99 to Order 1,067 ms in the first window, 76–115 ms in the next three), which is start-up, not
#: the rate's latency.
WARM_UP_S = 30


class LatencyProbe(threading.Thread):
    """Consumes a topic from its end and records receive-time − ts_init of events of one schema."""

    def __init__(self, bootstrap: str, topic: str, schema: str):
        super().__init__(daemon=True)
        self.schema, self.samples, self.stop_flag = schema, [], threading.Event()
        # fetch.min.bytes is 1, so the broker answers a fetch as soon as a record arrives: a short
        # fetch.wait.max.ms adds no latency, it only makes idle fetches spin (broker CPU)
        self.consumer = Consumer(
            consumer_config(
                bootstrap,
                group_id=f"probe-{topic}",
                **{"fetch.wait.max.ms": 100, "enable.partition.eof": False},
            )
        )
        partitions = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self.consumer.assign([TopicPartition(topic, p, OFFSET_END) for p in partitions])

    def run(self) -> None:
        while not self.stop_flag.is_set():
            for message in self.consumer.consume(1000, timeout=0.05):
                if message.error() is None:
                    received = time.time_ns()
                    name, record = CODEC.decode(message.value())
                    if name == self.schema:
                        self.samples.append((record["ts_init"], received - record["ts_init"]))
        self.consumer.close()


def write_configs(directory: Path, instruments: list[str]) -> None:
    for name in instruments:
        config = {
            "strategy": {
                "name": "ma_crossover",
                "id": f"ema-{name}",
                "params": {"fast": 2, "slow": 4, "quantity": 10},
            },
            "universe": [name],
            "account": {"id": f"acct-{name}"},
        }
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(config))


def produce(
    producer: Producer,
    topic: str,
    instruments: list[str],
    rate: int,
    seconds: float,
    step: list[int],
    partitions: int,
) -> int:
    rng = np.random.default_rng(rate)
    prices = 100.0 + rng.normal(0, 1, len(instruments)).cumsum() * 0
    tick = 0.01
    per_tick = max(1, int(rate * tick))
    sent, start = 0, time.perf_counter()
    keys = [name.encode() for name in instruments]
    while time.perf_counter() - start < seconds:
        for _ in range(per_tick):
            i = sent % len(instruments)
            if i == 0:
                step[0] += 1
                prices *= np.exp(rng.normal(0, 0.002, len(instruments)))
            price = float(prices[i])
            bar = {
                "instrument": instruments[i],
                "interval_ns": MINUTE,
                "open": price,
                "high": price * 1.001,
                "low": price * 0.999,
                "close": price,
                "volume": 1000.0,
                "ts_event": step[0] * MINUTE,
                "ts_init": time.time_ns(),
            }
            producer.produce(
                topic, CODEC.encode("Bar", bar), keys[i], partition=partition_for(keys[i], partitions)
            )
            sent += 1
        producer.poll(0)
        behind = sent / rate - (time.perf_counter() - start)
        if behind > 0:
            time.sleep(behind)
    producer.flush(30)
    return sent


def drain(probes: list[LatencyProbe], quiet_s: float = 1.0, most_s: float = 20.0) -> None:
    """Wait until no probe got a sample for ``quiet_s`` (at most ``most_s``)."""
    deadline = time.monotonic() + most_s
    counts = None
    while time.monotonic() < deadline:
        now = [len(p.samples) for p in probes]
        if now == counts:
            return
        counts = now
        time.sleep(quiet_s)


def first_minute(instruments: list[str], args: argparse.Namespace) -> int:
    """The minute (since epoch) of the first bar: every bar's event time, which the services' outputs
    carry as their Kafka timestamp, stays in the past (the broker rejects timestamps over an hour
    ahead) and within retention (older records are deleted, under a lagging consumer's feet)."""
    bars = 1000 * WARM_UP_S + sum(int(rate) * args.seconds for rate in args.rates.split(","))
    return time.time_ns() // MINUTE - int(bars / len(instruments)) - 24 * 60


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(samples: list[tuple[int, int]], start_ns: int, end_ns: int) -> dict:
    """Latency (ms) of the events caused by bars produced in [start_ns, end_ns], in produce order."""
    caused = sorted((t, lat) for t, lat in samples if start_ns <= t <= end_ns)
    window = np.array([lat for _, lat in caused], dtype=np.float64) / 1e6
    if len(window) < 8:
        return {"n": len(window)}
    quarter = len(window) // 4
    return {
        "n": len(window),
        "p50": float(np.percentile(window, 50)),
        "p99": float(np.percentile(window, 99)),
        "max": float(window.max()),
        "growing": bool(np.median(window[-quarter:]) > 2 * np.median(window[:quarter]) + 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", type=int, default=100)
    parser.add_argument("--rates", default="10000,20000,40000")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    instruments = [f"I{i:03d}" for i in range(args.strategies)]
    with tempfile.TemporaryDirectory() as tmp:
        home, configs = Path(tmp) / "kafka", Path(tmp) / "configs"
        configs.mkdir()
        write_configs(configs, instruments)
        port, controller = free_ports(2)
        broker = LocalBroker(
            home, port=port, controller_port=controller, heap_mb=1024, jvm_opts=["-XX:TieredStopAtLevel=4"]
        )
        broker.start()
        try:
            ensure_topics(broker.bootstrap, load_spec())
            partitions = 3
            env = {
                **os.environ,
                "TAPE_BOOTSTRAP": broker.bootstrap,
                "TAPE_CONFIG": str(configs),
                "TAPE_START": "latest",
            }
            services = [
                subprocess.Popen(
                    [sys.executable, "-m", "bytewax.run", f"streams.{name}:flow"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.STDOUT,
                )
                for name in ("strategies", "execution")
            ]
            try:
                probes = [
                    LatencyProbe(broker.bootstrap, "sig.target", "TargetPosition"),
                    LatencyProbe(broker.bootstrap, "oms.order", "Order"),
                ]
                for probe in probes:
                    probe.start()
                step = [first_minute(instruments, args)]
                time.sleep(8)  # services start and assign their partitions
                # one producer for the whole run: a new one holds its first records until its connection,
                # metadata and idempotent producer id are set up, which would count as the services' latency
                producer = Producer(producer_config(broker.bootstrap, **{"linger.ms": 0}))
                produce(producer, "md.bar.1m", instruments, 1000, WARM_UP_S, step, partitions)
                drain(probes)
                print(f"{args.strategies} strategy instances; latency from produce to output, ms\n")
                print(
                    "| rate bars/s | sent | to TargetPosition p50 / p99 / max | to Order p50 / p99 / max "
                    "| sustained | CPU s strategies / execution / broker | load before → after |"
                )
                print("|---:|---:|---|---|---|---|---|")
                pids = [service.pid for service in services] + [int(broker.pid_path.read_text())]
                for rate in (int(r) for r in args.rates.split(",")):
                    load_before = os.getloadavg()[0]
                    cpu_before = [cpu_seconds(pid) for pid in pids]
                    start_ns = time.time_ns()
                    begun = time.perf_counter()
                    sent = produce(producer, "md.bar.1m", instruments, rate, args.seconds, step, partitions)
                    achieved = sent / (time.perf_counter() - begun)
                    end_ns = time.time_ns()
                    drain(probes)
                    cpu = " / ".join(
                        f"{cpu_seconds(pid) - b:.1f}" for pid, b in zip(pids, cpu_before, strict=True)
                    )
                    target, order = (summary(p.samples, start_ns, end_ns) for p in probes)

                    def fmt(s):
                        return (
                            f"{s['p50']:.1f} / {s['p99']:.1f} / {s['max']:.1f} (n={s['n']})"
                            if "p50" in s
                            else f"n={s['n']}"
                        )

                    sustained = (
                        "yes"
                        if all("p50" in s and not s["growing"] and s["p99"] < 1000 for s in (target, order))
                        else "no"
                    )
                    print(
                        f"| {rate:,} (achieved {achieved:,.0f}) | {sent:,} | {fmt(target)} | {fmt(order)} "
                        f"| {sustained} | {cpu} | {load_before:.1f} → {os.getloadavg()[0]:.1f} |",
                        flush=True,
                    )
                for probe in probes:
                    probe.stop_flag.set()
            finally:
                for service in services:
                    service.terminate()
                    service.wait(timeout=30)
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
