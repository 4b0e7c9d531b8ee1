"""`AnalyticsSink`: a Bytewax sink that writes ``(table, row)`` items to an analytics store.

Each ``write_batch`` writes its rows durably before it returns (no rows are buffered across calls,
so an epoch Bytewax considers done is on disk), and every `compact_every` calls it compacts the store.
Recovery replays the last epoch: the replayed rows are written again and the store shows them once
(views / ReplacingMergeTree keep one row per key).

Examples
--------
>>> import tempfile
>>> import bytewax.operators as op
>>> from bytewax.dataflow import Dataflow
>>> from bytewax.testing import TestingSource, run_main
>>> from connectors.analytics.store import open_store
>>> root = tempfile.mkdtemp()
>>> row = {"run_id": "live", "ts_event": 0, "equity": 1.0, "cash": 1.0, "gross_exposure": 0.0}
>>> flow = Dataflow("sink_example")
>>> op.output("write", op.input("rows", flow, TestingSource([("equity", row)] * 3)), AnalyticsSink(root))
>>> run_main(flow)
>>> int(open_store(root).query("SELECT count() AS n FROM equity")["n"][0])
1
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from connectors.analytics.store import AnalyticsStore, open_store

Row = tuple[str, dict[str, Any]]


class _StorePartition(StatelessSinkPartition[Row]):
    def __init__(self, store: AnalyticsStore, compact_every: int):
        self._store = store
        self._compact_every = compact_every
        self._writes = 0

    def write_batch(self, items: list[Row]) -> None:
        by_table: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for table, row in items:
            by_table[table].append(row)
        for table, rows in by_table.items():
            self._store.insert(table, rows)
        self._writes += 1
        if self._writes % self._compact_every == 0:
            self._store.compact()

    def close(self) -> None:
        self._store.close()


class AnalyticsSink(DynamicSink[Row]):
    """Write ``(table, row)`` items to the store at ``location`` (one store handle per worker).

    Parameters
    ----------
    location
        Store location, as for `open_store`.
    compact_every
        Compact after this many ``write_batch`` calls.
    """

    def __init__(self, location: str | Path, compact_every: int = 50):
        self._location = location
        self._compact_every = compact_every

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _StorePartition:
        return _StorePartition(open_store(self._location), self._compact_every)
