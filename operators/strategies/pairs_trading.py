"""Pairs trading: trade the z-score of a cointegrated spread with a rolling hedge ratio."""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, Field, model_validator
from statsmodels.tsa.stattools import coint

from operators.strategy import Strategy
from schemas.errors import ConfigError


class PairsTrading(Strategy):
    """Long/short the spread ``log A − β·log B`` when its z-score leaves ``±entry_z``; exit inside ``±exit_z``.

    β is the rolling OLS slope of log A on log B over ``lookback`` synchronous bars (bars of both
    legs with the same ``ts_event``). New entries need the Engle–Granger test (statsmodels
    ``coint``) on the last ``coint_lookback`` bars to give a p-value below ``max_pvalue``; it is
    re-run every ``recheck_every`` bars. Leg A trades ``quantity`` units, leg B ``β·quantity·A/B``
    units (rounded), so the legs have offsetting dollar exposure to the common factor.

    Examples
    --------
    >>> PairsTrading({"leg_a": "KO", "leg_b": "PEP"}).p.entry_z
    2.0
    >>> PairsTrading({"leg_a": "KO", "leg_b": "PEP"}).validate_universe(("KO", "MSFT"))
    Traceback (most recent call last):
    ...
    schemas.errors.ConfigError: pairs_trading: leg_b 'PEP' is not in the universe ('KO', 'MSFT')
    """

    class Params(BaseModel):
        leg_a: str
        leg_b: str
        lookback: int = Field(120, ge=10)
        entry_z: float = Field(2.0, gt=0)
        exit_z: float = Field(0.5, ge=0)
        quantity: float = Field(100.0, gt=0)
        coint_lookback: int = Field(500, ge=30)
        recheck_every: int = Field(500, ge=1)
        max_pvalue: float = Field(0.05, gt=0, le=1)

        @model_validator(mode="after")
        def _check(self):
            if self.exit_z >= self.entry_z:
                raise ValueError(f"exit_z ({self.exit_z}) must be below entry_z ({self.entry_z})")
            if self.leg_a == self.leg_b:
                raise ValueError("leg_a and leg_b must differ")
            return self

    def __init__(self, params=None):
        super().__init__(params)
        size = max(self.p.lookback, self.p.coint_lookback)
        self._a = np.full(size, np.nan)
        self._b = np.full(size, np.nan)
        self._count = 0
        self._pending: dict[str, tuple[int, float]] = {}
        self._cointegrated = False
        self._since_check = 0
        self.last_pvalue = math.nan

    def validate_universe(self, universe):
        for leg in ("leg_a", "leg_b"):
            if getattr(self.p, leg) not in universe:
                raise ConfigError(
                    f"pairs_trading: {leg} {getattr(self.p, leg)!r} is not in the universe {universe}"
                )

    def on_bar(self, bar, ind, ctx):
        p = self.p
        if bar.instrument not in (p.leg_a, p.leg_b):
            return
        self._pending[bar.instrument] = (bar.ts_event, bar.close)
        a, b = self._pending.get(p.leg_a), self._pending.get(p.leg_b)
        if a is None or b is None or a[0] != b[0] or a[1] <= 0 or b[1] <= 0:
            return
        self._pending.clear()
        self._push(math.log(a[1]), math.log(b[1]))
        if self._count < p.lookback:
            return
        self._since_check += 1
        if self._count >= p.coint_lookback and (
            self._since_check >= p.recheck_every or self.last_pvalue != self.last_pvalue
        ):
            self._since_check = 0
            self.last_pvalue = float(coint(self._a[-p.coint_lookback :], self._b[-p.coint_lookback :])[1])
            self._cointegrated = self.last_pvalue < p.max_pvalue
        window_a, window_b = self._a[-p.lookback :], self._b[-p.lookback :]
        beta = np.cov(window_a, window_b, bias=True)[0, 1] / np.var(window_b)
        spread = window_a - beta * window_b
        std = spread.std()
        if not std > 0:
            return
        z = (spread[-1] - spread.mean()) / std
        current = ctx.target_of(p.leg_a)
        if current != 0 and abs(z) < p.exit_z:
            side = 0.0
        elif current == 0 and self._cointegrated and abs(z) > p.entry_z:
            side = -1.0 if z > 0 else 1.0
        else:
            return
        quantity_b = round(beta * p.quantity * a[1] / b[1])
        ctx.target(p.leg_a, side * p.quantity, f"z={z:.3f}")
        ctx.target(p.leg_b, -side * quantity_b, f"z={z:.3f} beta={beta:.4f}")

    def _push(self, log_a: float, log_b: float) -> None:
        self._a[:-1] = self._a[1:]
        self._b[:-1] = self._b[1:]
        self._a[-1], self._b[-1] = log_a, log_b
        self._count += 1
