"""``tape backtest``: replay a tape through a run config's strategy, execution and risk."""

from __future__ import annotations

from pathlib import Path

import click

from schemas.errors import TapeError

DEFAULT_STORE = "var/analytics"


def run_and_report(
    tape: Path, config: Path, out: Path | None, progress: bool = True, store: str | None = None
):
    """Run a backtest, print its metrics and store it in ``store`` (if given); raise click errors on bad input."""
    from replay.backtest import backtest

    try:
        result = backtest(tape, config, out=out, progress=progress)
        if store is not None:
            from connectors.analytics import open_store
            from replay.store import store_backtest

            with open_store(store) as analytics:
                store_backtest(result, analytics, tape=str(tape))
    except TapeError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"\nrun {result.manifest['run_id']}  ({result.manifest['code_version'][:12]})")
    click.echo(str(result.metrics))
    if result.run_dir is not None:
        click.echo(f"\nresults written to {result.run_dir}/")
    if store is not None:
        click.echo(f"results stored in {store} (run_id {result.manifest['run_id']})")
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
@click.option(
    "--store",
    envvar="TAPE_STORE",
    default=DEFAULT_STORE,
    show_default=True,
    help="Analytics store to write the run to: a directory (embedded chDB) or a ClickHouse URL.",
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def command(tape: Path, config: Path, out: Path | None, store: str, no_progress: bool) -> None:
    """Backtest CONFIG on TAPE with the same operators the live services run."""
    run_and_report(tape, config, out, progress=not no_progress, store=store)
