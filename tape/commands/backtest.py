"""``tape backtest``: replay a tape through a run config's strategy, execution and risk."""

from __future__ import annotations

from pathlib import Path

import click

from schemas.errors import TapeError


def run_and_report(tape: Path, config: Path, out: Path | None, progress: bool = True):
    """Run a backtest and print its metrics; raise click errors on bad input."""
    from replay.backtest import backtest

    try:
        result = backtest(tape, config, out=out, progress=progress)
    except TapeError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"\nrun {result.manifest['run_id']}  ({result.manifest['code_version'][:12]})")
    click.echo(str(result.metrics))
    if result.run_dir is not None:
        click.echo(f"\nresults written to {result.run_dir}/")
    return result


@click.command("backtest")
@click.option(
    "--tape",
    "tape",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Tape archive directory to replay.",
)
@click.option(
    "--config",
    "config",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Run config YAML (strategy, universe, account, exchange, executor, risk).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for results (Parquet tables, equity, metrics.json, manifest.json).",
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def command(tape: Path, config: Path, out: Path | None, no_progress: bool) -> None:
    """Backtest CONFIG on TAPE with the same operators the live services run."""
    run_and_report(tape, config, out, progress=not no_progress)
