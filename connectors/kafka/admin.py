"""Declarative topics: a validated spec (``deploy/topics.yaml``) and an idempotent `ensure_topics`.

The spec lists each platform topic with its partitions, ``cleanup.policy`` and ``retention.ms``;
a ``dead_letter`` template adds ``dlq.<topic>`` for every topic. `ensure_topics` makes a cluster
match it: creates what is missing, alters declared configs that differ, adds partitions where the
spec asks for more, and refuses, before changing anything, to shrink a topic (Kafka cannot remove
partitions). A namespace (``"run42."``) prefixes every name, so runs and environments stay apart.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import yaml
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.kafka.dlq import DLQ_PREFIX, dlq_topic
from schemas.errors import ConfigError, TapeError

logger = logging.getLogger(__name__)

TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
NAMESPACE = re.compile(r"^[A-Za-z0-9._-]*$")
MAX_TOPIC_NAME = 249
DEFAULT_SPEC = Path(__file__).resolve().parents[2] / "deploy" / "topics.yaml"
REQUEST_TIMEOUT_S = 30.0

TopicName = Annotated[str, Field(pattern=TOPIC_NAME.pattern, max_length=MAX_TOPIC_NAME)]


class TopicAdminError(TapeError):
    """The cluster cannot be brought to the spec (a shrink, or a broker refusal)."""


class TopicSpec(BaseModel):
    """One topic's declared shape.

    Parameters
    ----------
    partitions
        Partition count (the unit of parallelism).
    cleanup_policy
        ``delete``, ``compact`` or ``compact,delete``.
    retention_ms
        How long records are kept; ``-1`` keeps them forever.
    config
        Other topic configs (``min.compaction.lag.ms``...), as strings.

    Examples
    --------
    >>> TopicSpec(partitions=3, retention_ms=86_400_000).configs()
    {'cleanup.policy': 'delete', 'retention.ms': '86400000'}
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    partitions: int = Field(gt=0)
    cleanup_policy: Literal["delete", "compact", "compact,delete"] = "delete"
    retention_ms: int = Field(default=604_800_000, ge=-1)
    config: dict[str, str] = Field(default_factory=dict)

    @field_validator("config")
    @classmethod
    def _no_shadowed_fields(cls, config: dict[str, str]) -> dict[str, str]:
        for key in ("cleanup.policy", "retention.ms"):
            if key in config:
                raise ValueError(f"set {key!r} with the {key.replace('.', '_')} field, not in config")
        return config

    def configs(self) -> dict[str, str]:
        """Every topic config this spec declares, in Kafka's names."""
        return {"cleanup.policy": self.cleanup_policy, "retention.ms": str(self.retention_ms), **self.config}


class TopicsSpec(BaseModel):
    """The platform's topics (DESIGN §3), as ``deploy/topics.yaml`` declares them.

    Parameters
    ----------
    topics
        Topic name → `TopicSpec`.
    dead_letter
        Template for ``dlq.<topic>`` of every topic; ``None`` declares no dead-letter topics.
        A topic listed explicitly wins over a generated one of the same name.
    replication_factor
        Replicas per partition; ``None`` leaves it to the broker's ``default.replication.factor``.

    Examples
    --------
    >>> spec = TopicsSpec(topics={"md.trade": TopicSpec(partitions=3)},
    ...                   dead_letter=TopicSpec(partitions=1))
    >>> {name: t.partitions for name, t in spec.resolved("run42.").items()}
    {'run42.md.trade': 3, 'run42.dlq.md.trade': 1}
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    topics: dict[TopicName, TopicSpec]
    dead_letter: TopicSpec | None = None
    replication_factor: int | None = Field(default=None, gt=0)

    def resolved(self, namespace: str = "") -> dict[str, TopicSpec]:
        """Every topic to ensure (dead-letter topics included), named inside ``namespace``."""
        check_namespace(namespace)
        resolved: dict[str, TopicSpec] = {}
        for name, topic in self.topics.items():
            resolved[namespace + name] = topic
            dead_letters = dlq_topic(name)
            if (
                self.dead_letter is not None
                and not name.startswith(DLQ_PREFIX)
                and dead_letters not in self.topics
            ):
                resolved[namespace + dead_letters] = self.dead_letter
        too_long = [name for name in resolved if len(name) > MAX_TOPIC_NAME]
        if too_long:
            raise ConfigError(
                f"namespace {namespace!r} makes topic names longer than {MAX_TOPIC_NAME}: {too_long}"
            )
        return resolved


def check_namespace(namespace: str) -> str:
    """Return ``namespace`` if it is usable as a topic-name prefix, else raise `ConfigError`."""
    if not NAMESPACE.match(namespace):
        raise ConfigError(f"namespace may hold only letters, digits, '.', '_' and '-', was {namespace!r}")
    return namespace


def _describe_validation_error(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or '<root>'}: {item['msg']} "
        f"(was {item.get('input')!r:.80})"
        for item in error.errors()
    )


def parse_spec(data: object, source: str = "<spec>") -> TopicsSpec:
    """Validate a decoded spec; `ConfigError` names each bad field (``topics.md.trade.partitions``)."""
    try:
        return TopicsSpec.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{source}: invalid topic spec: {_describe_validation_error(e)}") from e


def load_spec(path: Path | str = DEFAULT_SPEC) -> TopicsSpec:
    """Read and validate a topics YAML file.

    Examples
    --------
    >>> spec = load_spec()
    >>> spec.topics["ctl.command"].cleanup_policy
    'compact'
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as e:
        raise ConfigError(f"spec: cannot read topic spec {path}: {e}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"spec: {path} is not valid YAML: {e}") from e
    return parse_spec(data, source=str(path))


@dataclass
class EnsureReport:
    """What `ensure_topics` did, topic by topic."""

    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    altered: dict[str, dict[str, tuple[str | None, str]]] = field(default_factory=dict)
    grown: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class TopicInfo:
    """A topic as the cluster holds it: partition count and its main configs."""

    name: str
    partitions: int
    config: dict[str, str]


def _admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap})


def _partition_counts(admin: AdminClient, bootstrap: str) -> dict[str, int]:
    try:
        metadata = admin.list_topics(timeout=REQUEST_TIMEOUT_S)
    except KafkaException as e:
        raise TopicAdminError(f"cannot list topics at {bootstrap}: {e}") from e
    return {name: len(topic.partitions) for name, topic in metadata.topics.items() if topic.error is None}


def _describe(
    admin: AdminClient, names: list[str], keys: set[str] | None = None
) -> dict[str, dict[str, str]]:
    if not names:
        return {}
    resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in names]
    described = {}
    for resource, future in admin.describe_configs(resources, request_timeout=REQUEST_TIMEOUT_S).items():
        try:
            entries = future.result()
        except KafkaException as e:
            raise TopicAdminError(f"cannot describe the configs of topic {resource.name!r}: {e}") from e
        described[resource.name] = {
            key: entry.value for key, entry in entries.items() if keys is None or key in keys
        }
    return described


def _wait_ready(admin: AdminClient, expected: dict[str, int], timeout: float = REQUEST_TIMEOUT_S) -> None:
    """Block until every topic in ``expected`` shows its partitions, each with a leader."""
    deadline = time.monotonic() + timeout
    pending = dict(expected)
    while pending:
        metadata = admin.list_topics(timeout=REQUEST_TIMEOUT_S).topics
        for name, partitions in list(pending.items()):
            topic = metadata.get(name)
            if (
                topic is not None
                and topic.error is None
                and len(topic.partitions) == partitions
                and all(p.leader >= 0 for p in topic.partitions.values())
            ):
                del pending[name]
        if pending and time.monotonic() > deadline:
            raise TopicAdminError(f"topics not ready after {timeout} s: {sorted(pending)}")
        if pending:
            time.sleep(0.05)


def ensure_topics(bootstrap: str, spec: TopicsSpec, namespace: str = "") -> EnsureReport:
    """Make the cluster at ``bootstrap`` hold every topic of ``spec`` (idempotent).

    Creates missing topics, alters declared configs that differ, adds partitions where the spec
    asks for more, and waits until all are ready. Raises `TopicAdminError` before changing anything
    if a topic has more partitions than declared.

    Examples
    --------
    ``ensure_topics("127.0.0.1:19092", load_spec(), namespace="run42.")`` creates ``run42.md.trade``,
    ``run42.dlq.md.trade`` and the rest; a second call reports them all as unchanged.
    """
    wanted = spec.resolved(namespace)
    admin = _admin(bootstrap)
    existing = _partition_counts(admin, bootstrap)
    shrinks = [
        f"{name} ({existing[name]} -> {topic.partitions})"
        for name, topic in wanted.items()
        if name in existing and existing[name] > topic.partitions
    ]
    if shrinks:
        raise TopicAdminError(
            f"refusing to shrink partitions of {', '.join(shrinks)}: Kafka cannot remove partitions; "
            "raise `partitions` in the spec, or delete and re-create the topic"
        )
    report = EnsureReport()
    missing = [name for name in wanted if name not in existing]
    if missing:
        _create(admin, {name: wanted[name] for name in missing}, spec.replication_factor, existing, report)
    _alter_configs(admin, {n: t for n, t in wanted.items() if n in existing}, report)
    grow = {n: t.partitions for n, t in wanted.items() if n in existing and existing[n] < t.partitions}
    if grow:
        _grow(admin, grow, existing, report)
    _wait_ready(admin, {name: topic.partitions for name, topic in wanted.items()})
    report.unchanged = [
        n for n in wanted if n not in report.created and n not in report.altered and n not in report.grown
    ]
    for name in report.created:
        logger.info("topic %s created", name)
    return report


def _create(
    admin: AdminClient,
    topics: dict[str, TopicSpec],
    replication_factor: int | None,
    existing: dict[str, int],
    report: EnsureReport,
) -> None:
    new = [
        NewTopic(
            name, num_partitions=t.partitions, replication_factor=replication_factor or -1, config=t.configs()
        )
        for name, t in topics.items()
    ]
    for name, future in admin.create_topics(new, operation_timeout=REQUEST_TIMEOUT_S).items():
        try:
            future.result()
            report.created.append(name)
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise TopicAdminError(f"cannot create topic {name!r}: {e.args[0].str()}") from e
            existing[name] = topics[name].partitions  # created concurrently: check it like the others


def _alter_configs(admin: AdminClient, topics: dict[str, TopicSpec], report: EnsureReport) -> None:
    declared = {name: topic.configs() for name, topic in topics.items()}
    keys = {key for configs in declared.values() for key in configs}
    current = _describe(admin, list(topics), keys)
    resources = []
    for name, configs in declared.items():
        changes = {k: (current[name].get(k), v) for k, v in configs.items() if current[name].get(k) != v}
        if changes:
            report.altered[name] = changes
            entries = [
                ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                for k, (_, v) in changes.items()
            ]
            resources.append(ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=entries))
    if not resources:
        return
    for resource, future in admin.incremental_alter_configs(
        resources, request_timeout=REQUEST_TIMEOUT_S
    ).items():
        try:
            future.result()
        except KafkaException as e:
            raise TopicAdminError(
                f"cannot alter configs of topic {resource.name!r}: {e.args[0].str()}"
            ) from e
        logger.info("topic %s configs altered: %s", resource.name, report.altered[resource.name])


def _grow(admin: AdminClient, grow: dict[str, int], existing: dict[str, int], report: EnsureReport) -> None:
    requests = [NewPartitions(name, count) for name, count in grow.items()]
    for name, future in admin.create_partitions(requests, operation_timeout=REQUEST_TIMEOUT_S).items():
        try:
            future.result()
        except KafkaException as e:
            raise TopicAdminError(f"cannot add partitions to topic {name!r}: {e.args[0].str()}") from e
        report.grown[name] = (existing[name], grow[name])
        logger.warning(
            "topic %s grew from %d to %d partitions: keys now map to other partitions",
            name,
            existing[name],
            grow[name],
        )


def list_topics(bootstrap: str, namespace: str = "") -> list[TopicInfo]:
    """The non-internal topics whose names start with ``namespace``, sorted by name."""
    check_namespace(namespace)
    admin = _admin(bootstrap)
    counts = {
        name: partitions
        for name, partitions in _partition_counts(admin, bootstrap).items()
        if name.startswith(namespace) and not name.startswith("__")
    }
    configs = _describe(admin, sorted(counts), {"cleanup.policy", "retention.ms"})
    return [TopicInfo(name, counts[name], configs[name]) for name in sorted(counts)]
