"""`TradingEngine`: a strategy's targets executed over columnar bar batches, for replay and live.

The engine wraps one `ExecutionStage` (risk, simulated exchange, portfolio) for one strategy and
account. Per batch of bars it calls the stage only on the rows that need per-event work — rows
where a target arrives and rows of an instrument with working orders — and computes the equity,
cash and gross exposure of every other row with array arithmetic (positions only change on fills).
Marks of other held instruments are refreshed to their latest close before each target, so risk
checks see what a bar-by-bar run would see.

With MARKET GTC orders, no participation cap and no drawdown switch (the common backtest), the rows
that need per-event work go through `_MarketSweep`, which inlines the stage's code for that case
(orders fill whole at the next bar's open) and emits exactly the events the stage would. When, in
addition, the strategy trades a single instrument and the batch is long (a replay), `_ColumnarSweep`
computes the same events with array arithmetic — quantities, fills, the portfolio's accounting and
every event column, ids included — and returns them as one `EventTable` per event type; a batch
it cannot finish that way (an order resting past the batch, a risk refusal) goes to `_MarketSweep`.

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
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property, partial

import numpy as np

from operators.execution.exchange import acceptance
from operators.execution.executor import order_from_intent, round_to_lot
from operators.execution.ids import child_id, child_lanes, lanes, target_lanes
from operators.execution.orders import report
from operators.execution.stage import ExecutionStage, ExecutionStageConfig, rejected_by_risk
from operators.portfolio import Portfolio
from operators.portfolio.portfolio import position_after, positions_after
from operators.strategy.runner import EMPTY_TARGETS, Targets
from schemas.batch import EventBatch
from schemas.event_table import Coded, EventTable, id_lanes, merge_records, tables_of

_SIGN = {"BUY": 1.0, "SELL": -1.0}
#: Batches at least this long try the columnar path; its fixed cost per batch (a few dozen array
#: operations) would slow down the live service's batches of a few bars.
COLUMNAR_MIN_ROWS = 256


class AccountPath:
    """The account after each event time of a batch: equity, and cash and gross exposure. Each may be
    given as a function that computes it when first read (a backtest that only needs the equity
    never builds the others; the live service, which publishes events, reads none of them)."""

    __slots__ = ("ts_event", "_equity", "_cash_gross")

    def __init__(
        self,
        ts_event: np.ndarray,
        equity: np.ndarray | Callable[[], np.ndarray],
        cash_gross: tuple[np.ndarray, np.ndarray] | Callable[[], tuple[np.ndarray, np.ndarray]],
    ):
        self.ts_event, self._equity, self._cash_gross = ts_event, equity, cash_gross

    @property
    def equity(self) -> np.ndarray:
        if callable(self._equity):
            self._equity = self._equity()
        return self._equity

    def _cash_and_gross(self) -> tuple[np.ndarray, np.ndarray]:
        if callable(self._cash_gross):
            self._cash_gross = self._cash_gross()
        return self._cash_gross

    @property
    def cash(self) -> np.ndarray:
        return self._cash_and_gross()[0]

    @property
    def gross_exposure(self) -> np.ndarray:
        return self._cash_and_gross()[1]

    def with_equity_in(self, out: np.ndarray) -> AccountPath:
        """This path with its equity copied into ``out`` (an array of its length), unless it is there
        already (the engine wrote it into ``out``)."""
        equity = self.equity
        if equity.__array_interface__["data"][0] != out.__array_interface__["data"][0]:
            out[:] = equity
        return AccountPath(self.ts_event, out, self._cash_gross)

    @classmethod
    def joined(cls, paths: list[AccountPath]) -> AccountPath:
        """One path of ``paths`` in order (their cash and gross exposure joined when first read)."""
        if not paths:
            empty = np.empty(0)
            return cls(np.empty(0, np.int64), empty, (empty, empty))

        def cash_gross() -> tuple[np.ndarray, np.ndarray]:
            return np.concatenate([p.cash for p in paths]), np.concatenate([p.gross_exposure for p in paths])

        return cls(
            _joined_array([p.ts_event for p in paths]), _joined_array([p.equity for p in paths]), cash_gross
        )

    def last_per_time(self) -> AccountPath:
        """The path with one row per event time, its last (itself when times do not repeat)."""
        ts = self.ts_event
        if np.all(ts[1:] != ts[:-1]):
            return self
        keep = np.flatnonzero(np.append(ts[1:] != ts[:-1], True))

        def cash_gross() -> tuple[np.ndarray, np.ndarray]:
            return self.cash[keep], self.gross_exposure[keep]

        return AccountPath(ts[keep], lambda: self.equity[keep], cash_gross)


def _joined_array(parts: list[np.ndarray]) -> np.ndarray:
    """``np.concatenate(parts)``, without copying when the parts are consecutive slices of one array
    (a replay's event times, each batch's a slice of the tape's column; a backtest's equity, which
    its collector copies into one buffer)."""
    root = parts[0].base
    if isinstance(root, np.ndarray) and root.ndim == 1 and root.flags.c_contiguous:
        address, itemsize = root.__array_interface__["data"][0], root.itemsize
        start = next_start = parts[0].__array_interface__["data"][0]
        for part in parts:
            if (
                part.base is not root
                or part.dtype != root.dtype
                or not part.flags.c_contiguous
                or part.__array_interface__["data"][0] != next_start
            ):
                break
            next_start += part.nbytes
        else:
            return root[(start - address) // itemsize : (next_start - address) // itemsize]
    return np.concatenate(parts)


class BatchResult:
    """What one batch produced: its events, and the `AccountPath` sampled per event time.

    The events are either a list of ``(schema, record)`` in causal order or one `EventTable` per
    event type (the columnar path); each form is derived from the other when first asked for.
    """

    __slots__ = ("path", "_events", "_tables")

    def __init__(
        self,
        path: AccountPath,
        events: list[tuple[str, dict]] | None = None,
        tables: dict[str, EventTable] | None = None,
    ):
        self.path = path
        self._events = events if events is not None or tables is not None else []
        self._tables = tables

    @property
    def ts_event(self) -> np.ndarray:
        return self.path.ts_event

    @property
    def equity(self) -> np.ndarray:
        return self.path.equity

    @property
    def cash(self) -> np.ndarray:
        return self.path.cash

    @property
    def gross_exposure(self) -> np.ndarray:
        return self.path.gross_exposure

    @property
    def events(self) -> list[tuple[str, dict]]:
        """The events as ``(schema, record)`` in the order they happened."""
        if self._events is None:
            self._events = merge_records(self._tables)
        return self._events

    @property
    def tables(self) -> dict[str, EventTable]:
        """The events as one `EventTable` per event type."""
        if self._tables is None:
            self._tables = tables_of(self._events)
        return self._tables


def _empty_result(events: list[tuple[str, dict]]) -> BatchResult:
    empty = np.empty(0)
    return BatchResult(AccountPath(np.empty(0, np.int64), empty, (empty, empty)), events)


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
        self._columnar = True  # tests switch it off to compare with `_MarketSweep`
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

    def on_batch(
        self, batch: EventBatch, targets: Targets = EMPTY_TARGETS, equity_out: np.ndarray | None = None
    ) -> BatchResult:
        """Process a batch (Bar rows with the targets decided on them, or TargetPosition/Control rows).

        ``equity_out``, an array of the batch's length, receives the equity after each row where the
        columnar path computes it (then the result's equity is that array): a replay passes the next
        stretch of its equity curve instead of copying each batch's into it.
        """
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
            sweep = _ColumnarSweep(self, batch, targets, equity_out)
            result = sweep.run() if self._columnar and len(batch) >= COLUMNAR_MIN_ROWS else None
            if result is None:
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
        if self._max_drawdown is not None and len(result.equity_rows):  # only the switch reads the peak
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
    """A sweep's events, and the account after each row of its batch in `AccountPath`'s forms (arrays,
    or functions computing them when first read)."""

    events: list[tuple[str, dict]] | None
    equity: np.ndarray | Callable[[], np.ndarray]
    cash_gross: tuple[np.ndarray, np.ndarray] | Callable[[], tuple[np.ndarray, np.ndarray]]
    tables: dict[str, EventTable] | None = None

    @property
    def equity_rows(self) -> np.ndarray:
        return self.equity() if callable(self.equity) else self.equity

    def sampled(self, batch: EventBatch) -> BatchResult:
        path = AccountPath(batch.columns["ts_event"], self.equity, self.cash_gross)
        return BatchResult(path.last_per_time(), self.events, self.tables)


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
        self._marked_through = -1  # `_refresh_marks` has seen the bars of the rows up to this one

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
        """Mark each held instrument but ``skip`` (the row's own, which its row marks) at its latest close
        up to ``row`` (the previous batch's close before its first row), in the portfolio's order.

        Rows are processed in order and each processed row marks its own instrument at its close, so
        only the marks of instruments with a bar since the last refresh can be off: only those are
        looked up (marking the others would change nothing).
        """
        portfolio = self.engine.portfolio
        stale = set()
        if row > self._marked_through:
            codes = set(self.codes[self._marked_through + 1 : row + 1].tolist())
            stale = {self.names[code] for code in codes}
            self._marked_through = row
        for instrument in portfolio.held():
            if instrument == skip or instrument not in stale:
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
        return _SweepResult(events, *self._account_path(start_quantity, start_cash, fills))

    def _account_path(
        self, start_quantity: dict[str, float], start_cash: float, fills: list[tuple[int, str, float, float]]
    ) -> tuple[Callable[[], np.ndarray], Callable[[], tuple[np.ndarray, np.ndarray]]]:
        """`_account_path_of` for ``fills`` as two functions, equity and (cash, gross exposure), which
        compute it once when either is first called, then let go of what they read."""
        fill_rows = np.asarray([f[0] for f in fills], dtype=np.int64)
        fill_instruments = [f[1] for f in fills]
        fill_signed = np.asarray([f[2] for f in fills], dtype=np.float64)
        fill_cash = np.asarray([f[3] for f in fills], dtype=np.float64)
        start_close = dict(self.engine.last_close)  # the engine moves on to this batch's closes
        inputs = (self.close, self.rows_of, start_close, start_quantity, start_cash)
        inputs += (fill_rows, fill_instruments, fill_signed, fill_cash)
        path = None

        def computed() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            nonlocal inputs, path
            if path is None:
                path, inputs = _account_path_of(*inputs), ()
            return path

        return lambda: computed()[0], lambda: computed()[1:]

    def _account_path_of(
        self,
        start_quantity: dict[str, float],
        start_cash: float,
        fill_rows: np.ndarray,
        fill_instruments: list[str],
        fill_signed: np.ndarray,
        fill_cash: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`_account_path_of` over this sweep's batch, from the engine's last closes."""
        return _account_path_of(
            self.close,
            self.rows_of,
            self.engine.last_close,
            start_quantity,
            start_cash,
            fill_rows,
            fill_instruments,
            fill_signed,
            fill_cash,
        )


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
                            "id": child_id(order_id, "Fill", 0),
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
        return _SweepResult(events, *self._account_path(start_quantity, start_cash, fills))

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


class _ColumnarSweep(_Sweep):
    """`_MarketSweep` for a strategy that trades one instrument, with its events built as columns.

    Applies when the portfolio and the batch's targets involve one instrument and the risk limits
    read no prices and count no orders (a position limit is fine). The stage's arithmetic — the
    executor's lot rounding, the risk position limit, the slippage and commission models,
    `Portfolio.trade` — is computed with arrays over the targets (`_orders_to_targets`,
    `_account_after_fills`), then every event column, ids included (see `operators.execution.ids`),
    equal field for field and in the same order to what `_MarketSweep` emits. An order placed on the
    instrument's last bar of the batch goes to the exchange's book, as `_MarketSweep` leaves it, and
    the next batch takes it back and fills it on its first bar. `run` returns None, having changed
    nothing, when the batch needs the general sweep: an order would rest past the next bar (equal
    event times), the position limit refuses an order, an order of another kind is working, or a
    target falls on the bar that fills a carried order.
    """

    def __init__(
        self, engine: TradingEngine, batch: EventBatch, targets: Targets, equity_out: np.ndarray | None = None
    ):
        super().__init__(engine, batch, targets)
        self.equity_out = equity_out  # see `TradingEngine.on_batch`

    def run(self) -> _SweepResult | None:
        engine, stage = self.engine, self.stage
        portfolio = engine.portfolio
        limits = stage.risk.limits
        if (
            limits.max_order_notional is not None
            or limits.max_gross_exposure is not None
            or limits.max_orders_per_interval is not None
        ):
            return None
        working = {
            name
            for name in set(self.rows_of) | set(self.targets.instrument)
            if stage.exchange.open_orders(name)
        }
        names = set(self.targets.instrument) | set(portfolio.instruments()) | working
        if len(names) > 1:
            return None
        carried = None
        if working:  # an order handed over by the previous batch: fill it here if it is a plain MARKET order
            carried = stage.exchange.untouched_order(next(iter(working)))
            owner = (engine.strategy_id, engine.account_id)
            if (
                carried is None
                or carried["order_type"] != "MARKET"
                or (carried["strategy_id"], carried["account_id"]) != owner
            ):
                return None
        start_quantity = {name: portfolio.quantity(name) for name in portfolio.instruments()}
        rows = self.rows_of.get(next(iter(names))) if names else None
        if rows is None or not (len(self.targets) or carried):
            no_fills = np.empty(0, np.int64), [], np.empty(0), np.empty(0)
            equity, cash, gross = self._account_path_of(start_quantity, portfolio.cash, *no_fills)
            return _SweepResult(None, equity, (cash, gross), {})
        trades = self._trade(names.pop(), rows, carried)
        if trades is None:
            return None
        return self._result(trades, start_quantity)

    def _trade(self, instrument: str, rows: np.ndarray, carried: dict | None) -> _Trades | None:
        """Replay exchange (for the ``carried`` order first), executor, risk and portfolio over the
        targets; None if the batch needs more."""
        stage, targets, columns = self.stage, self.targets, self.batch.columns
        every_row = len(rows) == len(self.close)  # the instrument has every row of the batch
        ts_rows = columns["ts_event"] if every_row else columns["ts_event"][rows]
        # each target's position among the instrument's rows
        target_at = targets.rows if every_row else np.searchsorted(rows, targets.rows)
        fill_at = _first_later(ts_rows, target_at, targets.ts_event)
        portfolio = self.engine.portfolio
        start_quantity, start_avg, start_realized = portfolio.position(instrument)
        position = start_quantity
        carried_fill = np.empty(0)
        if carried is not None:
            if ts_rows[0] <= carried["ts_event"] or (len(targets) and target_at[0] == 0):
                return None  # not fillable on the first bar, or a target there: the stage handles that bar
            carried_fill = np.array([_SIGN[carried["side"]] * float(carried["quantity"])])
            position = position_after(start_quantity, carried_fill[0])
        needed, before = _orders_to_targets(targets.quantity, position, stage.executor.config.lot(instrument))
        ordered = np.flatnonzero(needed != 0.0)
        needed, before = needed[ordered], before[ordered]
        limit = stage.risk.limits.position_limit(instrument)
        fill_at = fill_at[ordered]
        resting = fill_at >= len(rows)  # no bar left in the batch to fill on
        if np.any(fill_at != target_at[ordered] + 1) or np.any(resting[:-1]):
            return None  # an order would rest past the next bar: the general sweep handles it
        if limit is not None and np.any(
            (np.abs(before + needed) > limit + 1e-9) & (np.abs(before + needed) > np.abs(before))
        ):
            return None  # the risk engine refuses an order: the general sweep emits its alert and rejection
        order_signed = needed
        rests = bool(len(ordered)) and bool(resting[-1])  # the last order waits for the next batch
        if rests:
            fill_at, needed, before = fill_at[:-1], needed[:-1], before[:-1]
        fill_rows = rows[fill_at]
        if carried is not None:
            fill_rows = np.concatenate(([rows[0]], fill_rows))
            needed = np.concatenate((carried_fill, needed))
            before = np.concatenate(([start_quantity], before))
        size = np.abs(needed)
        exchange = stage.exchange.config
        price = exchange.slippage.prices(
            np.where(needed > 0.0, 1.0, -1.0), columns["open"][fill_rows], size, columns["volume"][fill_rows]
        )
        notional = 0.0 + size * price
        fee = exchange.commission.totals(size, notional) - 0.0
        start = (
            start_quantity,
            start_avg,
            start_realized,
            portfolio.realized_pnl,
            portfolio.cash,
            portfolio.commission,
        )
        state = _account_after_fills(start, before, needed, price, fee)
        return _Trades(
            instrument,
            carried,
            rests,
            ordered,
            order_signed,
            fill_rows,
            needed,
            size,
            price,
            notional,
            fee,
            state,
        )

    def _result(self, trades: _Trades, start_quantity: dict[str, float]) -> _SweepResult:
        """The batch's event tables and account path from ``trades``, and the portfolio and exchange
        brought up to its end. The columns a backtest reads for its metrics (the fills' times, sides,
        quantities, prices and commissions) are computed here; ids and the other columns when first
        read (`schemas.event_table.Columns`), from arrays captured here."""
        engine, targets, columns = self.engine, self.targets, self.batch.columns
        strategy_id, account_id, instrument = engine.strategy_id, engine.account_id, trades.instrument
        n = len(trades.target)
        order_of, fill_rows, state = trades.target, trades.fill_row, trades.state
        signed, size, price, notional, fee = (
            trades.signed,
            trades.size,
            trades.price,
            trades.notional,
            trades.fee,
        )
        target_rows = targets.rows[order_of]
        target_ts, target_ts_init = targets.ts_event[order_of], targets.ts_init[order_of]
        ts_event, ts_init, close = columns["ts_event"], columns["ts_init"], self.close
        fill_ts = ts_event[fill_rows]
        fills = len(fill_rows)
        filled = n - trades.rests
        carried = None if trades.carried is None else lanes(trades.carried["id"])
        ids = _OrderIds(strategy_id, instrument, target_ts, filled, carried)
        fill_ts_init = cache(lambda: ts_init[fill_rows])
        order_size = np.abs(trades.order_signed)
        common = {"strategy_id": strategy_id, "account_id": account_id, "instrument": instrument}
        order_side = Coded((trades.order_signed > 0.0).astype(np.int32), ("SELL", "BUY"))
        order_fields = {
            **common,
            "side": order_side,
            "quantity": order_size,
            "order_type": "MARKET",
            "limit_price": np.nan,
            "stop_price": np.nan,
            "time_in_force": self.stage.executor.config.time_in_force,
            "ts_event": target_ts,
            "ts_init": target_ts_init,
        }
        tables = {
            "OrderIntent": EventTable.build(
                "OrderIntent", target_rows * 8 + 4, id=ids.read("intents"), **order_fields
            ),
            "Order": EventTable.build(
                "Order",
                target_rows * 8 + 5,
                id=ids.read("orders"),
                intent_id=ids.read("intents"),
                **order_fields,
            ),
            "Fill": EventTable.build(
                "Fill",
                fill_rows * 8,
                id=ids.read("fills"),
                order_id=ids.read("filled_orders"),
                **common,
                side=Coded((signed > 0.0).astype(np.int32), ("SELL", "BUY")),
                quantity=size,
                price=price,
                commission=fee,
                liquidity="TAKER",
                ts_event=fill_ts,
                ts_init=fill_ts_init,
            ),
        }
        # Reports: each order's acceptance at its target's row, then each fill's report at its row,
        # interleaved by row (both parts are in row order, so the stable sort merges two runs)
        report_sequence = np.concatenate([target_rows * 8 + 6, fill_rows * 8 + 1])
        report_order = np.argsort(report_sequence, kind="stable")

        @cache
        def reports() -> dict[str, np.ndarray]:
            def joined(accepted: np.ndarray, filled: np.ndarray) -> np.ndarray:
                return np.concatenate([accepted, filled])[report_order]

            zeros, no_price = np.zeros(n), np.full(n, np.nan)
            return {
                "id": joined(ids.accepted_reports, ids.filled_reports),
                "order_id": joined(ids.orders, ids.filled_orders),
                "status": joined(np.zeros(n, np.int32), np.ones(fills, np.int32)),
                "filled_quantity": joined(zeros, size),
                "leaves_quantity": joined(order_size, np.zeros(fills)),
                "avg_price": joined(no_price, notional / size),
                "last_quantity": joined(zeros, size),
                "last_price": joined(no_price, price),
                "ts_event": joined(target_ts, fill_ts),
                "ts_init": joined(target_ts_init, fill_ts_init()),
            }

        def report(name: str) -> Callable[[], np.ndarray]:
            return lambda: reports()[name]

        tables["ExecutionReport"] = EventTable.build(
            "ExecutionReport",
            report_sequence[report_order],
            id=report("id"),
            order_id=report("order_id"),
            **common,
            status=Coded(report("status"), ("ACCEPTED", "FILLED")),
            filled_quantity=report("filled_quantity"),
            leaves_quantity=report("leaves_quantity"),
            avg_price=report("avg_price"),
            last_quantity=report("last_quantity"),
            last_price=report("last_price"),
            reason="",
            ts_event=report("ts_event"),
            ts_init=report("ts_init"),
        )
        # Position and PnL on every row the sweep processes (target and fill rows) where the
        # instrument is held or traded, from the state after that row's fills, marked at its close
        # (both are in row order: the stable sort merges them, a row's fill after its target)
        both = np.concatenate([targets.rows, fill_rows])
        order = np.argsort(both, kind="stable")
        both, is_fill = both[order], order >= len(targets)
        row_end = np.append(both[1:] != both[:-1], True)
        processed, traded = both[row_end], is_fill[row_end]
        after = np.cumsum(is_fill)[row_end]  # the fills up to and at each processed row
        emit = traded | (state[after, 0] != 0.0)
        marked = processed[emit]
        held = _HeldState(state, after[emit], close, marked)
        marked_ts, marked_ts_init = cache(lambda: ts_event[marked]), cache(lambda: ts_init[marked])
        tables["Position"] = EventTable.build(
            "Position",
            marked * 8 + 2,
            **common,
            quantity=held.column("quantity"),
            avg_price=held.column("avg_price"),
            realized_pnl=held.column("realized_pnl"),
            unrealized_pnl=held.column("unrealized_pnl"),
            ts_event=marked_ts,
            ts_init=marked_ts_init,
        )
        tables["PnL"] = EventTable.build(
            "PnL",
            marked * 8 + 3,
            strategy_id=strategy_id,
            account_id=account_id,
            cash=held.column("cash"),
            equity=held.column("equity"),
            realized_pnl=held.column("total_realized_pnl"),
            unrealized_pnl=held.column("net_unrealized_pnl"),
            commission=held.column("commission"),
            gross_exposure=held.column("gross_exposure"),
            net_exposure=held.column("net_exposure"),
            ts_event=marked_ts,
            ts_init=marked_ts_init,
        )
        portfolio = engine.portfolio
        start_cash = portfolio.cash
        if fills or instrument in start_quantity:
            final = state[-1]
            portfolio.restore(
                instrument,
                (final[0], final[1], final[2]),
                price=float(self.close[processed[-1]]),
                cash=final[4],
                realized_pnl=final[3],
                commission=final[5],
            )
        else:
            portfolio.mark(instrument, float(self.close[processed[-1]]))
        if trades.carried is not None:
            self.stage.exchange.withdraw(trades.carried["id"])
        if trades.rests:  # the exchange's book takes it, as `_MarketSweep` hands over its leftovers
            last = slice(n - 1, n)
            last_order = {
                name: value[last] if isinstance(value, np.ndarray) else value
                for name, value in order_fields.items()
            }
            last_order["side"] = Coded(order_side.codes[last], order_side.categories)
            intent = child_lanes(*target_lanes(strategy_id, instrument, target_ts[last]), "OrderIntent")
            order = EventTable.build(
                "Order",
                [0],
                id=id_lanes(*child_lanes(*intent, "Order")),
                intent_id=id_lanes(*intent),
                **last_order,
            )
            self.stage.exchange.submit(order.to_records()[0])
        fill_cash = -signed * price - fee
        if len(self.rows_of[instrument]) == len(self.close):
            equity, cash_gross = self._account_path_every_row(
                start_quantity.get(instrument, 0.0), start_cash, fill_rows, signed, fill_cash
            )
            return _SweepResult(None, equity, cash_gross, tables)
        equity, cash, gross = self._account_path_of(
            start_quantity, start_cash, fill_rows, [instrument] * fills, signed, fill_cash
        )
        return _SweepResult(None, equity, (cash, gross), tables)

    def _account_path_every_row(
        self,
        start_quantity: float,
        start_cash: float,
        fill_rows: np.ndarray,
        signed: np.ndarray,
        fill_cash: np.ndarray,
    ) -> tuple[np.ndarray, Callable[[], tuple[np.ndarray, np.ndarray]]]:
        """`_account_path_of` when one instrument has every row and at most one fill per row: cash and
        position are constant between fills, so each is its running sum at the last fill, repeated
        (the same sums in the same order, hence the same values). Returns the equity, and a function
        that computes the cash and gross exposure when they are asked for."""
        close = self.close
        segments = np.diff(np.concatenate(([0], fill_rows, [len(close)])))
        cash_steps = start_cash + np.concatenate(([0.0], np.cumsum(fill_cash)))
        quantity_steps = start_quantity + np.concatenate(([0.0], np.cumsum(signed)))
        held = np.repeat(quantity_steps, segments)
        out = held if self.equity_out is None else self.equity_out
        equity = np.multiply(held, close, out=out)  # the value held
        equity += np.repeat(cash_steps, segments)

        def cash_gross() -> tuple[np.ndarray, np.ndarray]:
            gross = np.repeat(quantity_steps, segments)
            np.multiply(gross, close, out=gross)
            return np.repeat(cash_steps, segments), np.abs(gross, out=gross)

        return equity, cash_gross


@dataclass(frozen=True, slots=True)
class _Trades:
    """What `_ColumnarSweep._trade` decided: per order, the target it serves and its signed quantity;
    per fill (the carried order's first, none for a resting last order), its row, signed quantity,
    size, price, notional and commission, and the account after it (``state`` rows:
    quantity, avg price and realised P&L of the instrument, the account's realised P&L, cash and
    commission; row 0 is the state before the batch)."""

    instrument: str
    carried: dict | None  # an order of an earlier batch whose fill comes first
    rests: bool  # the last order has no bar left to fill on in this batch
    target: np.ndarray
    order_signed: np.ndarray
    fill_row: np.ndarray
    signed: np.ndarray
    size: np.ndarray
    price: np.ndarray
    notional: np.ndarray
    fee: np.ndarray
    state: np.ndarray


class _OrderIds:
    """The ids of a columnar batch's intents, orders, fills and reports, each derived when first read
    (`schemas.event_table.Columns`): an order's intent from its target, the order from its intent,
    its fill and reports from the order (`operators.execution.ids`). The filled orders are the first
    ``filled`` orders, after the lanes of an order carried over from the previous batch, if any."""

    def __init__(
        self,
        strategy_id: str,
        instrument: str,
        target_ts: np.ndarray,
        filled: int,
        carried: tuple[int, int] | None,
    ):
        self._target = (strategy_id, instrument, target_ts)
        self._filled = filled
        self._carried = carried

    def read(self, name: str) -> Callable[[], np.ndarray]:
        """A function returning the `ID_LANES` column ``name`` (one of the properties below)."""
        return partial(getattr, self, name)

    @cached_property
    def _intent_lanes(self) -> tuple[np.ndarray, np.ndarray]:
        return child_lanes(*target_lanes(*self._target), "OrderIntent")

    @cached_property
    def _order_lanes(self) -> tuple[np.ndarray, np.ndarray]:
        return child_lanes(*self._intent_lanes, "Order")

    @cached_property
    def _filled_order_lanes(self) -> tuple[np.ndarray, np.ndarray]:
        hi, lo = (lanes[: self._filled] for lanes in self._order_lanes)
        if self._carried is not None:  # its fill comes first; its order, intent and acceptance were earlier
            hi = np.concatenate((np.array([self._carried[0]], np.uint64), hi))
            lo = np.concatenate((np.array([self._carried[1]], np.uint64), lo))
        return hi, lo

    @cached_property
    def intents(self) -> np.ndarray:
        return id_lanes(*self._intent_lanes)

    @cached_property
    def orders(self) -> np.ndarray:
        return id_lanes(*self._order_lanes)

    @cached_property
    def filled_orders(self) -> np.ndarray:
        return id_lanes(*self._filled_order_lanes)

    @cached_property
    def fills(self) -> np.ndarray:
        return id_lanes(*child_lanes(*self._filled_order_lanes, "Fill", 0))

    @cached_property
    def accepted_reports(self) -> np.ndarray:
        return id_lanes(*child_lanes(*self._order_lanes, "ExecutionReport", 0))

    @cached_property
    def filled_reports(self) -> np.ndarray:
        return id_lanes(*child_lanes(*self._filled_order_lanes, "ExecutionReport", 1))


class _HeldState:
    """The Position and PnL columns of a columnar batch, computed when first read: the account
    ``state`` (`_Trades.state`) at rows ``after``, marked at the ``close`` of the batch rows ``marked``."""

    def __init__(self, state: np.ndarray, after: np.ndarray, close: np.ndarray, marked: np.ndarray):
        self._inputs = state, after, close, marked

    def column(self, name: str) -> Callable[[], np.ndarray]:
        return lambda: self._columns[name]

    @cached_property
    def _columns(self) -> dict[str, np.ndarray]:
        state, after, close, marked = self._inputs
        quantity, avg, realized, total_realized, cash, commission = state[after].T.copy()
        close = close[marked]
        net = quantity * close
        return {
            "quantity": quantity,
            "avg_price": avg,
            "realized_pnl": realized,
            "unrealized_pnl": quantity * (close - avg),
            "cash": cash,
            "equity": cash + net,
            "total_realized_pnl": total_realized,
            "net_unrealized_pnl": net - quantity * avg,
            "commission": commission,
            "gross_exposure": np.abs(net),
            "net_exposure": net,
        }


def _first_later(ts: np.ndarray, at: np.ndarray, ts_at: np.ndarray) -> np.ndarray:
    """``np.searchsorted(ts, ts_at, side="right")`` for the rows ``at`` of the sorted event times ``ts``
    (``ts_at`` their times): the first row with a later time, which is usually the next row."""
    found = at + 1
    later = ts[np.minimum(found, len(ts) - 1)] != ts_at
    later |= found == len(ts)
    if not later.all():
        found[~later] = np.searchsorted(ts, ts_at[~later], side="right")
    return found


def _orders_to_targets(targets: np.ndarray, start: float, lot: float) -> tuple[np.ndarray, np.ndarray]:
    """The `TargetExecutor`'s order quantity for each target (0: none) and the position before it,
    when every order fills before the next target: ``needed = round_to_lot(target - position)``.

    The recurrence is solved with arrays when lot rounding stays on whole numbers (then it is
    exact): guess that each target was reached, check the guess reproduces itself, refine a few
    times; otherwise it runs target by target.
    """
    after = targets.copy()
    integral = lot == int(lot)
    for _ in range(4 if integral else 0):
        before = np.concatenate(([start], after[:-1]))
        wanted = targets - before
        lots = np.floor(np.abs(wanted) / lot + 1e-9) * lot
        if not (np.all(np.floor(lots) == lots) and np.all(lots < 2.0**52)):
            break  # round(…, 10) might not be the identity: let `round_to_lot` decide
        needed = np.copysign(lots, wanted)
        reached = np.where(needed == 0.0, before, positions_after(before, needed))
        if np.array_equal(reached, after):
            return needed, before
        after = reached
    needed, before = np.empty(len(targets)), np.empty(len(targets))
    position = start
    for i, target in enumerate(targets.tolist()):
        before[i] = position
        needed[i] = change = round_to_lot(target - position, lot)
        if change != 0.0:
            position = position_after(position, change)
    return needed, before


def _account_after_fills(
    start: tuple[float, ...], before: np.ndarray, signed: np.ndarray, price: np.ndarray, fee: np.ndarray
) -> np.ndarray:
    """`Portfolio.trade`'s arithmetic over a sequence of fills of one instrument: the state rows of `_Trades`.

    Sequential sums are cumulative sums (``np.cumsum`` adds in order, so it equals the running
    ``+=``). The average price and realised P&L have a closed form unless a fill adds to an open
    position (the average then depends on all earlier fills): then a scratch `Portfolio` books them.
    """
    quantity0, avg0, realized0, total0, cash0, commission0 = start
    n = len(signed)
    state = np.empty((n + 1, 6))
    state[0] = start
    after = positions_after(before, signed)
    state[1:, 0] = after
    state[:, 4] = np.cumsum(np.concatenate(([cash0], -(signed * price + fee))))
    state[:, 5] = np.cumsum(np.concatenate(([commission0], fee)))
    opening = before == 0.0
    reducing = ~opening & ((before > 0.0) != (signed > 0.0))
    if np.any(~opening & ~reducing):
        return _account_fill_by_fill(state, signed, price, fee)
    flipped = reducing & (after != 0.0) & ((after > 0.0) != (before > 0.0))
    partial = reducing & (after != 0.0) & ~flipped
    avg_after = np.where(
        opening, signed * price / np.where(opening, after, 1.0), np.where(flipped, price, 0.0)
    )
    # a partial reduction keeps the average: carry the last one set forward
    last_set = np.where(partial, -1, np.arange(n))
    np.maximum.accumulate(last_set, out=last_set)
    avg_after = np.where(last_set >= 0, avg_after[np.maximum(last_set, 0)], avg0)
    avg_before = np.concatenate(([avg0], avg_after[:-1]))
    pnl = np.minimum(np.abs(signed), np.abs(before)) * (price - avg_before) * np.copysign(1.0, before)
    pnl = np.where(reducing, pnl, 0.0)
    state[1:, 1] = avg_after
    state[:, 2] = np.cumsum(np.concatenate(([realized0], pnl)))
    state[:, 3] = np.cumsum(np.concatenate(([total0], pnl)))
    return state


def _account_fill_by_fill(
    state: np.ndarray, signed: np.ndarray, price: np.ndarray, fee: np.ndarray
) -> np.ndarray:
    """The state rows of `_account_after_fills` from a scratch `Portfolio` booking the fills one by one."""
    quantity, avg, realized, total, cash, commission = state[0].tolist()
    scratch = Portfolio("", "", cash)
    scratch.restore(
        "", (quantity, avg, realized), price=0.0, cash=cash, realized_pnl=total, commission=commission
    )
    for i, fill in enumerate(zip(signed.tolist(), price.tolist(), fee.tolist(), strict=True), start=1):
        scratch.trade("", *fill)
        state[i] = (*scratch.position(""), scratch.realized_pnl, scratch.cash, scratch.commission)
    return state


def _account_path_of(
    close: np.ndarray,
    rows_of: dict[str, np.ndarray],
    start_close: dict[str, float],
    start_quantity: dict[str, float],
    start_cash: float,
    fill_rows: np.ndarray,
    fill_instruments: list[str],
    fill_signed: np.ndarray,
    fill_cash: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Equity, cash and gross exposure after every row of a batch (its ``close`` and each instrument's
    rows), given its fills (row, instrument, signed quantity, cash delta) and the positions it
    started with, marked at ``start_close`` until their first row."""
    n = len(close)
    cash_delta = np.zeros(n)
    if len(fill_rows):
        np.add.at(cash_delta, fill_rows, fill_cash)
    cash = np.cumsum(cash_delta, out=cash_delta)
    cash += start_cash
    value = gross = None
    traded = set(fill_instruments)
    names = np.asarray(fill_instruments, dtype=object) if len(traded) > 1 else None
    for instrument in sorted(set(start_quantity) | traded):
        q0 = start_quantity.get(instrument, 0.0)
        if q0 == 0.0 and instrument not in traded:
            continue
        rows = rows_of.get(instrument, np.empty(0, np.int64))
        dq = np.zeros(len(rows))
        if instrument in traded:
            mine = slice(None) if names is None else names == instrument
            np.add.at(dq, np.searchsorted(rows, fill_rows[mine]), fill_signed[mine])
        # the instrument's value after each of its rows, carried forward to every later row
        held_value = np.empty(len(rows) + 1)
        held_value[0] = q0 * start_close.get(instrument, 0.0)
        every_row = len(rows) == n  # the instrument has every row of the batch
        held_value[1:] = (q0 + np.cumsum(dq)) * (close if every_row else close[rows])
        if every_row:
            held = held_value[1:]
        else:
            # how many of the instrument's rows are at or before each row
            latest = np.zeros(n, dtype=np.int64)
            latest[rows] = np.arange(1, len(rows) + 1)
            np.maximum.accumulate(latest, out=latest)
            held = held_value[latest]
        if value is None:
            value, gross = held, np.abs(held)
        else:
            value = value + held
            gross += np.abs(held)
    if value is None:
        return cash.copy(), cash, np.zeros(n)
    return cash + value, cash, gross
