"""``tape kafka start|stop|status|logs``: the local single-node Kafka broker (see `tape.broker`)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from schemas.errors import TapeError
from tape.broker import LocalBroker

home_option = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/kafka"),
    show_default=True,
    envvar="TAPE_KAFKA_HOME",
    help="Broker home: config, data, kafka.log, kafka.pid.",
)


@click.group("kafka")
def command() -> None:
    """Start, stop or inspect the local Kafka broker (jars from Maven, KRaft, 127.0.0.1)."""


@command.command()
@home_option
@click.option("--port", type=int, default=19092, show_default=True, help="Client (PLAINTEXT) port.")
@click.option("--controller-port", type=int, default=19093, show_default=True, help="KRaft controller port.")
@click.option("--heap-mb", type=int, default=512, show_default=True, help="JVM maximum heap.")
@click.option("--timeout", type=float, default=60, show_default=True, help="Seconds to wait until ready.")
@click.option("--foreground", is_flag=True, help="Stay attached; Ctrl-C stops the broker.")
def start(
    home: Path, port: int, controller_port: int, heap_mb: int, timeout: float, foreground: bool
) -> None:
    """Start the broker in the background and wait until it serves clients."""
    broker = LocalBroker(
        home, port=port, controller_port=controller_port, heap_mb=heap_mb, die_with_parent=foreground
    )
    if broker.is_running():
        running = LocalBroker.at(home)
        click.echo(f"Kafka already running: pid {running.status().pid}, bootstrap {running.bootstrap}")
        return
    began = time.monotonic()
    try:
        broker.start(timeout=timeout)
    except TapeError as e:
        raise click.ClickException(str(e)) from e
    click.echo(
        f"Kafka ready in {time.monotonic() - began:.1f} s: bootstrap {broker.bootstrap}, "
        f"pid {broker.status().pid}, log {broker.log_path}"
    )
    if foreground:
        click.echo("Ctrl-C stops it.")
        try:
            while broker.is_running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            broker.stop()
            click.echo("Kafka stopped.")
            return
        raise click.ClickException(f"Kafka exited on its own; log {broker.log_path}:\n{broker.log_tail()}")


@command.command()
@home_option
@click.option("--timeout", type=float, default=30, show_default=True, help="Seconds before SIGKILL.")
def stop(home: Path, timeout: float) -> None:
    """Stop the broker started from HOME (SIGTERM, then SIGKILL)."""
    if LocalBroker.at(home).stop(timeout=timeout):
        click.echo(f"Kafka stopped ({home}).")
    else:
        click.echo(f"No Kafka broker running from {home}.")


@command.command()
@home_option
def status(home: Path) -> None:
    """Show pid, bootstrap and topic count; exit 1 if the broker is not running."""
    broker = LocalBroker.at(home)
    try:
        st = broker.status()
    except TapeError as e:
        raise click.ClickException(str(e)) from e
    if not st.running:
        click.echo(f"Kafka not running (home {st.home}).")
        raise SystemExit(1)
    click.echo(
        f"Kafka running\n  pid: {st.pid}\n  bootstrap: {st.bootstrap}\n  topics: {st.topics}\n"
        f"  home: {st.home}\n  log: {broker.log_path}"
    )


@command.command()
@home_option
@click.option("-n", "--lines", type=int, default=40, show_default=True, help="How many lines to show.")
def logs(home: Path, lines: int) -> None:
    """Print the tail of the broker log."""
    broker = LocalBroker.at(home)
    if not broker.log_path.exists():
        raise click.ClickException(f"no broker log at {broker.log_path}")
    click.echo(broker.log_tail(lines))
