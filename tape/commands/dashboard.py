"""``tape dashboard``: serve the Streamlit dashboard over the analytics store."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

import dashboards

APP = Path(dashboards.__file__).resolve().parent / "app.py"


def streamlit_command(store: str, port: int, headless: bool, address: str = "127.0.0.1") -> list[str]:
    """Return the ``streamlit run`` command line that serves the dashboard.

    Examples
    --------
    >>> line = streamlit_command("var/analytics", 8502, True)
    >>> line[2:4], line[line.index("--server.port") + 1], line[-3:]
    (['streamlit', 'run'], '8502', ['--', '--store', 'var/analytics'])
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
        "--",
        "--store",
        store,
    ]


@click.command("dashboard")
@click.option(
    "--store",
    default=lambda: os.environ.get("TAPE_STORE", "var/analytics"),
    show_default="$TAPE_STORE or var/analytics",
    help="Analytics store to read: a directory (embedded chDB) or a ClickHouse server URL.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="HTTP port.")
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (0.0.0.0 to serve other machines).",
)
@click.option("--headless/--open-browser", default=True, show_default=True, help="Do not open a browser.")
def command(store: str, port: int, address: str, headless: bool) -> None:
    """Serve the dashboard (Overview, Backtests, Trading, Risk, Market, Data quality) until Ctrl-C."""
    root = str(APP.parents[1])
    env = {**os.environ, "TAPE_STORE": store}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    click.echo(f"Dashboard on http://{address}:{port} reading {store} (Ctrl-C stops it)")
    sys.stdout.flush()
    line = streamlit_command(store, port, headless, address)
    # become streamlit, so that signals (Ctrl-C, a supervisor's SIGTERM) reach the server itself
    # instead of leaving it running orphaned behind a terminated parent
    os.execve(line[0], line, env)
