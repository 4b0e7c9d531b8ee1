"""`StrategyRunner`: runs one strategy over columnar bar batches and yields its target changes.

The runner owns the per-instrument indicators and the last target of each instrument. For every
`EventBatch` of bars (rows in event-time order, instruments interleaved) it updates each
instrument's indicators on that instrument's rows at once, then asks the strategy for targets —
through ``on_batch`` per instrument when the strategy is vectorised, or through ``on_bar`` row by
row in event-time order otherwise. Only *changes* of target come out, as `Targets` (columnar).
The same runner serves the backtest replay and the live ``strategies`` service.

Examples
--------
>>> import numpy as np
>>> from schemas.batch import EventBatch
>>> class Above(Strategy):
...     def on_bar(self, bar, ind, ctx):
...         ctx.target(bar.instrument, 1.0 if bar.close > 10 else 0.0)
>>> rows = [{"instrument": "X", "interval_ns": 1, "open": c, "high": c, "low": c, "close": c,
...          "volume": 1.0, "ts_event": t, "ts_init": t} for t, c in enumerate([9.0, 11.0, 12.0, 8.0])]
>>> runner = StrategyRunner(Above(), "s1")
>>> targets = runner.on_batch(EventBatch.from_records("Bar", "md.bar.1m", rows))
>>> targets.rows.tolist(), targets.quantity.tolist()
([1, 3], [1.0, 0.0])
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from operators.strategy.base import Bars, BarView, Context, Strategy
from schemas.batch import EventBatch
from schemas.errors import ConfigError

BAR_FIELDS = ("open", "high", "low", "close", "volume", "ts_event")


@dataclass(frozen=True, slots=True)
class Targets:
    """Target changes decided within one batch, in event-time (row) order.

    ``rows`` index the batch they came from; ``ts_event``/``ts_init`` are those of the deciding bar.
    """

    rows: np.ndarray
    instrument: tuple[str, ...]
    quantity: np.ndarray
    reason: tuple[str, ...]
    ts_event: np.ndarray
    ts_init: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    def to_records(self, strategy_id: str, account_id: str) -> list[dict]:
        """TargetPosition events (Avro-form dicts) with deterministic ids."""
        return [
            {
                "id": target_id(strategy_id, instrument, ts),
                "strategy_id": strategy_id,
                "account_id": account_id,
                "instrument": instrument,
                "target_quantity": qty,
                "reason": reason,
                "ts_event": ts,
                "ts_init": ts_init,
            }
            for instrument, qty, reason, ts, ts_init in zip(
                self.instrument,
                self.quantity.tolist(),
                self.reason,
                self.ts_event.tolist(),
                self.ts_init.tolist(),
                strict=True,
            )
        ]


EMPTY_TARGETS = Targets(
    np.empty(0, np.int64), (), np.empty(0), (), np.empty(0, np.int64), np.empty(0, np.int64)
)


def target_id(strategy_id: str, instrument: str, ts_event: int) -> str:
    """The deterministic id of a strategy's target for an instrument at an event time."""
    return hashlib.blake2b(
        f"target|{strategy_id}|{instrument}|{ts_event}".encode(), digest_size=16
    ).hexdigest()


def _forward_fill(values: np.ndarray, initial: float) -> np.ndarray:
    """Replace NaN by the last non-NaN value before it (``initial`` before the first)."""
    values = np.asarray(values, dtype=np.float64)
    valid = ~np.isnan(values)
    if valid.all():
        return values
    index = np.where(valid, np.arange(len(values)), -1)
    np.maximum.accumulate(index, out=index)
    filled = np.where(index >= 0, values[np.maximum(index, 0)], initial)
    return filled


class StrategyRunner:
    """Runs ``strategy`` for ``strategy_id`` over bar batches; see the module docstring.

    Parameters
    ----------
    strategy
        The strategy instance.
    strategy_id
        Its id in events and topics.
    universe
        Instruments it trades; bars of others are ignored. None means every instrument seen.
    exclude
        Instruments never traded, e.g. the benchmark when the universe is every instrument.
    """

    def __init__(
        self,
        strategy: Strategy,
        strategy_id: str,
        universe: tuple[str, ...] | None = None,
        exclude: tuple[str, ...] = (),
    ):
        if universe is not None:
            strategy.validate_universe(tuple(universe))
        self.strategy = strategy
        self.strategy_id = strategy_id
        self.universe = None if universe is None else tuple(universe)
        self.exclude = frozenset(exclude)
        self.context = Context(self.universe or ())
        self._indicators: dict[str, dict[str, Any]] = {}
        self._last_target: dict[str, float] = {}
        self._vectorised = strategy.vectorised

    def take_events(self) -> list[tuple[str, dict]]:
        """The side events the strategy emitted (``ctx.emit``) since the last call, in order."""
        events, self.context._emitted = self.context._emitted, []
        return events

    def _indicators_of(self, instrument: str) -> dict[str, Any]:
        indicators = self._indicators.get(instrument)
        if indicators is None:
            indicators = self.strategy.indicators(self.strategy.p)
            self._indicators[instrument] = indicators
        return indicators

    def _instrument_groups(self, batch: EventBatch) -> list[tuple[str, np.ndarray]]:
        groups = batch.rows_by("instrument").items()
        allowed = set(self.universe) if self.universe is not None else None
        return [
            (name, rows)
            for name, rows in groups
            if (allowed is None or name in allowed) and name not in self.exclude
        ]

    def _compute_indicators(self, instrument: str, columns: dict[str, np.ndarray]) -> dict[str, Any]:
        values = {}
        for name, indicator in self._indicators_of(instrument).items():
            try:
                inputs = {field: columns[field] for field in indicator.inputs}
            except KeyError as e:
                raise ConfigError(f"indicator {name!r} needs bar field {e.args[0]!r}") from None
            values[name] = indicator.update(**inputs)
        return values

    def on_batch(self, batch: EventBatch) -> Targets:
        """Process one batch of Bar rows; return the target changes it caused."""
        if batch.schema != "Bar" or len(batch) == 0:
            return EMPTY_TARGETS
        groups = self._instrument_groups(batch)
        if not groups:
            return EMPTY_TARGETS
        if self._vectorised:
            rows, instruments, quantities, reasons = self._run_vectorised(batch, groups)
        else:
            rows, instruments, quantities, reasons = self._run_per_bar(batch, groups)
        if not len(rows):
            return EMPTY_TARGETS
        rows_array = np.asarray(rows, dtype=np.int64)
        return Targets(
            rows_array,
            tuple(instruments),
            np.asarray(quantities, dtype=np.float64),
            tuple(reasons),
            batch.columns["ts_event"][rows_array],
            batch.columns["ts_init"][rows_array],
        )

    def _run_vectorised(self, batch: EventBatch, groups: list[tuple[str, np.ndarray]]):
        found_rows, found_instruments, found_quantities = [], [], []
        for instrument, rows in groups:
            columns = {name: batch.columns[name][rows] for name in BAR_FIELDS}
            ind = SimpleNamespace(**self._compute_indicators(instrument, columns))
            self.context.ts_event = int(columns["ts_event"][-1])
            wanted = self.strategy.on_batch(Bars(instrument, columns), ind, self.context)
            previous = self._last_target.get(instrument, 0.0)
            if len(rows) == 1:  # one bar (live): the same decision without the array steps below
                value = float(wanted[0])
                value = previous if value != value else value  # NaN keeps the previous target
                if value != previous:
                    found_rows.append(rows)
                    found_quantities.append(np.array([value]))
                    found_instruments.append(np.array([instrument], dtype=object))
                self._last_target[instrument] = self.context._targets[instrument] = value
                continue
            filled = _forward_fill(wanted, previous)
            before = np.empty_like(filled)
            before[0] = previous
            before[1:] = filled[:-1]
            changed = np.flatnonzero(filled != before)
            if len(changed):
                found_rows.append(rows[changed])
                found_quantities.append(filled[changed])
                found_instruments.append(np.full(len(changed), instrument, dtype=object))
            self._last_target[instrument] = float(filled[-1])
            self.context._targets[instrument] = float(filled[-1])
        if not found_rows:
            return [], [], [], []
        rows = np.concatenate(found_rows)
        order = np.argsort(rows, kind="stable")
        instruments = np.concatenate(found_instruments)[order].tolist()
        return rows[order], instruments, np.concatenate(found_quantities)[order], [""] * len(rows)

    def _run_per_bar(self, batch: EventBatch, groups: list[tuple[str, np.ndarray]]):
        codes = batch.columns["instrument"].tolist()
        names = batch.categories["instrument"]
        n = len(codes)
        columns = {name: batch.columns[name].tolist() for name in (*BAR_FIELDS, "ts_init")}
        # per instrument code: its indicators' namespace, their names, and their values aligned to batch rows
        views: list[tuple[SimpleNamespace, list[str], list[list]] | None] = [None] * len(names)
        for instrument, rows in groups:
            sub = {name: batch.columns[name][rows] for name in BAR_FIELDS}
            values = self._compute_indicators(instrument, sub)
            single = len(rows) == n
            aligned = {}
            for name, value in values.items():
                if isinstance(value, tuple):  # multi-output indicator: one namedtuple per row
                    per_row = [type(value)(*row) for row in zip(*(v.tolist() for v in value), strict=True)]
                else:
                    per_row = value.tolist()
                if single:
                    aligned[name] = per_row
                else:
                    full = [None] * n
                    for row, item in zip(rows.tolist(), per_row, strict=True):
                        full[row] = item
                    aligned[name] = full
            views[names.index(instrument)] = (SimpleNamespace(), list(aligned), list(aligned.values()))
        bar = BarView()
        ctx = self.context
        pending = ctx._pending
        targets = ctx._targets
        on_bar = self.strategy.on_bar
        o, h, lo, c, v = columns["open"], columns["high"], columns["low"], columns["close"], columns["volume"]
        ts, ts_init = columns["ts_event"], columns["ts_init"]
        found_rows, found_instruments, found_quantities, found_reasons = [], [], [], []
        last_bars = ctx._last_bars
        if not isinstance(last_bars, _LastBars):
            last_bars = ctx._last_bars = _LastBars(last_bars)
        last_bars.columns = columns
        last_row = last_bars.rows
        for row, code in enumerate(codes):
            view = views[code]
            if view is None:
                continue
            instrument = names[code]
            ind, ind_names, ind_values = view
            for name, values in zip(ind_names, ind_values, strict=True):
                setattr(ind, name, values[row])
            bar.instrument = instrument
            bar.open, bar.high, bar.low, bar.close, bar.volume = o[row], h[row], lo[row], c[row], v[row]
            bar.ts_event = ctx.ts_event = ts[row]
            bar.ts_init = ts_init[row]
            on_bar(bar, ind, ctx)
            last_row[instrument] = row
            if pending:
                for target_instrument, (quantity, reason) in pending.items():
                    if targets.get(target_instrument, 0.0) != quantity:
                        targets[target_instrument] = quantity
                        found_rows.append(row)
                        found_instruments.append(target_instrument)
                        found_quantities.append(quantity)
                        found_reasons.append(reason)
                pending.clear()
        last_bars.settle()
        self._last_target.update(targets)
        return found_rows, found_instruments, found_quantities, found_reasons


class _LastBars(dict):
    """`Context`'s latest bar per instrument; rows of the running batch become dicts only when asked."""

    def __init__(self, bars: dict[str, dict[str, float]]):
        super().__init__(bars)
        self.rows: dict[str, int] = {}
        self.columns: dict[str, list] = {}

    def _bar(self, row: int) -> dict[str, float]:
        return {name: self.columns[name][row] for name in BAR_FIELDS}

    def get(self, instrument: str, default: Any = None) -> Any:
        row = self.rows.get(instrument)
        return self._bar(row) if row is not None else super().get(instrument, default)

    def settle(self) -> None:
        """Store the running batch's latest bars as dicts."""
        for instrument, row in self.rows.items():
            self[instrument] = self._bar(row)
        self.rows.clear()
        self.columns = {}
