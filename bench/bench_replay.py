"""Replay throughput of `tape backtest`: bars/s and peak memory through the real Bytewax flow, end to end.

Workload (issue "Performance"): 1-minute bars of 1, 10 or 100 instruments (seeded synthetic market),
EMA(10)/EMA(30) long/flat crossover, 100 units, no costs, written as a vectorised (``on_batch``) and
as a per-event (``on_bar``) strategy. Each tape is generated once and cached under ``bench/out/``
(its write time is printed). Every measured run is `replay.backtest.backtest` in a fresh process:
tape on disk → Bytewax → strategy → risk → execution → portfolio → result tables and metrics, so
the peak RSS is that run's; with ``--write`` the results are also written (Parquet tables, equity,
metrics, manifest). The two paths alternate; the table shows medians, checks both paths trade
identically and, for one instrument, that the fills equal a simple per-bar reference loop's
(`reference_fills`). ``--breakdown`` times each part outside Bytewax.

    python bench/bench_replay.py --bars 100000,1000000 --instruments 1,10,100 --runs 3
    python bench/bench_replay.py --bars 10000000 --instruments 1 --runs 1
    python bench/bench_replay.py --bars 1000000 --instruments 1 --runs 3 --write
    python bench/bench_replay.py --bars 1000000 --instruments 1 --breakdown
    python bench/bench_replay.py --bars 1000000 --instruments 1 --warm 7
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent / "peers")]

from connectors.feeds.synthetic import write_tape  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
PATHS = {"batch": "vectorised (on_batch)", "bar": "per-event (on_bar)"}


def make_tape(bars: int, instruments: int) -> Path:
    """The cached benchmark tape of ``bars`` bars over ``instruments`` instruments (written if missing)."""
    path = OUT / f"replay-{instruments}x{bars}"
    if not (path / "manifest.json").exists():
        names = [{"name": f"I{i:03d}"} for i in range(instruments)]
        start = time.perf_counter()
        write_tape({"seed": 1, "instruments": names, "bars": bars // instruments}, path, overwrite=True)
        seconds = time.perf_counter() - start
        print(
            f"wrote {path.name}: {bars:,} bars in {seconds:.1f} s ({bars / seconds:,.0f} bars/s)",
            file=sys.stderr,
        )
    return path


def config(callback: str) -> dict:
    """The run config of the benchmark strategy through ``callback`` ("batch" or "bar")."""
    return {
        "strategy": {
            "name": "ma_crossover",
            "callback": callback,
            "params": {"fast": 10, "slow": 30, "quantity": 100},
        },
        "metrics": {"calendar": "crypto"},
    }


def reference_fills(tape: Path) -> list[tuple[int, str, float]]:
    """(ts_event, side, price) of the fills of the simple per-bar reference loop the peers are checked
    against (`peer_run.python_loop`), on a one-instrument tape."""
    from peer_run import python_loop

    from connectors.tape_archive import TapeReader

    batches = list(TapeReader(tape).batches(["md.bar.1m"]))
    close = [c for b in batches for c in b.columns["close"].tolist()]
    open_ = [o for b in batches for o in b.columns["open"].tolist()]
    ts = [t for b in batches for t in b.columns["ts_event"].tolist()]
    fills, position = [], 0.0
    for i, after in python_loop(close):
        fills.append((ts[i], "BUY" if after > position else "SELL", open_[i]))
        position = after
    return fills


def one_run(tape: Path, callback: str, out: Path | None = None, check: bool = False) -> dict:
    """Run one backtest in this process (writing its results under ``out`` if given); return its time,
    trade summary and peak RSS, and with ``check`` whether its fills equal `reference_fills`."""
    from replay.backtest import backtest

    start = time.perf_counter()
    result = backtest(tape, config(callback), out=out)
    seconds = time.perf_counter() - start
    fills = result.fills
    outcome = {
        "seconds": seconds,
        "fills": len(fills),
        "round_trips": int((fills["side"] == "SELL").sum()),
        "fills_hash": int(pd_hash(fills)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if check:
        mine = list(
            zip(fills["ts_event"].tolist(), fills["side"].tolist(), fills["price"].tolist(), strict=True)
        )
        outcome["equals_reference"] = mine == reference_fills(tape)
    return outcome


def pd_hash(frame) -> int:
    import pandas as pd

    return int(pd.util.hash_pandas_object(frame, index=False).sum())


def run_in_child(tape: Path, callback: str, write: bool = False, check: bool = False) -> dict:
    command = [sys.executable, __file__, "--one", str(tape), callback]
    with tempfile.TemporaryDirectory(dir=OUT) as out:
        command += ["--out", out] if write else []
        command += ["--check"] if check else []
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def breakdown(tape: Path) -> None:
    """Time the parts of the path outside Bytewax, then the whole backtest, for both callbacks (each
    twice, keeping the second: the first pays for first use of the libraries)."""
    from connectors.tape_archive import TapeReader
    from operators.engine import TradingEngine
    from operators.performance import compute_metrics
    from replay.backtest import _Collector, _metric_columns, backtest, load_config, make_runner

    print("| part | vectorised s | per-event s |")
    print("|---|---:|---:|")
    rows: dict[str, dict[str, float]] = {}
    for callback in [*PATHS, *PATHS]:
        cfg = load_config(config(callback))
        times = rows[callback] = {}
        start = time.perf_counter()
        batches = list(TapeReader(tape).batches(cfg.data.topics, max_rows=cfg.data.batch_rows))
        times["read the tape (columnar batches)"] = time.perf_counter() - start
        runner = make_runner(cfg)
        start = time.perf_counter()
        decided = [(runner.on_batch(b), runner.take_events()) for b in batches]
        times["strategy (indicators + decisions)"] = time.perf_counter() - start
        engine = TradingEngine(cfg.stage_config(), cfg.strategy.strategy_id, cfg.account.id)
        start = time.perf_counter()
        results = [engine.on_batch(b, t) for b, (t, _) in zip(batches, decided, strict=True)]
        times["execution (risk, orders, fills, portfolio, events)"] = time.perf_counter() - start
        collector = _Collector(cfg.benchmark, expected_rows=sum(len(b) for b in batches))
        start = time.perf_counter()
        for batch, (targets, side), result in zip(batches, decided, results, strict=True):
            collector.add(cfg.strategy.strategy_id, cfg.account.id, batch, targets, side, result)
        ts, equity = collector.equity().values()
        fill_columns = _metric_columns(collector.frames().table("fills"))
        times["collect (target events, equity curve, fills table)"] = time.perf_counter() - start
        start = time.perf_counter()
        compute_metrics((ts, equity), fills=fill_columns, config=cfg.metrics)
        times["metrics"] = time.perf_counter() - start
        times["sum of parts"] = sum(times.values())
        start = time.perf_counter()
        backtest(tape, cfg)
        times["whole backtest (Bytewax flow, manifest…)"] = time.perf_counter() - start
        start = time.perf_counter()
        tables = collector.frames()
        for name in tables:
            tables[name]  # noqa: B018 - built when read
        collector.equity().frame()
        times["(when read) every table and the equity curve as DataFrames"] = time.perf_counter() - start
    for part in rows["batch"]:
        print(f"| {part} | {rows['batch'][part]:.3f} | {rows['bar'][part]:.3f} |")


def warm(tape: Path, runs: int) -> None:
    """Median of ``runs`` backtests in one process after a first one (a parameter sweep's case), the two
    paths alternating."""
    from replay.backtest import backtest

    print("| path | bars | median s | bars/s |")
    print("|---|---:|---:|---:|")
    for callback in PATHS:
        backtest(tape, config(callback))
    seconds: dict[str, list[float]] = {callback: [] for callback in PATHS}
    for i in range(runs):
        for callback in PATHS if i % 2 == 0 else list(PATHS)[::-1]:
            start = time.perf_counter()
            backtest(tape, config(callback))
            seconds[callback].append(time.perf_counter() - start)
    from connectors.tape_archive import TapeReader

    bars = TapeReader(tape).count(["md.bar.1m"])
    for callback, values in seconds.items():
        median = statistics.median(values)
        print(f"| {PATHS[callback]} | {bars:,} | {median:.3f} | {bars / median:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", default="100000,1000000", help="comma-separated bar counts")
    parser.add_argument("--instruments", default="1", help="comma-separated instrument counts")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--breakdown", action="store_true", help="time each part (first size only)")
    parser.add_argument(
        "--warm", type=int, metavar="N", help="N runs in one warm process instead (first size only)"
    )
    parser.add_argument(
        "--write", action="store_true", help="also write the results (Parquet tables, metrics, manifest)"
    )
    parser.add_argument("--one", nargs=2, metavar=("TAPE", "CALLBACK"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(Path(args.one[0]), args.one[1], args.out, args.check)))
        return
    sizes = [(int(b), int(i)) for b in args.bars.split(",") for i in args.instruments.split(",")]
    if args.breakdown:
        breakdown(make_tape(*sizes[0]))
        return
    if args.warm:
        warm(make_tape(*sizes[0]), args.warm)
        return
    written = " (results written)" if args.write else ""
    print(
        "| path | bars | instruments | median s | bars/s | round trips | fills = per-bar reference | peak RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for bars, instruments in sizes:
        tape = make_tape(bars, instruments)
        runs: dict[str, list[dict]] = {callback: [] for callback in PATHS}
        for i in range(args.runs):
            for callback in PATHS if i % 2 == 0 else list(PATHS)[::-1]:
                check = i == 0 and instruments == 1  # the reference is written for one instrument
                runs[callback].append(run_in_child(tape, callback, args.write, check))
        hashes = {run["fills_hash"] for values in runs.values() for run in values}
        assert len(hashes) == 1, "vectorised and per-event paths traded differently"
        for callback, values in runs.items():
            median = statistics.median(run["seconds"] for run in values)
            peak = max(run["peak_rss_mb"] for run in values)
            equal = values[0].get("equals_reference")
            print(
                f"| {PATHS[callback]}{written} | {bars:,} | {instruments} | {median:.3f} | {bars / median:,.0f} | "
                f"{values[0]['round_trips']:,} | {'n/a' if equal is None else 'yes' if equal else 'NO'} | {peak:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
