"""`RollingEvaluator`: progressive (test-then-train) metrics of one model over a rolling window."""

from __future__ import annotations

from typing import Literal

from river import metrics, utils

Task = Literal["direction", "return", "series"]


class RollingEvaluator:
    """Rolling metrics of predictions scored once their label is known (River ``utils.Rolling``).

    * ``direction`` models: ``accuracy`` and ``log_loss`` of P(up) against the realised direction.
    * ``return`` and ``series`` models: ``mae`` and the directional ``hit_rate`` (the predicted move
      from ``base`` — 0 for returns, the series' value at prediction time for series — has the sign
      of the realised move).

    Parameters
    ----------
    task
        The model's task (see `operators.models.spec.TASK_OF`).
    window
        Number of most recent scored predictions the metrics cover.

    Examples
    --------
    >>> evaluator = RollingEvaluator("direction", window=2)
    >>> for p_up, went_up in [(0.9, True), (0.8, False), (0.3, False)]:
    ...     error = evaluator.update(p_up, 1.0 if went_up else -1.0)
    >>> {name: round(value, 4) for name, value in evaluator.values().items()}
    {'accuracy': 0.5, 'log_loss': 0.9831}
    """

    def __init__(self, task: Task, window: int = 500):
        if window < 1:
            raise ValueError(f"window must be at least 1; was {window}")
        self.task = task
        self.window = window
        if task == "direction":
            self._metrics = {
                "accuracy": utils.Rolling(metrics.Accuracy, window_size=window),
                "log_loss": utils.Rolling(metrics.LogLoss, window_size=window),
            }
        else:
            self._metrics = {
                "mae": utils.Rolling(metrics.MAE, window_size=window),
                "hit_rate": utils.Rolling(metrics.Accuracy, window_size=window),
            }
        self.count = 0

    def update(self, prediction: float, actual: float, base: float = 0.0) -> float:
        """Score one prediction against its realised ``actual``; return its error for drift detection.

        For ``direction`` models ``prediction`` is P(up) and ``actual`` the realised forward return; the
        error is 0/1 (misclassified). Otherwise the error is the absolute error.
        """
        self.count += 1
        if self.task == "direction":
            went_up = actual > 0
            self._metrics["accuracy"].update(went_up, prediction > 0.5)
            self._metrics["log_loss"].update(went_up, {True: prediction, False: 1.0 - prediction})
            return float((prediction > 0.5) != went_up)
        self._metrics["mae"].update(actual, prediction)
        self._metrics["hit_rate"].update(actual > base, prediction > base)
        return abs(actual - prediction)

    def values(self) -> dict[str, float]:
        """The current value of each metric, by name."""
        return {name: float(metric.get()) for name, metric in self._metrics.items()}
