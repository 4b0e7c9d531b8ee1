"""Volume-weighted average price, cumulative or over a rolling window."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import History, place
from operators.indicators.base import Indicator, check_int, check_name


class VWAP(Indicator):
    """Volume-weighted average price ``sum(price * volume) / sum(volume)``.

    With ``period=None`` the sums run from the first input (a session VWAP: start a new instance per
    session); with a period they cover the last ``period`` inputs. The price is the typical price
    ``(high + low + close) / 3`` when ``price="typical"``, else the named input field (``"close"``
    for bars, ``"price"`` for trades). The output is NaN where the summed volume is 0. Rolling
    sums are re-added over each window (``O(period)`` per output, vectorised across the batch)
    rather than kept as running totals, so they never drift and a window of zero volume sums to
    exactly 0.

    Parameters
    ----------
    period
        Window length (at least 1), or None for a cumulative VWAP.
    price
        ``"typical"`` or the name of the price input field.
    volume
        Name of the volume input field.

    Examples
    --------
    >>> import numpy as np
    >>> vwap = VWAP(price="price", volume="size")
    >>> vwap.inputs
    ('price', 'size')
    >>> vwap.update(price=np.array([10.0, 11.0, 13.0]), size=np.array([1.0, 1.0, 2.0])).tolist()
    [10.0, 10.5, 11.75]
    >>> VWAP(period=2).inputs
    ('high', 'low', 'close', 'volume')
    """

    name = "vwap"

    def __init__(self, period: int | None = None, price: str = "typical", volume: str = "volume"):
        self.period = None if period is None else check_int("VWAP", "period", period, 1)
        self.price = check_name("VWAP", "price", price)
        self.volume = check_name("VWAP", "volume", volume)
        self.inputs = ("high", "low", "close", volume) if price == "typical" else (price, volume)
        self.warmup = 1 if self.period is None else self.period
        self._turnover = History(0 if self.period is None else self.period - 1)
        self._volumes = History(0 if self.period is None else self.period - 1)
        self._turnover_total = 0.0
        self._volume_total = 0.0

    def _update(self, *columns: np.ndarray) -> np.ndarray:
        volume = columns[-1]
        prices = (columns[0] + columns[1] + columns[2]) / 3 if len(columns) == 4 else columns[0]
        turnover = prices * volume
        if self.period is None:
            turnovers = np.cumsum(np.concatenate(([self._turnover_total], turnover)))[1:]
            volumes = np.cumsum(np.concatenate(([self._volume_total], volume)))[1:]
            if len(volume):
                self._turnover_total = float(turnovers[-1])
                self._volume_total = float(volumes[-1])
            first = 0
        else:
            turnovers = self._window_sums(self._turnover.extend(turnover))
            volumes = self._window_sums(self._volumes.extend(volume))
            first = len(volume) - len(volumes)
        with np.errstate(divide="ignore", invalid="ignore"):
            vwap = np.where(volumes != 0.0, turnovers / volumes, np.nan)
        return place(len(volume), vwap, first)

    def _window_sums(self, joined: np.ndarray) -> np.ndarray:
        count = len(joined) - self.period + 1
        if count <= 0:
            return np.empty(0)
        sums = joined[:count].copy()
        for shift in range(1, self.period):
            sums += joined[shift : shift + count]
        return sums
