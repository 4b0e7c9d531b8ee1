"""`StrictConfig`: the base of the trading core's configs: frozen, unknown fields forbidden, and
invalid values raised as `ConfigError` naming the field.

Examples
--------
>>> class ThingConfig(StrictConfig):
...     size: int = 1
>>> ThingConfig(sise=2)
Traceback (most recent call last):
...
schemas.errors.ConfigError: ThingConfig: sise: Extra inputs are not permitted
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.errors import config_error


class StrictConfig(BaseModel):
    """A frozen pydantic model that forbids unknown fields and raises `ConfigError`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, **data: Any):
        try:
            super().__init__(**data)
        except ValidationError as e:
            raise config_error(type(self).__name__, e) from None
