"""Tape against peer backtesters on the same bars: bars/s, ratio to Tape, round-trip agreement.

The workload is the performance issue's: one instrument of 1-minute bars (seeded synthetic market,
the same tape `bench/bench_replay.py` uses), EMA(10)/EMA(30) long/flat crossover, 100 units, no
costs. The bars are written once as a Tape tape and as Parquet (for the peers). The peers —
nautilus_trader, backtrader, backtesting.py, vectorbt and a plain per-bar Python loop, which is also
the reference for the trade count — run in their own virtualenv (``bench/out/peers-venv``, created
here from ``bench/peers/requirements.txt``; never project dependencies), each in a fresh process.
Tape runs `replay.backtest.backtest` (tape on disk → Bytewax → strategy → risk → execution →
portfolio → result tables and metrics; nothing written to disk). Systems alternate within each
round; the table shows the median of the rounds.

    python bench/peers/bench_peers.py --bars 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

BENCH = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

from bench_replay import config, make_tape  # noqa: E402

from connectors.tape_archive import TapeReader  # noqa: E402
from replay.backtest import backtest  # noqa: E402

OUT = BENCH / "out"
VENV = OUT / "peers-venv"
PEERS = ("nautilus_trader", "backtrader", "backtesting.py", "vectorbt", "python loop")


def ensure_venv() -> Path:
    """The peers' virtualenv interpreter, creating the venv and installing the peers if needed."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    requirements = Path(__file__).with_name("requirements.txt")
    stamp = VENV / "installed-requirements.txt"
    if not stamp.exists() or stamp.read_text() != requirements.read_text():
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(requirements)], check=True)
        stamp.write_text(requirements.read_text())
    return python


def write_parquet(tape: Path, bars: int) -> Path:
    """The tape's bars as Parquet (index ts_event ns; open, high, low, close, volume)."""
    path = OUT / "peers" / f"bars-{bars}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        frames = [
            pd.DataFrame(
                {k: batch.columns[k] for k in ("open", "high", "low", "close", "volume")},
                index=pd.Index(batch.columns["ts_event"], name="ts_event"),
            )
            for batch in TapeReader(tape).batches(["md.bar.1m"])
        ]
        pd.concat(frames).to_parquet(path)
    return path


def run_tape(tape: Path, callback: str) -> tuple[float, int]:
    start = time.perf_counter()
    result = backtest(tape, config(callback))
    seconds = time.perf_counter() - start
    fills = result.fills
    return seconds, int((fills["side"] == "SELL").sum())


def run_peer(python: Path, peer: str, parquet: Path, timeout: float) -> tuple[float, int] | str:
    script = Path(__file__).with_name("peer_run.py")
    try:
        done = subprocess.run(
            [str(python), str(script), peer, str(parquet)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:200]
    line = json.loads(done.stdout.strip().splitlines()[-1])
    return line["seconds"], line["round_trips"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--peers", default=",".join(PEERS), help="comma-separated subset of " + ", ".join(PEERS)
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per peer run")
    args = parser.parse_args()
    python = ensure_venv()
    tape = make_tape(args.bars, 1)
    parquet = write_parquet(tape, args.bars)
    systems = ["Tape (vectorised on_batch)", "Tape (per-event on_bar)", *args.peers.split(",")]
    seconds: dict[str, list[float]] = {s: [] for s in systems}
    trips: dict[str, int | str] = {}
    for round_ in range(args.runs):
        order = systems if round_ % 2 == 0 else systems[::-1]
        for system in order:
            if system.startswith("Tape"):
                outcome = run_tape(tape, "batch" if "on_batch" in system else "bar")
            else:
                outcome = run_peer(python, system, parquet, args.timeout)
            if isinstance(outcome, str):
                trips[system] = outcome
                continue
            seconds[system].append(outcome[0])
            trips[system] = outcome[1]
            print(
                f"round {round_ + 1}: {system}: {outcome[0]:.2f} s, {outcome[1]:,} round trips",
                file=sys.stderr,
            )
    tape_rate = args.bars / statistics.median(seconds[systems[0]])
    reference = trips.get("python loop")
    print(
        f"\n{args.bars:,} bars, 1 instrument, EMA(10)/EMA(30) long/flat, 100 units, median of {args.runs}\n"
    )
    print("| system | median s | bars/s | Tape (vectorised) ÷ system | round trips | equals reference |")
    print("|---|---:|---:|---:|---:|---|")
    for system in systems:
        if not seconds[system]:
            print(f"| {system} | | | | {trips.get(system, '')} | |")
            continue
        median = statistics.median(seconds[system])
        rate = args.bars / median
        same = (
            "yes"
            if trips[system] == reference
            else f"no ({trips[system] - reference:+,})"
            if reference
            else ""
        )
        print(
            f"| {system} | {median:.2f} | {rate:,.0f} | {tape_rate / rate:.2f} | {trips[system]:,} | {same} |"
        )


if __name__ == "__main__":
    main()
