"""`TradingEngine`: a strategy's targets executed over columnar bar batches, for replay and live.

The engine wraps one `ExecutionStage` (risk, simulated exchange, portfolio) for one strategy and
account. Per batch of bars it calls the stage only on the rows that need per-event work — rows
where a target arrives and rows of an instrument with working orders — and computes the equity,
cash and gross exposure of every other row with array arithmetic (positions only change on fills).
Marks of other held instruments are refreshed to their latest close before each target, so risk
checks see what a bar-by-bar run would see.

With MARKET GTC orders, no participation cap and no drawdown switch (the common backtest), the rows
that need per-event work go through `_MarketSweep`, which inlines the stage's code for that case
(orders fill whole at the next bar's open) and emits exactly the events the stage would.

The drawdown kill switch is checked on every row: if the vectorised equity breaches the limit, the
batch is rolled back (the stage is restored from a pickle taken before it) and re-run with the
switch tripped on the breaching row, so results equal those of checking every bar one by one.

Examples
--------
>>> from operators.execution.stage import ExecutionStageConfig
>>> from operators.strategy.runner import Targets
>>> from schemas.batch import EventBatch
>>> rows = [{"instrument": "X", "interval_ns": 1, "open": p, "high": p, "low": p, "close": p,
...          "volume": 1e6, "ts_event": t, "ts_init": t} for t, p in enumerate([10.0, 11.0, 12.0, 13.0])]
>>> batch = EventBatch.from_records("Bar", "md.bar.1m", rows)
>>> targets = Targets(np.array([0]), ("X",), np.array([5.0]), ("",), np.array([0]), np.array([0]))
>>> engine = TradingEngine(ExecutionStageConfig(initial_cash=1000.0), "s", "a")
>>> result = engine.on_batch(batch, targets)
>>> result.equity.tolist()
[1000.0, 1000.0, 1005.0, 1010.0]
>>> [e["price"] for name, e in result.events if name == "Fill"]
[11.0]
"""

from __future__ import annotations

import heapq
import pickle
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from operators.execution.exchange import acceptance
from operators.execution.executor import order_from_intent
from operators.execution.ids import event_id
from operators.execution.orders import report
from operators.execution.stage import ExecutionStage, ExecutionStageConfig, rejected_by_risk
from operators.strategy.runner import EMPTY_TARGETS, Targets
from schemas.batch import EventBatch

_SIGN = {"BUY": 1.0, "SELL": -1.0}


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one batch produced: events in order, and the account path sampled per event time."""

    events: list[tuple[str, dict]]
    ts_event: np.ndarray
    equity: np.ndarray
    cash: np.ndarray
    gross_exposure: np.ndarray


def _empty_result(events: list[tuple[str, dict]]) -> BatchResult:
    empty = np.empty(0)
    return BatchResult(events, np.empty(0, np.int64), empty, empty, empty)


class TradingEngine:
    """Executes one strategy's targets for one account; see the module docstring.

    Parameters
    ----------
    config
        The execution stage's config (cash, exchange, executor, risk).
    strategy_id, account_id
        Whose targets and portfolio this engine handles.
    """

    def __init__(self, config: ExecutionStageConfig, strategy_id: str, account_id: str):
        self.stage = ExecutionStage(config)
        self.strategy_id = strategy_id
        self.account_id = account_id
        self.last_close: dict[str, float] = {}
        self.peak = config.initial_cash
        self._max_drawdown = config.risk.max_drawdown
        self._tripped = False
        self._market_orders_only = (
            config.executor.order_type == "MARKET"
            and config.executor.time_in_force == "GTC"
            and config.exchange.max_participation is None
            and config.risk.max_drawdown is None
        )

    @property
    def portfolio(self):
        """This engine's portfolio."""
        return self.stage.portfolio(self.strategy_id, self.account_id)

    def on_batch(self, batch: EventBatch, targets: Targets = EMPTY_TARGETS) -> BatchResult:
        """Process a batch (Bar rows with the targets decided on them, or TargetPosition/Control rows)."""
        if batch.schema == "Control":
            return _empty_result([e for record in batch.to_records() for e in self.stage.on_control(record)])
        if batch.schema == "TargetPosition":
            events = []
            for record in batch.to_records():
                self._refresh_marks_from_last_close()
                events += self.stage.on_target(record)
            return _empty_result(events)
        if batch.schema != "Bar" or len(batch) == 0:
            return _empty_result([])
        if self._fast_path_applies():
            sweep = _MarketSweep(self, batch, targets)
            result = sweep.run()
            self._commit(sweep, result)
            return result.sampled(batch)
        checking = self._max_drawdown is not None and not self._tripped
        saved = pickle.dumps(self.stage, protocol=pickle.HIGHEST_PROTOCOL) if checking else b""
        sweep = _Sweep(self, batch, targets)
        result = sweep.run()
        if checking:
            breach = self._first_breach(result.equity_rows)
            if breach is not None:
                peak = max(self.peak, float(result.equity_rows[: breach + 1].max()))
                self.stage = pickle.loads(saved)
                sweep = _Sweep(self, batch, targets)
                result = sweep.run(trip_row=breach, trip_peak=peak)
                self._tripped = True
        self._commit(sweep, result)
        return result.sampled(batch)

    def _fast_path_applies(self) -> bool:
        """Whether `_MarketSweep` handles this batch: MARKET GTC orders filled whole on the next bar,
        no drawdown switch, no trading mode in force and no other portfolio in the stage."""
        stage = self.stage
        return (
            self._market_orders_only
            and stage.risk.mode(self.strategy_id) is None
            and all(
                (p.strategy_id, p.account_id) == (self.strategy_id, self.account_id)
                for p in stage.portfolios()
            )
        )

    def _first_breach(self, equity: np.ndarray) -> int | None:
        peaks = np.maximum.accumulate(np.maximum(equity, self.peak))
        breached = np.flatnonzero(equity <= peaks * (1.0 - self._max_drawdown))
        return int(breached[0]) if len(breached) else None

    def _commit(self, sweep: _Sweep, result: _SweepResult) -> None:
        self.last_close.update(sweep.batch_last_close())
        if len(result.equity_rows):
            self.peak = max(self.peak, float(result.equity_rows.max()))
        self._refresh_marks_from_last_close()

    def _refresh_marks_from_last_close(self) -> None:
        portfolio = self.portfolio
        for instrument in portfolio.instruments():
            price = self.last_close.get(instrument)
            if price is not None:
                portfolio.mark(instrument, price)


@dataclass(frozen=True, slots=True)
class _SweepResult:
    events: list[tuple[str, dict]]
    equity_rows: np.ndarray
    cash_rows: np.ndarray
    gross_rows: np.ndarray

    def sampled(self, batch: EventBatch) -> BatchResult:
        ts = batch.columns["ts_event"]
        last_of_time = np.flatnonzero(np.append(ts[1:] != ts[:-1], True))
        return BatchResult(
            self.events,
            ts[last_of_time],
            self.equity_rows[last_of_time],
            self.cash_rows[last_of_time],
            self.gross_rows[last_of_time],
        )


class _Sweep:
    """One pass of the engine over one batch."""

    def __init__(self, engine: TradingEngine, batch: EventBatch, targets: Targets):
        self.engine = engine
        self.stage = engine.stage
        self.batch = batch
        self.targets = targets
        columns = batch.columns
        self.codes = columns["instrument"]
        self.names = batch.categories["instrument"]
        self.close = columns["close"]
        self.rows_of = batch.rows_by("instrument")
        self._row_lists: dict[str, list[int]] = {}

    def batch_last_close(self) -> dict[str, float]:
        return {name: float(self.close[rows[-1]]) for name, rows in self.rows_of.items()}

    def _bar(self, row: int) -> dict:
        columns = self.batch.columns
        return {
            "instrument": self.names[self.codes[row]],
            "interval_ns": int(columns["interval_ns"][row]),
            "open": float(columns["open"][row]),
            "high": float(columns["high"][row]),
            "low": float(columns["low"][row]),
            "close": float(self.close[row]),
            "volume": float(columns["volume"][row]),
            "ts_event": int(columns["ts_event"][row]),
            "ts_init": int(columns["ts_init"][row]),
        }

    def _row_list(self, instrument: str) -> list[int] | None:
        """The batch rows of ``instrument`` as a list (for `bisect`), or None when it has none."""
        rows = self._row_lists.get(instrument)
        if rows is None:
            array = self.rows_of.get(instrument)
            if array is None:
                return None
            rows = self._row_lists[instrument] = array.tolist()
        return rows

    def _next_row(self, instrument: str, after: int) -> int | None:
        rows = self._row_list(instrument)
        if rows is None:
            return None
        k = bisect_right(rows, after)
        return rows[k] if k < len(rows) else None

    def _collect_fills(
        self, row: int, events: list[tuple[str, dict]], fills: list[tuple[int, str, float, float]]
    ) -> bool:
        """Append this account's fills on ``row`` as (row, instrument, signed qty, cash delta); True on a HALT."""
        halted = False
        strategy_id, account_id = self.engine.strategy_id, self.engine.account_id
        for name, event in events:
            if name == "Fill" and event["strategy_id"] == strategy_id and event["account_id"] == account_id:
                signed = _SIGN[event["side"]] * event["quantity"]
                fills.append(
                    (row, event["instrument"], signed, -signed * event["price"] - event["commission"])
                )
            elif name == "RiskAlert" and event["action"] == "HALT":
                halted = True
        return halted

    def _refresh_marks(self, row: int, skip: str) -> None:
        portfolio = self.engine.portfolio
        for instrument in portfolio.instruments():
            if instrument == skip or portfolio.quantity(instrument) == 0.0:
                continue
            rows = self._row_list(instrument)
            k = -1 if rows is None else bisect_right(rows, row) - 1
            price = self.close.item(rows[k]) if k >= 0 else self.engine.last_close.get(instrument)
            if price is not None:
                portfolio.mark(instrument, price)

    def run(self, trip_row: int | None = None, trip_peak: float = 0.0) -> _SweepResult:
        """Process the rows that need the stage; trip the kill switch on ``trip_row`` (peak ``trip_peak``)."""
        engine, stage = self.engine, self.stage
        strategy_id, account_id = engine.strategy_id, engine.account_id
        portfolio = engine.portfolio
        start_quantity = {name: portfolio.quantity(name) for name in portfolio.instruments()}
        start_cash = portfolio.cash
        by_row: dict[int, list[int]] = {}
        for i, row in enumerate(self.targets.rows.tolist()):
            by_row.setdefault(row, []).append(i)
        target_records = self.targets.to_records(strategy_id, account_id) if len(self.targets) else []
        queue = list(by_row)
        for instrument in self.rows_of:
            if stage.exchange.open_orders(instrument):
                queue.append(int(self.rows_of[instrument][0]))
        if trip_row is not None:
            queue.append(trip_row)
        heapq.heapify(queue)
        done: set[int] = set()
        events: list[tuple[str, dict]] = []
        fills: list[tuple[int, str, float, float]] = []
        while queue:
            row = heapq.heappop(queue)
            if row in done:
                continue
            done.add(row)
            instrument = self.names[self.codes[row]]
            bar = self._bar(row)
            if row == trip_row:
                self._refresh_marks(row, skip=instrument)
                stage.risk.on_equity(trip_peak, bar["ts_event"], bar["ts_init"], strategy_id, account_id)
            row_events = stage.on_bar(bar)
            touched = {instrument}
            for i in by_row.get(row, ()):
                target = target_records[i]
                self._refresh_marks(row, skip=instrument)
                row_events += stage.on_target(target)
                touched.add(target["instrument"])
            if self._collect_fills(row, row_events, fills):
                touched.update(self.rows_of)
            events += row_events
            for name in touched:
                if stage.exchange.open_orders(name):
                    next_row = self._next_row(name, row)
                    if next_row is not None:
                        heapq.heappush(queue, next_row)
        equity, cash, gross = self._account_path(start_quantity, start_cash, fills)
        return _SweepResult(events, equity, cash, gross)

    def _account_path(
        self, start_quantity: dict[str, float], start_cash: float, fills: list[tuple[int, str, float, float]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(self.close)
        cash_delta = np.zeros(n)
        fill_rows = np.asarray([f[0] for f in fills], dtype=np.int64)
        if len(fills):
            np.add.at(cash_delta, fill_rows, np.asarray([f[3] for f in fills]))
        cash = start_cash + np.cumsum(cash_delta)
        value = np.zeros(n)
        gross = np.zeros(n)
        by_instrument: dict[str, list[tuple[int, float]]] = {}
        for row, instrument, signed, _ in fills:
            by_instrument.setdefault(instrument, []).append((row, signed))
        for instrument in sorted(set(start_quantity) | set(by_instrument)):
            q0 = start_quantity.get(instrument, 0.0)
            instrument_fills = by_instrument.get(instrument)
            if q0 == 0.0 and not instrument_fills:
                continue
            rows = self.rows_of.get(instrument, np.empty(0, np.int64))
            dq = np.zeros(len(rows))
            if instrument_fills:
                positions = np.searchsorted(rows, [r for r, _ in instrument_fills])
                np.add.at(dq, positions, [s for _, s in instrument_fills])
            # the instrument's value after each of its rows, carried forward to every later row
            held_value = np.empty(len(rows) + 1)
            held_value[0] = q0 * self.engine.last_close.get(instrument, 0.0)
            held_value[1:] = (q0 + np.cumsum(dq)) * self.close[rows]
            latest = np.zeros(
                n, dtype=np.int64
            )  # how many of the instrument's rows are at or before each row
            latest[rows] = np.arange(1, len(rows) + 1)
            np.maximum.accumulate(latest, out=latest)
            value += held_value[latest]
            gross += np.abs(held_value[latest])
        return cash + value, cash, gross


class _MarketSweep(_Sweep):
    """`_Sweep` specialised to MARKET GTC orders without a participation cap: each order fills whole
    at the open (after slippage) of its instrument's next bar. The stage's code for that case is
    inlined here — same events, same order, same portfolio and risk calls — without building bar
    dicts or walking the exchange's generic matching. Orders still working at the end of the batch
    are handed to the stage's exchange; instruments that start the batch with orders working there
    are processed by the stage itself until those orders are done."""

    def run(self, trip_row: int | None = None, trip_peak: float = 0.0) -> _SweepResult:
        engine, stage = self.engine, self.stage
        strategy_id, account_id = engine.strategy_id, engine.account_id
        portfolio = engine.portfolio
        exchange = stage.exchange
        slippage, commission = exchange.config.slippage, exchange.config.commission
        start_quantity = {name: portfolio.quantity(name) for name in portfolio.instruments()}
        start_cash = portfolio.cash
        by_row: dict[int, list[int]] = {}
        for i, row in enumerate(self.targets.rows.tolist()):
            by_row.setdefault(row, []).append(i)
        target_records = self.targets.to_records(strategy_id, account_id) if len(self.targets) else []
        staged = {name for name in self.rows_of if exchange.open_orders(name)}
        queue = list(by_row) + [int(self.rows_of[name][0]) for name in staged]
        heapq.heapify(queue)
        working: dict[str, dict[str, dict]] = {}  # instrument -> order id -> order, in arrival order
        arrival = self.arrival = {}  # order id -> submission number, to hand leftovers over in order
        columns = self.batch.columns
        open_, volume, ts_event, ts_init = (
            columns[name] for name in ("open", "volume", "ts_event", "ts_init")
        )
        names, codes, close = self.names, self.codes, self.close
        done: set[int] = set()
        events: list[tuple[str, dict]] = []
        fills: list[tuple[int, str, float, float]] = []
        while queue:
            row = heapq.heappop(queue)
            if row in done:
                continue
            done.add(row)
            instrument = names[codes[row]]
            ts, ts0 = ts_event.item(row), ts_init.item(row)
            if instrument in staged:
                row_events = stage.on_bar(self._bar(row))
            else:
                row_events = []
                book = working.get(instrument)
                if book:
                    for order_id, order in list(book.items()):
                        if order["ts_event"] >= ts:
                            continue
                        sign = _SIGN[order["side"]]
                        quantity = float(order["quantity"])
                        price = slippage.price(int(sign), open_.item(row), quantity, volume.item(row))
                        notional = 0.0 + quantity * price
                        fill = {
                            "id": event_id("Fill", order_id, 0),
                            "order_id": order_id,
                            "strategy_id": order["strategy_id"],
                            "account_id": order["account_id"],
                            "instrument": instrument,
                            "side": order["side"],
                            "quantity": quantity,
                            "price": price,
                            "commission": commission.total(quantity, notional) - 0.0,
                            "liquidity": "TAKER",
                            "ts_event": ts,
                            "ts_init": ts0,
                        }
                        filled = report(
                            order, 1, "FILLED", quantity, 0.0, notional / quantity, ts, ts0, quantity, price
                        )
                        row_events += [("Fill", fill), ("ExecutionReport", filled)]
                        del book[order_id]
                        portfolio.apply_fill(fill)
                traded = bool(row_events)
                held = portfolio.quantity(instrument) != 0.0
                portfolio.mark(instrument, close.item(row))
                if held or traded:
                    row_events += [
                        ("Position", p) for p in portfolio.to_position_events(ts, ts0, [instrument])
                    ]
                    row_events.append(("PnL", portfolio.to_pnl_event(ts, ts0)))
            touched = {instrument}
            for i in by_row.get(row, ()):
                target = target_records[i]
                self._refresh_marks(row, skip=instrument)
                name = target["instrument"]
                touched.add(name)
                if name in staged or exchange.open_orders(name):
                    staged.add(name)
                    row_events += stage.on_target(target)
                    continue
                row_events += self._execute(target, portfolio, working)
            self._collect_fills(row, row_events, fills)
            events += row_events
            for name in touched:
                if name in staged and not exchange.open_orders(name):
                    staged.discard(name)
                if working.get(name) or name in staged:
                    next_row = self._next_row(name, row)
                    if next_row is not None:
                        heapq.heappush(queue, next_row)
        left = [order for book in working.values() for order in book.values()]
        for order in sorted(left, key=lambda order: arrival[order["id"]]):
            exchange.submit(order)  # the exchange's book keeps arrival order, as if submitted then
        equity, cash, gross = self._account_path(start_quantity, start_cash, fills)
        return _SweepResult(events, equity, cash, gross)

    def _execute(
        self, target: dict, portfolio, working: dict[str, dict[str, dict]]
    ) -> list[tuple[str, dict]]:
        """`ExecutionStage._execute` for MARKET orders kept in ``working`` until they fill."""
        instrument, ts_event, ts_init = target["instrument"], target["ts_event"], target["ts_init"]
        book = working.setdefault(instrument, {})
        open_orders = [(order_id, _SIGN[o["side"]] * o["quantity"]) for order_id, o in book.items()]
        cancels, intents = self.stage.executor.on_target(
            target, portfolio.quantity(instrument), open_orders, portfolio.price(instrument)
        )
        events: list[tuple[str, dict]] = []
        for order_id in cancels:
            order = book.pop(order_id)
            canceled = report(
                order,
                1,
                "CANCELED",
                0.0,
                float(order["quantity"]),
                None,
                ts_event,
                ts_init,
                reason="replaced by a new target",
            )
            events.append(("ExecutionReport", canceled))
        open_quantity = sum(quantity for order_id, quantity in open_orders if order_id not in cancels)
        for intent in intents:
            order = order_from_intent(intent)
            events += [("OrderIntent", intent), ("Order", order)]
            accepted, alerts = self.stage.risk.check(order, portfolio, open_quantity=open_quantity)
            if not accepted:
                events += rejected_by_risk(order, alerts, ts_event, ts_init)
                continue
            accepted, answer = acceptance(order, order["id"] in book)
            events.append(("ExecutionReport", answer))
            if accepted:
                book[order["id"]] = order
                self.arrival[order["id"]] = len(self.arrival)
        return events
