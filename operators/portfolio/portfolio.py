"""`Portfolio`: average-cost accounting of one strategy's account, O(1) per fill and per mark.

A fill moves cash by ``-signed_quantity * price - commission``. A fill that adds to a position (or
opens one) moves its average price to the quantity-weighted mean; one that reduces it realises
``closed * (price - avg_price)`` (sign flipped for shorts) and keeps the average; one that flips it
closes the old side completely and opens the rest at the fill price. Realised P&L is gross of
commission, which is tracked separately, so that always

    equity - initial_cash == realized_pnl + unrealized_pnl - commission.

The last price of an instrument is its latest mark or fill. Running sums of ``qty * price``,
``|qty * price|`` and ``qty * avg_price`` make equity, exposure and unrealised P&L O(1); they are
recomputed exactly whenever a position closes, so rounding does not accumulate across trades.

Examples
--------
>>> pf = Portfolio("acct", "ema", initial_cash=10_000.0)
>>> pf.apply_fill({"instrument": "AAPL", "side": "BUY", "quantity": 10.0, "price": 100.0, "commission": 1.0})
>>> pf.mark("AAPL", 105.0)
>>> pf.cash, pf.equity, pf.unrealized_pnl
(8999.0, 10049.0, 50.0)
>>> pf.apply_fill({"instrument": "AAPL", "side": "SELL", "quantity": 15.0, "price": 110.0, "commission": 1.0})
>>> pf.quantity("AAPL"), pf.avg_price("AAPL"), pf.realized_pnl
(-5.0, 110.0, 100.0)
>>> pf.mark_many("AAPL", np.array([108.0, 112.0])).tolist()
[10108.0, 10088.0]
"""

from __future__ import annotations

import math

import numpy as np

_SIDES = {"BUY": 1.0, "SELL": -1.0}


def position_after(quantity: float, change: float) -> float:
    """``quantity + change``, or exactly 0 when only rounding is left of it.

    >>> position_after(0.3, -0.1 - 0.2)
    0.0
    """
    after = quantity + change
    return 0.0 if abs(after) <= 1e-12 * max(abs(quantity), abs(change)) else after


def positions_after(quantity: np.ndarray, change: np.ndarray) -> np.ndarray:
    """`position_after` elementwise.

    >>> positions_after(np.array([0.3, 1.0]), np.array([-0.1 - 0.2, 1.0])).tolist()
    [0.0, 2.0]
    """
    after = quantity + change
    after[np.abs(after) <= 1e-12 * np.maximum(np.abs(quantity), np.abs(change))] = 0.0
    return after


class Portfolio:
    """Cash, positions and P&L of one (account, strategy); see the module docstring for the rules.

    Parameters
    ----------
    account_id
        The account the positions are held in.
    strategy_id
        The strategy that owns them.
    initial_cash
        Cash at the start, in the account currency.

    Examples
    --------
    >>> pf = Portfolio("acct", "s", 1_000.0)
    >>> pf.apply_fill({"instrument": "X", "side": "SELL", "quantity": 2.0, "price": 50.0, "commission": 0.0})
    >>> pf.gross_exposure, pf.net_exposure, pf.equity
    (100.0, -100.0, 1000.0)
    >>> pf.to_pnl_event(ts_event=5)["cash"]
    1100.0
    """

    def __init__(self, account_id: str, strategy_id: str, initial_cash: float):
        self.account_id = account_id
        self.strategy_id = strategy_id
        self.initial_cash = float(initial_cash)
        self.cash = float(initial_cash)
        self.realized_pnl = 0.0
        self.commission = 0.0
        self._positions: dict[str, list[float]] = {}  # instrument -> [quantity, avg_price, realized_pnl]
        self._prices: dict[str, float] = {}
        self._net = 0.0  # sum of quantity * price
        self._gross = 0.0  # sum of |quantity * price|
        self._cost = 0.0  # sum of quantity * avg_price

    @property
    def equity(self) -> float:
        """Cash plus the marked value of every position."""
        return self.cash + self._net

    @property
    def unrealized_pnl(self) -> float:
        """Sum over positions of ``quantity * (price - avg_price)``."""
        return self._net - self._cost

    @property
    def gross_exposure(self) -> float:
        """Sum over positions of ``|quantity * price|``."""
        return self._gross

    @property
    def net_exposure(self) -> float:
        """Sum over positions of ``quantity * price``."""
        return self._net

    def quantity(self, instrument: str) -> float:
        """The signed position in ``instrument`` (0 when none)."""
        position = self._positions.get(instrument)
        return position[0] if position is not None else 0.0

    def avg_price(self, instrument: str) -> float:
        """The average entry price of the position in ``instrument`` (0 when flat)."""
        position = self._positions.get(instrument)
        return position[1] if position is not None else 0.0

    def position(self, instrument: str) -> tuple[float, float, float]:
        """(quantity, avg_price, realized_pnl) of ``instrument`` (zeros when never traded)."""
        position = self._positions.get(instrument)
        return (position[0], position[1], position[2]) if position is not None else (0.0, 0.0, 0.0)

    def price(self, instrument: str) -> float | None:
        """The last mark or fill price of ``instrument``, or None before any."""
        return self._prices.get(instrument)

    def instruments(self) -> list[str]:
        """Instruments with a position (open or closed), in the order they were first traded."""
        return list(self._positions)

    def held(self) -> list[str]:
        """Instruments with an open position, in the order they were first traded."""
        return [name for name, position in self._positions.items() if position[0] != 0.0]

    def apply_fill(self, fill: dict) -> None:
        """Book a ``Fill`` dict (its instrument, side, quantity, price and commission)."""
        self.trade(
            fill["instrument"], _SIDES[fill["side"]] * fill["quantity"], fill["price"], fill["commission"]
        )

    def trade(self, instrument: str, quantity: float, price: float, commission: float = 0.0) -> None:
        """Book a trade of signed ``quantity`` (buy > 0) at ``price``, paying ``commission``."""
        position = self._positions.get(instrument)
        if position is None:
            position = self._positions[instrument] = [0.0, 0.0, 0.0]
        old_quantity, avg, realized = position
        self._unmark(instrument, position)
        self.cash -= quantity * price + commission
        self.commission += commission
        new_quantity = position_after(old_quantity, quantity)
        if old_quantity == 0.0 or (old_quantity > 0.0) == (quantity > 0.0):
            avg = (old_quantity * avg + quantity * price) / new_quantity if new_quantity else 0.0
        else:
            pnl = min(abs(quantity), abs(old_quantity)) * (price - avg) * math.copysign(1.0, old_quantity)
            realized += pnl
            self.realized_pnl += pnl
            if new_quantity == 0.0:
                avg = 0.0
            elif (new_quantity > 0.0) != (old_quantity > 0.0):
                avg = price
        position[0], position[1], position[2] = new_quantity, avg, realized
        self._prices[instrument] = price
        if new_quantity == 0.0:
            self._recompute()
        else:
            self._remark(instrument, position)

    def restore(
        self,
        instrument: str,
        position: tuple[float, float, float],
        price: float,
        cash: float,
        realized_pnl: float,
        commission: float,
    ) -> None:
        """Take the state reached by trades booked elsewhere with `trade`'s arithmetic (the engine's
        columnar path): ``position`` is (quantity, avg_price, realized_pnl) of ``instrument``.

        >>> pf = Portfolio("acct", "s", 1_000.0)
        >>> pf.restore("X", (2.0, 10.0, 0.0), price=11.0, cash=980.0, realized_pnl=0.0, commission=0.0)
        >>> pf.equity, pf.unrealized_pnl
        (1002.0, 2.0)
        """
        self._positions[instrument] = list(position)
        self._prices[instrument] = price
        self.cash, self.realized_pnl, self.commission = cash, realized_pnl, commission
        self._recompute()

    def mark(self, instrument: str, price: float) -> None:
        """Set the last price of ``instrument`` (held or not)."""
        position = self._positions.get(instrument)
        if position is None or position[0] == 0.0 or self._prices.get(instrument) == price:
            self._prices[instrument] = price
            return
        self._unmark(instrument, position)
        self._prices[instrument] = price
        self._remark(instrument, position)

    def mark_many(self, instrument: str, prices: np.ndarray) -> np.ndarray:
        """Return the equity after each of ``prices`` of ``instrument`` (no fills between); mark the last."""
        prices = np.asarray(prices, dtype=np.float64)
        quantity = self.quantity(instrument)
        last = self._prices.get(instrument, 0.0)
        path = (self.cash + self._net - quantity * last) + quantity * prices
        if len(prices):
            self.mark(instrument, float(prices[-1]))
        return path

    def to_position_events(
        self, ts_event: int, ts_init: int | None = None, instruments: list[str] | None = None
    ) -> list[dict]:
        """``Position`` dicts of ``instruments`` (default: every instrument ever traded)."""
        ts_init = ts_event if ts_init is None else ts_init
        events = []
        for instrument in self._positions if instruments is None else instruments:
            quantity, avg, realized = self._positions.get(instrument, (0.0, 0.0, 0.0))
            price = self._prices.get(instrument, avg)
            events.append(
                {
                    "strategy_id": self.strategy_id,
                    "account_id": self.account_id,
                    "instrument": instrument,
                    "quantity": quantity,
                    "avg_price": avg,
                    "realized_pnl": realized,
                    "unrealized_pnl": quantity * (price - avg),
                    "ts_event": ts_event,
                    "ts_init": ts_init,
                }
            )
        return events

    def to_pnl_event(self, ts_event: int, ts_init: int | None = None) -> dict:
        """The account's ``PnL`` dict now."""
        return {
            "strategy_id": self.strategy_id,
            "account_id": self.account_id,
            "cash": self.cash,
            "equity": self.equity,
            "realized_pnl": self.realized_pnl,
            "unrealized_pnl": self.unrealized_pnl,
            "commission": self.commission,
            "gross_exposure": self._gross,
            "net_exposure": self._net,
            "ts_event": ts_event,
            "ts_init": ts_event if ts_init is None else ts_init,
        }

    def _unmark(self, instrument: str, position: list[float]) -> None:
        quantity = position[0]
        if quantity != 0.0:
            value = quantity * self._prices[instrument]
            self._net -= value
            self._gross -= abs(value)
            self._cost -= quantity * position[1]

    def _remark(self, instrument: str, position: list[float]) -> None:
        quantity = position[0]
        value = quantity * self._prices[instrument]
        self._net += value
        self._gross += abs(value)
        self._cost += quantity * position[1]

    def _recompute(self) -> None:
        self._net = self._gross = self._cost = 0.0
        for instrument, position in self._positions.items():
            if position[0] != 0.0:
                self._remark(instrument, position)
