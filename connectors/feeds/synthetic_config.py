"""`SyntheticMarketConfig`: everything that defines a synthetic market, validated before anything runs.

A config plus its seed fully determines the generated events (same config → identical bytes).

Examples
--------
>>> config = SyntheticMarketConfig(instruments=["AAA", "BBB"], bars=390, correlation=0.6)
>>> config.interval_ns, config.instrument_names
(60000000000, ['AAA', 'BBB'])
>>> SyntheticMarketConfig.parse({"instruments": ["AAA"], "bars": 10, "interval": "7x"})
Traceback (most recent call last):
...
schemas.errors.ConfigError: invalid synthetic market config: interval: ...
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from connectors.feeds.intervals import parse_interval
from schemas.errors import ConfigError

Probability = Annotated[float, Field(gt=0.0, lt=1.0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InstrumentConfig(_Frozen):
    """One instrument: name, starting price, annual drift and volatility, mean volume per bar.

    Examples
    --------
    >>> InstrumentConfig(name="SPX", price=4800.0, volatility=0.15).drift
    0.05
    """

    name: Annotated[str, Field(min_length=1, pattern=r"^\S+$")]
    price: PositiveFloat = 100.0
    drift: float = 0.05
    volatility: NonNegativeFloat = 0.20
    volume: PositiveFloat = 10_000.0


class SessionConfig(_Frozen):
    """When bars exist: around the clock (``24h``) or exchange hours on weekdays (``exchange``).

    ``timezone`` also anchors the intraday volume profile (one U per local day in ``24h`` mode).

    Examples
    --------
    >>> SessionConfig(kind="exchange", timezone="America/New_York").close
    datetime.time(16, 0)
    """

    kind: Literal["24h", "exchange"] = "24h"
    timezone: str = "UTC"
    open: time = time(9, 30)
    close: time = time(16, 0)
    holidays: tuple[date, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown IANA time zone {value!r}") from e
        return value

    @model_validator(mode="after")
    def _open_before_close(self) -> SessionConfig:
        if self.kind == "exchange" and self.open >= self.close:
            raise ValueError(f"session open {self.open} must be before close {self.close}")
        return self


class RegimeConfig(_Frozen):
    """Markov-switching volatility: a low and a high state, shared by all instruments.

    ``p_low_to_high`` and ``p_high_to_low`` are per-bar transition probabilities; volatility in the
    high state is ``high_vol_multiplier`` × the instrument's volatility.

    Examples
    --------
    >>> RegimeConfig(high_vol_multiplier=3.0).p_high_to_low
    0.01
    """

    high_vol_multiplier: Annotated[float, Field(ge=1.0)] = 2.5
    p_low_to_high: Probability = 0.002
    p_high_to_low: Probability = 0.01


class JumpConfig(_Frozen):
    """Poisson jumps: ``intensity`` jumps per year per instrument, log jump size ~ N(mean, std).

    Examples
    --------
    >>> JumpConfig(intensity=12.0).std
    0.03
    """

    intensity: NonNegativeFloat = 10.0
    mean: float = 0.0
    std: NonNegativeFloat = 0.03


class SyntheticMarketConfig(_Frozen):
    """A seeded synthetic market (see the module docstring for an example).

    Parameters
    ----------
    seed
        Seed of the ``numpy.random.Generator(PCG64)`` streams.
    instruments
        Names, or `InstrumentConfig` mappings.
    start
        Time zone-aware start (ISO text works); the first bar opens at or after it.
    interval
        Bar length, e.g. ``"1m"``; the topic is ``md.bar.<interval>``.
    bars, end
        Exactly one: bars per instrument, or the last allowed bar close time.
    session
        `SessionConfig`.
    correlation
        One rho for every pair, or a full correlation matrix (instrument order).
    regimes, jumps
        `RegimeConfig` and `JumpConfig`, or ``None`` for none.
    volume_u_shape
        Volume at the session edges relative to mid-session, minus one (0 = flat).
    volume_noise
        Log-normal sigma of per-bar volume noise.
    trades_per_bar, quotes_per_bar
        Trades / quotes generated inside each bar (0 = none).
    spread_bps
        Quoted bid-ask spread in basis points of the price.
    latency_ns
        ``ts_init - ts_event`` of every generated event.
    partitions
        Partitions per topic (instrument keys are placed with `partition_for`).
    """

    seed: int = 0
    instruments: Annotated[list[InstrumentConfig], Field(min_length=1)]
    start: AwareDatetime = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    interval: str = "1m"
    bars: PositiveInt | None = None
    end: AwareDatetime | None = None
    session: SessionConfig = SessionConfig()
    correlation: float | list[list[float]] = 0.0
    regimes: RegimeConfig | None = None
    jumps: JumpConfig | None = None
    volume_u_shape: NonNegativeFloat = 1.5
    volume_noise: NonNegativeFloat = 0.3
    trades_per_bar: NonNegativeInt = 0
    quotes_per_bar: NonNegativeInt = 0
    spread_bps: PositiveFloat = 2.0
    latency_ns: NonNegativeInt = 1_000_000
    partitions: PositiveInt = 1

    @field_validator("instruments", mode="before")
    @classmethod
    def _names_to_instruments(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [name.strip() for name in value.split(",") if name.strip()]
        if isinstance(value, list | tuple):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("instruments")
    @classmethod
    def _unique_names(cls, value: list[InstrumentConfig]) -> list[InstrumentConfig]:
        names = [item.name for item in value]
        if len(set(names)) != len(names):
            raise ValueError(f"instrument names must be unique, were {names}")
        return value

    @field_validator("interval")
    @classmethod
    def _valid_interval(cls, value: str) -> str:
        parse_interval(value)
        return value.strip()

    @field_validator("correlation")
    @classmethod
    def _valid_correlation(cls, value: float | list[list[float]], info: ValidationInfo) -> Any:
        if "instruments" in info.data:
            correlation_matrix(value, len(info.data["instruments"]))
        return value

    @model_validator(mode="after")
    def _check_whole(self) -> SyntheticMarketConfig:
        if (self.bars is None) == (self.end is None):
            raise ValueError("bars/end: give exactly one of bars and end")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end: {self.end} must be after start {self.start}")
        if self.session.kind == "exchange":
            session_s = _seconds(self.session.close) - _seconds(self.session.open)
            if (session_s * 1_000_000_000) % self.interval_ns:
                raise ValueError(f"interval: {self.interval} must divide the session length ({session_s} s)")
        return self

    @property
    def interval_ns(self) -> int:
        """The bar length in nanoseconds."""
        return parse_interval(self.interval)

    @property
    def instrument_names(self) -> list[str]:
        """Instrument names in config order (the column order of every array)."""
        return [item.name for item in self.instruments]

    def correlation_matrix(self) -> np.ndarray:
        """The instruments' correlation matrix (instrument order)."""
        return correlation_matrix(self.correlation, len(self.instruments))

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> SyntheticMarketConfig:
        """Validate a plain mapping; a bad value raises `ConfigError` naming the field."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as e:
            raise ConfigError(f"invalid synthetic market config: {_describe(e)}") from e

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> SyntheticMarketConfig:
        """Load a YAML file; ``overrides`` that are not ``None`` replace its keys."""
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"cannot read synthetic market config {path}: {e}") from e
        if not isinstance(data, dict):
            raise ConfigError(f"synthetic market config {path} must be a mapping, was {type(data).__name__}")
        data.update({key: value for key, value in overrides.items() if value is not None})
        return cls.parse(data)


def correlation_matrix(correlation: float | list[list[float]], n: int) -> np.ndarray:
    """An ``n``×``n`` correlation matrix from one rho or a full matrix; ``ValueError`` unless valid."""
    if isinstance(correlation, float | int):
        matrix = np.full((n, n), float(correlation))
        np.fill_diagonal(matrix, 1.0)
    else:
        matrix = np.asarray(correlation, dtype=float)
        if matrix.shape != (n, n):
            raise ValueError(
                f"correlation matrix must be {n}x{n} (one row per instrument), was {matrix.shape}"
            )
    if not np.allclose(matrix, matrix.T) or not np.allclose(np.diag(matrix), 1.0):
        raise ValueError("correlation matrix must be symmetric with ones on the diagonal")
    if np.any(np.abs(matrix) > 1.0) or np.linalg.eigvalsh(matrix).min() < -1e-12:
        raise ValueError("correlation must be in [-1, 1] and positive semi-definite")
    return matrix


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or '(config)'}: {item['msg']}"
        for item in error.errors()
    )
