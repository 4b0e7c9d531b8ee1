"""Bollinger-band mean reversion: fade closes outside the bands, exit back at the middle."""

from __future__ import annotations

from pydantic import BaseModel, Field

from operators.indicators import BollingerBands
from operators.strategy import Strategy
from operators.strategy.signals import hysteresis_target


class BollingerReversion(Strategy):
    """Long below the lower band until the close crosses the middle; short above the upper band.

    Equivalent to a z-score rule: entry at |z| > ``num_std``, exit at z crossing 0.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> class Ctx:
    ...     def target_of(self, instrument): return 0.0
    >>> bars = SimpleNamespace(instrument="X", close=np.array([10.0, 8.0, 9.5, 10.5]))
    >>> bands = SimpleNamespace(upper=np.full(4, 11.0), middle=np.full(4, 10.0), lower=np.full(4, 9.0))
    >>> BollingerReversion({"quantity": 3}).on_batch(bars, SimpleNamespace(bands=bands), Ctx()).tolist()
    [0.0, 3.0, 3.0, 0.0]
    """

    per_instrument = True

    class Params(BaseModel):
        period: int = Field(20, ge=2)
        num_std: float = Field(2.0, gt=0)
        quantity: float = Field(100.0, gt=0)
        allow_short: bool = True

    def indicators(self, p):
        return {"bands": BollingerBands(p.period, p.num_std)}

    def on_batch(self, bars, ind, ctx):
        close, bands = bars.close, ind.bands
        short = (close > bands.upper, close < bands.middle) if self.p.allow_short else (None, None)
        return hysteresis_target(
            close < bands.lower, close > bands.middle, *short, self.p.quantity, ctx.target_of(bars.instrument)
        )

    def on_bar(self, bar, ind, ctx):
        close, bands, current = bar.close, ind.bands, ctx.target_of(bar.instrument)
        long = close < bands.lower or (current > 0 and not close > bands.middle)
        short = self.p.allow_short and (close > bands.upper or (current < 0 and not close < bands.middle))
        ctx.target(bar.instrument, self.p.quantity if long else (-self.p.quantity if short else 0.0))
