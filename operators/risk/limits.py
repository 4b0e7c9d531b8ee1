"""`RiskLimits`: the pre-trade limits and the drawdown kill switch, validated once at the entry point.

Examples
--------
>>> limits = RiskLimits(max_position=100, max_orders_per_interval={"count": 5, "interval_ns": 60_000_000_000})
>>> limits.max_orders_per_interval.count, limits.position_limit("AAPL")
(5, 100.0)
>>> RiskLimits(max_drawdown=1.5)
Traceback (most recent call last):
...
schemas.errors.ConfigError: RiskLimits: max_drawdown: Input should be less than 1
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from operators.execution.config import StrictConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimit(_Strict):
    """At most ``count`` orders per strategy in any window of ``interval_ns`` of event time.

    Examples
    --------
    >>> RateLimit(count=10, interval_ns=1_000_000_000).count
    10
    """

    count: int = Field(gt=0, description="Orders allowed per window.")
    interval_ns: int = Field(gt=0, description="Window length, ns of event time.")


class RiskLimits(StrictConfig):
    """Limits checked before an order goes out; None switches a limit off.

    Examples
    --------
    >>> RiskLimits(max_position=10, max_position_by_instrument={"BTC": 0.5}).position_limit("BTC")
    0.5
    """

    max_position: float | None = Field(default=None, gt=0, description="Max |position| in any instrument.")
    max_position_by_instrument: dict[str, float] = Field(
        default_factory=dict, description="Per-instrument max |position|, overriding max_position."
    )
    max_order_notional: float | None = Field(
        default=None, gt=0, description="Max |quantity * price| per order."
    )
    max_gross_exposure: float | None = Field(default=None, gt=0, description="Max sum of |position value|.")
    max_orders_per_interval: RateLimit | None = Field(
        default=None, description="Order rate limit per strategy."
    )
    max_drawdown: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="Kill switch: halt when equity falls this fraction below its peak.",
    )

    def position_limit(self, instrument: str) -> float | None:
        """The max |position| for ``instrument``, or None when unlimited."""
        limit = self.max_position_by_instrument.get(instrument, self.max_position)
        return None if limit is None else float(limit)
