"""`RiskEngine`: pre-trade checks, trading modes and the drawdown kill switch.

Checks, in this order; the first that fails rejects the order with a ``RiskAlert`` (severity
WARNING, action REJECT) whose ``rule`` names it:

``halted`` / ``reduce_only``
    The strategy or the whole book (a Control with ``strategy_id`` None) is halted or reduce-only
    and the order would increase risk: only orders against the position, no larger than it, pass.
``no_reference_price``
    A price limit is set but the order has no limit price and its instrument was never marked.
``max_order_notional``, ``max_position``, ``max_gross_exposure``
    The order's notional, the projected |position| (position + working orders + this order) or
    the projected gross exposure is over its limit; the last two only reject orders that increase them.
``max_orders_per_interval``
    The strategy already sent ``count`` orders within the last ``interval_ns`` of event time.

HALT and REDUCE_ONLY both stop risk-increasing orders; HALT also tells the execution stage to
cancel the scope's working orders. Neither flattens positions: liquidating at market is a trading
decision with its own risk (the halt may have been caused by bad prices), so it is left to the
strategy's targets, an operator, or the stage's ``flatten_on_halt`` option. RESUME lifts the mode
of its scope only (a global RESUME does not lift a strategy's own HALT) and re-arms that scope's
kill switch from the next equity seen.

The kill switch (``on_equity``) halts a strategy once when its equity falls ``max_drawdown`` below
its peak, with a CRITICAL alert. Alerts about a Control carry ``account_id`` "" (a Control names
no account). State is a few dicts and small deques: cheap to pickle.

Examples
--------
>>> from operators.portfolio import Portfolio
>>> engine = RiskEngine(RiskLimits(max_position=100))
>>> pf = Portfolio("acct", "s", 100_000.0)
>>> order = {"id": "o1", "strategy_id": "s", "account_id": "acct", "instrument": "AAPL", "side": "BUY",
...          "quantity": 150.0, "limit_price": 10.0, "ts_event": 1, "ts_init": 2}
>>> accepted, alerts = engine.check(order, pf)
>>> accepted, alerts[0]["rule"], alerts[0]["value"], alerts[0]["limit"]
(False, 'max_position', 150.0, 100.0)
>>> engine.check({**order, "quantity": 50.0}, pf)
(True, [])
"""

from __future__ import annotations

from collections import deque

from operators.execution.ids import event_id
from operators.portfolio import Portfolio
from operators.risk.limits import RiskLimits

_SIDES = {"BUY": 1.0, "SELL": -1.0}
_RANK = {None: 0, "REDUCE_ONLY": 1, "HALT": 2}
_EPSILON = 1e-9


def risk_alert(
    cause: str,
    strategy_id: str | None,
    account_id: str,
    instrument: str | None,
    rule: str,
    severity: str,
    message: str,
    value: float | None,
    limit: float | None,
    action: str,
    ts_event: int,
    ts_init: int,
) -> dict:
    """Build a ``RiskAlert`` dict; its id hashes ``rule`` and ``cause`` (the id of what caused it)."""
    return {
        "id": event_id("RiskAlert", rule, cause),
        "strategy_id": strategy_id,
        "account_id": account_id,
        "instrument": instrument,
        "rule": rule,
        "severity": severity,
        "message": message,
        "value": value,
        "limit": limit,
        "action": action,
        "ts_event": ts_event,
        "ts_init": ts_init,
    }


class RiskEngine:
    """Checks orders against `RiskLimits` and keeps the trading modes; see the module docstring.

    Parameters
    ----------
    limits
        The limits to enforce.

    Examples
    --------
    >>> engine = RiskEngine(RiskLimits())
    >>> control = {"id": "c1", "strategy_id": None, "command": "REDUCE_ONLY", "params": {}, "reason": "news",
    ...            "issued_by": "desk", "ts_event": 5, "ts_init": 5}
    >>> [alert["action"] for alert in engine.apply_control(control)], engine.mode("any-strategy")
    (['REDUCE_ONLY'], 'REDUCE_ONLY')
    """

    def __init__(self, limits: RiskLimits):
        self.limits = limits
        self._modes: dict[str | None, str] = {}
        self._recent: dict[str, deque[int]] = {}
        self._peaks: dict[tuple[str, str], float] = {}
        self._tripped: set[tuple[str, str]] = set()

    def mode(self, strategy_id: str | None) -> str | None:
        """The mode in force for ``strategy_id`` ("HALT", "REDUCE_ONLY" or None), global or its own."""
        own = self._modes.get(strategy_id) if strategy_id is not None else None
        common = self._modes.get(None)
        return own if _RANK[own] >= _RANK[common] else common

    def check(
        self,
        order: dict,
        portfolio: Portfolio,
        ts_event: int | None = None,
        ts_init: int | None = None,
        open_quantity: float = 0.0,
    ) -> tuple[bool, list[dict]]:
        """Check an ``Order``/``OrderIntent`` dict against the limits; count it when it passes.

        ``open_quantity`` is the signed quantity of the strategy's other working orders in the
        instrument; ``ts_event``/``ts_init`` default to the order's.
        """
        ts_event = order["ts_event"] if ts_event is None else ts_event
        ts_init = order["ts_init"] if ts_init is None else ts_init
        failure = self._failure(order, portfolio, ts_event, open_quantity)
        if failure is None:
            rate = self.limits.max_orders_per_interval
            if rate is not None:
                self._recent.setdefault(order["strategy_id"], deque(maxlen=rate.count)).append(ts_event)
            return True, []
        rule, message, value, limit = failure
        alert = risk_alert(
            order["id"],
            order["strategy_id"],
            order["account_id"],
            order["instrument"],
            rule,
            "WARNING",
            message,
            value,
            limit,
            "REJECT",
            ts_event,
            ts_init,
        )
        return False, [alert]

    def _failure(
        self, order: dict, portfolio: Portfolio, ts_event: int, open_quantity: float
    ) -> tuple[str, str, float | None, float | None] | None:
        limits, instrument = self.limits, order["instrument"]
        quantity = order["quantity"]
        held = portfolio.quantity(instrument)
        before = held + open_quantity
        after = before + _SIDES[order["side"]] * quantity
        reducing = before * (after - before) < 0.0 and quantity <= abs(before) + _EPSILON
        mode = self.mode(order["strategy_id"])
        if mode is not None and not reducing:
            rule = "halted" if mode == "HALT" else "reduce_only"
            return rule, f"{mode} is in force: only orders that reduce the position pass", None, None
        position_limit = limits.position_limit(instrument)
        if position_limit is not None and abs(after) > position_limit + _EPSILON and abs(after) > abs(before):
            return (
                "max_position",
                f"|position| would be {abs(after):g} > {position_limit:g}",
                abs(after),
                position_limit,
            )
        if limits.max_order_notional is not None or limits.max_gross_exposure is not None:
            price = order.get("limit_price") or portfolio.price(instrument)
            if price is None:
                return (
                    "no_reference_price",
                    f"no limit price and no mark for {instrument}: notional unknown",
                    None,
                    None,
                )
            notional = quantity * price
            if limits.max_order_notional is not None and notional > limits.max_order_notional:
                message = f"order notional {notional:g} > {limits.max_order_notional:g}"
                return "max_order_notional", message, notional, limits.max_order_notional
            if limits.max_gross_exposure is not None:
                gross = portfolio.gross_exposure
                projected = gross - abs(held * (portfolio.price(instrument) or price)) + abs(after * price)
                if projected > limits.max_gross_exposure and projected > gross:
                    message = f"gross exposure would be {projected:g} > {limits.max_gross_exposure:g}"
                    return "max_gross_exposure", message, projected, limits.max_gross_exposure
        rate = limits.max_orders_per_interval
        if rate is not None:
            recent = self._recent.get(order["strategy_id"])
            if recent is not None and len(recent) == rate.count and recent[0] > ts_event - rate.interval_ns:
                message = f"{rate.count} orders within {rate.interval_ns} ns already"
                return "max_orders_per_interval", message, float(rate.count + 1), float(rate.count)
        return None

    def on_equity(
        self, equity: float, ts_event: int, ts_init: int, strategy_id: str, account_id: str
    ) -> list[dict]:
        """Track peak equity; halt ``strategy_id`` once (CRITICAL alert) when the drawdown limit is hit."""
        max_drawdown = self.limits.max_drawdown
        key = (strategy_id, account_id)
        if max_drawdown is None or key in self._tripped:
            return []
        peak = self._peaks.get(key)
        if peak is None or equity > peak:
            self._peaks[key] = equity
            return []
        drawdown = 1.0 - equity / peak if peak > 0.0 else 0.0
        if drawdown < max_drawdown:
            return []
        self._tripped.add(key)
        self._modes[strategy_id] = "HALT"
        message = f"drawdown {drawdown:.2%} from peak equity {peak:g} reached the {max_drawdown:.2%} limit"
        alert = risk_alert(
            f"{strategy_id}/{account_id}/{ts_event}",
            strategy_id,
            account_id,
            None,
            "max_drawdown",
            "CRITICAL",
            message,
            drawdown,
            max_drawdown,
            "HALT",
            ts_event,
            ts_init,
        )
        return [alert]

    def apply_control(self, control: dict) -> list[dict]:
        """Apply a ``Control`` dict (HALT, REDUCE_ONLY, RESUME); return its INFO/WARNING alert.

        SET_PARAMS is addressed to strategies, not to risk: it returns no alert.
        """
        command, scope = control["command"], control["strategy_id"]
        if command == "SET_PARAMS":
            return []
        if command == "RESUME":
            self._modes.pop(scope, None)
            for key in [key for key in self._tripped if scope is None or key[0] == scope]:
                self._tripped.discard(key)
                self._peaks.pop(key, None)
        else:
            self._modes[scope] = command
        who = f" by {control['issued_by']}" if control.get("issued_by") else ""
        why = f": {control['reason']}" if control.get("reason") else ""
        message = f"{command} for {scope if scope is not None else 'all strategies'}{who}{why}"
        severity = "INFO" if command == "RESUME" else "WARNING"
        alert = risk_alert(
            control["id"],
            scope,
            "",
            None,
            "control",
            severity,
            message,
            None,
            None,
            command,
            control["ts_event"],
            control["ts_init"],
        )
        return [alert]
