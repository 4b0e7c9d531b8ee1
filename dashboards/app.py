"""The Tape dashboard: a Streamlit multipage app over the analytics store (read only).

Run it with ``tape dashboard [--store var/analytics] [--port 8501]``, or directly with
``streamlit run dashboards/app.py -- --store var/analytics``; without ``--store`` it reads
``$TAPE_STORE``, else ``var/analytics``.

How pages are discovered: every ``dashboards/views/<n>_<name>.py`` file is a page, listed in the
order of ``<n>``, titled from ``<name>`` (``data_quality`` → "Data quality") and served at
``/<name>`` (see `dashboards.navigation`). The folder is deliberately not called ``pages/``: a
``pages/`` folder beside the main script switches Streamlit to its legacy multipage mode, which
bypasses this script (no ``--store``, no navigation) when a page URL is opened directly. Pages are
plain Streamlit scripts that read through `dashboards.data` only. Shipped: 1 Overview, 2
Backtests, 3 Trading, 4 Risk, 5 Market, 6 Data quality. **Slot 7 is the Models page**
(``dashboards/views/7_models.py``, with its queries, e.g. over ``model_metrics`` and
``predictions``, in ``dashboards/data.py``); a new file appears in the navigation with no other change.
"""

from __future__ import annotations

import sys

import streamlit as st

from dashboards import data, ui
from dashboards.navigation import page_files, page_title


def main() -> None:
    """Configure the page, remember the store, and run the chosen page."""
    st.set_page_config(page_title="Tape", page_icon=":material/monitoring:", layout="wide")
    if ui.STORE_KEY not in st.session_state:
        st.session_state[ui.STORE_KEY] = data.store_location(sys.argv[1:])
    pages = [
        st.Page(path, title=page_title(name), url_path=name, default=index == 0)
        for index, (_, name, path) in enumerate(page_files())
    ]
    navigation = st.navigation(pages)
    st.sidebar.caption(f"Store: `{st.session_state[ui.STORE_KEY]}`")
    if st.sidebar.button("Refresh data", key="refresh_data"):
        data.refresh()
    navigation.run()


main()
