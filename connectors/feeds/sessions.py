"""The bar grid of a trading session: bar close times and each bar's position within its session day.

``24h`` sessions put a bar every interval from ``start``; ``exchange`` sessions put them between the
local open and close on weekdays that are not holidays (daylight saving time handled by zoneinfo).

Examples
--------
>>> from datetime import UTC, datetime
>>> from connectors.feeds.synthetic_config import SessionConfig
>>> start = datetime(2024, 3, 8, 20, 0, tzinfo=UTC)   # a Friday, after the New York close
>>> grid = session_grid(SessionConfig(kind="exchange", timezone="America/New_York"),
...                     start, 3_600_000_000_000, bars=2)
>>> [str(t) for t in grid.close_ns.astype("datetime64[ns]")]   # Monday, after the DST switch
['2024-03-11T14:30:00.000000000', '2024-03-11T15:30:00.000000000']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from connectors.feeds.synthetic_config import SessionConfig

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
TRADING_DAYS_PER_YEAR = 252
CALENDAR_DAYS_PER_YEAR = 365.25
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SessionGrid:
    """Bar close times (int ns UTC), position of each bar in its session day (0..1), bars per year."""

    close_ns: np.ndarray
    position: np.ndarray
    bars_per_year: float


def session_grid(
    session: SessionConfig,
    start: datetime,
    interval_ns: int,
    bars: int | None = None,
    end: datetime | None = None,
) -> SessionGrid:
    """The first ``bars`` bars opening at or after ``start``, or all of them closing by ``end``."""
    start_ns = _ns(start)
    end_ns = None if end is None else _ns(end)
    if session.kind == "24h":
        count = bars if bars is not None else (end_ns - start_ns) // interval_ns
        close_ns = start_ns + interval_ns * np.arange(1, count + 1, dtype=np.int64)
        local = pd.DatetimeIndex(close_ns - interval_ns // 2, tz="UTC").tz_convert(session.timezone)
        seconds = (local - local.normalize()).total_seconds().to_numpy()
        position = seconds / 86_400.0
        return SessionGrid(close_ns, position, CALENDAR_DAYS_PER_YEAR * NS_PER_DAY / interval_ns)
    zone = ZoneInfo(session.timezone)
    session_ns = (_seconds(session.close) - _seconds(session.open)) * NS_PER_S
    per_day = session_ns // interval_ns
    first_day = start.astimezone(zone).date()
    if end_ns is None:
        day_count = -(-bars // per_day) + 1
    else:
        day_count = (
            int(
                np.busday_count(
                    first_day,
                    end.astimezone(zone).date() + timedelta(days=1),
                    holidays=list(session.holidays),
                )
            )
            + 1
        )
    days = np.busday_offset(first_day, np.arange(day_count), roll="forward", holidays=list(session.holidays))
    opens = np.array(
        [_ns(datetime.combine(day.item(), session.open, tzinfo=zone)) for day in days], dtype=np.int64
    )
    steps = np.arange(1, per_day + 1, dtype=np.int64)
    close_ns = (opens[:, None] + interval_ns * steps[None, :]).ravel()
    position = np.tile((steps - 0.5) / per_day, day_count)
    keep = close_ns - interval_ns >= start_ns
    if end_ns is not None:
        keep &= close_ns <= end_ns
    close_ns, position = close_ns[keep], position[keep]
    if bars is not None:
        close_ns, position = close_ns[:bars], position[:bars]
    return SessionGrid(close_ns, position, float(TRADING_DAYS_PER_YEAR * per_day))


def _ns(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1) * 1_000


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second
