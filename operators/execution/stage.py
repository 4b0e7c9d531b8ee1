"""`ExecutionStage`: targets, market data and controls in; orders, fills, positions, P&L and alerts out.

The one object the replay engine and the live ``execution`` service both drive. Each ``on_*``
method returns ``(schema name, event dict)`` pairs in a deterministic order:

- ``on_bar``/``on_trade``: fills and reports of working orders on this market event first, then the
  mark: for every portfolio that holds the instrument or just traded it, its ``Position`` in the
  instrument and its ``PnL``, then the drawdown kill switch (a CRITICAL ``RiskAlert``, the halted
  strategy's working orders canceled and, with ``flatten_on_halt``, orders that flatten it).
- ``on_target``: cancels of working orders the new target replaces, then ``OrderIntent``,
  ``Order`` and either the exchange's ACCEPTED/REJECTED report or, when risk refuses it, a
  ``RiskAlert`` and a REJECTED report naming the rule.
- ``on_control``: the control's ``RiskAlert``; a HALT also cancels the scope's working orders (and
  flattens with ``flatten_on_halt``).

Orders made from a target carry the target's ``ts_event``, so they fill on the next market event
of their instrument, never on the one that produced the signal. The stage's state (exchange book,
portfolios, risk modes) is plain Python: ``pickle.loads(pickle.dumps(stage))`` resumes it exactly.

Examples
--------
>>> stage = ExecutionStage(ExecutionStageConfig(initial_cash=10_000.0))
>>> bar = {"instrument": "AAPL", "interval_ns": 60, "open": 100.0, "high": 101.0, "low": 99.0,
...        "close": 100.0, "volume": 1_000.0, "ts_event": 60, "ts_init": 61}
>>> stage.on_bar(bar)
[]
>>> target = {"id": "t1", "strategy_id": "s", "account_id": "a", "instrument": "AAPL",
...           "target_quantity": 10.0, "reason": "", "ts_event": 60, "ts_init": 61}
>>> [name for name, _ in stage.on_target(target)]
['OrderIntent', 'Order', 'ExecutionReport']
>>> events = stage.on_bar({**bar, "open": 100.5, "close": 101.0, "ts_event": 120, "ts_init": 121})
>>> [name for name, _ in events], events[0][1]["price"], events[-1][1]["equity"]
(['Fill', 'ExecutionReport', 'Position', 'PnL'], 100.5, 10005.0)
"""

from __future__ import annotations

from pydantic import Field

from operators.execution.config import StrictConfig
from operators.execution.exchange import ExchangeConfig, SimulatedExchange
from operators.execution.executor import ExecutorConfig, TargetExecutor, order_from_intent
from operators.execution.ids import event_id
from operators.execution.orders import report
from operators.portfolio import Portfolio
from operators.risk import RiskEngine, RiskLimits


def rejected_by_risk(order: dict, alerts: list[dict], ts_event: int, ts_init: int) -> list[tuple[str, dict]]:
    """The risk alerts of a refused order, then its REJECTED report naming the first rule."""
    reason = f"risk {alerts[0]['rule']}: {alerts[0]['message']}"
    rejected = report(order, 0, "REJECTED", 0.0, order["quantity"], None, ts_event, ts_init, reason=reason)
    return [("RiskAlert", alert) for alert in alerts] + [("ExecutionReport", rejected)]


class ExecutionStageConfig(StrictConfig):
    """The execution stage's parts: account cash, exchange model, executor, risk limits.

    Examples
    --------
    >>> ExecutionStageConfig(risk={"max_position": 100}).risk.max_position
    100.0
    """

    initial_cash: float = Field(
        default=1_000_000.0, gt=0, description="Cash of each new (strategy, account)."
    )
    exchange: ExchangeConfig = Field(default_factory=ExchangeConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    risk: RiskLimits = Field(default_factory=RiskLimits)
    flatten_on_halt: bool = Field(
        default=False, description="On HALT, also send orders that flatten positions."
    )


class ExecutionStage:
    """Risk-checked execution of targets on a simulated exchange, with portfolio accounting.

    Parameters
    ----------
    config
        The stage's parts; see `ExecutionStageConfig`.

    Examples
    --------
    >>> stage = ExecutionStage(ExecutionStageConfig())
    >>> control = {"id": "c1", "strategy_id": "s", "command": "HALT", "params": {}, "reason": "test",
    ...            "issued_by": "ops", "ts_event": 1, "ts_init": 1}
    >>> [(name, event["action"]) for name, event in stage.on_control(control)]
    [('RiskAlert', 'HALT')]
    """

    def __init__(self, config: ExecutionStageConfig):
        self.config = config
        self.exchange = SimulatedExchange(config.exchange)
        self.executor = TargetExecutor(config.executor)
        self.risk = RiskEngine(config.risk)
        self._portfolios: dict[tuple[str, str], Portfolio] = {}

    def portfolio(self, strategy_id: str, account_id: str) -> Portfolio:
        """The portfolio of ``(strategy_id, account_id)``, created with the initial cash on first use."""
        key = (strategy_id, account_id)
        portfolio = self._portfolios.get(key)
        if portfolio is None:
            portfolio = self._portfolios[key] = Portfolio(account_id, strategy_id, self.config.initial_cash)
        return portfolio

    def portfolios(self) -> list[Portfolio]:
        """Every portfolio, in the order they were created."""
        return list(self._portfolios.values())

    def on_event(self, schema: str, event: dict) -> list[tuple[str, dict]]:
        """Route a ``Bar``, ``Trade``, ``TargetPosition`` or ``Control`` to its handler."""
        handler = self._handlers.get(schema)
        if handler is None:
            raise ValueError(
                f"ExecutionStage takes Bar, Trade, TargetPosition or Control events, was {schema!r}"
            )
        return handler(self, event)

    def on_bar(self, bar: dict) -> list[tuple[str, dict]]:
        """Fill working orders on ``bar``, then mark to its close."""
        events = self.exchange.on_bar(bar)
        return self._on_market(events, bar["instrument"], bar["close"], bar["ts_event"], bar["ts_init"])

    def on_trade(self, trade: dict) -> list[tuple[str, dict]]:
        """Fill working orders against ``trade``, then mark to its price."""
        events = self.exchange.on_trade(trade)
        return self._on_market(
            events, trade["instrument"], trade["price"], trade["ts_event"], trade["ts_init"]
        )

    def on_target(self, target: dict) -> list[tuple[str, dict]]:
        """Turn a ``TargetPosition`` into risk-checked orders (cancelling the orders it replaces)."""
        return self._execute(target, self.portfolio(target["strategy_id"], target["account_id"]))

    def on_control(self, control: dict) -> list[tuple[str, dict]]:
        """Apply a ``Control``: HALT, REDUCE_ONLY or RESUME, for a strategy or all (``strategy_id`` None)."""
        events = [("RiskAlert", alert) for alert in self.risk.apply_control(control)]
        if control["command"] == "HALT":
            events += self._halt(
                control["strategy_id"], control["id"], control["ts_event"], control["ts_init"]
            )
        return events

    def _on_market(
        self, events: list[tuple[str, dict]], instrument: str, price: float, ts_event: int, ts_init: int
    ) -> list[tuple[str, dict]]:
        traded = set()
        for name, event in events:
            if name == "Fill":
                key = (event["strategy_id"], event["account_id"])
                self.portfolio(*key).apply_fill(event)
                traded.add(key)
        halted = []
        for key, portfolio in self._portfolios.items():
            holds = portfolio.quantity(instrument) != 0.0
            portfolio.mark(instrument, price)
            if not (holds or key in traded):
                continue
            events.extend(
                ("Position", position)
                for position in portfolio.to_position_events(ts_event, ts_init, [instrument])
            )
            events.append(("PnL", portfolio.to_pnl_event(ts_event, ts_init)))
            alerts = self.risk.on_equity(portfolio.equity, ts_event, ts_init, *key)
            events.extend(("RiskAlert", alert) for alert in alerts)
            if alerts:
                halted.append((key[0], alerts[0]["id"]))
        for strategy_id, cause in halted:
            events += self._halt(strategy_id, cause, ts_event, ts_init)
        return events

    def _execute(self, target: dict, portfolio: Portfolio) -> list[tuple[str, dict]]:
        instrument, ts_event, ts_init = target["instrument"], target["ts_event"], target["ts_init"]
        open_orders = self.exchange.open_orders(instrument, target["strategy_id"], target["account_id"])
        cancels, intents = self.executor.on_target(
            target, portfolio.quantity(instrument), open_orders, portfolio.price(instrument)
        )
        events: list[tuple[str, dict]] = []
        for order_id in cancels:
            events += self.exchange.cancel(order_id, ts_event, ts_init, "replaced by a new target")
        open_quantity = sum(quantity for order_id, quantity in open_orders if order_id not in cancels)
        for intent in intents:
            order = order_from_intent(intent)
            events += [("OrderIntent", intent), ("Order", order)]
            accepted, alerts = self.risk.check(order, portfolio, open_quantity=open_quantity)
            if accepted:
                events += self.exchange.submit(order)
                continue
            events += rejected_by_risk(order, alerts, ts_event, ts_init)
        return events

    def _halt(
        self, strategy_id: str | None, cause: str, ts_event: int, ts_init: int
    ) -> list[tuple[str, dict]]:
        events: list[tuple[str, dict]] = []
        for order_id, _ in self.exchange.open_orders(strategy_id=strategy_id):
            events += self.exchange.cancel(order_id, ts_event, ts_init, "halted")
        if not self.config.flatten_on_halt:
            return events
        for (strategy, account), portfolio in list(self._portfolios.items()):
            if strategy_id is not None and strategy != strategy_id:
                continue
            for instrument in portfolio.instruments():
                if portfolio.quantity(instrument) == 0.0:
                    continue
                target = {
                    "id": event_id("TargetPosition", "flatten", cause, strategy, account, instrument),
                    "strategy_id": strategy,
                    "account_id": account,
                    "instrument": instrument,
                    "target_quantity": 0.0,
                    "reason": "flatten on HALT",
                    "ts_event": ts_event,
                    "ts_init": ts_init,
                }
                events += self._execute(target, portfolio)
        return events

    _handlers = {
        "Bar": on_bar,
        "Trade": on_trade,
        "TargetPosition": on_target,
        "Control": on_control,
    }
