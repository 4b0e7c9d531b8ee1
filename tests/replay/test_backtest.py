"""Backtest by replay: deterministic byte-identical outputs, DataFrames, manifest, clear config errors."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from replay.backtest import backtest, code_version
from schemas.codec import CODEC
from schemas.errors import ConfigError
from tape.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "sample-1m"
EXAMPLE = ROOT / "examples" / "ema_cross.yaml"


def test_same_tape_and_config_give_byte_identical_outputs(tmp_path):
    first = backtest(SAMPLE, EXAMPLE, out=tmp_path / "a")
    second = backtest(SAMPLE, EXAMPLE, out=tmp_path / "b")
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert {"orders.parquet", "fills.parquet", "equity.parquet", "metrics.json", "manifest.json"} <= set(
        files
    )
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first.manifest["run_id"] == second.manifest["run_id"]


def test_written_tables_read_back_as_the_result_frames(tmp_path):
    result = backtest(SAMPLE, EXAMPLE, out=tmp_path)
    for name, frame in {**result.tables, "equity": result.equity}.items():
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{name}.parquet"), frame, obj=name)
    assert len(result.fills) and len(result.equity)


def test_backtest_returns_dataframes_and_a_valid_run_manifest():
    result = backtest(SAMPLE, EXAMPLE)
    assert len(result.fills) > 0 and len(result.orders) >= len(result.fills) / 2
    assert set(result.fills["instrument"]) <= {"ALFA", "BRVO", "CHRL"}  # the benchmark is not traded
    assert result.metrics.fills == len(result.fills)
    assert result.equity.index.is_monotonic_increasing
    assert result.equity["equity"].iloc[0] == pytest.approx(1_000_000, rel=1e-3)
    CODEC.encode("RunManifest", result.manifest)
    assert result.manifest["inputs"][0]["topic"] == "md.bar.1m"
    # every fill comes after the target that caused it
    first_target = result.targets["ts_event"].min()
    assert result.fills["ts_event"].min() > first_target


def test_vectorised_and_per_bar_callbacks_trade_identically():
    config = {
        "strategy": {"name": "ma_crossover", "params": {"fast": 10, "slow": 30, "quantity": 50}},
        "benchmark": "SPX",
    }
    batch = backtest(SAMPLE, {**config, "strategy": {**config["strategy"], "callback": "batch"}})
    per_bar = backtest(SAMPLE, {**config, "strategy": {**config["strategy"], "callback": "bar"}})
    assert batch.fills.equals(per_bar.fills)
    assert batch.equity.equals(per_bar.equity)


def test_backtests_in_threads_each_get_their_own_run():
    """The backtest flow is built once per process: concurrent runs must not see each other's config."""
    configs = [
        {"strategy": {"name": "ma_crossover", "params": {"fast": fast, "slow": 30, "quantity": 10}}}
        for fast in (5, 10, 20)
    ]
    alone = [backtest(SAMPLE, config).fills for config in configs]
    with ThreadPoolExecutor(max_workers=3) as pool:
        together = list(pool.map(lambda config: backtest(SAMPLE, config).fills, configs))
    assert not alone[0].equals(alone[1])  # the runs differ, so a mix-up would show
    for one, other in zip(alone, together, strict=True):
        pd.testing.assert_frame_equal(one, other)


def test_code_version_is_the_git_commit_marked_dirty_when_tracked_files_changed():
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout

    modified = git("status", "--porcelain", "--untracked-files=no").strip() != ""
    assert code_version() == git("rev-parse", "HEAD").strip() + ("-dirty" if modified else "")


def test_bad_config_names_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("strategy: {name: ma_crossover}\nrisk: {max_drawdown: 2}\n")
    with pytest.raises(ConfigError, match="max_drawdown"):
        backtest(SAMPLE, bad)
    with pytest.raises(ConfigError, match="data.topics"):
        backtest(SAMPLE, {"strategy": {"name": "ma_crossover"}, "data": {"topics": ["md.bar.5m"]}})


def test_cli_backtest_prints_metrics_and_fails_cleanly(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(
        main,
        [
            "backtest",
            "--tape",
            str(SAMPLE),
            "--config",
            str(EXAMPLE),
            "--out",
            str(tmp_path),
            "--store",
            str(tmp_path / "store"),
            "--no-progress",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "Sharpe ratio" in ok.output and (tmp_path / "manifest.json").exists()
    assert "results stored in" in ok.output and (tmp_path / "store").is_dir()
    bad = tmp_path / "bad.yaml"
    bad.write_text("strategy: {name: nope}\n")
    failed = runner.invoke(
        main,
        [
            "backtest",
            "--tape",
            str(SAMPLE),
            "--config",
            str(bad),
            "--store",
            str(tmp_path / "store"),
            "--no-progress",
        ],
    )
    assert failed.exit_code != 0 and "unknown strategy 'nope'" in failed.output
