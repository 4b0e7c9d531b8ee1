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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from schemas.errors import ConfigError

FILL_COLUMNS = ("ts_event", "instrument", "side", "quantity", "price", "commission")
ROUND_TRIP_COLUMNS = ("instrument", "direction", "entry_ts", "exit_ts", "quantity", "entry_price",
                      "exit_price", "commission", "pnl", "holding_ns")
OPEN_LOT_COLUMNS = ("instrument", "direction", "entry_ts", "quantity", "entry_price", "commission")

# Quantities within this fraction of each other are equal: 0.3 - 0.1 - 0.2 leaves no lot behind.
_DUST = 1e-9


class _Lot:
    __slots__ = ("ts", "sign", "quantity", "price", "commission")

    def __init__(self, ts: int, sign: int, quantity: float, price: float, commission: float):
        self.ts, self.sign, self.quantity, self.price, self.commission = ts, sign, quantity, price, commission


@dataclass(frozen=True)
class MatchedFills:
    """The outcome of FIFO matching.

    Attributes
    ----------
    round_trips
        One row per closed piece, columns ``ROUND_TRIP_COLUMNS``; ``pnl`` is net of the entry and exit
        commission shares, ``commission`` is their sum, ``holding_ns = exit_ts - entry_ts``.
    open_lots
        The lots still open at the end, columns ``OPEN_LOT_COLUMNS`` (``commission`` is the entry
        commission not yet charged to a round trip).
    fill_ts
        The fills' ``ts_event`` in processing order.
    open_after
        Whether any instrument has an open position after each fill, in processing order.
    notional
        The traded notional, the sum of ``|quantity * price|``.
    """

    round_trips: pd.DataFrame
    open_lots: pd.DataFrame
    fill_ts: np.ndarray
    open_after: np.ndarray
    notional: float


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
    ordered = _checked(_no_fills() if fills is None else fills)
    books: dict[str, deque[_Lot]] = {}
    trips: list[tuple] = []
    open_after = np.zeros(len(ordered), dtype=bool)
    rows = zip(*(ordered[c].to_numpy() for c in FILL_COLUMNS), strict=True)
    open_instruments = 0
    for i, (ts, instrument, side, quantity, price, commission) in enumerate(rows):
        lots = books.setdefault(instrument, deque())
        was_open = bool(lots)
        _apply(lots, instrument, int(ts), 1 if side == "BUY" else -1, float(quantity), float(price),
               float(commission), trips)
        open_instruments += bool(lots) - was_open
        open_after[i] = open_instruments > 0
    remaining = [(name, *_lot_row(lot)) for name, lots in books.items() for lot in lots]
    return MatchedFills(
        round_trips=_frame(trips, ROUND_TRIP_COLUMNS),
        open_lots=_frame(sorted(remaining, key=lambda row: row[2]), OPEN_LOT_COLUMNS),
        fill_ts=ordered["ts_event"].to_numpy(dtype=np.int64),
        open_after=open_after,
        notional=float(np.abs(ordered["quantity"] * ordered["price"]).sum()),
    )


def _apply(lots: deque[_Lot], instrument: str, ts: int, sign: int, quantity: float, price: float,
           commission: float, trips: list[tuple]) -> None:
    remaining, fee = quantity, commission
    while remaining > 0.0 and lots and lots[0].sign != sign:
        lot = lots[0]
        if abs(lot.quantity - remaining) <= _DUST * max(lot.quantity, remaining):
            matched, lot_share, fill_share = lot.quantity, 1.0, 1.0
        else:
            matched = min(lot.quantity, remaining)
            lot_share, fill_share = matched / lot.quantity, matched / remaining
        entry_fee, exit_fee = lot.commission * lot_share, fee * fill_share
        pnl = lot.sign * (price - lot.price) * matched - entry_fee - exit_fee
        trips.append((instrument, _direction(lot.sign), lot.ts, ts, matched, lot.price, price,
                      entry_fee + exit_fee, pnl, ts - lot.ts))
        lot.quantity, lot.commission = lot.quantity - matched, lot.commission - entry_fee
        remaining, fee = (0.0, 0.0) if fill_share == 1.0 else (remaining - matched, fee - exit_fee)
        if lot_share == 1.0:
            lots.popleft()
    if remaining > 0.0:
        lots.append(_Lot(ts, sign, remaining, price, fee))


def _direction(sign: int) -> str:
    return "LONG" if sign > 0 else "SHORT"


def _lot_row(lot: _Lot) -> tuple:
    return _direction(lot.sign), lot.ts, lot.quantity, lot.price, lot.commission


def _frame(rows: list[tuple], columns: tuple[str, ...]) -> pd.DataFrame:
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    return pd.DataFrame({name: np.array(column, dtype=_dtype(name)) for name, column in zip(columns, values,
                                                                                            strict=True)})


def _dtype(column: str) -> type:
    if column in ("instrument", "direction"):
        return object
    return np.int64 if column.endswith("_ts") or column == "holding_ns" else np.float64


def _no_fills() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=np.int64 if c == "ts_event" else object) for c in FILL_COLUMNS})


def _checked(fills: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(fills, pd.DataFrame):
        raise ConfigError(f"fills: expected a pandas DataFrame, was {type(fills).__name__}")
    missing = [c for c in FILL_COLUMNS if c not in fills.columns]
    if missing:
        raise ConfigError(f"fills: missing column(s) {missing}; expected {list(FILL_COLUMNS)}")
    if len(fills) and not pd.api.types.is_integer_dtype(fills["ts_event"].dtype):
        raise ConfigError(f"fills: ts_event must be int ns since epoch, was {fills['ts_event'].dtype}")
    _check_values(fills, "side", ~fills["side"].isin(["BUY", "SELL"]), "'BUY' or 'SELL'")
    for column in ("quantity", "price", "commission"):
        try:
            values = fills[column].to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"fills: {column} must be numbers, was {fills[column].dtype}") from e
        bad = ~np.isfinite(values) | ((values <= 0) if column == "quantity" else False)
        _check_values(fills, column, bad, "a positive number" if column == "quantity" else "a finite number")
    return fills.iloc[np.argsort(fills["ts_event"].to_numpy(), kind="stable")]


def _check_values(fills: pd.DataFrame, column: str, bad: np.ndarray | pd.Series, expected: str) -> None:
    bad = np.asarray(bad)
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
    last_fill = np.searchsorted(matched.fill_ts, timestamps[:-1], side="right") - 1
    held = np.zeros(len(last_fill), dtype=bool)
    known = last_fill >= 0
    held[known] = matched.open_after[last_fill[known]]
    return float(held.mean())


def annual_turnover(notional: float, mean_equity: float, periods: int, periods_per_year: float) -> float:
    """Return the traded notional over the average equity, per year: ``notional / mean_equity / periods
    * periods_per_year`` (2.0 = the average equity traded twice a year); NaN without periods."""
    if periods == 0:
        return float("nan")
    return notional / mean_equity / periods * periods_per_year
