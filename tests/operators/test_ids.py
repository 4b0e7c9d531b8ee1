"""Event ids: one by one (`child_id`, `target_id`) and for whole batches (lanes) they are the same ids."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from operators.execution.ids import (
    child_id,
    child_lanes,
    event_id,
    format_ids,
    lanes,
    target_id,
    target_lanes,
)

parents = st.one_of(st.builds(event_id, st.text(max_size=8)), st.text(max_size=40))
sequences = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(
    st.lists(st.tuples(parents, sequences), min_size=1, max_size=30), st.sampled_from(["Order", "Fill", "x"])
)
def test_child_lanes_equal_child_id(rows, kind):
    hi = np.array([lanes(parent)[0] for parent, _ in rows], dtype=np.uint64)
    lo = np.array([lanes(parent)[1] for parent, _ in rows], dtype=np.uint64)
    sequence = np.array([s for _, s in rows], dtype=np.int64)

    expected = [child_id(parent, kind, s) for parent, s in rows]

    assert format_ids(*child_lanes(hi, lo, kind, sequence)).tolist() == expected
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in expected)


@given(st.text(max_size=5), st.text(max_size=5), st.lists(sequences, min_size=1, max_size=20))
def test_target_lanes_equal_target_id(strategy, instrument, times):
    expected = [target_id(strategy, instrument, t) for t in times]

    assert (
        format_ids(*target_lanes(strategy, instrument, np.array(times, dtype=np.int64))).tolist() == expected
    )


def test_ids_of_a_long_replay_are_distinct_and_depend_on_every_cause():
    times = np.arange(200_000, dtype=np.int64) * 60_000_000_000
    targets = target_lanes("s", "ALFA", times)
    orders = child_lanes(*child_lanes(*targets, "OrderIntent"), "Order")
    every = np.concatenate(
        [format_ids(*targets), format_ids(*orders), format_ids(*target_lanes("s", "BETA", times))]
    )

    assert len(set(every.tolist())) == len(every)
    assert (
        child_id(event_id("p"), "Fill", 0)
        != child_id(event_id("p"), "Fill", 1)
        != child_id(event_id("q"), "Fill", 1)
    )
