"""Round trips: fills matched first-in first-out per instrument, and the statistics of their P&L.

A fill that trades against the open position closes its oldest lots first; each matched piece is one
round trip (so scaling in with two buys and out with one sell gives two round trips). A fill larger
than the position closes it and opens the remainder the other way (a flip). Commission is shared
pro rata by quantity: a lot carries its entry commission until it is closed, and a fill's commission
is split over the pieces it closes and the lot it opens. Fills are processed in ``ts_event`` order
(stable for equal times).

Fills are a DataFrame with columns ``ts_event`` (int ns), ``instrument``, ``side`` (``"BUY"`` or
``"SELL"``), ``quantity`` (> 0), ``price`` and ``commission`` (the account currency); other columns are
ignored.

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
from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np
import pandas as pd

from schemas.errors import ConfigError

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


def round_trips(fills: pd.DataFrame) -> pd.DataFrame:
    """Return the round trips of ``fills`` (see `MatchedFills.round_trips`), in the order they closed.

    Raises
    ------
    ConfigError
        If a column is missing or a value is invalid; the message names the column and the row.
    """
    return match_fills(fills).round_trips


def open_lots(fills: pd.DataFrame) -> pd.DataFrame:
    """Return the lots left open after ``fills`` (see `MatchedFills.open_lots`), oldest first."""
    return match_fills(fills).open_lots


def match_fills(fills: pd.DataFrame | None) -> MatchedFills:
    """Match ``fills`` first-in first-out per instrument (None: no fills); see the module docstring."""
    arrays = _fill_arrays(_no_fills() if fills is None else fills)
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
    return MatchedFills(
        fills=arrays,
        closed=closed.take(np.argsort(closed.exit_row, kind="stable")),
        still_open=still_open.take(np.argsort(arrays.ts[still_open.entry_row], kind="stable")),
        open_after=np.cumsum(change) > 0,
    )


def _rows_by_instrument(instrument: np.ndarray, count: int) -> list[np.ndarray]:
    """Return the rows of each instrument, in order, by code."""
    if count <= 1:
        return [np.arange(len(instrument))]
    order = np.argsort(instrument, kind="stable")
    return np.split(order, np.cumsum(np.bincount(instrument, minlength=count))[:-1])


def _match_instrument(
    sign: np.ndarray, quantity: np.ndarray, commission: np.ndarray
) -> tuple[Pieces, Lots, np.ndarray]:
    """FIFO-match one instrument's fills, whose rows are positions in the arguments.

    Returns the closed pieces, the lots left open, and for each fill the change in whether a position
    is open (+1 opened, -1 closed, 0 otherwise). The leading fills that keep at most one lot in the
    book are matched at once (see `_one_lot_run`), the rest one at a time.
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


def _no_fills() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=np.int64 if c == "ts_event" else object) for c in FILL_COLUMNS})


def _fill_arrays(fills: pd.DataFrame) -> FillArrays:
    """Return the validated ``fills`` as arrays in processing order; raise `ConfigError` on a bad value."""
    if not isinstance(fills, pd.DataFrame):
        raise ConfigError(f"fills: expected a pandas DataFrame, was {type(fills).__name__}")
    missing = [c for c in FILL_COLUMNS if c not in fills.columns]
    if missing:
        raise ConfigError(f"fills: missing column(s) {missing}; expected {list(FILL_COLUMNS)}")
    if len(fills) and not pd.api.types.is_integer_dtype(fills["ts_event"].dtype):
        raise ConfigError(f"fills: ts_event must be int ns since epoch, was {fills['ts_event'].dtype}")
    buy = _buys(fills)
    quantity, price, commission = (_numbers(fills, c) for c in ("quantity", "price", "commission"))
    ts = fills["ts_event"].to_numpy(dtype=np.int64)
    order = np.argsort(ts, kind="stable")
    instrument, names = pd.factorize(fills["instrument"].take(order), use_na_sentinel=False)
    return FillArrays(
        ts=ts[order],
        instrument=instrument,
        names=np.asarray(names, dtype=object),
        sign=np.where(buy[order], 1.0, -1.0),
        quantity=quantity[order],
        price=price[order],
        commission=commission[order],
    )


def _buys(fills: pd.DataFrame) -> np.ndarray:
    """Return whether each fill is a buy, checking that ``side`` is "BUY" or "SELL" (whatever its dtype)."""
    codes, sides = pd.factorize(fills["side"], use_na_sentinel=False)
    _check_values(fills, "side", ~np.asarray(sides.isin(["BUY", "SELL"]))[codes], "'BUY' or 'SELL'")
    return np.asarray(sides == "BUY", dtype=bool)[codes]


def _numbers(fills: pd.DataFrame, column: str) -> np.ndarray:
    try:
        values = fills[column].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"fills: {column} must be numbers, was {fills[column].dtype}") from e
    bad = ~np.isfinite(values) | ((values <= 0) if column == "quantity" else False)
    _check_values(fills, column, bad, "a positive number" if column == "quantity" else "a finite number")
    return values


def _check_values(fills: pd.DataFrame, column: str, bad: np.ndarray, expected: str) -> None:
    if np.any(bad):
        row = int(np.argmax(bad))
        value = fills[column].tolist()[row]
        raise ConfigError(f"fills: {column} at row {row} was {value!r}; expected {expected}")


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
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    nan = float("nan")
    return TradeStats(
        count=len(pnl),
        win_rate=len(wins) / len(pnl) if len(pnl) else nan,
        profit_factor=float(wins.sum() / -losses.sum()) if len(losses) else nan,
        average_win=float(wins.mean()) if len(wins) else nan,
        average_loss=float(losses.mean()) if len(losses) else nan,
    )


def exposure(matched: MatchedFills, timestamps: np.ndarray) -> float:
    """Return the share of periods ``(t[i-1], t[i]]`` that start with a position open; NaN without one.

    The position at ``t[i-1]`` is the one after every fill with ``ts_event <= t[i-1]``.
    """
    if len(timestamps) < 2:
        return float("nan")
    starts = timestamps[:-1]
    # the periods starting at or after each fill and before the next one hold the position after it
    first_period = np.searchsorted(starts, matched.fill_ts, side="left")
    periods_after = np.diff(first_period, append=len(starts))
    return int(periods_after[matched.open_after].sum()) / len(starts)


def annual_turnover(notional: float, mean_equity: float, periods: int, periods_per_year: float) -> float:
    """Return the traded notional over the average equity, per year: ``notional / mean_equity / periods
    * periods_per_year`` (2.0 = the average equity traded twice a year); NaN without periods."""
    if periods == 0:
        return float("nan")
    return notional / mean_equity / periods * periods_per_year
