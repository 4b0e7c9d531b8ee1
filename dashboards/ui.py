"""Widgets every page shares: the store's location, empty states, run pickers and event tables.

Examples
--------
>>> import pandas as pd
>>> table = readable(pd.DataFrame({"ts_event": [0], "quantity": [1.0], "run_id": ["r"]}))
>>> list(table.columns), str(table["ts_event"].dtype)
(['ts_event', 'quantity'], 'datetime64[ns, UTC]')
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.transforms import format_metric, metric_label, to_datetime

#: Session-state key holding the store location (set by ``app.py`` from ``--store``).
STORE_KEY = "store"
#: Columns holding int-ns times, shown as dates.
TIME_COLUMNS = ("ts_event", "ts_init", "source_timestamp", "first_ts", "last_ts", "after_ts", "before_ts")


def store_location() -> str:
    """Return the store this session reads (``app.py``'s ``--store``, else ``$TAPE_STORE``, else default)."""
    if STORE_KEY not in st.session_state:
        st.session_state[STORE_KEY] = data.store_location([], os.environ)
    return st.session_state[STORE_KEY]


def empty_state(message: str) -> None:
    """Show why a page or section has nothing to draw, and the command that would fill it."""
    st.info(message, icon=":material/info:")


def pick_run(label: str, options: Sequence[str], key: str) -> str:
    """Return the run chosen in a select box (the first option by default)."""
    return st.selectbox(label, list(options), key=key)


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` for display: int-ns time columns as UTC datetimes, ``run_id`` dropped."""
    shown = frame.drop(columns=["run_id"], errors="ignore").copy()
    for column in TIME_COLUMNS:
        if column in shown.columns:
            shown[column] = to_datetime(shown[column].fillna(0))
    return shown


def table(frame: pd.DataFrame, key: str) -> None:
    """Show an event table with readable times."""
    st.dataframe(readable(frame), hide_index=True, width="stretch", key=key)


def metric_tiles(values: dict[str, object], columns: int = 5) -> None:
    """Show metrics as tiles (label from `Metrics`, value formatted by its kind), ``columns`` per row."""
    names = list(values)
    for start in range(0, len(names), columns):
        for column, name in zip(st.columns(columns), names[start : start + columns], strict=False):
            column.metric(metric_label(name), format_metric(name, values[name]))
