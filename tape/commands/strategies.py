"""``tape strategies``: the shipped strategies, their paths and parameters."""

from __future__ import annotations

import click


@click.command("strategies")
def command() -> None:
    """List registered strategies with their parameters and defaults."""
    from operators.strategies import REGISTRY, strategy_class

    for name in sorted(REGISTRY):
        cls = strategy_class(name)
        click.echo(
            f"{name}  ({REGISTRY[name]})  {'vectorised + per-bar' if cls.on_batch is not cls.__mro__[-2].on_batch else 'per-bar'}"
        )
        for field_name, info in cls.Params.model_fields.items():
            default = "required" if info.is_required() else repr(info.default)
            click.echo(f"    {field_name}: {default}")
