"""MACD momentum: long while the MACD line is above its signal line (optionally short below)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from operators.indicators import MACD
from operators.strategy import Strategy


class MacdMomentum(Strategy):
    """Long while MACD > signal (and MACD > ``min_macd``); short below with ``allow_short``.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> macd = SimpleNamespace(macd=np.array([np.nan, 1.0, -1.0]), signal=np.array([np.nan, 0.5, 0.0]))
    >>> MacdMomentum({"quantity": 2, "allow_short": True}).on_batch(None, SimpleNamespace(macd=macd), None).tolist()
    [0.0, 2.0, -2.0]
    """

    per_instrument = True

    class Params(BaseModel):
        fast: int = Field(12, ge=2)
        slow: int = Field(26, ge=2)
        signal: int = Field(9, ge=1)
        min_macd: float = Field(float("-inf"), description="Only go long when MACD is above this level.")
        quantity: float = Field(100.0, gt=0)
        allow_short: bool = False

    def indicators(self, p):
        return {"macd": MACD(p.fast, p.slow, p.signal)}

    def on_batch(self, bars, ind, ctx):
        line, signal = ind.macd.macd, ind.macd.signal
        long = (line > signal) & (line > self.p.min_macd)
        target = long * self.p.quantity
        if self.p.allow_short:
            target -= (line < signal) * self.p.quantity
        return target

    def on_bar(self, bar, ind, ctx):
        line, signal = ind.macd.macd, ind.macd.signal
        if line > signal and line > self.p.min_macd:
            ctx.target(bar.instrument, self.p.quantity)
        elif self.p.allow_short and line < signal:
            ctx.target(bar.instrument, -self.p.quantity)
        else:
            ctx.target(bar.instrument, 0.0)
