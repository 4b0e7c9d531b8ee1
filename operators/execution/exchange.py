"""`SimulatedExchange`: fills working orders against the market events that arrive after them.

An order is eligible on a market event of its instrument whose ``ts_event`` is strictly later than
the order's own ``ts_event`` (the time of the decision that created it), so an order never fills
on the bar that produced its signal. Against a bar (``o``, ``h``, ``l``, volume ``v``):

- MARKET fills at ``o``, plus slippage.
- LIMIT buy fills when ``l <= limit`` at ``min(o, limit)`` (sell: ``h >= limit`` at ``max(o, limit)``).
  It is a taker (slippage, capped at the limit) when the open was already through the limit, else
  a maker at the limit, without slippage.
- STOP buy triggers when ``h >= stop`` at ``max(o, stop)`` (sell: ``l <= stop`` at ``min(o, stop)``)
  and fills there as a market order, plus slippage.
- STOP_LIMIT triggers like STOP and becomes a LIMIT. On the trigger bar it fills only if the trigger
  price is within the limit (the bar's path after the trigger is unknown); from the next event on
  it works as a LIMIT.
- ``max_participation`` caps what all the instrument's orders together may fill to that share of
  the bar's volume, in submission order; the rest keeps working (PARTIALLY_FILLED, then FILLED).
- IOC fills what it can on its first eligible event and cancels the rest; FOK fills completely on
  that event or is canceled; DAY expires on the first event of a later UTC day; GTC works until
  filled or canceled.

A trade (``on_trade``) is matched as a bar whose open, high and low are the trade price and whose
volume is the trade size. Every method returns ``(schema name, event dict)`` pairs: ``Fill`` and
``ExecutionReport`` dicts with exactly their Avro fields, ``ts_init`` taken from the causing event.

Examples
--------
>>> exchange = SimulatedExchange(ExchangeConfig())
>>> order = {"id": "o1", "intent_id": "i1", "strategy_id": "s", "account_id": "a", "instrument": "AAPL",
...          "side": "BUY", "quantity": 10.0, "order_type": "MARKET", "limit_price": None,
...          "stop_price": None, "time_in_force": "GTC", "ts_event": 60, "ts_init": 61}
>>> [event["status"] for _, event in exchange.submit(order)]
['ACCEPTED']
>>> bar = {"instrument": "AAPL", "interval_ns": 60, "open": 100.0, "high": 101.0, "low": 99.0,
...        "close": 100.5, "volume": 1_000.0, "ts_event": 120, "ts_init": 121}
>>> [(name, event.get("price"), event.get("status")) for name, event in exchange.on_bar(bar)]
[('Fill', 100.0, None), ('ExecutionReport', None, 'FILLED')]
"""

from __future__ import annotations

import math

from pydantic import Field

from operators.execution.commission import CommissionModel, NoCommission
from operators.execution.config import StrictConfig
from operators.execution.ids import child_id
from operators.execution.orders import SIDES, order_problem, report
from operators.execution.slippage import NoSlippage, SlippageModel

DAY_NS = 86_400_000_000_000
_STOPS = frozenset({"STOP", "STOP_LIMIT"})


def acceptance(order: dict, already_working: bool) -> tuple[bool, dict]:
    """Whether the exchange accepts ``order``, with its ACCEPTED or REJECTED ``ExecutionReport``."""
    problem = order_problem(order)
    if problem is None and already_working:
        problem = f"an order with id {order['id']!r} is already working"
    if problem is not None:
        quantity = order.get("quantity")
        leaves = float(quantity) if isinstance(quantity, int | float) else 0.0
        rejected = report(
            order, 0, "REJECTED", 0.0, leaves, None, order["ts_event"], order["ts_init"], reason=problem
        )
        return False, rejected
    accepted = report(
        order, 0, "ACCEPTED", 0.0, float(order["quantity"]), None, order["ts_event"], order["ts_init"]
    )
    return True, accepted


class ExchangeConfig(StrictConfig):
    """How the simulated exchange fills: participation cap, lot size, commission and slippage.

    Examples
    --------
    >>> ExchangeConfig(max_participation=0.1, commission={"kind": "bps", "bps": 1.0}).commission.bps
    1.0
    """

    max_participation: float | None = Field(
        default=None, gt=0, le=1, description="Max share of an event's volume filled; None = no cap."
    )
    lot_size: float | None = Field(default=None, gt=0, description="Partial fills are rounded down to lots.")
    commission: CommissionModel = Field(default_factory=NoCommission)
    slippage: SlippageModel = Field(default_factory=NoSlippage)


class _Working:
    """The exchange's state of one working order (small and picklable)."""

    __slots__ = (
        "order",
        "sign",
        "leaves",
        "filled",
        "notional",
        "commission",
        "triggered",
        "reports",
        "fills",
    )

    def __init__(self, order: dict):
        self.order = order
        self.sign = SIDES[order["side"]]
        self.leaves = float(order["quantity"])
        self.filled = 0.0
        self.notional = 0.0
        self.commission = 0.0
        self.triggered = False
        self.reports = 1  # report 0 is the ACCEPTED report
        self.fills = 0

    @property
    def avg_price(self) -> float | None:
        return self.notional / self.filled if self.filled > 0.0 else None


class SimulatedExchange:
    """A matching simulator for backtests and paper trading; see the module docstring for the rules.

    Parameters
    ----------
    config
        Participation cap, lot size, commission and slippage models.

    Examples
    --------
    >>> exchange = SimulatedExchange(ExchangeConfig(max_participation=0.5))
    >>> order = {"id": "o1", "intent_id": "i1", "strategy_id": "s", "account_id": "a", "instrument": "X",
    ...          "side": "SELL", "quantity": 300.0, "order_type": "LIMIT", "limit_price": 10.0,
    ...          "stop_price": None, "time_in_force": "GTC", "ts_event": 0, "ts_init": 0}
    >>> _ = exchange.submit(order)
    >>> bar = {"instrument": "X", "interval_ns": 1, "open": 9.9, "high": 10.2, "low": 9.8, "close": 10.1,
    ...        "volume": 400.0, "ts_event": 1, "ts_init": 1}
    >>> [(e["status"], e["last_quantity"], e["last_price"]) for n, e in exchange.on_bar(bar) if n != "Fill"]
    [('PARTIALLY_FILLED', 200.0, 10.0)]
    >>> exchange.open_orders()
    [('o1', -100.0)]
    """

    def __init__(self, config: ExchangeConfig):
        self.config = config
        self._orders: dict[str, _Working] = {}
        self._books: dict[str, dict[str, _Working]] = {}

    def submit(self, order: dict) -> list[tuple[str, dict]]:
        """Accept ``order`` (an ``Order`` dict) for matching; return its ACCEPTED or REJECTED report."""
        accepted, answer = acceptance(order, order["id"] in self._orders)
        if accepted:
            working = _Working(order)
            self._orders[order["id"]] = working
            self._books.setdefault(order["instrument"], {})[order["id"]] = working
        return [("ExecutionReport", answer)]

    def cancel(
        self, order_id: str, ts_event: int, ts_init: int, reason: str = "canceled"
    ) -> list[tuple[str, dict]]:
        """Cancel a working order; return its CANCELED report (nothing when it is no longer working)."""
        working = self._orders.get(order_id)
        if working is None:
            return []
        events: list[tuple[str, dict]] = []
        self._close(working, "CANCELED", reason, ts_event, ts_init, events)
        return events

    def open_orders(
        self, instrument: str | None = None, strategy_id: str | None = None, account_id: str | None = None
    ) -> list[tuple[str, float]]:
        """Return ``(order id, signed leaves quantity)`` of the working orders matching the filters."""
        books = self._orders.values() if instrument is None else self._books.get(instrument, {}).values()
        return [
            (w.order["id"], w.sign * w.leaves)
            for w in books
            if (strategy_id is None or w.order["strategy_id"] == strategy_id)
            and (account_id is None or w.order["account_id"] == account_id)
        ]

    def untouched_order(self, instrument: str) -> dict | None:
        """The instrument's order when it is the only one working there and nothing happened to it
        since its ACCEPTED report (no fill, no trigger), else None."""
        book = self._books.get(instrument)
        if not book or len(book) != 1:
            return None
        (working,) = book.values()
        untouched = working.fills == 0 and working.reports == 1 and not working.triggered
        return working.order if untouched else None

    def withdraw(self, order_id: str) -> None:
        """Take an untouched order out of the book without a report: the caller (the engine's columnar
        path) fills it and reports that fill itself, exactly as matching it here would."""
        self._remove(self._orders[order_id])

    def on_bar(self, bar: dict) -> list[tuple[str, dict]]:
        """Match the bar's instrument's eligible working orders against ``bar``; return fills and reports."""
        return self._match(
            bar["instrument"],
            bar["open"],
            bar["high"],
            bar["low"],
            bar["volume"],
            bar["ts_event"],
            bar["ts_init"],
        )

    def on_trade(self, trade: dict) -> list[tuple[str, dict]]:
        """Match the trade's instrument's eligible working orders against its price and size."""
        price = trade["price"]
        return self._match(
            trade["instrument"], price, price, price, trade["size"], trade["ts_event"], trade["ts_init"]
        )

    def _match(
        self,
        instrument: str,
        open_: float,
        high: float,
        low: float,
        volume: float,
        ts_event: int,
        ts_init: int,
    ) -> list[tuple[str, dict]]:
        book = self._books.get(instrument)
        if not book:
            return []
        events: list[tuple[str, dict]] = []
        cap = self.config.max_participation
        budget = math.inf if cap is None else cap * volume
        for working in list(book.values()):
            order = working.order
            if order["ts_event"] >= ts_event:
                continue
            tif = order["time_in_force"]
            if tif == "DAY" and ts_event // DAY_NS != order["ts_event"] // DAY_NS:
                self._close(working, "EXPIRED", "DAY order expired", ts_event, ts_init, events)
                continue
            price, taker = self._price(working, open_, high, low)
            if price is not None:
                quantity = self._quantity(working.leaves, budget)
                if quantity > 0.0 and not (tif == "FOK" and quantity < working.leaves):
                    if taker:
                        price = self._slipped(working, price, quantity, volume)
                    budget -= quantity
                    self._fill(working, quantity, price, taker, ts_event, ts_init, events)
            if working.leaves > 0.0 and tif in ("IOC", "FOK"):
                self._close(working, "CANCELED", f"{tif} remainder canceled", ts_event, ts_init, events)
        return events

    @staticmethod
    def _price(working: _Working, open_: float, high: float, low: float) -> tuple[float | None, bool]:
        """The price the order fills at on this event and whether it takes liquidity (None: no fill)."""
        order, sign = working.order, working.sign
        order_type = order["order_type"]
        if order_type == "MARKET" or (order_type == "STOP" and working.triggered):
            return open_, True
        if order_type in _STOPS and not working.triggered:
            stop = order["stop_price"]
            if (high < stop) if sign > 0 else (low > stop):
                return None, True
            working.triggered = True
            trigger = max(open_, stop) if sign > 0 else min(open_, stop)
            if order_type == "STOP" or sign * (order["limit_price"] - trigger) >= 0.0:
                return trigger, True
            return None, True
        limit = order["limit_price"]
        if sign > 0:
            return (None, False) if low > limit else (min(open_, limit), open_ < limit)
        return (None, False) if high < limit else (max(open_, limit), open_ > limit)

    def _quantity(self, leaves: float, budget: float) -> float:
        if budget >= leaves:
            return leaves
        lot = self.config.lot_size
        return max(budget, 0.0) if lot is None else math.floor(max(budget, 0.0) / lot + 1e-9) * lot

    def _slipped(self, working: _Working, price: float, quantity: float, volume: float) -> float:
        price = self.config.slippage.price(working.sign, price, quantity, volume)
        limit = working.order["limit_price"]
        if limit is not None:
            price = min(price, limit) if working.sign > 0 else max(price, limit)
        return price

    def _fill(
        self,
        working: _Working,
        quantity: float,
        price: float,
        taker: bool,
        ts_event: int,
        ts_init: int,
        events: list[tuple[str, dict]],
    ) -> None:
        order = working.order
        if quantity >= working.leaves:
            quantity, working.leaves, working.filled = working.leaves, 0.0, float(order["quantity"])
        else:
            working.leaves -= quantity
            working.filled += quantity
        working.notional += quantity * price
        total = self.config.commission.total(working.filled, working.notional)
        commission, working.commission = total - working.commission, total
        events.append(
            (
                "Fill",
                {
                    "id": child_id(order["id"], "Fill", working.fills),
                    "order_id": order["id"],
                    "strategy_id": order["strategy_id"],
                    "account_id": order["account_id"],
                    "instrument": order["instrument"],
                    "side": order["side"],
                    "quantity": quantity,
                    "price": price,
                    "commission": commission,
                    "liquidity": "TAKER" if taker else "MAKER",
                    "ts_event": ts_event,
                    "ts_init": ts_init,
                },
            )
        )
        working.fills += 1
        status = "FILLED" if working.leaves == 0.0 else "PARTIALLY_FILLED"
        events.append(("ExecutionReport", self._report(working, status, ts_event, ts_init, quantity, price)))
        if working.leaves == 0.0:
            self._remove(working)

    def _close(
        self,
        working: _Working,
        status: str,
        reason: str,
        ts_event: int,
        ts_init: int,
        events: list[tuple[str, dict]],
    ) -> None:
        events.append(("ExecutionReport", self._report(working, status, ts_event, ts_init, reason=reason)))
        self._remove(working)

    def _report(
        self,
        working: _Working,
        status: str,
        ts_event: int,
        ts_init: int,
        last_quantity: float = 0.0,
        last_price: float | None = None,
        reason: str = "",
    ) -> dict:
        event = report(
            working.order,
            working.reports,
            status,
            working.filled,
            working.leaves,
            working.avg_price,
            ts_event,
            ts_init,
            last_quantity,
            last_price,
            reason,
        )
        working.reports += 1
        return event

    def _remove(self, working: _Working) -> None:
        order = working.order
        del self._orders[order["id"]]
        book = self._books[order["instrument"]]
        del book[order["id"]]
        if not book:
            del self._books[order["instrument"]]
