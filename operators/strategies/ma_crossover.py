"""Moving-average crossover: long (or short) while the fast average is above (below) the slow one."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from operators.indicators import EMA, SMA
from operators.strategy import Strategy


class MovingAverageCrossover(Strategy):
    """Hold ``quantity`` while fast MA > slow MA; flat (or short with ``allow_short``) otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> s = MovingAverageCrossover({"fast": 2, "slow": 3, "quantity": 10})
    >>> ind = SimpleNamespace(fast=np.array([np.nan, 2.0, 3.0]), slow=np.array([np.nan, 2.5, 2.0]))
    >>> s.on_batch(None, ind, None).tolist()
    [0.0, 0.0, 10.0]
    """

    per_instrument = True

    class Params(BaseModel):
        fast: int = Field(10, ge=1)
        slow: int = Field(30, ge=2)
        kind: Literal["ema", "sma"] = "ema"
        quantity: float = Field(100.0, gt=0)
        allow_short: bool = False

        @model_validator(mode="after")
        def _fast_below_slow(self):
            if self.fast >= self.slow:
                raise ValueError(f"fast ({self.fast}) must be below slow ({self.slow})")
            return self

    def indicators(self, p):
        average = EMA if p.kind == "ema" else SMA
        return {"fast": average(p.fast), "slow": average(p.slow)}

    def on_batch(self, bars, ind, ctx):
        # a comparison times the quantity: np.where(…, quantity, 0.0) is 4x slower on two scalars
        above = (ind.fast > ind.slow) * self.p.quantity
        if not self.p.allow_short:
            return above
        return above - (ind.fast < ind.slow) * self.p.quantity

    def on_bar(self, bar, ind, ctx):
        if ind.fast > ind.slow:
            ctx.target(bar.instrument, self.p.quantity)
        elif self.p.allow_short and ind.fast < ind.slow:
            ctx.target(bar.instrument, -self.p.quantity)
        else:
            ctx.target(bar.instrument, 0.0)
