"""Performance metrics of a run: returns, risk, drawdowns, tail risk, alpha/beta and round trips.

>>> from operators import performance
>>> import pandas as pd
>>> minute = 60_000_000_000
>>> m = performance.compute_metrics(pd.Series([100.0, 101.0, 99.0], index=[0, minute, 2 * minute]))
>>> m.periods, round(m.max_drawdown, 4)
(2, -0.0198)
"""

from operators.performance.calendar import CRYPTO, EQUITIES, TradingCalendar, periods_per_year
from operators.performance.config import MetricsConfig
from operators.performance.drawdown import drawdown_series
from operators.performance.metrics import Metrics, compute_metrics
from operators.performance.running import RunningDrawdown, RunningMetrics, RunningSnapshot
from operators.performance.trades import open_lots, round_trips

__all__ = [
    "CRYPTO",
    "EQUITIES",
    "Metrics",
    "MetricsConfig",
    "RunningDrawdown",
    "RunningMetrics",
    "RunningSnapshot",
    "TradingCalendar",
    "compute_metrics",
    "drawdown_series",
    "open_lots",
    "periods_per_year",
    "round_trips",
]
