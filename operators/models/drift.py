"""`DriftMonitor`: ADWIN on a model's error stream, reporting only degradations."""

from __future__ import annotations

from river import drift


class DriftMonitor:
    """Feed a model's per-prediction errors; `update` says when ADWIN finds the mean error has *risen*.

    ADWIN also cuts its window when the error falls (a model recovering); those cuts are not drift
    alerts. Detections are counted here because ADWIN resets its own counter.

    Parameters
    ----------
    delta
        ADWIN's confidence parameter (smaller = fewer false alarms, slower detection).

    Examples
    --------
    >>> monitor = DriftMonitor(delta=0.002)
    >>> alarms = [i for i in range(2000) if monitor.update(0.1 if i < 1000 else 0.9)]
    >>> len(alarms) >= 1 and 1000 <= alarms[0] < 1100, monitor.detections >= 1
    (True, True)
    """

    def __init__(self, delta: float = 0.002):
        self.delta = delta
        self._adwin = drift.ADWIN(delta=delta)
        self.detections = 0
        self.mean_error = float("nan")

    def update(self, error: float) -> bool:
        """Add one error; return True when the error mean has significantly increased."""
        before = self._adwin.estimation
        self._adwin.update(error)
        self.mean_error = self._adwin.estimation
        if self._adwin.drift_detected and self._adwin.estimation > before:
            self.detections += 1
            return True
        return False

    def reset(self) -> None:
        """Forget the error history (after the model was replaced)."""
        self._adwin = drift.ADWIN(delta=self.delta)
