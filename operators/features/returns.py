"""`Returns`: log returns of a price over several horizons (in bars)."""

from __future__ import annotations

import math
from collections import deque

NAN = math.nan


class Returns:
    """Log return ``log(close_t / close_{t-h})`` for each horizon ``h``; NaN until ``h`` bars back exist.

    Parameters
    ----------
    horizons
        Look-back horizons in bars (each at least 1).

    Examples
    --------
    >>> returns = Returns((1, 2))
    >>> [returns.update(c) for c in (100.0, 110.0, 121.0)][-1]
    {'ret_1': 0.09531017980432493, 'ret_2': 0.1906203596086497}
    """

    def __init__(self, horizons: tuple[int, ...] = (1, 5, 20)):
        if not horizons or min(horizons) < 1:
            raise ValueError(f"horizons must be positive bar counts; was {horizons}")
        self.horizons = tuple(horizons)
        self._closes: deque[float] = deque(maxlen=max(self.horizons) + 1)

    def update(self, close: float) -> dict[str, float]:
        """Add one close; return ``{'ret_<h>': value}`` for every horizon."""
        closes = self._closes
        closes.append(close)
        n = len(closes)
        out = {}
        for h in self.horizons:
            if n > h and closes[-1 - h] > 0 and close > 0:
                out[f"ret_{h}"] = math.log(close / closes[-1 - h])
            else:
                out[f"ret_{h}"] = NAN
        return out
