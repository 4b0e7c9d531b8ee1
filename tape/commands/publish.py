"""``tape publish``: produce a tape archive's records back into Kafka topics."""

from __future__ import annotations

from pathlib import Path

import click

from connectors.kafka.clients import DEFAULT_BOOTSTRAP
from replay.publish import publish
from schemas.errors import TapeError


@click.command("publish")
@click.argument("tape_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--namespace", default="", help="Prefix for the target topic names.")
@click.option("--topics", "-t", multiple=True, help="Only these topics (names or globs); repeatable.")
@click.option("--bootstrap", default=DEFAULT_BOOTSTRAP, show_default=True, help="Kafka bootstrap servers.")
@click.option("--rate", type=float, default=None, help="Cap on records per second.")
@click.option("--by-key", is_flag=True, help="Partition by key instead of keeping recorded partitions.")
def command(
    tape_dir: Path, namespace: str, topics: tuple[str, ...], bootstrap: str, rate: float | None, by_key: bool
) -> None:
    """Publish a tape archive back into Kafka topics."""
    try:
        counts = publish(tape_dir, bootstrap, list(topics) or None, namespace, not by_key, rate)
    except TapeError as e:
        raise click.ClickException(str(e)) from e
    for topic, n in counts.items():
        click.echo(f"{topic}: {n} records")
