"""The ``tape`` command line: the front door to every Tape workflow.

Each sub-command lives in its own module under ``tape/commands/`` and exposes a click object named
``command``; this module only assembles them, importing each lazily so ``tape --help`` stays fast.
"""

from __future__ import annotations

import importlib

import click

# name shown in `tape --help` -> (module under tape.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "Run the demo backtest on the shipped sample tape."),
    "backtest": ("backtest", "Backtest a run config by replaying a tape through the live operators."),
    "strategies": ("strategies", "List the shipped strategies and their parameters."),
    "run": ("run", "Run a long-running dataflow service (features, strategies, execution, analytics)."),
    "dashboard": ("dashboard", "Open the Streamlit dashboard over the analytics store."),
    "kafka": ("kafka", "Start, stop or inspect the local Kafka broker."),
    "topics": ("topics", "Create or list Kafka topics from the declarative spec."),
    "record": ("record", "Record Kafka topics (offset or time range) into a tape archive."),
    "publish": ("publish", "Publish a tape archive back into Kafka topics."),
    "inspect": ("inspect", "Show a tape archive's manifest and event counts."),
    "generate": ("generate", "Generate a seeded synthetic market into a tape or Kafka."),
    "import-csv": ("import_csv", "Import OHLCV CSV files into a tape, rejecting bad rows."),
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"tape.commands.{COMMANDS[name][0]}")
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in sorted(COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tape")
def main() -> None:
    """Tape: Kafka-native systematic trading — research, backtest by replay, run live."""


if __name__ == "__main__":
    main()
