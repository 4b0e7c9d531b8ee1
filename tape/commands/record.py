"""``tape record``: capture Kafka topics (an offset or time range) into a tape archive."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from connectors.kafka.clients import DEFAULT_BOOTSTRAP
from replay.record import Position, record
from schemas.errors import TapeError


def parse_position(text: str) -> Position:
    """``earliest``/``latest``, an offset (digits) or an ISO-8601 time (UTC when no zone is given)."""
    if text in ("earliest", "latest"):
        return text
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"expected earliest, latest, an offset or an ISO time, was {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command("record")
@click.option("--topics", "-t", required=True, multiple=True, help="Topic name or glob ('md.*'); repeatable.")
@click.option("--from", "start", default="earliest", show_default=True, help="earliest | OFFSET | ISO-TIME")
@click.option(
    "--to", "end", default="latest", show_default=True, help="latest | OFFSET | ISO-TIME (exclusive)"
)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Tape directory."
)
@click.option("--bootstrap", default=DEFAULT_BOOTSTRAP, show_default=True, help="Kafka bootstrap servers.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
def command(
    topics: tuple[str, ...], start: str, end: str, out: Path, bootstrap: str, overwrite: bool
) -> None:
    """Record Kafka topics (offset or time range) into a tape archive."""
    try:
        manifest = record(
            bootstrap, list(topics), out, parse_position(start), parse_position(end), overwrite=overwrite
        )
    except TapeError as e:
        raise click.ClickException(str(e)) from e
    total = sum(p["count"] for t in manifest["topics"].values() for p in t["partitions"].values())
    click.echo(f"recorded {total} records from {len(manifest['topics'])} topics into {out}")
