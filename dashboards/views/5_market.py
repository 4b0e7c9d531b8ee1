"""Market: candlesticks and volume of one instrument, with indicators from `operators.indicators`."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data, ui
from dashboards.transforms import PRICE_INDICATORS, indicator_lines, indicator_parameters, to_datetime
from operators.indicators import INDICATORS

st.title("Market")
location = ui.store_location()
sources = data.run_ids(location, "bars")
if not sources:
    ui.empty_state(
        "No bars yet — start the ingest and analytics services (`tape run analytics …`) or store "
        "a tape's bars with a backtest."
    )
    st.stop()

left, right = st.columns(2)
run_id = left.selectbox("Source", sources, key="market_run")
instrument = right.selectbox("Instrument", data.instruments(location, run_id), key="market_instrument")
frame = data.bars(location, run_id, instrument)
chosen = st.multiselect("Indicators", sorted(INDICATORS), default=["ema", "bbands", "rsi"], key="indicators")
params = {}
if chosen:
    with st.expander("Indicator parameters"):
        for name in chosen:
            defaults = indicator_parameters(name)
            columns = st.columns(max(len(defaults), 1))
            params[name] = {
                key: column.number_input(f"{name} {key}", value=default, key=f"param_{name}_{key}")
                for column, (key, default) in zip(columns, defaults.items(), strict=False)
            }
shown = st.slider("Bars shown (latest)", 50, max(len(frame), 50), min(len(frame), 390), key="bars_shown")

bars = frame.set_index(to_datetime(frame["ts_event"]))
overlays, panels = {}, {}
for name in chosen:
    lines = {
        label: series.iloc[-shown:] for label, series in indicator_lines(bars, name, **params[name]).items()
    }
    if name in PRICE_INDICATORS:
        overlays.update(lines)
    else:
        panels[name] = lines
st.plotly_chart(
    charts.candlesticks(bars.iloc[-shown:], overlays, panels, f"{instrument} ({len(frame)} bars)"),
    key="candles",
)
