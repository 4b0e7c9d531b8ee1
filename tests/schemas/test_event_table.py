"""`EventTable`: records in, the same records out, through concatenation, merging and DataFrames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from operators.execution.ids import event_id
from schemas.codec import CODEC
from schemas.event_table import Coded, EventTable, fields, id_lanes, merge_records, tables_of

ids = st.one_of(st.builds(event_id, st.text(max_size=5)), st.text(min_size=1, max_size=8))
names = st.sampled_from(["s1", "s2", "ALFA", "BETA", ""])
doubles = st.floats(allow_nan=False, allow_infinity=False, width=64)
longs = st.integers(min_value=-(2**62), max_value=2**62)


def report(id_, order_id, strategy, status, avg, last, ts) -> dict:
    return {
        "id": id_,
        "order_id": order_id,
        "strategy_id": strategy,
        "account_id": "a",
        "instrument": "ALFA",
        "status": status,
        "filled_quantity": 1.0,
        "leaves_quantity": 0.0,
        "avg_price": avg,
        "last_quantity": 1.0,
        "last_price": last,
        "reason": "",
        "ts_event": ts,
        "ts_init": ts,
    }


def alert(id_, strategy, instrument, value, ts) -> dict:
    return {
        "id": id_,
        "strategy_id": strategy,
        "account_id": "",
        "instrument": instrument,
        "rule": "max_position",
        "severity": "WARNING",
        "message": "too big",
        "value": value,
        "limit": None,
        "action": "REJECT",
        "ts_event": ts,
        "ts_init": ts,
    }


reports = st.builds(
    report,
    ids,
    ids,
    names,
    st.sampled_from(["ACCEPTED", "FILLED", "CANCELED"]),
    st.none() | doubles,
    st.none() | doubles,
    longs,
)
alerts = st.builds(alert, ids, st.none() | names, st.none() | names, st.none() | doubles, longs)


@given(st.lists(reports, min_size=1, max_size=20), st.lists(alerts, min_size=1, max_size=20))
def test_records_survive_tables_concatenation_and_merging(report_rows, alert_rows):
    for row in report_rows + alert_rows:
        CODEC.encode("ExecutionReport" if "status" in row else "RiskAlert", row)  # valid events only
    events = [("ExecutionReport", r) for r in report_rows] + [("RiskAlert", a) for a in alert_rows]
    events = [events[i] for i in np.random.default_rng(len(events)).permutation(len(events))]

    tables = tables_of(events)

    assert merge_records(tables) == events
    half = len(report_rows) // 2
    parts = [
        EventTable.from_records("ExecutionReport", report_rows[:half], range(half)),
        EventTable.from_records("ExecutionReport", report_rows[half:], range(half, len(report_rows))),
    ]
    assert EventTable.concat("ExecutionReport", parts).to_records() == report_rows


@given(st.lists(alerts, min_size=1, max_size=20))
def test_frame_has_schema_columns_strings_and_nulls(alert_rows):
    frame = EventTable.from_records("RiskAlert", alert_rows, range(len(alert_rows))).to_frame()

    assert list(frame.columns) == list(fields("RiskAlert"))
    assert frame["id"].tolist() == [a["id"] for a in alert_rows]
    assert [None if pd.isna(v) else v for v in frame["strategy_id"]] == [a["strategy_id"] for a in alert_rows]
    assert [None if np.isnan(v) else v for v in frame["value"]] == [a["value"] for a in alert_rows]
    assert frame["ts_event"].dtype == np.int64


@given(st.lists(alerts, min_size=1, max_size=20))
def test_arrow_table_written_as_parquet_reads_back_as_the_frame(tmp_path_factory, alert_rows):
    table = EventTable.from_records("RiskAlert", alert_rows, range(len(alert_rows)))
    path = tmp_path_factory.mktemp("arrow") / "alerts.parquet"

    pq.write_table(table.to_arrow(), path, use_dictionary=list(table.categories), store_schema=False)

    pd.testing.assert_frame_equal(pd.read_parquet(path), table.to_frame())


def test_empty_concatenation_is_an_empty_frame_with_the_schema_columns():
    frame = EventTable.concat("Fill", []).to_frame()

    assert len(frame) == 0 and list(frame.columns) == list(fields("Fill"))


def test_build_names_missing_and_unknown_fields():
    with pytest.raises(
        ValueError, match=r"missing fields \['strategy_id'.*'price'.*unknown fields \['colour'\]"
    ):
        EventTable.build("Fill", [0], id=np.array([b"0" * 32]), order_id=np.array([b"1" * 32]), colour="red")


lanes = st.lists(st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1)), min_size=1, max_size=20)


@given(lanes, st.integers(0, 20))
def test_ids_kept_as_numbers_read_as_their_text_everywhere(id_lanes_values, cut):
    hi = np.array([h for h, _ in id_lanes_values], np.uint64)
    lo = np.array([low for _, low in id_lanes_values], np.uint64)
    text = [f"{h:016x}{low:016x}" for h, low in id_lanes_values]  # the form `child_id` writes
    rows = [alert(t, "s", "ALFA", 1.0, i) for i, t in enumerate(text)]
    as_text = EventTable.from_records("RiskAlert", rows, range(len(rows)))
    as_numbers = EventTable(
        "RiskAlert",
        {**as_text.columns, "id": id_lanes(hi, lo)},
        as_text.sequence,
        as_text.categories,
    )

    assert as_numbers.to_records() == rows
    pd.testing.assert_frame_equal(as_numbers.to_frame(), as_text.to_frame())
    assert as_numbers.to_arrow().equals(as_text.to_arrow())
    cut = min(cut, len(rows))
    numbers_first = EventTable.concat("RiskAlert", [as_numbers, as_text])  # NumPy cannot join these two
    assert numbers_first.to_records() == rows + rows
    assert (
        EventTable.concat("RiskAlert", [_head(as_numbers, cut), _tail(as_numbers, cut)]).to_records() == rows
    )


def _head(table: EventTable, n: int) -> EventTable:
    return EventTable(
        table.schema, {k: v[:n] for k, v in table.columns.items()}, table.sequence[:n], table.categories
    )


def _tail(table: EventTable, n: int) -> EventTable:
    return EventTable(
        table.schema, {k: v[n:] for k, v in table.columns.items()}, table.sequence[n:], table.categories
    )


@given(st.lists(reports, min_size=1, max_size=20), st.integers(0, 20))
def test_deferred_columns_read_as_the_eager_table_and_only_when_read(report_rows, cut):
    """A table whose columns are functions (`Columns`) reads, joins, pickles and writes out as the
    same table built from arrays; a column is computed once, and only when it (or a table joined from
    it) is read."""
    import pickle

    eager = EventTable.from_records("ExecutionReport", report_rows, range(len(report_rows)))
    computed: list[str] = []

    def later(name: str):
        def compute():
            computed.append(name)
            return eager.columns[name]

        return compute

    values = {
        name: Coded(later(name), eager.categories[name]) if name in eager.categories else later(name)
        for name in fields("ExecutionReport")
    }
    deferred = EventTable.build("ExecutionReport", eager.sequence, **values)
    cut = min(cut, len(report_rows))
    joined = EventTable.concat("ExecutionReport", [deferred, EventTable.concat("ExecutionReport", [eager])])

    assert computed == []
    np.testing.assert_array_equal(
        joined.columns["last_price"][: len(report_rows)], eager.columns["last_price"]
    )
    assert computed == ["last_price"]
    assert deferred.to_records()[:cut] == report_rows[:cut]
    assert sorted(computed) == sorted(set(computed))  # each column once
    assert pickle.loads(pickle.dumps(deferred)).to_records() == report_rows
    assert joined.to_frame().iloc[: len(report_rows)].equals(eager.to_frame())
