"""`ServiceOptions`: how a long-running service finds its broker, topics, config and stores.

Services are started by ``tape run <name>`` (flags) or ``python -m bytewax.run streams.<name>:flow``
(environment: ``TAPE_BOOTSTRAP``, ``TAPE_NAMESPACE``, ``TAPE_CONFIG``, ``TAPE_STORE``, ``TAPE_START``,
``TAPE_SERVICE_ID``). Options are read once at the entry point, never at import time.

Examples
--------
>>> ServiceOptions.from_env({"TAPE_BOOTSTRAP": "127.0.0.1:9092", "TAPE_NAMESPACE": "t1."}).topic("md.bar.1m")
't1.md.bar.1m'
>>> ServiceOptions(start="never")
Traceback (most recent call last):
...
schemas.errors.ConfigError: service options: start: Input should be 'earliest' or 'latest'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.kafka.clients import DEFAULT_BOOTSTRAP
from schemas.errors import config_error

_ENV = {
    "bootstrap": "TAPE_BOOTSTRAP",
    "namespace": "TAPE_NAMESPACE",
    "config": "TAPE_CONFIG",
    "store": "TAPE_STORE",
    "start": "TAPE_START",
    "service_id": "TAPE_SERVICE_ID",
}


class ServiceOptions(BaseModel):
    """Options shared by every service; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bootstrap: str = Field(default=DEFAULT_BOOTSTRAP, description="Kafka bootstrap servers.")
    namespace: str = Field(default="", description="Prefix of every topic name (isolates runs).")
    config: Path | None = Field(default=None, description="Run config YAML (strategies, execution).")
    store: str = Field(
        default="var/analytics", description="Analytics store: a directory (chDB) or a ClickHouse URL."
    )
    start: Literal["earliest", "latest"] = Field(
        default="earliest", description="Where to start without recovery state."
    )
    service_id: str = Field(default="", description="Distinguishes several instances of one service.")
    batch_size: int = Field(default=1000, gt=0, description="Kafka records per source batch.")

    def __init__(self, **data):
        try:
            super().__init__(**data)
        except ValidationError as e:
            raise config_error("service options", e) from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServiceOptions:
        """Options from ``TAPE_*`` environment variables (unset ones keep their defaults)."""
        environ = os.environ if environ is None else environ
        return cls(**{field: environ[name] for field, name in _ENV.items() if environ.get(name)})

    def topic(self, name: str) -> str:
        """The namespaced name of topic ``name``."""
        return f"{self.namespace}{name}"
