"""Shared pieces of the dashboard tests: what the seed stores, and running pages with AppTest."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "sample-1m"
PAGES = ROOT / "dashboards" / "views"
#: The ALFA bars left out of the seeded bars (indexes into its bar list): one gap of three bars.
DROPPED_ALFA_BARS = (200, 201, 202)

#: Backtests stored by the seed, by short name: two EMA crossovers with other parameters (one with
#: tight risk limits, so the kill switch trips and orders are rejected) and an RSI reversion.
CONFIGS: dict[str, str | dict] = {
    "ema": str(ROOT / "examples" / "ema_cross.yaml"),
    "ema_tight": {
        "strategy": {
            "name": "ma_crossover",
            "params": {"fast": 5, "slow": 20, "kind": "ema", "quantity": 100},
        },
        "benchmark": "SPX",
        "account": {"id": "demo", "initial_cash": 100000},
        "risk": {"max_position": 100, "max_gross_exposure": 30000, "max_drawdown": 0.004},
    },
    "rsi": str(ROOT / "examples" / "rsi_reversion.yaml"),
}


def run_page(page: str, location: str, **state: object) -> AppTest:
    """Run ``dashboards/views/<page>.py`` once against ``location`` with widget ``state`` preset."""
    app = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=120)
    app.session_state["store"] = location
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def figures(app: AppTest) -> list[dict]:
    """Return the Plotly figures an app drew (``data`` traces with arrays decoded), in page order."""
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def trace_values(trace: dict, field: str) -> np.ndarray:
    """Return a trace's array ``field`` (Plotly sends typed arrays base64-encoded)."""
    value = trace[field]
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value)
