"""Backtest by replay: a tape through the same strategy and execution operators that run live.

The dataflow reads top to bottom::

    read_tape (TapeSource: EventBatch es in event-time order)
      → decide_targets  (StrategyRunner: indicators + strategy → target changes)
      → execute_targets (TradingEngine: risk → orders → simulated exchange → fills → portfolio)
      → collect_results

`backtest` runs it in-process with Bytewax, then computes the metrics and (optionally) writes the
results: Parquet tables of every event type, the equity curve, ``metrics.json`` and a
``manifest.json`` RunManifest. The same tape, config and code give byte-identical files.

Examples
--------
>>> from pathlib import Path
>>> sample = Path(__file__).resolve().parents[1] / "samples" / "sample-1m"
>>> config = RunConfig.from_dict({"strategy": {"name": "ma_crossover",
...     "params": {"fast": 10, "slow": 30, "quantity": 10}}, "universe": ["ALFA"]})
>>> result = backtest(sample, config)
>>> len(result.fills) > 0, result.metrics.fills == len(result.fills)
(True, True)
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import bytewax.operators as op
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import run_main

from connectors.tape_archive import TapeReader
from connectors.tape_source import TapeSource
from operators.config import RunConfig
from operators.engine import AccountPath, BatchResult, TradingEngine
from operators.performance import Metrics, compute_metrics
from operators.performance.trades import FILL_COLUMNS
from operators.strategies import strategy_class
from operators.strategy import StrategyRunner
from operators.strategy.runner import EMPTY_TARGETS, Targets
from replay.memory import keep_freed_memory, old_objects_frozen
from schemas.batch import EventBatch
from schemas.codec import CODEC
from schemas.errors import ConfigError
from schemas.event_table import EventTable, tables_of

#: Event types a backtest keeps, and the result table each goes to.
TABLES = {
    "TargetPosition": "targets",
    "OrderIntent": "intents",
    "Order": "orders",
    "ExecutionReport": "reports",
    "Fill": "fills",
    "Position": "positions",
    "PnL": "pnl",
    "RiskAlert": "risk_alerts",
    "Prediction": "predictions",
    "Features": "features",
    "ModelMetric": "model_metrics",
}


class ResultTables(Mapping[str, pd.DataFrame]):
    """A backtest's event tables by name; each is joined from its batches and becomes a DataFrame
    when first read (a parameter sweep that only reads metrics and fills never pays for the rest)."""

    def __init__(self, parts: Mapping[str, tuple[str, list[EventTable]]]):
        self._parts = parts  # result table name → (schema, the batches' tables)
        self._tables: dict[str, EventTable] = {}
        self._frames: dict[str, pd.DataFrame] = {}

    def table(self, name: str) -> EventTable:
        """The result table ``name`` as one `EventTable`."""
        table = self._tables.get(name)
        if table is None:
            schema, parts = self._parts[name]
            table = self._tables[name] = EventTable.concat(schema, parts)
        return table

    def __getitem__(self, name: str) -> pd.DataFrame:
        frame = self._frames.get(name)
        if frame is None:
            frame = self._frames[name] = self.table(name).to_frame()
        return frame

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)


class EquityCurve:
    """The account path of a backtest, one row per event time: kept as the batches produced it and
    joined when read. `values` gives the equity the metrics need; `frame` adds cash and gross
    exposure, which the engine computes only when asked."""

    def __init__(self, parts: list[AccountPath]):
        self._parts = parts
        self._path: AccountPath | None = None
        self._frame: pd.DataFrame | None = None

    def _joined(self) -> AccountPath:
        if self._path is None:  # batches may repeat an event time at their edges: keep its last row
            self._path = AccountPath.joined(self._parts).last_per_time()
        return self._path

    def values(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ts_event, equity)`` arrays."""
        path = self._joined()
        return path.ts_event, path.equity

    def frame(self) -> pd.DataFrame:
        """The curve as a DataFrame indexed by ``ts_event``: ``equity, cash, gross_exposure``."""
        if self._frame is None:
            path = self._joined()
            values = np.empty((3, len(path.ts_event)))  # one block: the frame wraps it without copying
            values[0], values[1], values[2] = path.equity, path.cash, path.gross_exposure
            self._frame = pd.DataFrame(
                values.T,
                index=pd.Index(path.ts_event, name="ts_event", copy=False),
                columns=["equity", "cash", "gross_exposure"],
                copy=False,
            )
        return self._frame


class BacktestResult:
    """The outcome of a backtest, as pandas DataFrames (one per event type) plus metrics and manifest.

    ``equity`` is the equity curve frame (``equity, cash, gross_exposure`` by ``ts_event``); it is
    built when first read, as are the tables.
    """

    def __init__(
        self,
        metrics: Metrics,
        equity: pd.DataFrame | EquityCurve,
        tables: ResultTables,
        manifest: dict[str, Any],
        run_dir: Path | None = None,
    ):
        self.metrics, self._equity, self.tables, self.manifest, self.run_dir = (
            metrics,
            equity,
            tables,
            manifest,
            run_dir,
        )

    @property
    def equity(self) -> pd.DataFrame:
        if isinstance(self._equity, EquityCurve):
            self._equity = self._equity.frame()
        return self._equity

    @property
    def orders(self) -> pd.DataFrame:
        return self.tables["orders"]

    @property
    def fills(self) -> pd.DataFrame:
        return self.tables["fills"]

    @property
    def positions(self) -> pd.DataFrame:
        return self.tables["positions"]

    @property
    def targets(self) -> pd.DataFrame:
        return self.tables["targets"]


@dataclass
class _Collector:
    """Accumulates what the flow emits (single worker, in-process): event tables, never a dict per event."""

    benchmark: str | None
    expected_rows: int = 0  # the tape's bars: a bound on the equity curve's rows
    tables: dict[str, list[EventTable]] = field(default_factory=lambda: {name: [] for name in TABLES})
    account_path: list[AccountPath] = field(default_factory=list)
    benchmark_parts: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    bars: int = 0
    _equity_buffer: np.ndarray = field(default_factory=lambda: np.empty(0))
    _equity_used: int = 0

    def add(
        self,
        strategy_id: str,
        account_id: str,
        batch: EventBatch,
        targets: Targets,
        side_events: list[tuple[str, dict]],
        result: BatchResult,
    ) -> None:
        if batch.schema == "Bar":
            self.bars += len(batch)
            if self.benchmark is not None and self.benchmark in batch.categories["instrument"]:
                code = batch.categories["instrument"].index(self.benchmark)
                rows = batch.columns["instrument"] == code
                self.benchmark_parts.append((batch.columns["ts_event"][rows], batch.columns["close"][rows]))
        if len(targets):
            self.tables["TargetPosition"].append(targets.to_table(strategy_id, account_id))
        for produced in (tables_of(side_events), result.tables):
            for name, table in produced.items():
                self.tables[name].append(table)
        if len(result.ts_event):
            self.account_path.append(self._kept(result.path))  # not the result: its events are tabled above

    def equity_slot(self, rows: int) -> np.ndarray:
        """Where the equity of the next batch (``rows`` bars) goes: the engine may write it there
        (`TradingEngine.on_batch`'s ``equity_out``), which spares `_kept` the copy."""
        self._reserve(rows, self.expected_rows - self.bars)
        return self._equity_buffer[self._equity_used : self._equity_used + rows]

    def _reserve(self, rows: int, still_to_come: int) -> None:
        if self._equity_used + rows > len(self._equity_buffer):
            self._equity_buffer = np.empty(max(rows, still_to_come))
            self._equity_used = 0

    def _kept(self, path: AccountPath) -> AccountPath:
        """``path`` with its equity moved into the run's buffer (if not written there already), so the
        curve is joined without copying and each batch's equity array is freed for the next to reuse."""
        rows = len(path.equity)
        self._reserve(rows, self.expected_rows - self.bars + rows)
        start, self._equity_used = self._equity_used, self._equity_used + rows
        return path.with_equity_in(self._equity_buffer[start : self._equity_used])

    def frames(self) -> ResultTables:
        """One DataFrame per result table (each joined and built when first read)."""
        return ResultTables({TABLES[name]: (name, tables) for name, tables in self.tables.items()})

    def equity(self) -> EquityCurve:
        return EquityCurve(self.account_path)


@dataclass(frozen=True)
class _Run:
    """What one backtest binds into the process's backtest dataflow while it runs: the tape, the
    strategy's runner and the trading engine (the state of one strategy on one worker, kept here
    rather than in Bytewax state, which Bytewax would deep-copy for a snapshot no replay resumes
    from), and the collector of the results."""

    source: TapeSource
    config: RunConfig
    runner: StrategyRunner
    engine: TradingEngine
    collector: _Collector


#: The backtest running in this thread (and context); `backtest_flow`'s steps read it.
_RUN: ContextVar[_Run] = ContextVar("backtest_run")


class _RunTape(FixedPartitionedSource[EventBatch, int]):
    """The running backtest's `TapeSource`."""

    def list_parts(self) -> list[str]:
        return _RUN.get().source.list_parts()

    def build_part(self, step_id: str, for_part: str, resume_state: int | None):
        return _RUN.get().source.build_part(step_id, for_part, resume_state)


class _CollectorPartition(StatelessSinkPartition):
    def __init__(self, run: _Run):
        self._run = run

    def write_batch(self, items: list) -> None:
        run = self._run
        strategy_id, account_id = run.config.strategy.strategy_id, run.config.account.id
        for batch, targets, side_events, result in items:
            run.collector.add(strategy_id, account_id, batch, targets, side_events, result)


class _RunCollector(DynamicSink):
    """The running backtest's `_Collector`."""

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _CollectorPartition:
        return _CollectorPartition(_RUN.get())


def make_runner(config: RunConfig) -> StrategyRunner:
    """The strategy runner a run config describes (also used by the live ``strategies`` service)."""
    strategy = strategy_class(config.strategy.name)(config.strategy.params)
    if config.strategy.callback == "bar" and not strategy.per_bar:
        raise ConfigError(f"strategy.callback: {config.strategy.name} has no per-event on_bar")
    runner = StrategyRunner(
        strategy,
        config.strategy.strategy_id,
        None if config.universe is None else tuple(config.universe),
        exclude=(config.benchmark,) if config.benchmark and config.universe is None else (),
    )
    if config.strategy.callback == "bar":
        runner._vectorised = False
    elif config.strategy.callback == "batch" and not strategy.vectorised:
        raise ConfigError(f"strategy.callback: {config.strategy.name} has no vectorised on_batch")
    return runner


def _decide(batch: EventBatch) -> tuple[EventBatch, Targets, list]:
    runner = _RUN.get().runner
    targets = runner.on_batch(batch) if batch.schema == "Bar" else EMPTY_TARGETS
    return batch, targets, runner.take_events()


def _execute(decided: tuple[EventBatch, Targets, list]) -> tuple[EventBatch, Targets, list, BatchResult]:
    batch, targets, side_events = decided
    run = _RUN.get()
    equity_out = run.collector.equity_slot(len(batch)) if batch.schema == "Bar" and len(batch) else None
    return batch, targets, side_events, run.engine.on_batch(batch, targets, equity_out)


@cache
def backtest_flow() -> Dataflow:
    """The backtest dataflow. It is built once per process (Bytewax takes milliseconds to build a
    flow, a tenth of a short backtest); each run binds its tape source, config and collector
    (`_RUN`) while it runs, so runs in different threads do not meet."""
    flow = Dataflow("backtest")
    batches = op.input("read_tape", flow, _RunTape())
    decided = op.map("decide_targets", batches, _decide)
    executed = op.map("execute_targets", decided, _execute)
    op.output("collect_results", executed, _RunCollector())
    return flow


@cache
def _ask_git() -> subprocess.Popen | None:
    """Start asking git for the commit and whether the tracked files are modified, in one process
    (once per process); None without git. `backtest` starts this first, so git answers while the
    replay runs."""
    root = Path(__file__).resolve().parents[1]
    try:
        return subprocess.Popen(
            ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    except OSError:
        return None


@cache
def code_version() -> str:
    """The git commit of the code (``-dirty`` when modified), or the package version outside git.

    Asked once per process: the code a process runs is the code it loaded.
    """
    asked = _ask_git()
    if asked is not None:
        lines = asked.communicate()[0].splitlines()
        commit = next((line.split()[2] for line in lines if line.startswith("# branch.oid ")), None)
        if asked.returncode == 0 and commit not in (None, "(initial)"):
            return commit + ("-dirty" if any(not line.startswith("#") for line in lines) else "")
    from importlib.metadata import version

    return f"tape-{version('tape')}"


def _metric_columns(fills: EventTable) -> dict[str, object]:
    """The fill columns `compute_metrics` reads; coded strings as pandas Categoricals (compared by code)
    over object categories (pandas' default string categories would start pyarrow's string kernels,
    6 ms the first time in a process)."""
    return {
        name: pd.Categorical.from_codes(
            fills.columns[name], dtype=pd.CategoricalDtype(pd.Index(fills.categories[name], dtype=object))
        )
        if name in fills.categories
        else fills.columns[name]
        for name in FILL_COLUMNS
    }


def _benchmark_series(parts: list[tuple[np.ndarray, np.ndarray]], index: pd.Index) -> pd.Series | None:
    if not parts:
        return None
    ts = np.concatenate([p[0] for p in parts])
    close = np.concatenate([p[1] for p in parts])
    series = pd.Series(close, index=ts)
    series = series[~series.index.duplicated(keep="last")]
    return series.reindex(series.index.union(index)).ffill().reindex(index)


def _manifest(tape: Path, config: RunConfig, reader: TapeReader) -> dict[str, Any]:
    inputs = []
    for topic in reader.select_topics(config.data.topics):
        for partition, entry in sorted(
            reader.manifest["topics"][topic]["partitions"].items(), key=lambda kv: int(kv[0])
        ):
            inputs.append(
                {
                    "topic": topic,
                    "partition": int(partition),
                    "start_offset": entry["start_offset"],
                    "end_offset": entry["end_offset"],
                    "count": entry["count"],
                    "first_ts_event": entry.get("first_ts_event") or 0,
                    "last_ts_event": entry.get("last_ts_event") or 0,
                }
            )
    config_json = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    version = code_version()
    run_key = f"{reader.manifest['content_hash']}|{config.config_hash()}|{version}"
    first_ts = min((i["first_ts_event"] for i in inputs), default=0)
    last_ts = max((i["last_ts_event"] for i in inputs), default=0)
    return {
        "run_id": "bt-" + hashlib.sha256(run_key.encode()).hexdigest()[:16],
        "kind": "backtest",
        "inputs": inputs,
        "config_hash": config.config_hash(),
        "config_json": config_json,
        "code_version": version,
        "schema_fingerprints": {name: CODEC.fingerprint(name).hex() for name in CODEC.names},
        "seeds": {},
        "outputs": {},
        "ts_event": first_ts,
        "ts_init": last_ts,
    }


def load_config(config: RunConfig | str | Path | dict) -> RunConfig:
    """A `RunConfig` from an object, a dict or a YAML file path."""
    if isinstance(config, RunConfig):
        return config
    if isinstance(config, dict):
        return RunConfig.from_dict(config)
    path = Path(config)
    if not path.is_file():
        raise ConfigError(f"run config file {path} does not exist")
    return RunConfig.from_yaml_text(path.read_text(), source=str(path))


def load_configs(location: str | Path) -> list[RunConfig]:
    """The run configs at ``location``: one YAML file, or every ``*.yaml`` of a directory (sorted).

    Strategy ids must be unique across them (each is a key of the live services).
    """
    path = Path(location)
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise ConfigError(f"run config directory {path} holds no *.yaml file")
    configs = [load_config(f) for f in files]
    ids = [c.strategy.strategy_id for c in configs]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ConfigError(f"strategy.id: {duplicated} used by more than one config in {path}")
    return configs


def backtest(
    tape: str | Path,
    config: RunConfig | str | Path | dict,
    out: str | Path | None = None,
    progress: bool = False,
) -> BacktestResult:
    """Replay ``tape`` through the strategy and execution of ``config``; write results to ``out`` if given."""
    tape = Path(tape)
    config = load_config(config)
    keep_freed_memory()
    _ask_git()
    reader = TapeReader(tape)
    missing = [t for t in config.data.topics if t not in reader.topics]
    if missing:
        raise ConfigError(f"data.topics: {missing} not in the tape {tape} (it has {reader.topics})")
    runner = make_runner(config)  # validates the strategy and its params before the flow starts
    engine = TradingEngine(config.stage_config(), config.strategy.strategy_id, config.account.id)
    collector = _Collector(config.benchmark, expected_rows=reader.count(config.data.topics))
    source = TapeSource(tape, config.data.topics, config.data.batch_rows, progress)
    bound = _RUN.set(_Run(source, config, runner, engine, collector))
    try:
        with old_objects_frozen():
            run_main(backtest_flow(), epoch_interval=timedelta(seconds=30))
    finally:
        _RUN.reset(bound)
    equity = collector.equity()
    tables = collector.frames()
    manifest = _manifest(tape, config, reader)
    ts, values = equity.values()
    metrics = compute_metrics(
        (ts, values),
        benchmark=_benchmark_series(collector.benchmark_parts, pd.Index(ts, copy=False)),
        fills=_metric_columns(tables.table("fills")),
        config=config.metrics,
    )
    result = BacktestResult(metrics, equity, tables, manifest)
    if out is not None:
        result.run_dir = write_results(result, Path(out))
    return result


def write_results(result: BacktestResult, out: Path) -> Path:
    """Write a result's tables (Parquet), equity, metrics and manifest under ``out``; return ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    outputs = {}
    for name in result.tables:
        table = result.tables.table(name)
        _write_parquet(table.to_arrow(), out / f"{name}.parquet", dictionary=list(table.categories))
        outputs[name] = f"{name}.parquet"
    _write_parquet(
        pa.Table.from_pandas(result.equity), out / "equity.parquet", dictionary=[], arrow_schema=True
    )
    outputs["equity"] = "equity.parquet"
    (out / "metrics.json").write_text(
        json.dumps(result.metrics.to_dict(), indent=2, sort_keys=True, default=str) + "\n"
    )
    outputs["metrics"] = "metrics.json"
    manifest = {**result.manifest, "outputs": outputs}
    CODEC.encode("RunManifest", manifest)  # the manifest must be a valid RunManifest event
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    result.manifest = manifest
    return out


def _write_parquet(table: pa.Table, path: Path, dictionary: list[str], arrow_schema: bool = False) -> None:
    """Write ``table`` with zstd; dictionary pages only for the ``dictionary`` columns (the repetitive
    strings: ids, prices and times do not repeat), event times delta-encoded. Without
    ``arrow_schema`` (which also keeps a pandas index), readers see dictionary-coded columns as plain
    strings."""
    times = [
        name
        for name in ("ts_event", "ts_init")
        if name in table.column_names and pa.types.is_integer(table.schema.field(name).type)
    ]
    pq.write_table(
        table,
        path,
        compression="zstd",
        use_dictionary=dictionary,
        column_encoding=dict.fromkeys(times, "DELTA_BINARY_PACKED"),
        store_schema=arrow_schema,
    )
