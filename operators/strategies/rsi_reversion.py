"""RSI mean reversion: buy oversold, sell overbought, exit when RSI returns to its middle level."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from operators.indicators import RSI
from operators.strategy import Strategy
from operators.strategy.signals import hysteresis_target


class RsiReversion(Strategy):
    """Long when RSI < ``oversold`` until RSI > ``exit_level``; short (optional) mirror-wise.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> class Ctx:
    ...     def target_of(self, instrument): return 0.0
    >>> bars = SimpleNamespace(instrument="X")
    >>> ind = SimpleNamespace(rsi=np.array([np.nan, 25.0, 40.0, 55.0, 45.0]))
    >>> RsiReversion({"quantity": 5}).on_batch(bars, ind, Ctx()).tolist()
    [0.0, 5.0, 5.0, 0.0, 0.0]
    """

    per_instrument = True

    class Params(BaseModel):
        period: int = Field(14, ge=2)
        oversold: float = Field(30.0, gt=0, lt=100)
        overbought: float = Field(70.0, gt=0, lt=100)
        exit_level: float = Field(50.0, gt=0, lt=100)
        quantity: float = Field(100.0, gt=0)
        allow_short: bool = True

        @model_validator(mode="after")
        def _ordered_levels(self):
            if not self.oversold < self.exit_level < self.overbought:
                raise ValueError("levels must satisfy oversold < exit_level < overbought")
            return self

    def indicators(self, p):
        return {"rsi": RSI(p.period)}

    def on_batch(self, bars, ind, ctx):
        p, rsi = self.p, ind.rsi
        short = (rsi > p.overbought, rsi < p.exit_level) if p.allow_short else (None, None)
        return hysteresis_target(
            rsi < p.oversold, rsi > p.exit_level, *short, p.quantity, ctx.target_of(bars.instrument)
        )

    def on_bar(self, bar, ind, ctx):
        p, rsi, current = self.p, ind.rsi, ctx.target_of(bar.instrument)
        long = rsi < p.oversold or (current > 0 and not rsi > p.exit_level)
        short = p.allow_short and (rsi > p.overbought or (current < 0 and not rsi < p.exit_level))
        ctx.target(bar.instrument, p.quantity if long else (-p.quantity if short else 0.0))
