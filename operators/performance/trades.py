"""Round trips: fills matched first-in first-out per instrument, and the statistics of their P&L.

A fill that trades against the open position closes its oldest lots first; each matched piece is one
round trip (so scaling in with two buys and out with one sell gives two round trips). A fill larger
than the position closes it and opens the remainder the other way (a flip). Commission is shared
pro rata by quantity: a lot carries its entry commission until it is closed, and a fill's commission
is split over the pieces it closes and the lot it opens. Fills are processed in ``ts_event`` order
(stable for equal times).

Fills have columns ``ts_event`` (int ns), ``instrument``, ``side`` (``"BUY"`` or ``"SELL"``),
``quantity`` (> 0), ``price`` and ``commission`` (the account currency); other columns are ignored.
They are a DataFrame, or a mapping of column name to array: NumPy arrays (``str`` or object for the
text), or pandas arrays such as ``pd.Categorical``, whose text compares as codes and is the cheapest.

Examples
--------
>>> import pandas as pd
>>> fills = pd.DataFrame({
...     "ts_event": [1, 2, 3], "instrument": "AAPL", "side": ["BUY", "BUY", "SELL"],
...     "quantity": [10.0, 10.0, 15.0], "price": [100.0, 102.0, 105.0], "commission": [1.0, 1.0, 1.5],
... })
>>> round_trips(fills)[["entry_ts", "exit_ts", "quantity", "entry_price", "pnl"]]
   entry_ts  exit_ts  quantity  entry_price   pnl
0         1        3      10.0        100.0  48.0
1         2        3       5.0        102.0  14.0
>>> open_lots(fills)[["direction", "quantity", "entry_price", "commission"]]
  direction  quantity  entry_price  commission
0      LONG       5.0        102.0         0.5
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from typing import TypeAlias

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from schemas.errors import ConfigError

# A column of fills: a NumPy array, or a pandas extension array (strings, categories).
Column: TypeAlias = np.ndarray | ExtensionArray
# Fills: a DataFrame, or a mapping of column name to array (or anything np.asarray takes).
Fills: TypeAlias = pd.DataFrame | Mapping[str, object]

FILL_COLUMNS = ("ts_event", "instrument", "side", "quantity", "price", "commission")
ROUND_TRIP_COLUMNS = (
    "instrument",
    "direction",
    "entry_ts",
    "exit_ts",
    "quantity",
    "entry_price",
    "exit_price",
    "commission",
    "pnl",
    "holding_ns",
)
OPEN_LOT_COLUMNS = ("instrument", "direction", "entry_ts", "quantity", "entry_price", "commission")

# Quantities within this fraction of each other are equal: 0.3 - 0.1 - 0.2 leaves no lot behind.
_DUST = 1e-9


@dataclass(frozen=True)
class FillArrays:
    """Validated fills as arrays, in processing order (``ts_event``, stable for equal times).

    Attributes
    ----------
    ts
        ``ts_event`` (int64 ns).
    instrument
        Each fill's instrument as a code, a position in ``names``; codes number instruments by first
        appearance.
    names
        The instruments (object array), by code.
    sign
        +1.0 for a buy, -1.0 for a sell.
    quantity, price, commission
        The fills' values (float64).
    """

    ts: np.ndarray
    instrument: np.ndarray
    names: np.ndarray
    sign: np.ndarray
    quantity: np.ndarray
    price: np.ndarray
    commission: np.ndarray


@dataclass(frozen=True)
class _Columns:
    """Equal-length arrays, one per field, that are reordered and joined together."""

    def take(self, order: np.ndarray) -> _Columns:
        """Return the rows at ``order``."""
        return type(self)(*(getattr(self, f.name)[order] for f in fields(self)))

    def mapped_to(self, rows: np.ndarray) -> _Columns:
        """Return a copy whose ``*_row`` fields, positions in ``rows``, hold the rows there instead."""
        return type(self)(
            *(
                rows[getattr(self, f.name)] if f.name.endswith("_row") else getattr(self, f.name)
                for f in fields(self)
            )
        )

    @classmethod
    def joined(cls, parts: list[_Columns]) -> _Columns:
        """Return the rows of ``parts``, one after the other."""
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))


@dataclass(frozen=True)
class Pieces(_Columns):
    """Closed pieces of lots: ``quantity`` of the lot opened by fill ``entry_row``, closed by fill
    ``exit_row``, with the shares of the two fills' commissions that it carries."""

    entry_row: np.ndarray
    exit_row: np.ndarray
    quantity: np.ndarray
    entry_fee: np.ndarray
    exit_fee: np.ndarray

    @classmethod
    def of(cls, flat: list[float]) -> Pieces:
        """Return the pieces of a flat list of ``entry_row, exit_row, quantity, entry_fee, exit_fee`` runs."""
        entry_row, exit_row, quantity, entry_fee, exit_fee = np.array(flat, dtype=np.float64).reshape(-1, 5).T
        return cls(entry_row.astype(np.intp), exit_row.astype(np.intp), quantity, entry_fee, exit_fee)


@dataclass(frozen=True)
class Lots(_Columns):
    """Open lots: ``quantity`` left of the lot opened by fill ``entry_row``, and the entry ``commission``
    not yet charged to a round trip."""

    entry_row: np.ndarray
    quantity: np.ndarray
    commission: np.ndarray

    @classmethod
    def of(cls, lots: list[list]) -> Lots:
        """Return the lots of ``[entry_row, quantity, commission]`` lists."""
        columns = list(zip(*lots, strict=True)) if lots else [()] * 3
        return cls(
            *(np.array(c, dtype=d) for c, d in zip(columns, (np.intp, np.float64, np.float64), strict=True))
        )


@dataclass(frozen=True)
class MatchedFills:
    """The outcome of FIFO matching.

    Attributes
    ----------
    fills
        The validated fills, in processing order; every ``*_row`` below is a position in it.
    closed
        The closed pieces, in the order they closed (by fill, then oldest lot first).
    still_open
        The lots still open at the end, by entry time.
    open_after
        Whether any instrument has an open position after each fill, in processing order.
    """

    fills: FillArrays
    closed: Pieces
    still_open: Lots
    open_after: np.ndarray

    @property
    def fill_ts(self) -> np.ndarray:
        """The fills' ``ts_event`` in processing order."""
        return self.fills.ts

    @property
    def notional(self) -> float:
        """The traded notional, the sum of ``|quantity * price|``."""
        return float(np.abs(self.fills.quantity * self.fills.price).sum())

    @cached_property
    def pnl(self) -> np.ndarray:
        """Each round trip's P&L net of its entry and exit commission shares, in the order they closed."""
        fills, closed = self.fills, self.closed
        move = fills.price[closed.exit_row] - fills.price[closed.entry_row]
        return fills.sign[closed.entry_row] * move * closed.quantity - closed.entry_fee - closed.exit_fee

    @cached_property
    def round_trips(self) -> pd.DataFrame:
        """One row per closed piece, columns ``ROUND_TRIP_COLUMNS``; ``commission`` is the sum of the
        entry and exit commission shares, ``holding_ns = exit_ts - entry_ts``."""
        fills, closed = self.fills, self.closed
        entry_ts, exit_ts = fills.ts[closed.entry_row], fills.ts[closed.exit_row]
        return _frame(
            ROUND_TRIP_COLUMNS,
            (
                _labels(fills.names, fills.instrument[closed.exit_row]),
                _directions(fills.sign[closed.entry_row]),
                entry_ts,
                exit_ts,
                closed.quantity,
                fills.price[closed.entry_row],
                fills.price[closed.exit_row],
                closed.entry_fee + closed.exit_fee,
                self.pnl,
                exit_ts - entry_ts,
            ),
        )

    @cached_property
    def open_lots(self) -> pd.DataFrame:
        """The lots still open, columns ``OPEN_LOT_COLUMNS``."""
        fills, lots = self.fills, self.still_open
        return _frame(
            OPEN_LOT_COLUMNS,
            (
                _labels(fills.names, fills.instrument[lots.entry_row]),
                _directions(fills.sign[lots.entry_row]),
                fills.ts[lots.entry_row],
                lots.quantity,
                fills.price[lots.entry_row],
                lots.commission,
            ),
        )


def round_trips(fills: Fills) -> pd.DataFrame:
    """Return the round trips of ``fills`` (see `MatchedFills.round_trips`), in the order they closed.

    Raises
    ------
    ConfigError
        If a column is missing or a value is invalid; the message names the column and the row.
    """
    return match_fills(fills).round_trips


def open_lots(fills: Fills) -> pd.DataFrame:
    """Return the lots left open after ``fills`` (see `MatchedFills.open_lots`), oldest first."""
    return match_fills(fills).open_lots


def match_fills(fills: Fills | None) -> MatchedFills:
    """Match ``fills`` first-in first-out per instrument (None: no fills); see the module docstring."""
    arrays = _fill_arrays(_no_fills() if fills is None else fills)
    if len(arrays.names) <= 1:  # one instrument: its pieces and lots come out in order
        closed, still_open, change = _match_instrument(arrays.sign, arrays.quantity, arrays.commission)
    else:
        closed, still_open, change = _match_by_instrument(arrays)
    return MatchedFills(fills=arrays, closed=closed, still_open=still_open, open_after=np.cumsum(change) > 0)


def _match_by_instrument(arrays: FillArrays) -> tuple[Pieces, Lots, np.ndarray]:
    """Match each instrument's fills; return the pieces in the order they closed, the lots still open
    by entry time, and the change in whether any position is open after each fill."""
    closed, still_open = [], []
    change = np.zeros(len(arrays.ts), dtype=np.int64)
    for rows in _rows_by_instrument(arrays.instrument, len(arrays.names)):
        pieces, lots, changes = _match_instrument(
            arrays.sign[rows], arrays.quantity[rows], arrays.commission[rows]
        )
        change[rows] = changes
        closed.append(pieces.mapped_to(rows))
        still_open.append(lots.mapped_to(rows))
    closed, still_open = Pieces.joined(closed), Lots.joined(still_open)
    return (
        closed.take(np.argsort(closed.exit_row, kind="stable")),
        still_open.take(np.argsort(arrays.ts[still_open.entry_row], kind="stable")),
        change,
    )


def _rows_by_instrument(instrument: np.ndarray, count: int) -> list[np.ndarray]:
    """Return the rows of each instrument, in order, by code."""
    order = np.argsort(instrument, kind="stable")
    return np.split(order, np.cumsum(np.bincount(instrument, minlength=count))[:-1])


def _match_instrument(
    sign: np.ndarray, quantity: np.ndarray, commission: np.ndarray
) -> tuple[Pieces, Lots, np.ndarray]:
    """FIFO-match one instrument's fills, whose rows are positions in the arguments.

    Returns the closed pieces in the order they closed (by fill, then oldest lot first), the lots left
    open (oldest first), and for each fill the change in whether a position is open (+1 opened, -1
    closed, 0 otherwise). The leading fills that keep at most one lot in the book are matched at once
    (see `_one_lot_run`), the rest one at a time.
    """
    run = _one_lot_run(sign, quantity, commission)
    pieces, lots, change = _match_one_by_one(sign, quantity, commission, run.length, run.open_lot)
    change[: run.length] = run.change
    return Pieces.joined([run.pieces, pieces]), lots, change


@dataclass(frozen=True)
class _OneLotRun:
    """The leading fills of an instrument matched at once, see `_one_lot_run`."""

    length: int
    pieces: Pieces
    change: np.ndarray
    open_lot: list | None  # [entry row, quantity, commission] of the lot open after the run, if any


def _one_lot_run(sign: np.ndarray, quantity: np.ndarray, commission: np.ndarray) -> _OneLotRun:
    """Match the leading fills that each open a lot on a flat book, close the one open lot exactly, or
    close it and open the rest the other way (a flip); long/flat, short/flat and long/short strategies
    trade only such fills.

    Over such fills the running sum of the signed quantities is the book: its magnitude is the one
    lot's quantity, as the sequential matching computes it, since a flip's ``quantity - lot`` rounds like
    the sum. The run ends at the first fill that adds to the lot, closes part of it, or closes it only
    within `_DUST`; the one-by-one matching takes over from there.
    """
    position = np.cumsum(sign * quantity)
    before = np.concatenate(([0.0], position[:-1]))
    lot = np.abs(before)
    opens = before == 0.0
    against = ~opens & (np.sign(before) != sign)
    closes = against & (position == 0.0)
    flips = against & (lot < quantity) & (np.abs(lot - quantity) > _DUST * np.maximum(lot, quantity))
    plain = opens | closes | flips
    length = len(plain) if plain.all() else int(np.argmin(plain))
    flip_fee = commission * (lot / quantity)  # the flip's share of its commission for the lot it closes
    lot_fee = np.where(opens, commission, commission - flip_fee)  # of the lot each fill opens
    exits = np.flatnonzero((closes | flips)[:length])  # each closes the lot its previous fill opened
    pieces = Pieces(
        exits - 1,
        exits,
        lot[exits],
        lot_fee[exits - 1],
        np.where(closes[exits], commission[exits], flip_fee[exits]),
    )
    change = np.where(opens, 1, np.where(closes, -1, 0))[:length]
    last = length - 1
    open_lot = [last, float(abs(position[last])), float(lot_fee[last])] if length and position[last] else None
    return _OneLotRun(length, pieces, change, open_lot)


def _match_one_by_one(
    sign: np.ndarray, quantity: np.ndarray, commission: np.ndarray, start: int, open_lot: list | None
) -> tuple[Pieces, Lots, np.ndarray]:
    """FIFO-match the fills from row ``start`` on, one at a time, from a book holding ``open_lot`` or
    nothing (see `_match_instrument`; rows before ``start`` get no change).

    The book holds lots of one direction only: a fill against it closes its oldest lots first, and
    opens what remains (a flip) once the book is empty.
    """
    book: deque[list] = deque([open_lot] if open_lot else [])  # [entry row, quantity, commission]
    book_sign = float(sign[open_lot[0]]) if open_lot else 0.0
    pieces: list[float] = []  # flat (entry row, exit row, quantity, entry fee, exit fee) runs
    change = np.zeros(len(sign), dtype=np.int64)
    fills = zip(sign[start:].tolist(), quantity[start:].tolist(), commission[start:].tolist(), strict=True)
    for row, (side, remaining, fee) in enumerate(fills, start):
        was_flat = not book
        while book and side != book_sign:
            lot = book[0]
            entry_row, size, lot_fee = lot
            if abs(size - remaining) <= _DUST * (remaining if remaining > size else size):
                # the fill closes the lot exactly
                pieces += (entry_row, row, size, lot_fee, fee)
                book.popleft()
                remaining = 0.0
                break
            if size < remaining:
                # the fill closes the lot and goes on with its remaining quantity and commission
                exit_fee = fee * (size / remaining)
                pieces += (entry_row, row, size, lot_fee, exit_fee)
                book.popleft()
                remaining -= size
                fee -= exit_fee
            else:
                # the fill closes part of the lot
                entry_fee = lot_fee * (remaining / size)
                pieces += (entry_row, row, remaining, entry_fee, fee)
                lot[1], lot[2] = size - remaining, lot_fee - entry_fee
                remaining = 0.0
                break
        if remaining > 0.0:
            book.append([row, remaining, fee])
            book_sign = side
        if was_flat != (not book):
            change[row] = 1 if book else -1
    return Pieces.of(pieces), Lots.of(list(book)), change


def _directions(sign: np.ndarray) -> np.ndarray:
    return _labels(np.array(["SHORT", "LONG"], dtype=object), (sign > 0).astype(np.intp))


def _labels(names: np.ndarray, codes: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """Return ``names[codes]`` as pandas stores an object array of them (``str`` for strings), inferring
    the dtype once from the names instead of from every row."""
    if len(codes) == 0:
        return np.array([], dtype=object)
    return pd.Series(names).array.take(codes)


def _frame(columns: tuple[str, ...], values: tuple[np.ndarray, ...]) -> pd.DataFrame:
    return pd.DataFrame(dict(zip(columns, values, strict=True)))


def _no_fills() -> dict[str, np.ndarray]:
    return {c: np.array([], dtype=np.int64 if c == "ts_event" else object) for c in FILL_COLUMNS}


def _fill_arrays(fills: Fills) -> FillArrays:
    """Return the validated ``fills`` as arrays in processing order; raise `ConfigError` on a bad value."""
    columns = _fill_columns(fills)
    ts_event = columns["ts_event"]
    if len(ts_event) and not pd.api.types.is_integer_dtype(ts_event.dtype):
        raise ConfigError(f"fills: ts_event must be int ns since epoch, was {ts_event.dtype}")
    buy = _buys(columns["side"])
    quantity, price, commission = (_numbers(columns[c], c) for c in ("quantity", "price", "commission"))
    ts = np.asarray(ts_event, dtype=np.int64)
    if np.all(ts[1:] >= ts[:-1]):  # in order already, as a run's fills are: no copies
        instrument, names = _instrument_codes(columns["instrument"])
        return FillArrays(ts, instrument, names, np.where(buy, 1.0, -1.0), quantity, price, commission)
    order = np.argsort(ts, kind="stable")
    instrument, names = _instrument_codes(columns["instrument"].take(order))
    return FillArrays(
        ts=ts[order],
        instrument=instrument,
        names=names,
        sign=np.where(buy[order], 1.0, -1.0),
        quantity=quantity[order],
        price=price[order],
        commission=commission[order],
    )


def _fill_columns(fills: Fills) -> dict[str, Column]:
    """Return the columns of `FILL_COLUMNS` as arrays of one length, checking that they are there."""
    if isinstance(fills, pd.DataFrame):
        present = fills.columns
    elif isinstance(fills, Mapping):
        present = fills.keys()
    else:
        raise ConfigError(
            f"fills: expected a pandas DataFrame or a mapping of column name to array, was {type(fills).__name__}"
        )
    missing = [c for c in FILL_COLUMNS if c not in present]
    if missing:
        raise ConfigError(f"fills: missing column(s) {missing}; expected {list(FILL_COLUMNS)}")
    columns = {c: _array(fills[c]) for c in FILL_COLUMNS}
    lengths = {len(column) for column in columns.values()}
    if len(lengths) > 1:
        raise ConfigError(f"fills: columns must have one length, were {[len(v) for v in columns.values()]}")
    return columns


def _array(column: object) -> Column:
    """Return a column as an array that compares, takes and converts element by element (a Series
    aligns on its index): a NumPy array, or a pandas extension array such as strings or categories."""
    if isinstance(column, pd.Series | pd.Index):
        return column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array
    if isinstance(column, Column):
        return column
    return np.asarray(column)


def _instrument_codes(instrument: Column) -> tuple[np.ndarray, np.ndarray]:
    """Return each fill's instrument as a code, numbering the instruments by first appearance, and the
    instruments (object array) by code."""
    first = instrument[0] if len(instrument) else None
    if isinstance(first, str) and _matches(instrument, first).all():
        return np.zeros(len(instrument), dtype=np.intp), np.asarray(instrument[:1], dtype=object)
    codes, names = pd.factorize(instrument, use_na_sentinel=False)
    return codes, np.asarray(names, dtype=object)


def _buys(side: Column) -> np.ndarray:
    """Return whether each fill is a buy, checking that ``side`` is "BUY" or "SELL" (whatever its dtype)."""
    buy = _matches(side, "BUY")
    not_buy = ~buy
    sell = _matches(side[not_buy], "SELL")
    if not sell.all():
        raise _bad_value(side, "side", np.flatnonzero(not_buy)[np.argmin(sell)], "'BUY' or 'SELL'")
    return buy


def _matches(column: Column, value: str) -> np.ndarray:
    """Return ``column == value`` as a bool array; a missing value matches nothing."""
    equal = column == value
    if isinstance(equal, np.ndarray):
        return equal
    return equal.to_numpy(dtype=bool, na_value=False)


def _numbers(column: Column, name: str) -> np.ndarray:
    try:
        if isinstance(column, ExtensionArray):
            values = column.to_numpy(dtype=np.float64)
        else:
            values = column.astype(np.float64, copy=False)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"fills: {name} must be numbers, was {column.dtype}") from e
    bad = ~np.isfinite(values) | ((values <= 0) if name == "quantity" else False)
    if np.any(bad):
        expected = "a positive number" if name == "quantity" else "a finite number"
        raise _bad_value(column, name, np.argmax(bad), expected)
    return values


def _bad_value(column: Column, name: str, row: int, expected: str) -> ConfigError:
    """Return the error that names the value of ``column`` at ``row`` and what was expected."""
    value = column.tolist()[row]
    return ConfigError(f"fills: {name} at row {int(row)} was {value!r}; expected {expected}")


@dataclass(frozen=True)
class TradeStats:
    """Statistics of round-trip P&L (net of commission).

    Attributes
    ----------
    count
        Number of round trips.
    win_rate
        Share of round trips with positive P&L; NaN without round trips.
    profit_factor
        Gross profit over gross loss (both positive); NaN without a losing round trip.
    average_win, average_loss
        Mean P&L of the winning and of the losing round trips (the loss is negative); NaN without one.

    Examples
    --------
    >>> trade_stats(np.array([30.0, -10.0, 20.0, -10.0])).profit_factor
    2.5
    """

    count: int
    win_rate: float
    profit_factor: float
    average_win: float
    average_loss: float


def trade_stats(pnl: np.ndarray) -> TradeStats:
    """Return the `TradeStats` of round-trip ``pnl``."""
    # np.compress takes the values a mask selects several times faster than indexing with the mask
    wins, losses = np.compress(pnl > 0, pnl), np.compress(pnl < 0, pnl)
    nan = float("nan")
    return TradeStats(
        count=len(pnl),
        win_rate=len(wins) / len(pnl) if len(pnl) else nan,
        profit_factor=float(wins.sum() / -losses.sum()) if len(losses) else nan,
        average_win=float(wins.mean()) if len(wins) else nan,
        average_loss=float(losses.mean()) if len(losses) else nan,
    )


def exposure(matched: MatchedFills, timestamps: np.ndarray, regular_step: int | None = None) -> float:
    """Return the share of periods ``(t[i-1], t[i]]`` that start with a position open; NaN without one.

    The position at ``t[i-1]`` is the one after every fill with ``ts_event <= t[i-1]``. ``regular_step``:
    the step between every two consecutive timestamps, if known to be always the same.
    """
    if len(timestamps) < 2:
        return float("nan")
    starts = timestamps[:-1]
    # the periods starting at or after each fill and before the next one hold the position after it
    first_period = _first_at_or_after(starts, matched.fill_ts, regular_step)
    periods_after = np.diff(first_period, append=len(starts))
    # the periods after the fills that leave a position open, as an integer dot product
    return int(periods_after @ matched.open_after) / len(starts)


def _first_at_or_after(
    timestamps: np.ndarray, times: np.ndarray, regular_step: int | None = None
) -> np.ndarray:
    """Return ``np.searchsorted(timestamps, times)``: for each time, the first position whose timestamp
    is at or after it, in strictly increasing ``timestamps``; a division where they are ``regular_step``
    apart."""
    first, last = int(timestamps[0]), int(timestamps[-1])
    if regular_step is None or regular_step <= 0 or last - first >= 2**63:
        return np.searchsorted(timestamps, times)
    ahead = first - np.clip(times, first, last)  # no int64 overflow: within the timestamps' span
    positions = -(ahead // regular_step)  # ceil((time - first) / step)
    positions[times > last] = len(timestamps)
    return positions


def annual_turnover(notional: float, mean_equity: float, periods: int, periods_per_year: float) -> float:
    """Return the traded notional over the average equity, per year: ``notional / mean_equity / periods
    * periods_per_year`` (2.0 = the average equity traded twice a year); NaN without periods."""
    if periods == 0:
        return float("nan")
    return notional / mean_equity / periods * periods_per_year
