"""`LiveExecution`: the execution service's ordering gate in front of the `TradingEngine`.

Live, market data and targets arrive on different topics in no guaranteed order. A backtest applies
them in event-time order: a bar, then the targets it caused, then the next bar. To make the live
service decide exactly what a replay of its inputs decides, bars are buffered until the strategy's
`Watermark` says it has emitted everything up to their event time; then the released bars are
ordered as a replay orders them (``ts_event``, partition, offset), each target is attached to the bar
that caused it (its instrument's bar at its ``ts_event``), and the batch goes through the same
`TradingEngine.on_batch` the backtest calls. Controls apply on arrival. A service that receives
several inputs at once can `advance` the watermark over all of them and `release` once (one engine
run and one PnL instead of one per watermark).

A release with no target, no order working on its instruments and no drawdown switch to check is
*quiet*: the engine would only remember each instrument's last close and mark the held positions
there (its sweep has no row to process), so the gate does just that, without building a batch.
Bars are buffered as plain records for the same reason: most releases never need columns. A release
publishes one PnL, at its last bar: the engine's PnL after each trade within it is left out (a
backtest keeps them; its equity path comes from the engine, not from these events).

Examples
--------
>>> from operators.execution.stage import ExecutionStageConfig
>>> gate = LiveExecution(ExecutionStageConfig(initial_cash=1000.0), "s", "a")
>>> for t, p in [(1, 10.0), (2, 11.0)]:
...     gate.on_bar({"instrument": "X", "interval_ns": 1, "open": p, "high": p, "low": p, "close": p,
...                  "volume": 1e6, "ts_event": t, "ts_init": t}, "md.bar.1m")
>>> target = {"id": "t", "strategy_id": "s", "account_id": "a", "instrument": "X", "target_quantity": 5.0,
...           "reason": "", "ts_event": 1, "ts_init": 1}
>>> gate.on_target(target)
[]
>>> [name for name, _ in gate.on_watermark({"source": "s", "ts_event": 2, "ts_init": 2})]
['OrderIntent', 'Order', 'ExecutionReport', 'Fill', 'ExecutionReport', 'Position', 'PnL']
"""

from __future__ import annotations

from operator import itemgetter
from typing import NamedTuple

import numpy as np

from operators.engine import TradingEngine
from operators.execution.stage import ExecutionStageConfig
from operators.strategy.runner import Targets
from schemas.batch import EventBatch


class PendingBar(NamedTuple):
    """A buffered bar: its replay order (``ts_event``, partition, offset), its topic and its record."""

    ts_event: int
    partition: int
    offset: int
    topic: str
    record: dict


_REPLAY_ORDER = itemgetter(0, 1, 2)


class LiveExecution:
    """Buffers bars and targets until the strategy's watermark covers them; see the module docstring."""

    def __init__(self, config: ExecutionStageConfig, strategy_id: str, account_id: str):
        self.engine = TradingEngine(config, strategy_id, account_id)
        self.strategy_id = strategy_id
        self.account_id = account_id
        self.watermark = -1
        # the drawdown switch needs every row's equity: then every release goes through the engine
        self._quiet_possible = config.risk.max_drawdown is None
        self._bars: list[PendingBar] = []
        self._targets: list[dict] = []

    def on_bar(self, record: dict, topic: str, partition: int = -1, offset: int = -1) -> None:
        """Buffer one bar (a ``Bar`` record from ``topic``) until the watermark passes it."""
        self._bars.append(PendingBar(record["ts_event"], partition, offset, topic, record))

    def on_target(self, target: dict) -> list[tuple[str, dict]]:
        """Buffer a target of this engine's strategy until the watermark passes it."""
        if target["strategy_id"] == self.strategy_id and target["account_id"] == self.account_id:
            self._targets.append(target)
        return []

    def on_control(self, control: dict) -> list[tuple[str, dict]]:
        """Apply a Control at once."""
        return self.engine.stage.on_control(control)

    def on_watermark(self, watermark: dict) -> list[tuple[str, dict]]:
        """Release and execute everything up to the strategy's new watermark."""
        return self.release() if self.advance(watermark) else []

    def advance(self, watermark: dict) -> bool:
        """Move the watermark without releasing (several inputs, one `release`); True if it moved."""
        if watermark["source"] != self.strategy_id or watermark["ts_event"] <= self.watermark:
            return False
        self.watermark = watermark["ts_event"]
        return True

    def release(self) -> list[tuple[str, dict]]:
        """Execute the buffered bars and targets the watermark covers; the account's PnL once, marked at
        the last bar (the engine's PnL after each trade of the release is superseded by it)."""
        bars = self._release_bars()
        if not bars:
            return []
        targets = self._take_targets()
        if targets or not self._quiet(bars):
            batch = _bar_batch(bars)
            events = self.engine.on_batch(batch, self._targets_of(batch, targets)).events
        else:
            events = []
            self._mark(bars)
        last = bars[-1].record
        pnl = self.engine.portfolio.to_pnl_event(last["ts_event"], last["ts_init"])
        return [event for event in events if event[0] != "PnL"] + [("PnL", pnl)]

    def _release_bars(self) -> list[PendingBar]:
        """The buffered bars the watermark covers, in replay order (the rest stay buffered)."""
        watermark, pending = self.watermark, self._bars
        if all(b.ts_event <= watermark for b in pending):  # the usual case
            ready, self._bars = pending, []
        else:
            ready = [b for b in pending if b.ts_event <= watermark]
            self._bars = [b for b in pending if b.ts_event > watermark]
        ready.sort(key=_REPLAY_ORDER)
        return ready

    def _take_targets(self) -> list[dict]:
        ready = [t for t in self._targets if t["ts_event"] <= self.watermark]
        if ready:
            self._targets = [t for t in self._targets if t["ts_event"] > self.watermark]
        return ready

    def _quiet(self, bars: list[PendingBar]) -> bool:
        """Whether the engine would only mark these bars: no drawdown switch and no order working on them."""
        if not self._quiet_possible:
            return False
        exchange = self.engine.stage.exchange
        return not any(exchange.open_orders(name) for name in {b.record["instrument"] for b in bars})

    def _mark(self, bars: list[PendingBar]) -> None:
        """What `TradingEngine.on_batch` does with a quiet batch: remember each instrument's last close
        and mark the portfolio's instruments there. (Its peak equity feeds only the drawdown switch,
        which a quiet release does not have.)"""
        last_close = self.engine.last_close
        for bar in bars:
            last_close[bar.record["instrument"]] = bar.record["close"]
        portfolio = self.engine.portfolio
        for instrument in portfolio.instruments():
            price = last_close.get(instrument)
            if price is not None:
                portfolio.mark(instrument, price)

    def _targets_of(self, bars: EventBatch, ready: list[dict]) -> Targets:
        """The released targets as `Targets`, each on the row of the bar that caused it."""
        if not ready:
            return Targets(
                np.empty(0, np.int64), (), np.empty(0), (), np.empty(0, np.int64), np.empty(0, np.int64)
            )
        ts = bars.columns["ts_event"]
        instruments = bars.strings("instrument")
        rows = []
        for target in ready:
            same_time = np.flatnonzero(ts == target["ts_event"])
            own = same_time[instruments[same_time] == target["instrument"]]
            if len(own):
                rows.append(int(own[-1]))
            elif len(same_time):
                rows.append(int(same_time[-1]))
            else:  # its bar was released earlier: apply it before everything released now
                rows.append(0)
        order = np.argsort(np.asarray(rows), kind="stable")
        picked = [ready[i] for i in order]
        return Targets(
            np.asarray(rows, dtype=np.int64)[order],
            tuple(t["instrument"] for t in picked),
            np.asarray([t["target_quantity"] for t in picked], dtype=np.float64),
            tuple(t["reason"] for t in picked),
            np.asarray([t["ts_event"] for t in picked], dtype=np.int64),
            np.asarray([t["ts_init"] for t in picked], dtype=np.int64),
        )


def _bar_batch(bars: list[PendingBar]) -> EventBatch:
    """The released bars as one columnar batch with their source coordinates (`EventBatch.from_records`'s
    columns, its string fields coded without sorting an object array: a few rows cost microseconds)."""
    records = [b.record for b in bars]
    columns: dict[str, np.ndarray] = {}
    categories: dict[str, tuple[str, ...]] = {}
    for name, first in records[0].items():
        values = [r[name] for r in records]
        if isinstance(first, str):
            categories[name] = tuple(sorted(set(values)))
            code = {value: i for i, value in enumerate(categories[name])}
            columns[name] = np.array([code[v] for v in values], dtype=np.int32)
        else:
            columns[name] = np.array(values)
    partition = np.array([b.partition for b in bars], dtype=np.int64)
    offset = np.array([b.offset for b in bars], dtype=np.int64)
    return EventBatch("Bar", bars[0].topic, columns, categories, partition, offset)
