"""``tape run NAME``: run a long-running dataflow service with Bytewax recovery."""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path

import click

from schemas.errors import TapeError

SERVICES = ("features", "strategies", "execution", "analytics")


def run_service(
    name: str,
    options,
    recovery_dir: Path | None,
    snapshot_seconds: float,
) -> None:
    """Build ``streams.<name>`` with ``options`` and run it in this process until stopped."""
    from bytewax.recovery import RecoveryConfig, init_db_dir
    from bytewax.run import cli_main

    from streams.edges import settle_heap

    module = importlib.import_module(f"streams.{name}")
    flow = module.build_flow(options)
    settle_heap()
    recovery = None
    if recovery_dir is not None:
        if not any(recovery_dir.glob("part-*.sqlite3")):
            recovery_dir.mkdir(parents=True, exist_ok=True)
            init_db_dir(recovery_dir, 1)
        recovery = RecoveryConfig(str(recovery_dir))
    cli_main(flow, epoch_interval=timedelta(seconds=snapshot_seconds), recovery_config=recovery)


@click.command("run")
@click.argument("name", type=click.Choice(SERVICES))
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Run config YAML (required by strategies and execution).",
)
@click.option("--bootstrap", envvar="TAPE_BOOTSTRAP", default="127.0.0.1:19092", show_default=True)
@click.option("--namespace", envvar="TAPE_NAMESPACE", default="", help="Topic name prefix, e.g. 'paper1.'.")
@click.option(
    "--store",
    envvar="TAPE_STORE",
    default="var/analytics",
    show_default=True,
    help="Analytics store (analytics service).",
)
@click.option(
    "--start",
    type=click.Choice(["earliest", "latest"]),
    default="earliest",
    show_default=True,
    help="Where to start reading when there is no recovery state.",
)
@click.option(
    "--recovery-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Bytewax recovery directory [default: var/recovery/<namespace><name>].",
)
@click.option("--no-recovery", is_flag=True, help="Run without Bytewax recovery (state is lost on stop).")
@click.option(
    "--snapshot-interval",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds between epochs (state snapshots).",
)
def command(
    name, config, bootstrap, namespace, store, start, recovery_dir, no_recovery, snapshot_interval
) -> None:
    """Run service NAME (features, strategies, execution, analytics) against Kafka until stopped."""
    from streams.options import ServiceOptions

    try:
        options = ServiceOptions(
            bootstrap=bootstrap, namespace=namespace, config=config, store=store, start=start
        )
        directory = None if no_recovery else (recovery_dir or Path("var/recovery") / f"{namespace}{name}")
        click.echo(
            f"tape run {name}: bootstrap {bootstrap}, namespace {namespace!r}, recovery {directory}", err=True
        )
        run_service(name, options, directory, snapshot_interval)
    except TapeError as e:
        raise click.ClickException(str(e)) from None
