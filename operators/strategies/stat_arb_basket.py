"""Market-neutral statistical arbitrage over a basket: long the laggards, short the leaders."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from operators.strategy import Strategy
from schemas.errors import ConfigError


class StatArbBasket(Strategy):
    """Every ``rebalance_every`` synchronous bars, rank the basket by the z-score of each
    instrument's ``lookback``-bar log return minus the basket's mean return; go long the ``k``
    most negative and short the ``k`` most positive, ``notional`` dollars per name, so the book is
    dollar-neutral. Names whose |z| falls under ``exit_z`` are closed at the next rebalance.

    A bar time counts only when every instrument of the universe has a bar with that ``ts_event``.

    Examples
    --------
    >>> StatArbBasket({"k": 1}).validate_universe(("A", "B", "C"))
    >>> StatArbBasket({"k": 2}).validate_universe(("A", "B", "C"))
    Traceback (most recent call last):
    ...
    schemas.errors.ConfigError: stat_arb_basket: k=2 needs a universe of at least 4 instruments, was 3
    """

    class Params(BaseModel):
        lookback: int = Field(60, ge=2)
        zscore_window: int = Field(240, ge=10)
        rebalance_every: int = Field(30, ge=1)
        k: int = Field(1, ge=1)
        notional: float = Field(10_000.0, gt=0)
        exit_z: float = Field(0.0, ge=0)

    def __init__(self, params=None):
        super().__init__(params)
        self._universe: tuple[str, ...] = ()
        self._row: dict[str, float] = {}
        self._ts = None
        self._prices: np.ndarray | None = None
        self._count = 0

    def validate_universe(self, universe):
        if len(universe) < 2 * self.p.k:
            raise ConfigError(
                f"stat_arb_basket: k={self.p.k} needs a universe of at least {2 * self.p.k} instruments, "
                f"was {len(universe)}"
            )
        self._universe = tuple(universe)

    def on_bar(self, bar, ind, ctx):
        if not self._universe:
            raise ConfigError("stat_arb_basket needs an explicit universe in the run config")
        if bar.ts_event != self._ts:
            self._ts, self._row = bar.ts_event, {}
        self._row[bar.instrument] = bar.close
        if len(self._row) < len(self._universe):
            return
        self._push(np.log([self._row[name] for name in self._universe]))
        p = self.p
        history = p.lookback + p.zscore_window
        if self._count < history or self._count % p.rebalance_every:
            return
        prices = self._prices
        returns = prices[p.lookback :] - prices[: -p.lookback]  # rolling lookback log returns
        relative = returns - returns.mean(axis=1, keepdims=True)
        std = relative.std(axis=0)
        z = np.where(std > 0, (relative[-1] - relative.mean(axis=0)) / np.where(std > 0, std, 1), 0.0)
        order = np.argsort(z, kind="stable")
        longs, shorts = set(order[: p.k].tolist()), set(order[-p.k :].tolist())
        for i, name in enumerate(self._universe):
            price = self._row[name]
            if i in longs and z[i] < -p.exit_z:
                ctx.target(name, round(p.notional / price), f"z={z[i]:.3f}")
            elif i in shorts and z[i] > p.exit_z:
                ctx.target(name, -round(p.notional / price), f"z={z[i]:.3f}")
            else:
                ctx.target(name, 0.0)

    def _push(self, log_prices: np.ndarray) -> None:
        size = self.p.lookback + self.p.zscore_window
        if self._prices is None:
            self._prices = np.full((size, len(log_prices)), np.nan)
        self._prices[:-1] = self._prices[1:]
        self._prices[-1] = log_prices
        self._count += 1
