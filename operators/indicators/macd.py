"""Moving average convergence/divergence (TA-Lib ``MACD``)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from operators.indicators._kernels import ema_smoother, place
from operators.indicators.base import Indicator, check_int, check_name
from schemas.errors import ConfigError


class MACDResult(NamedTuple):
    """MACD line, its signal line and their difference (arrays, or floats for one input)."""

    macd: np.ndarray
    signal: np.ndarray
    hist: np.ndarray


class MACD(Indicator):
    """MACD as ``talib.MACD`` computes it: ``ema_fast - ema_slow``, an EMA signal, and the histogram.

    TA-Lib starts both EMAs at the slow EMA's first output: the fast EMA is seeded with the SMA of
    the ``fast`` values ending there, not of the first ``fast`` values. This class does the same, so
    it matches ``talib.MACD`` (and ``talib.MACDEXT`` with EMA types, which aligns them the same way)
    on the same series from its start. All three outputs start at input ``slow + signal - 1``.

    Parameters
    ----------
    fast
        Fast EMA period, at least 2 and less than ``slow``.
    slow
        Slow EMA period.
    signal
        Signal EMA period, at least 1.
    source
        Name of the input field.

    Examples
    --------
    >>> import numpy as np
    >>> macd = MACD(fast=2, slow=3, signal=2)
    >>> macd.warmup
    4
    >>> out = macd.update(close=np.array([1.0, 2.0, 4.0, 8.0, 8.0]))
    >>> out.macd.round(4).tolist(), out.signal.round(4).tolist()
    ([nan, nan, nan, 1.1667, 0.8611], [nan, nan, nan, 0.9167, 0.8796])
    """

    name = "macd"
    result_type = MACDResult

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9, source: str = "close"):
        self.fast = check_int("MACD", "fast", fast, 2)
        self.slow = check_int("MACD", "slow", slow, 2)
        self.signal = check_int("MACD", "signal", signal, 1)
        if self.fast >= self.slow:
            raise ConfigError(f"MACD: fast must be less than slow ({slow}), was {fast}")
        self.source = check_name("MACD", "source", source)
        self.inputs = (source,)
        self.warmup = self.slow + self.signal - 1
        self._skip = self.slow - self.fast
        self._slow = ema_smoother(self.slow)
        self._fast = ema_smoother(self.fast)
        self._signal = ema_smoother(self.signal)

    def _update(self, close: np.ndarray) -> MACDResult:
        size = len(close)
        skipped = min(self._skip, size)
        self._skip -= skipped
        slow, first_slow = self._slow.update(close)
        fast, first_fast = self._fast.update(close[skipped:])
        line = fast - slow
        signal, first_signal = self._signal.update(line)
        line = line[first_signal:]
        first = first_slow + first_signal
        return MACDResult(
            place(size, line, first), place(size, signal, first), place(size, line - signal, first)
        )
