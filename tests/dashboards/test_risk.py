"""The Risk page: kill switch, exposure, VaR (checked against empyrical), limit usage and alerts."""

from __future__ import annotations

import empyrical
import numpy as np
import pandas as pd
import pytest

from tests.dashboards.helpers import CONFIGS, figures, run_page, trace_values


def _daily_returns(equity: pd.DataFrame) -> np.ndarray:
    curve = equity["equity"].set_axis(pd.to_datetime(equity.index, unit="ns", utc=True))
    closes = curve.resample("1D").last().dropna()
    return (
        np.concatenate([[curve.iloc[0]], closes.to_numpy()])[1:]
        / np.concatenate([[curve.iloc[0]], closes.to_numpy()])[:-1]
        - 1.0
    )


def test_risk_tripped_kill_switch_shows_halted_alerts_and_limits(seeded):
    result = seeded.results["ema_tight"]
    alerts = result.tables["risk_alerts"]

    app = run_page("4_risk", seeded.location, risk_run=seeded.run_ids["ema_tight"])

    assert "HALTED" in app.error[0].value
    tables = {frame.value.columns[0]: frame.value for frame in app.dataframe}
    assert tables["scope"]["state"].tolist() == ["HALTED"]
    assert len(tables["id"]) == len(alerts)
    limits = tables["limit"].set_index("limit")
    risk = CONFIGS["ema_tight"]["risk"]
    assert limits.loc["max_drawdown", "configured"] == risk["max_drawdown"]
    assert limits.loc["max_gross_exposure", "configured"] == risk["max_gross_exposure"]
    assert limits.loc["max_gross_exposure", "current"] == result.equity["gross_exposure"].iloc[-1]
    held = result.positions.groupby("instrument")["quantity"].last().abs().max()
    assert limits.loc["max_position", "current"] == held


def test_risk_daily_var_matches_empyrical(seeded):
    result = seeded.results["ema"]
    reference = _daily_returns(result.equity)

    app = run_page("4_risk", seeded.location, risk_run=seeded.run_ids["ema"], var_frequency="daily")

    var = next(frame.value for frame in app.dataframe if "VaR" in frame.value.columns)
    assert var.at["95%", "VaR"] == pytest.approx(-empyrical.value_at_risk(reference, cutoff=0.05), rel=1e-12)
    assert var.at["99%", "VaR"] == pytest.approx(-empyrical.value_at_risk(reference, cutoff=0.01), rel=1e-12)
    histogram = next(f for f in figures(app) if f["data"][0]["type"] == "histogram")
    assert np.allclose(np.sort(trace_values(histogram["data"][0], "x")), np.sort(reference))


def test_risk_exposure_is_market_value_of_open_positions(seeded):
    result = seeded.results["rsi"]
    latest = result.positions.groupby("instrument").last()
    latest = latest[latest["quantity"] != 0]
    assert len(latest) > 0  # the RSI run ends with open positions
    expected = (latest["quantity"] * latest["avg_price"] + latest["unrealized_pnl"]).to_dict()

    app = run_page("4_risk", seeded.location, risk_run=seeded.run_ids["rsi"])

    exposure = figures(app)[0]["data"][0]
    shown = dict(zip(trace_values(exposure, "y"), trace_values(exposure, "x"), strict=True))
    assert shown == pytest.approx(expected)
    assert "ACTIVE" in app.success[0].value
    assert app.info[-1].value == "No risk alerts."


def test_risk_empty_store_says_how_to_fill_it(empty_store):
    app = run_page("4_risk", empty_store)

    assert "tape backtest" in app.info[0].value
