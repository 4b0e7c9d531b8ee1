"""``tape demo``: the shipped sample tape through the EMA-crossover example, end to end."""

from __future__ import annotations

from pathlib import Path

import click

from tape.commands.backtest import DEFAULT_STORE, run_and_report

ROOT = Path(__file__).resolve().parents[2]


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/runs/demo"),
    show_default=True,
    help="Where to write the demo's results.",
)
@click.option(
    "--store",
    envvar="TAPE_STORE",
    default=DEFAULT_STORE,
    show_default=True,
    help="Analytics store the demo's run is written to.",
)
def command(out: Path, store: str) -> None:
    """Backtest examples/ema_cross.yaml on samples/sample-1m and print the metrics."""
    tape, config = ROOT / "samples" / "sample-1m", ROOT / "examples" / "ema_cross.yaml"
    click.echo(
        f"Replaying {tape.relative_to(ROOT)} through {config.relative_to(ROOT)} (Bytewax, simulated exchange)…"
    )
    result = run_and_report(tape, config, out, store=store)
    dashboard = "tape dashboard" if store == DEFAULT_STORE else f"tape dashboard --store {store}"
    click.echo(
        f"\n{len(result.orders)} orders, {len(result.fills)} fills. Open the dashboard: `{dashboard}`. "
        "Next: `tape backtest --tape samples/sample-1m --config examples/rsi_reversion.yaml`, "
        "or `tape kafka start` for live work."
    )
