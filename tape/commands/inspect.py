"""``tape inspect``: a tape archive's manifest as a summary table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from connectors.tape_archive import TapeReader
from schemas.errors import TapeError


def _time(ns: int | None) -> str:
    if ns is None:
        return "-"
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def summary_rows(manifest: dict) -> list[tuple[str, ...]]:
    """One row per topic-partition: topic, partition, offsets, count, undecodable, schemas, time range."""
    rows = []
    for topic, entry in sorted(manifest["topics"].items()):
        for partition, part in sorted(entry["partitions"].items(), key=lambda kv: int(kv[0])):
            schemas = ",".join(
                f"{name}({s['fingerprint'][:8]})" for name, s in sorted(part["schemas"].items())
            )
            rows.append(
                (
                    topic,
                    f"{partition}/{entry['partition_count']}",
                    f"{part['start_offset']}..{part['end_offset']}",
                    str(part["count"]),
                    str(part["undecodable"]),
                    schemas or "-",
                    _time(part.get("first_ts_event")),
                    _time(part.get("last_ts_event")),
                )
            )
    return rows


@click.command("inspect")
@click.argument("tape_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--verify", is_flag=True, help="Also check every file's sha256.")
def command(tape_dir: Path, verify: bool) -> None:
    """Show a tape archive's manifest and event counts."""
    try:
        reader = TapeReader(tape_dir)
        if verify:
            reader.verify()
    except TapeError as e:
        raise click.ClickException(str(e)) from e
    manifest = reader.manifest
    click.echo(f"tape {tape_dir}  format v{manifest['version']}  created {manifest['created_at']}")
    click.echo(f"content hash {manifest['content_hash']}")
    header = ("topic", "part", "offsets", "count", "bad", "schemas", "first ts_event", "last ts_event")
    rows = [header, *summary_rows(manifest)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    click.echo(f"total {reader.count()} records, {reader.undecodable()} undecodable")
    if verify:
        click.echo("verified: every file matches its sha256")
