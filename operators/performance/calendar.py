"""Annualisation: how many bars make a year, derived from the bars' spacing and a trading calendar.

A calendar says how many trading days a year has and how long one trading session lasts. Intraday
bars are counted per session (a 1-minute bar on a 6.5 h equities session is 390 bars a day); a bar of
a session or longer, up to two days, is one bar a trading day; bars two days apart or more (weekly,
monthly) are counted on the 365.25-day calendar year.

Examples
--------
>>> import numpy as np
>>> minute = 60_000_000_000
>>> periods_per_year(np.arange(5) * minute, EQUITIES)
98280.0
>>> periods_per_year(np.arange(5) * minute * 60, CRYPTO)
8760.0
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

DAY_NS = 86_400_000_000_000
YEAR_NS = 365.25 * DAY_NS


class TradingCalendar(BaseModel):
    """Trading days per year and the length of one session, for annualisation.

    Parameters
    ----------
    days_per_year
        Trading days in a year (252 for equities, 365 for crypto).
    session_ns
        Length of one trading session in ns (6.5 h for equities, 24 h for crypto).

    Examples
    --------
    >>> TradingCalendar(days_per_year=252, session_ns=23_400_000_000_000) == EQUITIES
    True
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    days_per_year: float = Field(default=252.0, gt=0, le=366)
    session_ns: int = Field(default=23_400_000_000_000, gt=0, le=DAY_NS)


EQUITIES = TradingCalendar()
CRYPTO = TradingCalendar(days_per_year=365.0, session_ns=DAY_NS)
CALENDARS = {"equities": EQUITIES, "crypto": CRYPTO}


def periods_per_year(timestamps: np.ndarray, calendar: TradingCalendar) -> float:
    """Return the number of bars in a year, from the median spacing of ``timestamps`` (int ns).

    Returns NaN for fewer than two timestamps (no spacing to measure).

    Examples
    --------
    >>> day = DAY_NS
    >>> periods_per_year(np.array([0, day, 2 * day, 5 * day]), EQUITIES)   # daily bars over a weekend
    252.0
    >>> round(periods_per_year(np.arange(4) * 7 * day, EQUITIES), 2)      # weekly bars
    52.18
    """
    if len(timestamps) < 2:
        return float("nan")
    interval = median_step(np.diff(np.asarray(timestamps, dtype=np.int64)))
    if interval >= 2 * DAY_NS:
        return YEAR_NS / interval
    bars_per_session = max(calendar.session_ns / interval, 1.0)
    return calendar.days_per_year * bars_per_session


def median_step(steps: np.ndarray) -> float:
    """Return ``float(np.median(steps))`` of a non-empty int array, without sorting when more than half
    of the steps are the smallest one (regular bars, even with gaps).

    Examples
    --------
    >>> median_step(np.array([60, 60, 180, 60])), median_step(np.array([60, 120, 120]))
    (60.0, 120.0)
    """
    smallest = steps.min()
    if np.count_nonzero(steps == smallest) > len(steps) // 2:
        return float(smallest)
    return float(np.median(steps))
