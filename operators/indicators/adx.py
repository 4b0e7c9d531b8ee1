"""Average directional movement index (TA-Lib ``ADX``)."""

from __future__ import annotations

import numpy as np

from operators.indicators._kernels import (
    History,
    RecursiveSmoother,
    is_zero,
    place,
    true_range,
    wilder_smoother,
)
from operators.indicators.base import Indicator, check_int


class ADX(Indicator):
    """Wilder's average directional movement index, computed as ``talib.ADX`` computes it.

    +DM, -DM and the true range start as sums over the first ``period - 1`` moves and are then
    smoothed by ``s - s / period + move``; DX is ``100 * |+DI - -DI| / (+DI + -DI)``. The first ADX
    (input ``2 * period``) is the sum of the first ``period`` DX values divided by ``period``; after
    that ``adx = (adx * (period - 1) + dx) / period``, skipped (ADX held) at steps where the true
    range or ``+DI + -DI`` is within 1e-14 of zero, as TA-Lib skips them. The smoothing runs through
    a linear filter over the steps that update, and the held steps are filled forward.

    Parameters
    ----------
    period
        Smoothing period, at least 2.

    Examples
    --------
    >>> import numpy as np
    >>> adx = ADX(period=2)
    >>> adx.warmup
    4
    >>> adx.update(high=np.array([2.0, 3.0, 4.0, 4.5, 4.0]), low=np.array([1.0, 2.0, 3.0, 3.0, 2.0]),
    ...            close=np.array([1.5, 2.5, 3.5, 4.0, 2.5])).round(4).tolist()
    [nan, nan, nan, 100.0, 61.5385]
    """

    name = "adx"

    def __init__(self, period: int = 14):
        self.period = check_int("ADX", "period", period, 2)
        self.inputs = ("high", "low", "close")
        self.warmup = 2 * self.period
        self._previous = [History(1), History(1), History(1)]
        decay = 1.0 - 1.0 / self.period
        self._plus = RecursiveSmoother(self.period - 1, 1.0, 1.0, decay, emit_seed=False)
        self._minus = RecursiveSmoother(self.period - 1, 1.0, 1.0, decay, emit_seed=False)
        self._range = RecursiveSmoother(self.period - 1, 1.0, 1.0, decay, emit_seed=False)
        self._adx_smoother = wilder_smoother(self.period)
        self._dx_count = 0
        self._adx = float("nan")

    def _update(self, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
        size = len(close)
        high_all, low_all, close_all = (
            history.extend(column) for history, column in zip(self._previous, (high, low, close), strict=True)
        )
        skipped = size - (len(close_all) - 1)
        up = high_all[1:] - high_all[:-1]
        down = low_all[:-1] - low_all[1:]
        minus_move = (down > 0.0) & (up < down)
        plus_move = ~minus_move & (up > 0.0) & (up > down)
        plus, first = self._plus.update(np.where(plus_move, up, 0.0))
        minus, _ = self._minus.update(np.where(minus_move, down, 0.0))
        ranges, _ = self._range.update(true_range(high_all[1:], low_all[1:], close_all[:-1]))
        with np.errstate(divide="ignore", invalid="ignore"):
            plus_di = 100.0 * (plus / ranges)
            minus_di = 100.0 * (minus / ranges)
            di_total = minus_di + plus_di
            dx = 100.0 * (np.abs(minus_di - plus_di) / di_total)
        valid = ~is_zero(ranges) & ~is_zero(di_total)
        # The first `period` DX values seed the ADX (an invalid one adds nothing); later ones update it.
        seeding = min(self.period - self._dx_count, len(dx))
        self._dx_count += seeding
        later = valid[seeding:]
        fed = np.concatenate((np.where(valid[:seeding], dx[:seeding], 0.0), dx[seeding:][later]))
        smoothed, first_fed = self._adx_smoother.update(fed)
        lookup = np.concatenate(([self._adx], place(len(fed), smoothed, first_fed)))
        source = np.concatenate((np.arange(seeding), seeding - 1 + np.cumsum(later)))
        adx = lookup[source + 1]
        if len(adx):
            self._adx = float(adx[-1])
        return place(size, adx, skipped + first)
