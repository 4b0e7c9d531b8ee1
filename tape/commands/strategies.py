"""``tape strategies``: the shipped strategies, their paths and parameters."""

from __future__ import annotations

import click


def paths(cls) -> str:
    """Which callback paths a strategy class implements."""
    from operators.strategy import Strategy

    found = [
        label
        for label, method in (("vectorised", "on_batch"), ("per-bar", "on_bar"))
        if getattr(cls, method) is not getattr(Strategy, method)
    ]
    return " + ".join(found)


@click.command("strategies")
def command() -> None:
    """List registered strategies with their parameters and defaults."""
    from operators.strategies import REGISTRY, strategy_class

    for name in sorted(REGISTRY):
        cls = strategy_class(name)
        click.echo(f"{name}  ({REGISTRY[name]})  {paths(cls)}")
        for field_name, info in cls.Params.model_fields.items():
            default = "required" if info.is_required() else repr(info.default)
            click.echo(f"    {field_name}: {default}")
