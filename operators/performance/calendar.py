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

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from operators.performance.blocks import blocks, scratch

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
    return bars_per_year(bar_spacing(np.asarray(timestamps, dtype=np.int64)).median, calendar)


def bars_per_year(interval: float, calendar: TradingCalendar) -> float:
    """Return the number of bars ``interval`` ns apart in a year of ``calendar``; NaN for NaN."""
    if math.isnan(interval):
        return float("nan")
    if interval >= 2 * DAY_NS:
        return YEAR_NS / interval
    bars_per_session = max(calendar.session_ns / interval, 1.0)
    return calendar.days_per_year * bars_per_session


@dataclass(frozen=True)
class BarSpacing:
    """The steps between consecutive timestamps (int64 ns), measured in one pass (see `bar_spacing`).

    Attributes
    ----------
    timestamps
        The timestamps.
    smallest, largest
        The smallest and the largest step (0 without steps).
    smallest_count
        How many steps equal the smallest.
    """

    timestamps: np.ndarray
    smallest: int
    largest: int
    smallest_count: int

    @property
    def steps(self) -> int:
        """The number of steps, one fewer than timestamps."""
        return max(len(self.timestamps) - 1, 0)

    @property
    def regular_step(self) -> int | None:
        """The step between every two consecutive timestamps when they are evenly spaced and strictly
        increasing, else None.

        Equal steps that add up to the span are proof of both: a step that wrapped around int64 would
        leave the sum ``2 ** 64`` off.
        """
        span = int(self.timestamps[-1]) - int(self.timestamps[0]) if self.steps else 0
        if self.steps and 0 < self.smallest == self.largest and self.steps * self.smallest == span:
            return self.smallest
        return None

    @cached_property
    def median(self) -> float:
        """``float(np.median(np.diff(timestamps)))``; NaN without steps.

        When more than half of the steps are the smallest one (regular bars, even with gaps), that is
        the median, without a sort or a full-length array of steps.
        """
        if self.steps == 0:
            return float("nan")
        if self.smallest_count > self.steps // 2:
            return float(self.smallest)
        return float(np.median(np.diff(self.timestamps)))


def bar_spacing(timestamps: np.ndarray) -> BarSpacing:
    """Return the `BarSpacing` of int64 ``timestamps``, taking the steps block by block (see
    `operators.performance.blocks`): a block of equal steps is settled by one comparison, any other by
    its smallest and largest step and how often the smallest occurs.

    Examples
    --------
    >>> spacing = bar_spacing(np.array([0, 60, 120, 300, 360]))
    >>> spacing.median, spacing.smallest_count, spacing.regular_step
    (60.0, 3, None)
    >>> bar_spacing(np.array([0, 60, 180, 300])).median, bar_spacing(np.array([0, 60, 120])).regular_step
    (120.0, 60)
    """
    steps_buffer = scratch(len(timestamps) - 1, np.int64)
    equal_buffer = scratch(len(timestamps) - 1, bool)
    smallest, largest, count = None, 0, 0
    for block in blocks(len(timestamps) - 1):
        size = block.stop - block.start
        later, earlier = timestamps[block.start + 1 : block.stop + 1], timestamps[block]
        steps = np.subtract(later, earlier, out=steps_buffer[:size])
        least = most = int(steps[0])
        if not np.equal(steps, least, out=equal_buffer[:size]).all():
            least, most = int(steps.min()), int(steps.max())
        largest = most if smallest is None else max(largest, most)
        if smallest is None or least < smallest:
            smallest, count = least, 0
        if least == smallest:
            count += size if least == most else int(np.count_nonzero(steps == least))
    return BarSpacing(timestamps, smallest or 0, largest, count)
