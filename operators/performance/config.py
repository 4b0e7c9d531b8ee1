"""`MetricsConfig`: annualisation and risk-free settings of a run's performance metrics.

Examples
--------
>>> MetricsConfig(calendar="crypto").calendar.days_per_year
365.0
>>> MetricsConfig.from_dict({"risk_free_rate": -2})
Traceback (most recent call last):
...
schemas.errors.ConfigError: metrics config: risk_free_rate: Input should be greater than -1
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from operators.performance.calendar import CALENDARS, EQUITIES, TradingCalendar
from schemas.errors import config_error


class MetricsConfig(BaseModel):
    """How to annualise metrics and which risk-free rate to charge.

    Parameters
    ----------
    calendar
        A `TradingCalendar`, or the name of a preset: ``"equities"`` (252 days of 6.5 h) or
        ``"crypto"`` (365 days of 24 h).
    periods_per_year
        Bars per year; overrides the value derived from the bars' spacing and the calendar.
    risk_free_rate
        Annual risk-free rate (0.03 = 3 %), compounded to a per-bar rate
        ``(1 + risk_free_rate) ** (1 / periods_per_year) - 1``. Sharpe, Sortino (as the minimum
        acceptable return) and alpha/beta use it.

    Examples
    --------
    >>> MetricsConfig(periods_per_year=252, risk_free_rate=0.02).periods_per_year
    252.0
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    calendar: TradingCalendar = EQUITIES
    periods_per_year: float | None = Field(default=None, gt=0)
    risk_free_rate: float = Field(default=0.0, gt=-1)

    @field_validator("calendar", mode="before")
    @classmethod
    def _preset(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value not in CALENDARS:
                raise ValueError(f"unknown calendar {value!r}; expected one of {sorted(CALENDARS)}")
            return CALENDARS[value]
        return value

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "metrics config") -> MetricsConfig:
        """Validate ``data``; raise `ConfigError` naming every bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            raise config_error(source, e) from None
