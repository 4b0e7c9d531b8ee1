"""``tape import-csv``: OHLCV CSV files → validated bars in a tape (or Kafka), rejects CSV, summary."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import click
import yaml
from tqdm import tqdm

from connectors.feeds.csv_import import CsvImportConfig, import_csv
from schemas.errors import ConfigError, TapeError


@click.command("import-csv")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--instrument", help="Instrument name (default: the first file's name, upper-cased).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write a tape archive here.")
@click.option("--kafka", "bootstrap", help="Also (or instead) produce the bars to this broker.")
@click.option("--namespace", default="", help="With --kafka: topic prefix, e.g. 'run42.'.")
@click.option("--tz", "timezone", default="UTC", show_default=True, help="Time zone of naive timestamps.")
@click.option("--interval", help="Bar interval (default: inferred; dates alone mean 1d).")
@click.option("--session-close", default="16:00", show_default=True, help="Local close time of daily bars.")
@click.option("--outlier-k", type=float, default=10.0, show_default=True, help="Outlier threshold in MADs.")
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML CsvMapping (time, open, high, low, close, volume, time_format, time_label).",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Rejects CSV path (default: <first file>.rejects.csv).",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing tape at --out.")
def command(
    files: tuple[Path, ...],
    instrument: str | None,
    out: Path | None,
    bootstrap: str | None,
    namespace: str,
    timezone: str,
    interval: str | None,
    session_close: str,
    outlier_k: float,
    mapping_path: Path | None,
    rejects_path: Path | None,
    overwrite: bool,
) -> None:
    """Import Yahoo / Alpha Vantage / mapped OHLCV CSV files, rejecting bad rows with a reason."""
    try:
        mapping = yaml.safe_load(mapping_path.read_text()) if mapping_path is not None else None
        config = CsvImportConfig.parse(
            instrument=instrument or files[0].stem.upper(),
            timezone=timezone,
            interval=interval,
            session_close=_clock(session_close),
            outlier_k=outlier_k,
            mapping=mapping,
        )
        with tqdm(unit="bar", desc="import") as bar:
            summary = import_csv(
                files, config, out, bootstrap, rejects_path, namespace, overwrite, bar.update
            )
    except (TapeError, yaml.YAMLError) as e:
        raise click.ClickException(str(e)) from e
    click.echo(str(summary))


def _clock(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"session_close must be HH:MM, was {text!r}") from None
