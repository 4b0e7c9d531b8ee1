"""`OnlineModel`: one River model with a uniform predict/learn API over the three tasks."""

from __future__ import annotations

import math

from operators.models.checkpoint import Checkpointed
from operators.models.spec import ModelSpec

#: Values a series model must have learned before it forecasts.
MIN_SERIES_OBSERVATIONS = 10


class OnlineModel:
    """A `ModelSpec`'s estimator, checkpointed, with one ``predict``/``learn`` API for every task.

    * ``direction``: ``predict(x)`` is P(up); ``learn(x, forward_return)`` learns ``forward_return > 0``.
    * ``return``: ``predict(x)`` is the forward log return; ``learn(x, forward_return)``.
    * ``series``: ``observe(value)`` learns the series' newest value (known at once, so no delay);
      ``predict(x)`` forecasts the value ``horizon`` bars ahead (None until enough is learned).

    ``generation`` counts resets; ``version`` is ``<spec.version>.<generation>``.

    Parameters
    ----------
    spec
        The model.
    horizon
        Bars ahead that predictions look.

    Examples
    --------
    >>> model = OnlineModel(ModelSpec(kind="logistic", learning_rate=0.5), horizon=1)
    >>> for i in range(200):
    ...     x = {"signal": 1.0 if i % 2 else -1.0}
    ...     model.learn(x, 0.01 * x["signal"])
    >>> model.predict({"signal": 1.0}) > 0.9, model.predict({"signal": -1.0}) < 0.1, model.version
    (True, True, '1.0')
    """

    def __init__(self, spec: ModelSpec, horizon: int):
        self.spec = spec
        self.horizon = horizon
        self.generation = 0
        self.observations = 0
        self._estimator = Checkpointed(spec.build(), spec.checkpoint_every)

    @property
    def model_id(self) -> str:
        return self.spec.model_id

    @property
    def version(self) -> str:
        return f"{self.spec.version}.{self.generation}"

    def reset(self) -> None:
        """Start again from an unfitted model (after drift); bumps the version."""
        self.generation += 1
        self.observations = 0
        self._estimator = Checkpointed(self.spec.build(), self.spec.checkpoint_every)

    def predict(self, x: dict[str, float]) -> float | None:
        """The prediction for features ``x`` (see the class docstring), or None if it cannot predict yet."""
        task = self.spec.task
        model = self._estimator.model
        if task == "direction":
            return float(model.predict_proba_one(x).get(True, 0.5))
        if task == "return":
            return float(model.predict_one(x))
        if self.observations < MIN_SERIES_OBSERVATIONS:
            return None
        value = float(model.forecast(self.horizon)[-1])
        return value if math.isfinite(value) else None

    def learn(self, x: dict[str, float], forward_return: float) -> None:
        """Learn one example whose label (the forward return over ``horizon`` bars) is now known."""
        task = self.spec.task
        if task == "direction":
            self._estimator.learn_one(x, forward_return > 0)
        elif task == "return":
            self._estimator.learn_one(x, forward_return)
        self.observations += 1

    def observe(self, value: float) -> None:
        """Learn a series model's newest value (no-op for the other tasks)."""
        if self.spec.task == "series":
            self._estimator.learn_one(value)
            self.observations += 1
