"""`TapeSource`: a Bytewax source that replays a tape archive as columnar `EventBatch` es.

One Bytewax partition reads the whole tape in merged event-time order (the order a backtest needs
across instruments and topics). Its resume state is the number of batches already emitted, so a
replay under Bytewax recovery continues where it stopped.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> import bytewax.operators as op
>>> from bytewax.dataflow import Dataflow
>>> from bytewax.testing import TestingSink, run_main
>>> from connectors.tape_archive import TapeWriter
>>> path = Path(tempfile.mkdtemp()) / "tape"
>>> with TapeWriter(path) as w:
...     for t in range(5):
...         _ = w.append_event("md.bar.1m", "Bar", {"instrument": "A", "interval_ns": 1, "open": 1.0,
...             "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0, "ts_event": t, "ts_init": t})
>>> flow = Dataflow("doc")
>>> out = []
>>> op.output("out", op.map("size", op.input("in", flow, TapeSource(path, max_rows=2)), len), TestingSink(out))
>>> run_main(flow)
>>> out
[2, 2, 1]
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from tqdm import tqdm

from connectors.tape_archive import TapeReader
from schemas.batch import EventBatch


class _TapePartition(StatefulSourcePartition[EventBatch, int]):
    def __init__(
        self, reader: TapeReader, topics: list[str] | None, max_rows: int, skip: int, progress: bool
    ):
        self._batches: Iterator[EventBatch] = reader.batches(topics, max_rows=max_rows)
        self._emitted = 0
        for _ in range(skip):
            next(self._batches, None)
            self._emitted += 1
        self._bar = (
            tqdm(total=reader.count(topics), unit="ev", unit_scale=True, desc="replay") if progress else None
        )

    def next_batch(self) -> list[EventBatch]:
        batch = next(self._batches, None)
        if batch is None:
            self.close()
            raise StopIteration
        self._emitted += 1
        if self._bar is not None:
            self._bar.update(len(batch))
        return [batch]

    def snapshot(self) -> int:
        return self._emitted

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class TapeSource(FixedPartitionedSource[EventBatch, int]):
    """Replays the ``topics`` of the tape at ``path`` (all by default) in batches of ``max_rows``.

    Parameters
    ----------
    path
        The tape archive directory.
    topics
        Topic names to replay; None replays every topic.
    max_rows
        Maximum rows per emitted batch.
    progress
        Show a progress bar (events replayed / total).
    """

    def __init__(
        self,
        path: str | Path,
        topics: list[str] | None = None,
        max_rows: int = 65_536,
        progress: bool = False,
    ):
        self.path = Path(path)
        self.topics = topics
        self.max_rows = max_rows
        self.progress = progress

    def list_parts(self) -> list[str]:
        return ["tape"]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _TapePartition:
        return _TapePartition(
            TapeReader(self.path), self.topics, self.max_rows, resume_state or 0, self.progress
        )
