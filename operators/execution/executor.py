"""`TargetExecutor`: turns a target position into the orders that reach it.

``delta = target - (position + signed quantity of working orders)``, rounded toward zero to the
instrument's lot size. When the working orders do not already cover the rounded delta from the
position (the target changed, or an order was canceled or partly filled and then canceled), they
are all canceled and replaced by one new order for ``target - position``. Orders are MARKET by
default; with ``order_type="LIMIT"`` the limit is the reference price (the last mark) moved
``limit_offset_bps`` away from the market (a buy below, a sell above; negative offsets cross),
rounded to ``tick_size`` on the passive side. With no reference price yet a LIMIT falls back to MARKET.

The executor keeps no state: position and working orders are passed in, so one executor serves
every strategy and a replay reproduces its ids (the intent id derives from the target id).

Examples
--------
>>> executor = TargetExecutor(ExecutorConfig(lot_size=10))
>>> target = {"id": "t1", "strategy_id": "s", "account_id": "a", "instrument": "AAPL",
...           "target_quantity": 125.0, "reason": "", "ts_event": 60, "ts_init": 61}
>>> cancels, intents = executor.on_target(target, position=50.0, open_orders=[], reference_price=100.0)
>>> cancels, [(i["side"], i["quantity"], i["order_type"]) for i in intents]
([], [('BUY', 70.0, 'MARKET')])
>>> executor.on_target(target, position=50.0, open_orders=[("o1", 70.0)], reference_price=100.0)
([], [])
>>> cancels, intents = executor.on_target({**target, "target_quantity": 0.0}, 50.0, [("o1", 70.0)], 100.0)
>>> cancels, [(i["side"], i["quantity"]) for i in intents]
(['o1'], [('SELL', 50.0)])
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from operators.execution.config import StrictConfig
from operators.execution.ids import child_id


class ExecutorConfig(StrictConfig):
    """How targets become orders: lot sizes, order type, limit offset, tick size, time in force.

    Examples
    --------
    >>> ExecutorConfig(lot_size_by_instrument={"BTC": 0.001}).lot("BTC")
    0.001
    """

    lot_size: float = Field(default=1.0, gt=0, description="Quantities are rounded toward zero to lots.")
    lot_size_by_instrument: dict[str, float] = Field(
        default_factory=dict, description="Per-instrument lot size."
    )
    order_type: Literal["MARKET", "LIMIT"] = "MARKET"
    limit_offset_bps: float = Field(
        default=0.0, description="LIMIT: bps from the reference, away from the market."
    )
    tick_size: float | None = Field(default=None, gt=0, description="LIMIT prices are rounded to ticks.")
    time_in_force: Literal["GTC", "DAY", "IOC", "FOK"] = "GTC"

    def lot(self, instrument: str) -> float:
        """The lot size of ``instrument``."""
        return self.lot_size_by_instrument.get(instrument, self.lot_size)


def round_to_lot(quantity: float, lot: float) -> float:
    """Round ``quantity`` toward zero to a whole number of ``lot``.

    Examples
    --------
    >>> round_to_lot(-0.37, 0.1)
    -0.3
    """
    return math.copysign(round(math.floor(abs(quantity) / lot + 1e-9) * lot, 10), quantity)


def order_from_intent(intent: dict) -> dict:
    """The ``Order`` dict for an ``OrderIntent`` dict; its id derives from the intent id.

    Examples
    --------
    >>> order = order_from_intent({"id": "i1", "strategy_id": "s", "account_id": "a", "instrument": "X",
    ...     "side": "BUY", "quantity": 1.0, "order_type": "MARKET", "limit_price": None, "stop_price": None,
    ...     "time_in_force": "GTC", "ts_event": 1, "ts_init": 1})
    >>> order["intent_id"], order["id"] == child_id("i1", "Order")
    ('i1', True)
    """
    order = {"id": child_id(intent["id"], "Order"), "intent_id": intent["id"]}
    order.update((key, value) for key, value in intent.items() if key != "id")
    return order


class TargetExecutor:
    """Computes the cancels and order intents that move a position to its target.

    Parameters
    ----------
    config
        Lot sizes, order type and limit placement.

    Examples
    --------
    >>> executor = TargetExecutor(ExecutorConfig(order_type="LIMIT", limit_offset_bps=10, tick_size=0.01))
    >>> target = {"id": "t1", "strategy_id": "s", "account_id": "a", "instrument": "AAPL",
    ...           "target_quantity": -5.0, "reason": "", "ts_event": 60, "ts_init": 61}
    >>> _, [intent] = executor.on_target(target, 0.0, [], reference_price=100.0)
    >>> intent["side"], intent["quantity"], intent["limit_price"]
    ('SELL', 5.0, 100.1)
    """

    def __init__(self, config: ExecutorConfig):
        self.config = config

    def on_target(
        self,
        target: dict,
        position: float,
        open_orders: list[tuple[str, float]],
        reference_price: float | None,
    ) -> tuple[list[str], list[dict]]:
        """Return ``(order ids to cancel, OrderIntent dicts)`` for a ``TargetPosition`` dict.

        ``open_orders`` are ``(order id, signed leaves quantity)`` of the target's strategy, account
        and instrument; ``reference_price`` is the instrument's last price (or None).
        """
        lot = self.config.lot(target["instrument"])
        needed = round_to_lot(target["target_quantity"] - position, lot)
        cancels: list[str] = []
        if open_orders:
            working = sum(quantity for _, quantity in open_orders)
            if abs(working - needed) <= 1e-9 * max(lot, abs(needed)):
                return [], []
            cancels = [order_id for order_id, _ in open_orders]
        if needed == 0.0:
            return cancels, []
        return cancels, [self._intent(target, needed, reference_price)]

    def _intent(self, target: dict, quantity: float, reference_price: float | None) -> dict:
        config = self.config
        side = 1.0 if quantity > 0.0 else -1.0
        limit_price = None
        if config.order_type == "LIMIT" and reference_price is not None:
            limit_price = reference_price * (1.0 - side * config.limit_offset_bps * 1e-4)
            if config.tick_size is not None:
                ticks = limit_price / config.tick_size
                ticks = math.floor(ticks + 1e-9) if side > 0 else math.ceil(ticks - 1e-9)
                limit_price = round(ticks * config.tick_size, 10)
        return {
            "id": child_id(target["id"], "OrderIntent"),
            "strategy_id": target["strategy_id"],
            "account_id": target["account_id"],
            "instrument": target["instrument"],
            "side": "BUY" if side > 0 else "SELL",
            "quantity": abs(quantity),
            "order_type": "MARKET" if limit_price is None else "LIMIT",
            "limit_price": limit_price,
            "stop_price": None,
            "time_in_force": config.time_in_force,
            "ts_event": target["ts_event"],
            "ts_init": target["ts_init"],
        }
