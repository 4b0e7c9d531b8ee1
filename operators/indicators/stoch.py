"""Slow stochastic oscillator (TA-Lib ``STOCH`` with SMA smoothing)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from operators.indicators._kernels import History, RunningTotals, place, trailing_max, trailing_min
from operators.indicators.base import Indicator, check_int


class StochasticResult(NamedTuple):
    """Slow %K and slow %D."""

    k: np.ndarray
    d: np.ndarray


class Stochastic(Indicator):
    """Slow stochastic: fast %K over ``fastk_period``, smoothed by SMAs into slow %K and slow %D.

    Fast %K is ``(close - ll) / ((hh - ll) / 100)`` (0 when ``hh == ll``), as ``talib.STOCH``; both
    outputs start together at input ``fastk_period + slowk_period + slowd_period - 2``. Defaults
    are TA-Lib's (5, 3, 3).

    Parameters
    ----------
    fastk_period
        Window of the highest high and lowest low, at least 1.
    slowk_period
        SMA period turning fast %K into slow %K, at least 1.
    slowd_period
        SMA period turning slow %K into slow %D, at least 1.

    Examples
    --------
    >>> import numpy as np
    >>> stoch = Stochastic(fastk_period=2, slowk_period=1, slowd_period=2)
    >>> out = stoch.update(high=np.array([2.0, 4.0, 4.0, 5.0]), low=np.array([1.0, 2.0, 3.0, 4.0]),
    ...                    close=np.array([1.5, 3.0, 4.0, 4.5]))
    >>> out.k.tolist(), out.d.tolist()
    ([nan, nan, 100.0, 75.0], [nan, nan, 83.33333333333334, 87.5])
    """

    name = "stoch"
    result_type = StochasticResult

    def __init__(self, fastk_period: int = 5, slowk_period: int = 3, slowd_period: int = 3):
        self.fastk_period = check_int("Stochastic", "fastk_period", fastk_period, 1)
        self.slowk_period = check_int("Stochastic", "slowk_period", slowk_period, 1)
        self.slowd_period = check_int("Stochastic", "slowd_period", slowd_period, 1)
        self.inputs = ("high", "low", "close")
        self.warmup = self.fastk_period + self.slowk_period + self.slowd_period - 2
        self._highs = History(self.fastk_period - 1)
        self._lows = History(self.fastk_period - 1)
        self._slow_k = RunningTotals(self.slowk_period)
        self._slow_d = RunningTotals(self.slowd_period)

    def _update(self, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> StochasticResult:
        highest = trailing_max(self._highs.extend(high), self.fastk_period)
        lowest = trailing_min(self._lows.extend(low), self.fastk_period)
        first_fast = len(close) - len(highest)
        diff = (highest - lowest) / 100.0
        with np.errstate(divide="ignore", invalid="ignore"):
            fast_k = np.where(diff != 0.0, (close[first_fast:] - lowest) / diff, 0.0)
        (k_totals,), first_k = self._slow_k.update(fast_k)
        slow_k = k_totals / self.slowk_period
        (d_totals,), first_d = self._slow_d.update(slow_k)
        first = first_fast + first_k + first_d
        size = len(close)
        return StochasticResult(
            place(size, slow_k[first_d:], first), place(size, d_totals / self.slowd_period, first)
        )
