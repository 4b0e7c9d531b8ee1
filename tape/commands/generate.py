"""``tape generate``: a seeded synthetic market into a tape archive or Kafka."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from connectors.feeds.synthetic import SyntheticMarket, SyntheticMarketConfig, produce_to_kafka, write_tape
from connectors.kafka.clients import DEFAULT_BOOTSTRAP
from schemas.errors import TapeError


@click.command("generate")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write a tape archive here.")
@click.option(
    "--kafka", "bootstrap", is_flag=False, flag_value=DEFAULT_BOOTSTRAP, help="Produce to this broker."
)
@click.option("--rate", type=float, help="With --kafka: events per second in real time (default: flat out).")
@click.option("--namespace", default="", help="With --kafka: topic prefix, e.g. 'run42.'.")
@click.option("--instruments", help="Comma-separated names, e.g. SPX,AAA,BBB.")
@click.option("--bars", type=int, help="Bars per instrument.")
@click.option("--interval", help="Bar interval, e.g. 1m, 5m, 1h, 1d.")
@click.option("--seed", type=int, help="Random seed (same seed, same events).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML SyntheticMarketConfig; the options above override its keys.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing tape at --out.")
def command(
    out: Path | None,
    bootstrap: str | None,
    rate: float | None,
    namespace: str,
    instruments: str | None,
    bars: int | None,
    interval: str | None,
    seed: int | None,
    config_path: Path | None,
    overwrite: bool,
) -> None:
    """Generate a seeded synthetic market (correlated GBM, regimes, jumps) into a tape or Kafka."""
    if (out is None) == (bootstrap is None):
        raise click.UsageError("give exactly one of --out DIR and --kafka BOOTSTRAP")
    overrides: dict[str, Any] = {"instruments": instruments, "bars": bars, "interval": interval, "seed": seed}
    try:
        if config_path is not None:
            config = SyntheticMarketConfig.from_yaml(config_path, **overrides)
        else:
            config = SyntheticMarketConfig.parse(
                {key: value for key, value in overrides.items() if value is not None} | {"bars": bars or 390}
            )
        total = SyntheticMarket(config).event_count
        with tqdm(total=total, unit="ev", unit_scale=True, desc="generate") as bar:
            if out is not None:
                count = write_tape(config, out, overwrite=overwrite, progress=bar.update)
            else:
                count = produce_to_kafka(config, bootstrap or DEFAULT_BOOTSTRAP, rate, namespace, bar.update)
    except TapeError as e:
        raise click.ClickException(str(e)) from e
    where = out if out is not None else f"{bootstrap} (namespace {namespace!r})"
    click.echo(f"{count} events from {len(config.instruments)} instrument(s), seed {config.seed} → {where}")
