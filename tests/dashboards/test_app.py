"""The app shell: pages are discovered from dashboards/views in order, each reachable and working."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.navigation import page_files, page_title
from tests.dashboards.helpers import PAGES, ROOT

APP = ROOT / "dashboards" / "app.py"
SHIPPED = ["overview", "backtests", "trading", "risk", "market", "data_quality"]


def test_app_discovers_every_page_in_order():
    assert [name for _, name, _ in page_files()][: len(SHIPPED)] == SHIPPED


def test_app_default_page_is_overview_and_reads_the_given_store(seeded):
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.session_state["store"] = seeded.location
    app.run()

    assert not app.exception
    assert app.title[0].value == "Overview"
    assert seeded.location in app.sidebar.caption[0].value


@pytest.mark.parametrize("page", sorted(p.stem for p in PAGES.glob("[0-9]_*.py")))
def test_app_switches_to_every_page_without_error(seeded, page):
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.session_state["store"] = seeded.location
    app.run()
    app.switch_page(str(PAGES / f"{page}.py"))
    app.run()

    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == page_title(page.partition("_")[2])
