"""`ModelOperator`: features per instrument → online models → predictions, metrics and drift alerts.

Per instrument, for each bar (in event-time order):

1. **Labels that matured are scored, then learned.** A prediction made ``horizon`` bars ago now has
   its label (the forward log return since then, or the series' current value). Each model's rolling
   metrics score that prediction first (test-then-train), the champion's error feeds ADWIN, and only
   then does the model learn the example. A model therefore never learns from a bar it has not seen.
2. **Series models observe** the current value of their series (known now, so no delay).
3. **Every model predicts** from the current features (champion and challenger side by side, on the
   same stream); each prediction is a ``Prediction`` event and is kept until its label matures.

Every ``metrics_every`` scored labels each model's rolling metrics go out as ``ModelMetric`` events.
When ADWIN finds the champion's error has risen, a ``RiskAlert`` (rule ``model_drift``, action NONE)
goes out and, per ``drift_action``, the champion is reset or replaced by the challenger (if the
challenger's rolling error is lower; otherwise reset). State per instrument is bounded: ``horizon``
pending examples, the metric windows, ADWIN's buckets and the checkpointed models.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from operators.models.drift import DriftMonitor
from operators.models.evaluation import RollingEvaluator
from operators.models.events import drift_alert_record, metric_record, prediction_record
from operators.models.online import OnlineModel
from operators.models.spec import ModelSpec


class ModelOperatorConfig(BaseModel):
    """The models run on a stream and how they are monitored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: ModelSpec = Field(default_factory=ModelSpec, description="The champion.")
    challenger: ModelSpec | None = Field(None, description="A shadow model run on the same stream.")
    horizon: int = Field(5, ge=1, description="Bars ahead the label (forward return) looks.")
    metrics_window: int = Field(500, ge=10, description="Scored predictions in the rolling metrics.")
    metrics_every: int = Field(100, ge=1, description="Scored predictions between ModelMetric events.")
    drift_delta: float = Field(0.002, gt=0, lt=1, description="ADWIN delta on the champion's errors.")
    drift_action: Literal["alert", "reset", "swap"] = "swap"
    account_id: str = Field("default", description="Account named in drift alerts.")

    @model_validator(mode="after")
    def _compatible(self) -> ModelOperatorConfig:
        if self.challenger is not None:
            if self.challenger.task != self.model.task:
                raise ValueError(
                    f"challenger: task {self.challenger.task!r} differs from the model's {self.model.task!r}"
                )
            if self.challenger.model_id == self.model.model_id:
                raise ValueError(f"challenger: needs an id other than the model's {self.model.model_id!r}")
        return self


@dataclass(slots=True)
class _Pending:
    index: int
    x: dict[str, float] | None
    price: float
    base: float
    predictions: dict[tuple[str, str], float]


class _Track:
    __slots__ = ("bars", "scored", "pending", "models", "evaluators", "monitor")

    def __init__(self, config: ModelOperatorConfig):
        self.bars = 0
        self.scored = 0
        self.pending: deque[_Pending] = deque()
        specs = [config.model] + ([config.challenger] if config.challenger is not None else [])
        self.models = [OnlineModel(spec, config.horizon) for spec in specs]
        self.evaluators = [RollingEvaluator(spec.task, config.metrics_window) for spec in specs]
        self.monitor = DriftMonitor(config.drift_delta)


@dataclass(frozen=True, slots=True)
class ModelStep:
    """What one bar produced: the champion's prediction (None if it could not predict) and the events."""

    prediction: float | None
    events: list[tuple[str, dict]]


def _error_of(evaluator: RollingEvaluator) -> float:
    values = evaluator.values()
    return 1.0 - values["accuracy"] if "accuracy" in values else values["mae"]


class ModelOperator:
    """Runs `ModelOperatorConfig`'s models per instrument; see the module docstring.

    Parameters
    ----------
    config
        Models, horizon, metrics and drift settings.

    Examples
    --------
    >>> import math
    >>> config = ModelOperatorConfig(model={"kind": "logistic", "learning_rate": 0.5}, horizon=1,
    ...                              metrics_every=50, metrics_window=50)
    >>> operator, price = ModelOperator(config), 100.0
    >>> for t in range(400):  # the sign of x predicts the next bar's move
    ...     signal = 1.0 if (t * 7) % 3 else -1.0
    ...     step = operator.on_bar("X", t, t, {"signal": signal}, price)
    ...     price *= math.exp(0.001 * signal)
    >>> (step.prediction > 0.5) == (signal > 0), sorted({name for name, _ in step.events})
    (True, ['Prediction'])
    >>> operator.metrics("X")["logistic"]["accuracy"]
    1.0
    """

    def __init__(self, config: ModelOperatorConfig | None = None):
        self.config = config or ModelOperatorConfig()
        self._tracks: dict[str, _Track] = {}

    def metrics(self, instrument: str) -> dict[str, dict[str, float]]:
        """The current rolling metrics of each model on ``instrument``, by model id."""
        track = self._tracks.get(instrument)
        if track is None:
            return {}
        return {m.model_id: e.values() for m, e in zip(track.models, track.evaluators, strict=True)}

    def champion(self, instrument: str) -> str | None:
        """The id of ``instrument``'s current champion model (None before its first bar)."""
        track = self._tracks.get(instrument)
        return None if track is None else track.models[0].model_id

    def on_bar(
        self, instrument: str, ts_event: int, ts_init: int, features: dict[str, float], price: float
    ) -> ModelStep:
        """Process one bar of ``instrument`` with its feature vector; see the module docstring."""
        config = self.config
        track = self._tracks.get(instrument)
        if track is None:
            track = self._tracks[instrument] = _Track(config)
        track.bars += 1
        events: list[tuple[str, dict]] = []
        series = config.model.task == "series"
        now = float(features.get(config.model.series, math.nan)) if series else math.nan
        while track.pending and track.bars - track.pending[0].index >= config.horizon:
            self._mature(track, track.pending.popleft(), instrument, price, now, ts_event, ts_init, events)
        if series and math.isfinite(now):
            for model in track.models:
                model.observe(now)
        x = None if series else features
        if x is not None and not all(math.isfinite(v) for v in x.values()):
            x = None
        if (series and not math.isfinite(now)) or (not series and x is None) or not price > 0:
            return ModelStep(None, events)
        predictions: dict[tuple[str, str], float] = {}
        for model in track.models:
            value = model.predict(features)
            if value is None:
                continue
            predictions[(model.model_id, model.version)] = value
            events.append(("Prediction", self._prediction(model, instrument, value, ts_event, ts_init)))
        track.pending.append(_Pending(track.bars, None if x is None else dict(x), price, now, predictions))
        champion = track.models[0]
        return ModelStep(predictions.get((champion.model_id, champion.version)), events)

    def _prediction(
        self, model: OnlineModel, instrument: str, value: float, ts_event: int, ts_init: int
    ) -> dict:
        if model.spec.task == "direction":
            up = value > 0.5
            return prediction_record(
                model.model_id, model.version, instrument, self.config.horizon,
                1.0 if up else 0.0, value if up else 1.0 - value, ts_event, ts_init,
            )  # fmt: skip
        return prediction_record(
            model.model_id, model.version, instrument, self.config.horizon, value, None, ts_event, ts_init
        )

    def _mature(
        self,
        track: _Track,
        entry: _Pending,
        instrument: str,
        price: float,
        now: float,
        ts_event: int,
        ts_init: int,
        events: list[tuple[str, dict]],
    ) -> None:
        series = self.config.model.task == "series"
        actual = now if series else (math.log(price / entry.price) if price > 0 else math.nan)
        if not math.isfinite(actual):
            return
        drifted = False
        for slot, (model, evaluator) in enumerate(zip(track.models, track.evaluators, strict=True)):
            predicted = entry.predictions.get((model.model_id, model.version))
            if predicted is not None:
                error = evaluator.update(predicted, actual, entry.base if series else 0.0)
                if slot == 0:
                    drifted = track.monitor.update(error)
            if entry.x is not None:
                model.learn(entry.x, actual)
        track.scored += 1
        if track.scored % self.config.metrics_every == 0:
            for model, evaluator in zip(track.models, track.evaluators, strict=True):
                for name, value in evaluator.values().items():
                    events.append(
                        ("ModelMetric", metric_record(
                            model.model_id, model.version, instrument, name,
                            self.config.metrics_window, value, ts_event, ts_init,
                        ))
                    )  # fmt: skip
        if drifted:
            events.append(("RiskAlert", self._on_drift(track, instrument, ts_event, ts_init)))

    def _on_drift(self, track: _Track, instrument: str, ts_event: int, ts_init: int) -> dict:
        config, champion = self.config, track.models[0]
        mean_error, label = track.monitor.mean_error, f"{champion.model_id} v{champion.version}"
        action = config.drift_action
        outcome = "alert only"
        if action == "swap" and len(track.models) > 1:
            if _error_of(track.evaluators[1]) < _error_of(track.evaluators[0]):
                track.models.reverse()
                track.evaluators.reverse()
                outcome = f"challenger {track.models[0].model_id} promoted to champion"
            else:
                outcome = "challenger no better"
            action = "reset"
        if action == "reset":
            demoted = track.models[-1] if "promoted" in outcome else champion
            slot = track.models.index(demoted)
            demoted.reset()
            track.evaluators[slot] = RollingEvaluator(demoted.spec.task, config.metrics_window)
            track.monitor.reset()
            outcome += f"; {demoted.model_id} reset to version {demoted.version}"
        message = (
            f"{label} on {instrument}: ADWIN found the error rising "
            f"(mean {mean_error:.4f}); {outcome.removeprefix('alert only; ')}"
        )
        return drift_alert_record(
            config.account_id, champion.model_id, instrument, message, mean_error, ts_event, ts_init
        )
