"""End to end in a real browser: `tape dashboard` serves the seeded store, headless Chromium visits
every page, checks that its Plotly charts hold data and that no exception shows, and saves a
screenshot per page under ``tests/artifacts/screenshots/`` (gitignored; look at them).

Needs Debian's ``chromium`` and ``chromium-driver`` (``scripts/test`` installs them when missing).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboards.navigation import page_files
from tests.dashboards.helpers import ROOT

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
#: Plotly charts each page draws with the seeded store and its default choices.
CHARTS = {"overview": 3, "backtests": 2, "trading": 1, "risk": 2, "market": 1, "data_quality": 3, "models": 1}
#: Per-chart count of plotted points (sum of the traces' lengths as Plotly computed them).
POINTS_JS = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(
    plot => (plot._fullData || []).reduce((n, trace) => n + (trace._length || 0), 0));
"""

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Debian chromium/chromium-driver not installed (scripts/test installs them: apt-get install -y "
    "chromium chromium-driver)",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"tape dashboard exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the dashboard at {url} did not become healthy in {timeout} s")


@pytest.fixture(scope="module")
def served_store(seeded, tmp_path_factory) -> str:
    """A copy of the seeded store plus a stored run of the online-ML example (for the Models page)."""
    from connectors.analytics import open_store
    from replay.backtest import backtest
    from replay.store import store_backtest

    location = tmp_path_factory.mktemp("served") / "store"
    shutil.copytree(seeded.location, location)
    with open_store(location) as store:
        store_backtest(backtest(ROOT / "samples" / "sample-1m", ROOT / "examples" / "ml_online.yaml"), store)
    return str(location)


@pytest.fixture(scope="module")
def dashboard_url(served_store, tmp_path_factory) -> Iterator[str]:
    """``tape dashboard`` serving the seeded store (+ an ML run) on a free port (headless)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "streamlit.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "tape.cli", "dashboard", "--store", served_store, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, timeout=90)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, SCREENSHOTS.parent / "dashboard-streamlit.log")


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[object]:
    """Headless Debian Chromium driven by Selenium through /usr/bin/chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--window-size=1400,3600",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _settled(driver, charts: int) -> bool:
    """True once the script run is over and ``charts`` charts are drawn."""
    running = driver.find_elements("css selector", '[data-testid="stStatusWidget"] [data-testid="stSpinner"]')
    drawn = driver.execute_script(POINTS_JS)
    return not running and len(drawn) >= charts and all(points > 0 for points in drawn)


def test_browser_every_page_shows_charts_with_data(served_store, dashboard_url, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    names = [name for _, name, _ in page_files()]
    assert set(CHARTS) <= set(names)

    for index, name in enumerate(names):
        browser.get(dashboard_url if index == 0 else f"{dashboard_url}/{name}")  # the first page is "/"
        deadline = time.monotonic() + 60
        while not _settled(browser, CHARTS.get(name, 0)) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1.0)  # let Plotly finish its transitions before the screenshot
        browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))

        text = browser.find_element("tag name", "body").text
        assert "Traceback" not in text and "exception" not in text.lower(), f"{name}: {text[:2000]}"
        assert "Page not found" not in text, f"{name}: Streamlit does not know this page's URL"
        # app.py ran (not Streamlit's legacy pages mode): its navigation titles and store caption show
        assert "Data quality" in text and f"Store: {served_store}" in text.replace("\n", " "), text[:500]
        assert not browser.find_elements("css selector", '[data-testid="stException"]'), name
        points = browser.execute_script(POINTS_JS)
        assert len(points) >= CHARTS.get(name, 0), f"{name}: {len(points)} charts, {points}"
        assert all(count > 0 for count in points), f"{name}: a chart without data: {points}"
