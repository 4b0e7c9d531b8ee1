"""Topic spec validation and ensure_topics / list_topics / `tape topics` against the real broker."""

from __future__ import annotations

import uuid

import pytest
import yaml
from click.testing import CliRunner
from confluent_kafka.admin import AdminClient

from connectors.kafka.admin import (
    DEFAULT_SPEC,
    TopicAdminError,
    TopicSpec,
    TopicsSpec,
    ensure_topics,
    list_topics,
    load_spec,
    parse_spec,
)
from schemas.errors import ConfigError
from tape.cli import main

DESIGN_TOPICS = set(
    "md.bar.1m md.trade md.quote feat.default sig.target ml.prediction oms.order oms.report oms.fill "
    "pf.position pf.pnl risk.alert ctl.command ctl.strategy audit.log".split()
)


@pytest.fixture
def namespace(kafka_bootstrap):
    """A fresh topic namespace; its topics are deleted after the test."""
    prefix = f"a{uuid.uuid4().hex[:8]}."
    yield prefix
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    names = [name for name in admin.list_topics(timeout=10).topics if name.startswith(prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result(timeout=30)


def small_spec(partitions: int = 2, retention_ms: int = 3_600_000) -> TopicsSpec:
    return TopicsSpec(
        topics={"md.trade": TopicSpec(partitions=partitions, retention_ms=retention_ms)},
        dead_letter=TopicSpec(partitions=1),
    )


def test_shipped_spec_declares_design_topics_and_their_dead_letter_topics():
    spec = load_spec(DEFAULT_SPEC)

    resolved = spec.resolved()

    assert set(spec.topics) == DESIGN_TOPICS
    assert {f"dlq.{name}" for name in DESIGN_TOPICS} <= set(resolved)
    assert len(resolved) == 2 * len(DESIGN_TOPICS)
    assert {spec.topics[name].cleanup_policy for name in ("ctl.command", "ctl.strategy")} == {"compact"}


def test_spec_unknown_field_error_names_the_field():
    data = {"topics": {"md.trade": {"partitions": 3, "retension_ms": 5}}}

    with pytest.raises(ConfigError, match=r"topics\.md\.trade\.retension_ms"):
        parse_spec(data)


def test_spec_bad_partitions_error_names_the_field(tmp_path):
    path = tmp_path / "topics.yaml"
    path.write_text(yaml.safe_dump({"topics": {"md.quote": {"partitions": 0}}}))

    with pytest.raises(ConfigError, match=r"topics\.md\.quote\.partitions.*greater than 0"):
        load_spec(path)


def test_spec_bad_topic_name_and_shadowed_config_are_rejected():
    with pytest.raises(ConfigError, match=r"topics\.md/trade"):
        parse_spec({"topics": {"md/trade": {"partitions": 1}}})
    with pytest.raises(ConfigError, match=r"topics\.x\.config.*retention_ms field"):
        parse_spec({"topics": {"x": {"partitions": 1, "config": {"retention.ms": "5"}}}})


def test_bad_namespace_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match="namespace"):
        small_spec().resolved("run/42")


def test_ensure_topics_twice_creates_then_reports_unchanged(kafka_bootstrap, namespace):
    first = ensure_topics(kafka_bootstrap, small_spec(), namespace=namespace)
    second = ensure_topics(kafka_bootstrap, small_spec(), namespace=namespace)

    names = [f"{namespace}md.trade", f"{namespace}dlq.md.trade"]
    assert sorted(first.created) == sorted(names)
    assert (second.created, sorted(second.unchanged), second.altered, second.grown) == (
        [],
        sorted(names),
        {},
        {},
    )
    listed = {t.name: t for t in list_topics(kafka_bootstrap, namespace=namespace)}
    assert listed[names[0]].partitions == 2
    assert listed[names[0]].config == {"cleanup.policy": "delete", "retention.ms": "3600000"}


def test_ensure_topics_alters_configs_that_differ(kafka_bootstrap, namespace):
    ensure_topics(kafka_bootstrap, small_spec(retention_ms=3_600_000), namespace=namespace)

    report = ensure_topics(kafka_bootstrap, small_spec(retention_ms=7_200_000), namespace=namespace)

    assert report.altered == {f"{namespace}md.trade": {"retention.ms": ("3600000", "7200000")}}
    (topic,) = [t for t in list_topics(kafka_bootstrap, namespace) if t.name == f"{namespace}md.trade"]
    assert topic.config["retention.ms"] == "7200000"


def test_ensure_topics_refuses_to_shrink_and_changes_nothing(kafka_bootstrap, namespace):
    ensure_topics(kafka_bootstrap, small_spec(partitions=3), namespace=namespace)

    with pytest.raises(TopicAdminError, match=rf"{namespace}md\.trade \(3 -> 2\)"):
        ensure_topics(kafka_bootstrap, small_spec(partitions=2, retention_ms=1_000), namespace=namespace)

    (topic,) = [t for t in list_topics(kafka_bootstrap, namespace) if t.name == f"{namespace}md.trade"]
    assert (topic.partitions, topic.config["retention.ms"]) == (3, "3600000")


def test_ensure_topics_grows_partitions(kafka_bootstrap, namespace):
    ensure_topics(kafka_bootstrap, small_spec(partitions=1), namespace=namespace)

    report = ensure_topics(kafka_bootstrap, small_spec(partitions=4), namespace=namespace)

    assert report.grown == {f"{namespace}md.trade": (1, 4)}


def test_cli_topics_create_and_list(kafka_bootstrap, namespace, tmp_path):
    spec = tmp_path / "topics.yaml"
    spec.write_text(
        yaml.safe_dump({"topics": {"ctl.command": {"partitions": 1, "cleanup_policy": "compact"}}})
    )
    runner = CliRunner()
    args = ["--spec", str(spec), "--namespace", namespace, "--bootstrap", kafka_bootstrap]

    created = runner.invoke(main, ["topics", "create", *args])
    again = runner.invoke(main, ["topics", "create", *args])
    listed = runner.invoke(main, ["topics", "list", "--namespace", namespace, "--bootstrap", kafka_bootstrap])

    assert created.exit_code == 0, created.output
    assert f"created    {namespace}ctl.command" in created.output
    assert "0 created, 0 altered, 0 grown, 1 unchanged" in again.output
    assert f"{namespace}ctl.command" in listed.output and "compact" in listed.output


def test_cli_topics_create_bad_spec_exits_with_field_name(tmp_path):
    spec = tmp_path / "topics.yaml"
    spec.write_text(yaml.safe_dump({"topics": {"md.trade": {"partitions": -1}}}))

    result = CliRunner().invoke(main, ["topics", "create", "--spec", str(spec), "--bootstrap", "127.0.0.1:1"])

    assert result.exit_code == 1
    assert "topics.md.trade.partitions" in result.output
