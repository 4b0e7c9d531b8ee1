"""`VolumeFeatures`: volume relative to its recent level."""

from __future__ import annotations

import math
from collections import deque

from operators.features.volatility import window_std


class VolumeFeatures:
    """Volume ratio (volume / mean volume of the window) and z-score of log(1 + volume) in the window.

    Both include the current bar in the window; NaN until ``window`` bars have been seen.

    Parameters
    ----------
    window
        Number of bars in the window (at least 2).

    Examples
    --------
    >>> features = VolumeFeatures(2)
    >>> [features.update(v) for v in (100.0, 300.0)][-1]["volume_ratio"]
    1.5
    """

    def __init__(self, window: int = 20):
        if window < 2:
            raise ValueError(f"window must be at least 2; was {window}")
        self.window = window
        self._volumes: deque[float] = deque(maxlen=window)
        self._logs: deque[float] = deque(maxlen=window)

    def update(self, volume: float) -> dict[str, float]:
        """Add one bar's volume; return ``volume_ratio`` and ``volume_z``."""
        volume = max(float(volume), 0.0)
        self._volumes.append(volume)
        self._logs.append(math.log1p(volume))
        if len(self._volumes) < self.window:
            return {"volume_ratio": math.nan, "volume_z": math.nan}
        mean = math.fsum(self._volumes) / self.window
        std = window_std(self._logs)
        log_mean = math.fsum(self._logs) / self.window
        return {
            "volume_ratio": volume / mean if mean > 0 else math.nan,
            "volume_z": (self._logs[-1] - log_mean) / std if std > 0 else 0.0,
        }
