"""`LiveExecution`: the execution service's ordering gate in front of the `TradingEngine`.

Live, market data and targets arrive on different topics in no guaranteed order. A backtest applies
them in event-time order: a bar, then the targets it caused, then the next bar. To make the live
service decide exactly what a replay of its inputs decides, bars are buffered until the strategy's
`Watermark` says it has emitted everything up to their event time; then the released bars are
ordered as a replay orders them (``ts_event``, topic, partition, offset), each target is attached to
the bar that caused it (its instrument's bar at its ``ts_event``), and the batch goes through the same
`TradingEngine.on_batch` the backtest calls. Controls apply on arrival. A service that receives
several inputs at once can `advance` the watermark over all of them and `release` once (one engine
run and one PnL instead of one per watermark).

Examples
--------
>>> from operators.execution.stage import ExecutionStageConfig
>>> gate = LiveExecution(ExecutionStageConfig(initial_cash=1000.0), "s", "a")
>>> bars = [{"instrument": "X", "interval_ns": 1, "open": p, "high": p, "low": p, "close": p,
...          "volume": 1e6, "ts_event": t, "ts_init": t} for t, p in [(1, 10.0), (2, 11.0)]]
>>> gate.on_bars(EventBatch.from_records("Bar", "md.bar.1m", bars))
[]
>>> target = {"id": "t", "strategy_id": "s", "account_id": "a", "instrument": "X", "target_quantity": 5.0,
...           "reason": "", "ts_event": 1, "ts_init": 1}
>>> gate.on_target(target)
[]
>>> [name for name, _ in gate.on_watermark({"source": "s", "ts_event": 2, "ts_init": 2})]
['OrderIntent', 'Order', 'ExecutionReport', 'Fill', 'ExecutionReport', 'Position', 'PnL', 'PnL']
"""

from __future__ import annotations

import numpy as np

from operators.engine import TradingEngine
from operators.execution.stage import ExecutionStageConfig
from operators.strategy.runner import Targets
from schemas.batch import EventBatch, merge_categories


class LiveExecution:
    """Buffers bars and targets until the strategy's watermark covers them; see the module docstring."""

    def __init__(self, config: ExecutionStageConfig, strategy_id: str, account_id: str):
        self.engine = TradingEngine(config, strategy_id, account_id)
        self.strategy_id = strategy_id
        self.account_id = account_id
        self.watermark = -1
        self._bars: list[EventBatch] = []
        self._targets: list[dict] = []

    def on_bars(self, batch: EventBatch) -> list[tuple[str, dict]]:
        """Buffer market data until the watermark passes it."""
        self._bars.append(batch)
        return []

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
        """Execute the buffered bars and targets the watermark covers, then mark the portfolio (PnL)."""
        bars = self._release_bars()
        if bars is None:
            return []
        targets = self._release_targets(bars)
        result = self.engine.on_batch(bars, targets)
        last = int(bars.columns["ts_event"][-1]), int(bars.columns["ts_init"][-1])
        return result.events + [("PnL", self.engine.portfolio.to_pnl_event(*last))]

    def _release_bars(self) -> EventBatch | None:
        if not self._bars:
            return None
        categories, codes = merge_categories(self._bars, "instrument")
        merged = {
            name: np.concatenate([b.columns[name] for b in self._bars]) for name in self._bars[0].columns
        }
        merged["instrument"] = np.concatenate(codes)
        partition = np.concatenate([_or_minus_one(b.partition, len(b)) for b in self._bars])
        offset = np.concatenate([_or_minus_one(b.offset, len(b)) for b in self._bars])
        ts = merged["ts_event"]
        ready = ts <= self.watermark
        order = np.flatnonzero(ready)[np.lexsort((offset[ready], partition[ready], ts[ready]))]
        keep = np.flatnonzero(~ready)
        topic, schema = self._bars[0].topic, self._bars[0].schema
        self._bars = (
            [
                EventBatch(
                    schema,
                    topic,
                    {k: v[keep] for k, v in merged.items()},
                    {"instrument": categories},
                    partition[keep],
                    offset[keep],
                )
            ]
            if len(keep)
            else []
        )
        if not len(order):
            return None
        columns = {k: v[order] for k, v in merged.items()}
        return EventBatch(schema, topic, columns, {"instrument": categories}, partition[order], offset[order])

    def _release_targets(self, bars: EventBatch) -> Targets:
        ready = [t for t in self._targets if t["ts_event"] <= self.watermark]
        self._targets = [t for t in self._targets if t["ts_event"] > self.watermark]
        if not ready:
            return Targets(
                np.empty(0, np.int64), (), np.empty(0), (), np.empty(0, np.int64), np.empty(0, np.int64)
            )
        ts = bars.columns["ts_event"]
        names = bars.categories["instrument"]
        instruments = np.asarray(names, dtype=object)[bars.columns["instrument"]]
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


def _or_minus_one(values: np.ndarray | None, length: int) -> np.ndarray:
    return np.full(length, -1, dtype=np.int64) if values is None else np.asarray(values, dtype=np.int64)
