"""Checks for an OHLCV series: one reason per rejected row, gaps reported but never rejected.

Checks run in this order and the first failure names the row's reason:

========================  =============================================================
``unparseable``           a field could not be read (set by the parser, passed in)
``non_positive_price``    open, high, low or close <= 0
``negative_volume``       volume < 0
``low_above_high``        low > high
``high_below_open_close`` high < max(open, close)
``low_above_open_close``  low > min(open, close)
``duplicate_timestamp``   the same time as an earlier accepted row
``non_monotonic_time``    earlier than an earlier accepted row
``outlier``               a spike: ``|log(close / m)| > k × 1.4826 × MAD``, where ``m`` is the
                          centred rolling median close (``window`` rows) and MAD is the median
                          absolute deviation of the series' log returns (a Hampel filter with a
                          robust volatility scale: a lone spike is caught, a level shift is not)
========================  =============================================================

Examples
--------
>>> import numpy as np
>>> prices = np.array([10.0, 10.1, 9.0, 10.2])
>>> reasons = check_bars(prices, np.array([10.2, 10.2, 8.0, 10.3]), np.array([9.9, 10.0, 8.9, 10.1]),
...                      prices, np.array([5.0, -1.0, 5.0, 5.0]), np.array([1, 2, 3, 1]))
>>> reasons.tolist()
[None, 'negative_volume', 'low_above_high', 'duplicate_timestamp']
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

MAD_TO_SIGMA = 1.4826
REASONS = (
    "unparseable",
    "non_positive_price",
    "negative_volume",
    "low_above_high",
    "high_below_open_close",
    "low_above_open_close",
    "duplicate_timestamp",
    "non_monotonic_time",
    "outlier",
)


@dataclass(frozen=True, slots=True)
class Gap:
    """Missing bars between two consecutive accepted bars (a warning, nothing is rejected).

    Examples
    --------
    >>> Gap(after_ns=0, before_ns=180_000_000_000, missing=2).missing
    2
    """

    after_ns: int
    before_ns: int
    missing: int


def check_bars(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    ts_event: np.ndarray,
    unparseable: np.ndarray | None = None,
    outlier_k: float = 10.0,
    outlier_window: int = 7,
) -> np.ndarray:
    """The reason each row is rejected (object array; ``None`` = accepted), see the module table."""
    rows = len(ts_event)
    reasons = np.full(rows, None, dtype=object)
    if unparseable is not None:
        reasons[unparseable] = "unparseable"
    with np.errstate(invalid="ignore"):
        checks = [
            ("non_positive_price", (np.minimum(np.minimum(open_, high), np.minimum(low, close)) <= 0)),
            ("negative_volume", volume < 0),
            ("low_above_high", low > high),
            ("high_below_open_close", high < np.maximum(open_, close)),
            ("low_above_open_close", low > np.minimum(open_, close)),
        ]
    for reason, failed in checks:
        reasons[(reasons == None) & failed] = reason  # noqa: E711 (elementwise comparison)
    _check_time(reasons, ts_event)
    _check_outliers(reasons, close, outlier_k, outlier_window)
    return reasons


def _check_time(reasons: np.ndarray, ts_event: np.ndarray) -> None:
    candidates = np.flatnonzero(reasons == None)  # noqa: E711
    if len(candidates) < 2:
        return
    times = ts_event[candidates]
    latest_before = np.maximum.accumulate(times)[:-1]
    later = times[1:]
    reasons[candidates[1:][later == latest_before]] = "duplicate_timestamp"
    reasons[candidates[1:][later < latest_before]] = "non_monotonic_time"


def _check_outliers(reasons: np.ndarray, close: np.ndarray, k: float, window: int) -> None:
    candidates = np.flatnonzero(reasons == None)  # noqa: E711
    if len(candidates) < 3:
        return
    log_close = pd.Series(np.log(close[candidates]))
    residual = (log_close - log_close.rolling(window, center=True, min_periods=1).median()).to_numpy()
    returns = np.diff(log_close.to_numpy())
    scale = MAD_TO_SIGMA * np.median(np.abs(returns - np.median(returns)))
    if scale > 0:
        reasons[candidates[np.abs(residual) > k * scale]] = "outlier"


def find_gaps(ts_event: np.ndarray, interval_ns: int, timezone: str, daily: bool) -> list[Gap]:
    """Missing bars between consecutive accepted bars.

    Daily series: missing weekdays (no holiday calendar, so exchange holidays show up as gaps).
    Intraday series: a step longer than ``interval_ns`` within one local calendar day of
    ``timezone`` (overnight and weekend steps are not gaps).
    """
    if len(ts_event) < 2:
        return []
    local = pd.DatetimeIndex(ts_event, tz="UTC").tz_convert(ZoneInfo(timezone))
    dates = local.tz_localize(None).normalize().to_numpy().astype("datetime64[D]")
    if daily:
        missing = np.busday_count(dates[:-1] + 1, dates[1:])
    else:
        steps = np.diff(ts_event)
        missing = np.where(dates[:-1] == dates[1:], steps // interval_ns - 1, 0)
    return [Gap(int(ts_event[i]), int(ts_event[i + 1]), int(missing[i])) for i in np.flatnonzero(missing > 0)]
