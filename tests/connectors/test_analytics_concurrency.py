"""A reader process queries the embedded store while another process inserts and compacts.

The reader must never fail, never see a row twice, never see part of a batch, and must see counts
only grow; at the end it sees everything the writer wrote, and compaction did merge parts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from connectors.analytics import open_store

ROOT = Path(__file__).resolve().parents[2]
BATCH = 50
BATCHES = 120

WRITER = textwrap.dedent(
    """
    import json, sys
    from connectors.analytics import open_store
    store = open_store(sys.argv[1])
    batch, batches, merged = int(sys.argv[2]), int(sys.argv[3]), 0
    def rows(b):
        return [{"id": f"f{b}-{i}", "order_id": "o", "strategy_id": "s", "account_id": "a",
                 "instrument": "ALFA", "side": "BUY", "quantity": 1.0, "price": 10.0 + i,
                 "commission": 0.0, "liquidity": "TAKER", "ts_event": 1_704_205_860_000_000_000 + b,
                 "ts_init": 0, "run_id": "live"} for i in range(batch)]
    for b in range(batches):
        store.insert("fills", rows(b))
        if b % 3 == 2:
            store.insert("fills", rows(b - 1))  # a replayed batch
        if b % 10 == 9:
            merged += store.compact()
    print(json.dumps({"merged": merged}))
    """
)


@pytest.mark.timeout(300)
def test_reader_never_errs_nor_sees_duplicates_or_half_batches_while_writer_inserts_and_compacts(tmp_path):
    location = str(tmp_path / "store")
    reader = open_store(location)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, location, str(BATCH), str(BATCHES)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    sql = "SELECT count() AS n, uniqExact(id) AS ids FROM fills"
    while writer.poll() is None:
        counts = reader.query(sql).iloc[0]
        seen.append((int(counts["n"]), int(counts["ids"])))
    out, err = writer.communicate()
    assert writer.returncode == 0, err
    final = reader.query(sql).iloc[0]
    seen.append((int(final["n"]), int(final["ids"])))

    assert len(seen) > 5  # the reader really ran alongside the writer
    assert all(n == ids for n, ids in seen)  # never a duplicate
    assert all(n % BATCH == 0 for n, _ in seen)  # never part of a batch
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)  # never a step back
    assert seen[-1] == (BATCH * BATCHES, BATCH * BATCHES)
    assert json.loads(out)["merged"] > 0
