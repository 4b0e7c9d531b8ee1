"""Order vocabulary and validation: sides, types, time in force, and what makes an order invalid.

Orders are plain dicts with exactly the fields of the ``Order`` schema (``OrderIntent`` lacks
``intent_id``). `order_problem` returns why an order cannot be accepted, or None.

Examples
--------
>>> order = {"id": "o1", "intent_id": "i1", "strategy_id": "s", "account_id": "a", "instrument": "AAPL",
...          "side": "BUY", "quantity": 10.0, "order_type": "LIMIT", "limit_price": None,
...          "stop_price": None, "time_in_force": "GTC", "ts_event": 1, "ts_init": 1}
>>> order_problem(order)
'LIMIT order needs a positive limit_price, was None'
>>> order_problem({**order, "limit_price": 99.5}) is None
True
"""

from __future__ import annotations

import math

from operators.execution.ids import child_id

SIDES = {"BUY": 1, "SELL": -1}
ORDER_TYPES = frozenset({"MARKET", "LIMIT", "STOP", "STOP_LIMIT"})
TIMES_IN_FORCE = frozenset({"GTC", "DAY", "IOC", "FOK"})
_NEEDS_LIMIT = frozenset({"LIMIT", "STOP_LIMIT"})
_NEEDS_STOP = frozenset({"STOP", "STOP_LIMIT"})


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def order_problem(order: dict) -> str | None:
    """Return why ``order`` is invalid (a sentence naming the field), or None when it is valid."""
    if order.get("side") not in SIDES:
        return f"side must be BUY or SELL, was {order.get('side')!r}"
    if not _positive(order.get("quantity")):
        return f"quantity must be a positive finite number, was {order.get('quantity')!r}"
    order_type = order.get("order_type")
    if order_type not in ORDER_TYPES:
        return f"order_type must be one of {sorted(ORDER_TYPES)}, was {order_type!r}"
    if order.get("time_in_force") not in TIMES_IN_FORCE:
        return f"time_in_force must be one of {sorted(TIMES_IN_FORCE)}, was {order.get('time_in_force')!r}"
    if order_type in _NEEDS_LIMIT and not _positive(order.get("limit_price")):
        return f"{order_type} order needs a positive limit_price, was {order.get('limit_price')!r}"
    if order_type in _NEEDS_STOP and not _positive(order.get("stop_price")):
        return f"{order_type} order needs a positive stop_price, was {order.get('stop_price')!r}"
    return None


def report(
    order: dict,
    sequence: int,
    status: str,
    filled: float,
    leaves: float,
    avg_price: float | None,
    ts_event: int,
    ts_init: int,
    last_quantity: float = 0.0,
    last_price: float | None = None,
    reason: str = "",
) -> dict:
    """Build an ``ExecutionReport`` dict for ``order``; its id derives from the order id and ``sequence``.

    Examples
    --------
    >>> order = {"id": "o1", "strategy_id": "s", "account_id": "a", "instrument": "AAPL"}
    >>> report(order, 0, "ACCEPTED", 0.0, 10.0, None, 5, 6)["status"]
    'ACCEPTED'
    """
    return {
        "id": child_id(order["id"], "ExecutionReport", sequence),
        "order_id": order["id"],
        "strategy_id": order["strategy_id"],
        "account_id": order["account_id"],
        "instrument": order["instrument"],
        "status": status,
        "filled_quantity": filled,
        "leaves_quantity": leaves,
        "avg_price": avg_price,
        "last_quantity": last_quantity,
        "last_price": last_price,
        "reason": reason,
        "ts_event": ts_event,
        "ts_init": ts_init,
    }
