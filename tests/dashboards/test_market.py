"""The Market page: candlesticks and volume of the stored bars, indicators equal to TA-Lib's."""

from __future__ import annotations

import numpy as np
import talib

from tests.dashboards.helpers import figures, run_page, trace_values


def test_market_candles_volume_and_indicators_match_talib(seeded):
    bars = seeded.bars[seeded.bars["instrument"] == "BRVO"].sort_values("ts_event")
    close = bars["close"].to_numpy()

    app = run_page(
        "5_market", seeded.location, market_instrument="BRVO", indicators=["ema", "rsi"], bars_shown=200
    )

    (chart,) = figures(app)
    traces = {trace["name"]: trace for trace in chart["data"]}
    assert np.array_equal(trace_values(traces["price"], "close"), close[-200:])
    assert np.array_equal(trace_values(traces["volume"], "y"), bars["volume"].to_numpy()[-200:])
    np.testing.assert_allclose(trace_values(traces["ema(30)"], "y"), talib.EMA(close, 30)[-200:], rtol=1e-9)
    np.testing.assert_allclose(trace_values(traces["rsi(14)"], "y"), talib.RSI(close, 14)[-200:], rtol=1e-9)


def test_market_empty_store_says_how_to_fill_it(empty_store):
    app = run_page("5_market", empty_store)

    assert "No bars yet" in app.info[0].value
    assert not app.get("plotly_chart")
