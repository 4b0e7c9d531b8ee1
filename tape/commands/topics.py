"""``tape topics create|list``: make a cluster match ``deploy/topics.yaml``, or show what it holds."""

from __future__ import annotations

from pathlib import Path

import click

from connectors.kafka.admin import DEFAULT_SPEC, ensure_topics, list_topics, load_spec
from connectors.kafka.clients import DEFAULT_BOOTSTRAP
from schemas.errors import TapeError

bootstrap_option = click.option(
    "--bootstrap",
    default=DEFAULT_BOOTSTRAP,
    show_default=True,
    envvar="TAPE_BOOTSTRAP",
    help="Kafka bootstrap servers (env TAPE_BOOTSTRAP).",
)
namespace_option = click.option(
    "--namespace", default="", help="Prefix of every topic name, e.g. 'run42.' (isolates a run)."
)


@click.group(name="topics")
def command() -> None:
    """Create or list Kafka topics from the declarative spec."""


@command.command(name="create")
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_SPEC,
    show_default=True,
    help="Topic spec (YAML).",
)
@namespace_option
@bootstrap_option
def create(spec_path: Path, namespace: str, bootstrap: str) -> None:
    """Create missing topics and fix their configs (idempotent; never shrinks a topic)."""
    try:
        report = ensure_topics(bootstrap, load_spec(spec_path), namespace=namespace)
    except TapeError as e:
        raise click.ClickException(str(e)) from e
    for name in report.created:
        click.echo(f"created    {name}")
    for name, changes in report.altered.items():
        detail = ", ".join(f"{key}: {old} -> {new}" for key, (old, new) in changes.items())
        click.echo(f"altered    {name} ({detail})")
    for name, (old, new) in report.grown.items():
        click.echo(f"grown      {name} ({old} -> {new} partitions)")
    click.echo(
        f"{len(report.created)} created, {len(report.altered)} altered, {len(report.grown)} grown, "
        f"{len(report.unchanged)} unchanged"
    )


@command.command(name="list")
@namespace_option
@bootstrap_option
def list_(namespace: str, bootstrap: str) -> None:
    """List topics (optionally only those in a namespace) with partitions, cleanup policy, retention."""
    try:
        topics = list_topics(bootstrap, namespace=namespace)
    except TapeError as e:
        raise click.ClickException(str(e)) from e
    width = max((len(topic.name) for topic in topics), default=5)
    click.echo(f"{'topic':<{width}}  partitions  cleanup.policy  retention.ms")
    for topic in topics:
        click.echo(
            f"{topic.name:<{width}}  {topic.partitions:>10}  {topic.config.get('cleanup.policy', '?'):<14}  "
            f"{topic.config.get('retention.ms', '?')}"
        )
