"""Plotly figures the pages draw: curves, bars, candlesticks with indicators, histograms, scatters.

Each builder takes ready DataFrames/Series (times already converted to datetimes) and returns a
``plotly.graph_objects.Figure``; none reads the store.

Examples
--------
>>> import pandas as pd
>>> figure = lines({"run a": pd.Series([1.0, 2.0]), "run b": pd.Series([1.0, 1.5])}, "Equity")
>>> [trace.name for trace in figure.data]
['run a', 'run b']
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "legend": {"orientation": "h", "y": -0.15}}
_UP, _DOWN = "#26a69a", "#ef5350"


def lines(series: Mapping[str, pd.Series], title: str, yaxis: str = "") -> go.Figure:
    """Return one line per named series (overlaid), x = each series' index."""
    figure = go.Figure(
        [go.Scatter(x=s.index, y=s.to_numpy(), mode="lines", name=name) for name, s in series.items()]
    )
    return figure.update_layout(title=title, yaxis_title=yaxis, **_LAYOUT)


def steps(series: Mapping[str, pd.Series], title: str, yaxis: str = "") -> go.Figure:
    """Return one step line per named series (a value holds until the next change)."""
    figure = go.Figure(
        [
            go.Scatter(x=s.index, y=s.to_numpy(), mode="lines", line_shape="hv", name=name)
            for name, s in series.items()
        ]
    )
    return figure.update_layout(title=title, yaxis_title=yaxis, **_LAYOUT)


def area(series: pd.Series, title: str, yaxis: str = "", percent: bool = False) -> go.Figure:
    """Return a filled area under ``series`` (e.g. a drawdown)."""
    figure = go.Figure(
        go.Scatter(x=series.index, y=series.to_numpy(), fill="tozeroy", mode="lines", name=series.name)
    )
    figure.update_layout(title=title, yaxis_title=yaxis, **_LAYOUT)
    return figure.update_yaxes(tickformat=".2%") if percent else figure


def signed_bars(series: pd.Series, title: str, yaxis: str = "") -> go.Figure:
    """Return bars coloured by sign (gains green, losses red).

    Examples
    --------
    >>> signed_bars(pd.Series([1.0, -2.0]), "P&L").data[0].marker.color
    ('#26a69a', '#ef5350')
    """
    colors = np.where(series.to_numpy() >= 0, _UP, _DOWN).tolist()
    figure = go.Figure(go.Bar(x=series.index, y=series.to_numpy(), marker_color=colors, name=series.name))
    return figure.update_layout(title=title, yaxis_title=yaxis, **_LAYOUT)


def horizontal_bars(labels: pd.Series, values: pd.Series, title: str, xaxis: str = "") -> go.Figure:
    """Return horizontal bars of ``values`` by ``labels``, coloured by sign."""
    colors = np.where(values.to_numpy() >= 0, _UP, _DOWN).tolist()
    figure = go.Figure(go.Bar(x=values.to_numpy(), y=labels.to_numpy(), orientation="h", marker_color=colors))
    height = 140 + 40 * len(labels)
    return figure.update_layout(title=title, xaxis_title=xaxis, height=height, **_LAYOUT)


def stacked_bars(frame: pd.DataFrame, x: str, y: str, color: str, title: str) -> go.Figure:
    """Return bars of ``y`` over ``x``, one stacked trace per value of ``color``.

    Examples
    --------
    >>> frame = pd.DataFrame({"hour": [0, 0, 1], "count": [2, 1, 4], "reason": ["a", "b", "a"]})
    >>> [trace.name for trace in stacked_bars(frame, "hour", "count", "reason", "DLQ").data]
    ['a', 'b']
    """
    traces = [
        go.Bar(x=group[x], y=group[y], name=str(name)) for name, group in frame.groupby(color, sort=True)
    ]
    return go.Figure(traces).update_layout(title=title, barmode="stack", **_LAYOUT)


def histogram(
    values: np.ndarray, title: str, xaxis: str = "", markers: Mapping[str, float] | None = None
) -> go.Figure:
    """Return a histogram of ``values`` with a dashed vertical line per named marker."""
    figure = go.Figure(go.Histogram(x=values, nbinsx=60, name=xaxis or "values"))
    for label, x in (markers or {}).items():
        if np.isfinite(x):
            figure.add_vline(x=x, line_dash="dash", line_color=_DOWN, annotation_text=label)
    return figure.update_layout(title=title, xaxis_title=xaxis, yaxis_title="count", **_LAYOUT)


def scatter(frame: pd.DataFrame, x: str, y: str, color: str, hover: str, title: str) -> go.Figure:
    """Return ``y`` against ``x``, one trace per value of ``color``, hover text from ``hover``."""
    traces = [
        go.Scatter(
            x=group[x], y=group[y], mode="markers", name=str(name), text=group[hover], marker={"size": 11}
        )
        for name, group in frame.groupby(color, sort=True)
    ]
    return go.Figure(traces).update_layout(title=title, xaxis_title=x, yaxis_title=y, **_LAYOUT)


def candlesticks(
    bars: pd.DataFrame,
    overlays: Mapping[str, pd.Series],
    panels: Mapping[str, Mapping[str, pd.Series]],
    title: str,
) -> go.Figure:
    """Return candlesticks of ``bars`` (indexed by time) with overlays, volume and indicator panels.

    ``overlays`` are drawn on the price axis (moving averages, bands); each entry of ``panels`` is
    a sub-plot below the volume with its own lines (RSI, MACD…).

    Examples
    --------
    >>> bars = pd.DataFrame({"open": [1.0, 2.0], "high": [2.0, 3.0], "low": [0.5, 1.5],
    ...                      "close": [2.0, 2.5], "volume": [10.0, 20.0]})
    >>> figure = candlesticks(bars, {"sma": pd.Series([1.0, 1.5])}, {"rsi": {"rsi": pd.Series([50.0, 60.0])}}, "A")
    >>> [trace.type for trace in figure.data]
    ['candlestick', 'scatter', 'bar', 'scatter']
    """
    rows = 2 + len(panels)
    heights = [0.6, 0.15] + [0.25 / max(len(panels), 1)] * len(panels)
    figure = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        row_heights=heights[:rows],
        subplot_titles=[title, "volume", *panels],
    )
    figure.add_trace(
        go.Candlestick(
            x=bars.index,
            open=bars["open"],
            high=bars["high"],
            low=bars["low"],
            close=bars["close"],
            name="price",
            increasing_line_color=_UP,
            decreasing_line_color=_DOWN,
        ),
        row=1,
        col=1,
    )
    for name, series in overlays.items():
        figure.add_trace(go.Scatter(x=bars.index, y=series.to_numpy(), mode="lines", name=name), row=1, col=1)
    volume_colors = np.where(bars["close"].to_numpy() >= bars["open"].to_numpy(), _UP, _DOWN).tolist()
    figure.add_trace(
        go.Bar(x=bars.index, y=bars["volume"], marker_color=volume_colors, name="volume", showlegend=False),
        row=2,
        col=1,
    )
    for row, lines_of_panel in enumerate(panels.values(), start=3):
        for name, series in lines_of_panel.items():
            figure.add_trace(
                go.Scatter(x=bars.index, y=series.to_numpy(), mode="lines", name=name), row=row, col=1
            )
    figure.update_layout(height=420 + 160 * len(panels), xaxis_rangeslider_visible=False, **_LAYOUT)
    return figure
