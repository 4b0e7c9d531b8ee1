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

import keyword
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from itertools import repeat
from types import SimpleNamespace
from typing import Any

import numpy as np

from operators.execution.ids import target_id, target_lanes
from operators.strategy.base import Bars, BarView, Context, IndicatorValues, Strategy
from schemas.batch import EventBatch
from schemas.errors import ConfigError
from schemas.event_table import ID_LANES, EventTable, id_lanes

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

    def take(self, indices: Sequence[int]) -> Targets:
        """The targets at ``indices`` (ascending), e.g. those of some of the instruments."""
        picked = np.asarray(indices, dtype=np.int64)
        return Targets(
            self.rows[picked],
            tuple(self.instrument[i] for i in indices),
            self.quantity[picked],
            tuple(self.reason[i] for i in indices),
            self.ts_event[picked],
            self.ts_init[picked],
        )

    def ids(self, strategy_id: str) -> np.ndarray:
        """The targets' ids (`ID_LANES`), `target_id` derived for all at once."""
        first = self.instrument[0] if len(self) else ""
        if self.instrument.count(first) == len(self):  # one instrument
            return id_lanes(*target_lanes(strategy_id, first, self.ts_event))
        instruments = np.asarray(self.instrument, dtype=object)
        ids = np.empty(len(self), dtype=ID_LANES)
        for instrument in dict.fromkeys(self.instrument):
            mine = instruments == instrument
            ids[mine] = id_lanes(*target_lanes(strategy_id, instrument, self.ts_event[mine]))
        return ids

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

    def to_table(self, strategy_id: str, account_id: str) -> EventTable:
        """The TargetPosition events as an `EventTable` (the same ids as `to_records`, derived for all at
        once when first read)."""
        return EventTable.build(
            "TargetPosition",
            self.rows,
            id=partial(self.ids, strategy_id),
            strategy_id=strategy_id,
            account_id=account_id,
            instrument=self.instrument,
            target_quantity=self.quantity,
            reason=self.reason,
            ts_event=self.ts_event,
            ts_init=self.ts_init,
        )


EMPTY_TARGETS = Targets(
    np.empty(0, np.int64), (), np.empty(0), (), np.empty(0, np.int64), np.empty(0, np.int64)
)


def _last_held(wanted: np.ndarray, previous: float) -> float:
    """The target held after the last bar: the last of ``wanted`` that is not NaN, else ``previous``."""
    last = float(wanted[-1])
    if last == last:
        return last
    valid = np.flatnonzero(~np.isnan(wanted))
    return float(wanted[valid[-1]]) if len(valid) else previous


def _target_changes(wanted: Sequence[np.ndarray], previous: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Where the held target changes, for several instruments at once, and the target it changes to.

    ``wanted`` holds each instrument's target per bar (NaN keeps the held one) and ``previous`` the
    target it held before them. Bars are numbered across the instruments, one after another.

    >>> changed, targets = _target_changes([np.array([np.nan, 1.0, 1.0]), np.array([np.nan, 0.0])], [0.0, 2.0])
    >>> changed.tolist(), targets.tolist()
    ([1, 4], [1.0, 0.0])
    """
    held = wanted[0] if len(wanted) == 1 else np.concatenate(wanted)
    firsts = np.cumsum([0, *map(len, wanted[:-1])])
    if np.isnan(held).any():
        held = _forward_fill(held, firsts, previous)
    if len(wanted) == 1:  # each bar against the one before, without a shifted copy
        changed = np.flatnonzero(held[1:] != held[:-1])
        changed += 1
        if held[0] != previous[0]:
            changed = np.concatenate(([0], changed))
        return changed, held[changed]
    before = np.empty_like(held)
    before[1:] = held[:-1]
    before[firsts] = previous
    changed = np.flatnonzero(held != before)
    return changed, held[changed]


def _forward_fill(values: np.ndarray, firsts: np.ndarray, initial: Sequence[float]) -> np.ndarray:
    """Replace NaN by the last non-NaN value before it in its run (runs start at ``firsts``), else by
    the run's ``initial`` value."""
    seeded = np.insert(values, firsts, initial)  # each run after a slot holding its initial value
    slots = firsts + np.arange(len(firsts))
    source = np.where(np.isnan(seeded), -1, np.arange(len(seeded)))
    source[slots] = slots
    np.maximum.accumulate(source, out=source)
    return np.delete(seeded[source], slots)


def _group_fields(batch: EventBatch, groups: list[tuple[str, np.ndarray]]) -> list[_GroupFields]:
    """The bar fields of each of ``groups``: slices of one copy of each field for all of them (their rows
    one group after another), made when first read, or the batch's own columns for one group of every row.
    """
    every_row = len(groups) == 1 and len(groups[0][1]) == len(batch)
    gathered = None if every_row else np.concatenate([rows for _, rows in groups])

    @cache
    def field(name: str) -> np.ndarray:
        column = batch.columns[name]
        return _read_only(column if gathered is None else column[gathered])

    bounds = np.cumsum([0] + [len(rows) for _, rows in groups]).tolist()
    return [_GroupFields(field, start, stop) for start, stop in zip(bounds, bounds[1:], strict=False)]


class _GroupFields(Mapping[str, np.ndarray]):
    """One instrument group's bar fields (`BAR_FIELDS`) as read-only arrays, by name."""

    def __init__(self, field: Callable[[str], np.ndarray], start: int, stop: int):
        self._field = field
        self._start = start
        self._stop = stop

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in BAR_FIELDS:
            raise KeyError(name)
        return self._field(name)[self._start : self._stop]

    def __iter__(self) -> Iterator[str]:
        return iter(BAR_FIELDS)

    def __len__(self) -> int:
        return len(BAR_FIELDS)


def _read_only(values: np.ndarray) -> np.ndarray:
    view = values.view()
    view.flags.writeable = False
    return view


def _visited_rows(batch: EventBatch, groups: list[tuple[str, np.ndarray]]) -> np.ndarray | None:
    """The rows of ``groups`` in row order; None when they are every row of ``batch``."""
    if sum(len(rows) for _, rows in groups) == len(batch):
        return None
    return groups[0][1] if len(groups) == 1 else np.sort(np.concatenate([rows for _, rows in groups]))


def _at(values: np.ndarray, visited: np.ndarray | None) -> np.ndarray:
    return values if visited is None else values[visited]


def _python_values(values: np.ndarray) -> Iterable:
    """The elements of ``values`` as `tolist` gives them, but made one at a time as they are iterated."""
    if values.dtype.char in "dlq?" and values.flags.c_contiguous:  # float64, int64 and bool
        return memoryview(values)
    return values.tolist()


def _indicator_per_row(
    outputs: list[Any], batch: EventBatch, groups: list[tuple[str, np.ndarray]], visited: np.ndarray | None
) -> Iterable:
    """One indicator's value at each visited row, from its ``outputs`` (an array, or a NamedTuple of
    arrays) for each of ``groups``."""
    if isinstance(outputs[0], tuple):
        fields = [
            _indicator_per_row([output[i] for output in outputs], batch, groups, visited)
            for i in range(len(outputs[0]))
        ]
        # what NamedTuple._make does, without a Python call per row
        return map(tuple.__new__, repeat(type(outputs[0])), zip(*fields, strict=True))
    if len(groups) == 1:
        return _python_values(outputs[0])
    aligned = np.empty(len(batch), dtype=outputs[0].dtype)
    for (_, rows), values in zip(groups, outputs, strict=True):
        aligned[rows] = values
    return _python_values(_at(aligned, visited))


def _group_item_per_row(
    items: list[Any], batch: EventBatch, groups: list[tuple[str, np.ndarray]], visited: np.ndarray | None
) -> Iterable:
    """The item of its instrument's group (one of ``items``, in ``groups`` order) at each visited row."""
    if len(groups) == 1:
        return repeat(items[0])
    names = batch.categories["instrument"]
    by_code = np.empty(len(names), dtype=object)
    for (instrument, _), item in zip(groups, items, strict=True):
        by_code[names.index(instrument)] = item
    return by_code[_at(batch.columns["instrument"], visited)].tolist()


# A store to an attribute named at run time costs a `setattr` call, so the loop that calls ``on_bar``
# is generated per set of indicator names, with one plain store per value per bar.
_BAR_LOOP = """
def run_bars(on_bar, ctx, take_requests, fields, rows, ind=None, instrument=None):
    bar = BarView()
    bar._fields = fields
    bar.instrument = instrument
    last_bars = ctx._last_bars
    pending = ctx._pending
    for (
        bar._position, last_bars.row, {instrument_targets} ctx.ts_event,
        {indicator_targets}
    ) in rows:
        {indicator_setattrs}
        ctx._unchanged = None
        on_bar(bar, ind, ctx)
        if pending:
            take_requests(last_bars.row)
"""


@cache
def _bar_loop(indicator_names: tuple[str, ...], one_instrument: bool) -> Callable[..., None]:
    """``run_bars(on_bar, ctx, take_requests, fields, rows[, ind, instrument])``: call ``on_bar`` on each
    of ``rows`` in turn.

    A row is (its position in ``fields``, its batch row, ``ind``, instrument, ts_event, the
    indicators' values), without ``ind`` and instrument for ``one_instrument`` (they are arguments
    then); ``fields`` are the visited rows' `BarView.FIELDS` columns.
    """
    targets, setattrs = [], []
    for i, name in enumerate(indicator_names):
        if name.isascii() and name.isidentifier() and not keyword.iskeyword(name):
            targets.append(f"ind.{name}")
        else:  # not a name the code can spell as it is
            targets.append(f"value_{i}")
            setattrs.append(f"setattr(ind, {name!r}, value_{i})")
    source = _BAR_LOOP.format(
        instrument_targets="" if one_instrument else "ind, bar.instrument,",
        indicator_targets="".join(f"{target}, " for target in targets),
        indicator_setattrs="; ".join(setattrs),
    )
    namespace = {"BarView": BarView}
    exec(source, namespace)
    return namespace["run_bars"]


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
        groups = batch.rows_by("instrument")
        allowed = set(self.universe) if self.universe is not None else None
        return [
            (name, rows)
            for name, rows in groups.items()
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
        ctx = self.context
        found_rows, found_instruments, found_quantities = [], [], []
        several_bars = []  # (instrument, rows, wanted, previous) of each group of several bars
        for (instrument, rows), columns in zip(groups, _group_fields(batch, groups), strict=True):
            ind = SimpleNamespace(**self._compute_indicators(instrument, columns))
            ctx.ts_event = int(batch.columns["ts_event"][rows[-1]])
            wanted = self.strategy.on_batch(Bars(instrument, columns), ind, ctx)
            previous = self._last_target.get(instrument, 0.0)
            if len(rows) == 1:  # one bar (live): the same decision without the array steps
                value = float(wanted[0])
                value = previous if value != value else value  # NaN keeps the previous target
                if value != previous:
                    found_rows.append(rows)
                    found_quantities.append(np.array([value]))
                    found_instruments.append(np.array([instrument], dtype=object))
            else:
                wanted = np.asarray(wanted, dtype=np.float64)
                several_bars.append((instrument, rows, wanted, previous))
                value = _last_held(wanted, previous)
            self._last_target[instrument] = ctx._targets[instrument] = value
        if several_bars:  # their changes, found for all the groups at once
            instruments, group_rows, wanted, previous = zip(*several_bars, strict=True)
            changed, quantities = _target_changes(wanted, previous)
            if len(groups) == 1:  # one instrument: its changes are the batch's, in row order
                return (
                    group_rows[0][changed],
                    [instruments[0]] * len(changed),
                    quantities,
                    [""] * len(changed),
                )
            group = np.searchsorted(np.cumsum([len(rows) for rows in group_rows]), changed, side="right")
            found_rows.append(np.concatenate(group_rows)[changed])
            found_quantities.append(quantities)
            found_instruments.append(np.array(instruments, dtype=object)[group])
        if not found_rows:
            return [], [], [], []
        rows = np.concatenate(found_rows)
        order = np.argsort(rows, kind="stable")
        instruments = np.concatenate(found_instruments)[order].tolist()
        return rows[order], instruments, np.concatenate(found_quantities)[order], [""] * len(rows)

    def _run_per_bar(self, batch: EventBatch, groups: list[tuple[str, np.ndarray]]):
        ctx = self.context
        visited = _visited_rows(batch, groups)
        outputs = [
            self._compute_indicators(instrument, columns)
            for (instrument, _), columns in zip(groups, _group_fields(batch, groups), strict=True)
        ]
        fields = tuple(_python_values(_at(batch.columns[name], visited)) for name in BarView.FIELDS)
        one = len(groups) == 1
        indicator_values = [IndicatorValues() for _ in groups]
        per_instrument = (
            []
            if one  # then ``ind`` and the instrument are the same for every bar: arguments of the loop
            else [
                _group_item_per_row(indicator_values, batch, groups, visited),
                _group_item_per_row([instrument for instrument, _ in groups], batch, groups, visited),
            ]
        )
        rows = zip(  # not strict: the row numbers end it, while a `repeat` never ends
            range(len(batch) if visited is None else len(visited)),
            range(len(batch)) if visited is None else visited.tolist(),
            *per_instrument,
            fields[BarView.FIELDS.index("ts_event")],
            *(
                _indicator_per_row([values[name] for values in outputs], batch, groups, visited)
                for name in outputs[0]
            ),
            strict=False,
        )
        last_bars = ctx._last_bars
        if not isinstance(last_bars, _LastBars):
            last_bars = ctx._last_bars = _LastBars(last_bars)
        last_bars.start(batch, groups)
        found: list[tuple[int, str, float, str]] = []
        run_bars = _bar_loop(tuple(outputs[0]), one)
        take_requests = partial(self._take_requests, found)
        if one:
            run_bars(
                self.strategy.on_bar, ctx, take_requests, fields, rows, indicator_values[0], groups[0][0]
            )
        else:
            run_bars(self.strategy.on_bar, ctx, take_requests, fields, rows)
        last_bars.settle()
        self._last_target.update(ctx._targets)
        return tuple(zip(*found, strict=True)) if found else ([], [], [], [])

    def _take_requests(self, found: list[tuple[int, str, float, str]], row: int) -> None:
        """Hold the targets the strategy asked for on ``row``; record in ``found`` those that changed."""
        targets, pending = self.context._targets, self.context._pending
        for instrument, (quantity, reason) in pending.items():
            if targets.get(instrument, 0.0) != quantity:
                targets[instrument] = quantity
                found.append((row, instrument, quantity, reason))
        pending.clear()


class _LastBars(dict):
    """`Context`'s latest bar per instrument; bars of the running batch become dicts only when asked."""

    __slots__ = ("row", "rows_of", "columns")

    def __init__(self, bars: dict[str, dict[str, float]]):
        super().__init__(bars)
        self.row = 0
        self.rows_of: dict[str, np.ndarray] = {}
        self.columns: dict[str, np.ndarray] = {}

    def start(self, batch: EventBatch, groups: list[tuple[str, np.ndarray]]) -> None:
        """Serve, for each instrument of ``groups``, its latest bar of ``batch`` before `row`."""
        self.rows_of = dict(groups)
        self.columns = batch.columns

    def _bar(self, row: int) -> dict[str, float]:
        return {name: self.columns[name][row].item() for name in BAR_FIELDS}

    def get(self, instrument: str, default: Any = None) -> Any:
        rows = self.rows_of.get(instrument)
        before = 0 if rows is None else int(np.searchsorted(rows, self.row))
        return self._bar(rows[before - 1]) if before else super().get(instrument, default)

    def settle(self) -> None:
        """Store the running batch's latest bars as dicts."""
        for instrument, rows in self.rows_of.items():
            self[instrument] = self._bar(rows[-1])
        self.rows_of = {}
        self.columns = {}
