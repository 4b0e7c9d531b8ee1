"""`ModelSpec`: a validated description of one online model, and the River estimator it builds."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from river import base, forest, linear_model, optim, preprocessing, time_series, tree

from schemas.errors import ConfigError, config_error

#: What each kind of model learns: the direction of the forward return (classifier), the forward
#: return itself (regressor), or the next values of one feature series (forecaster).
TASK_OF: dict[str, Literal["direction", "return", "series"]] = {
    "logistic": "direction",
    "hat_classifier": "direction",
    "arf_classifier": "direction",
    "linear": "return",
    "hat_regressor": "return",
    "arf_regressor": "return",
    "snarimax": "series",
    "holt_winters": "series",
}

_ESTIMATOR_NAME = {
    "logistic": "LogisticRegression",
    "linear": "LinearRegression",
    "hat_classifier": "HoeffdingAdaptiveTreeClassifier",
    "hat_regressor": "HoeffdingAdaptiveTreeRegressor",
    "arf_classifier": "ARFClassifier",
    "arf_regressor": "ARFRegressor",
    "snarimax": "SNARIMAX",
    "holt_winters": "HoltWinters",
}

ModelKind = Literal[
    "logistic",
    "hat_classifier",
    "arf_classifier",
    "linear",
    "hat_regressor",
    "arf_regressor",
    "snarimax",
    "holt_winters",
]


class ModelSpec(BaseModel):
    """One online model: its kind, the River constructor's parameters, its id and version.

    ``logistic`` and ``linear`` standardise features first (River ``StandardScaler``). The Hoeffding
    adaptive trees (``hat_*``) and adaptive random forests (``arf_*``, slow: see bench/RESULTS.md)
    take River's parameters, with ``seed`` defaulting to 42 so runs are reproducible. ``snarimax``
    and ``holt_winters`` forecast the feature named by ``series`` (e.g. ``rvol``).

    Examples
    --------
    >>> spec = ModelSpec(kind="logistic", params={"l2": 0.01})
    >>> spec.task, spec.model_id, type(spec.build()[-1]).__name__
    ('direction', 'logistic', 'LogisticRegression')
    >>> parse_spec({"kind": "hat_classifier", "params": {"grace_perod": 50}}, "model")
    Traceback (most recent call last):
    ...
    schemas.errors.ConfigError: model: HoeffdingAdaptiveTreeClassifier has no parameter 'grace_perod'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ModelKind = "logistic"
    id: str = Field("", description="Model id in Prediction events; defaults to the kind.")
    version: str = Field("1", min_length=1, description="Version of the model's code or parameters.")
    params: dict[str, Any] = Field(default_factory=dict, description="Passed to the River estimator.")
    learning_rate: float = Field(0.01, gt=0, description="SGD step of logistic/linear models.")
    series: str = Field("rvol", description="Feature forecast by snarimax/holt_winters.")
    checkpoint_every: int = Field(
        500, ge=1, description="Learned examples between full model checkpoints (state snapshots)."
    )

    @model_validator(mode="after")
    def _buildable(self) -> ModelSpec:
        try:
            self.build()
        except ConfigError as e:
            raise ValueError(str(e)) from None
        return self

    @property
    def task(self) -> Literal["direction", "return", "series"]:
        """``direction``, ``return`` or ``series`` (see `TASK_OF`)."""
        return TASK_OF[self.kind]

    @property
    def model_id(self) -> str:
        """The id in events (``id``, or the kind)."""
        return self.id or self.kind

    @property
    def fingerprint(self) -> str:
        """A short hash of the whole spec: two specs with equal fingerprints learn identically."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()

    def build(self) -> base.Estimator:
        """A fresh, unfitted River estimator (or pipeline) for this spec."""
        factories = {
            "logistic": lambda p: (
                preprocessing.StandardScaler()
                | linear_model.LogisticRegression(optimizer=optim.SGD(self.learning_rate), **p)
            ),
            "linear": lambda p: (
                preprocessing.StandardScaler()
                | linear_model.LinearRegression(optimizer=optim.SGD(self.learning_rate), **p)
            ),
            "hat_classifier": lambda p: tree.HoeffdingAdaptiveTreeClassifier(**{"seed": 42, **p}),
            "hat_regressor": lambda p: tree.HoeffdingAdaptiveTreeRegressor(**{"seed": 42, **p}),
            "arf_classifier": lambda p: forest.ARFClassifier(**{"seed": 42, **p}),
            "arf_regressor": lambda p: forest.ARFRegressor(**{"seed": 42, **p}),
            "snarimax": lambda p: time_series.SNARIMAX(**{"p": 3, "d": 0, "q": 0, **p}),
            "holt_winters": lambda p: time_series.HoltWinters(**{"alpha": 0.3, "beta": 0.1, **p}),
        }
        try:
            return factories[self.kind](dict(self.params))
        except TypeError as e:
            bad = str(e).rsplit("'", 2)[-2] if "'" in str(e) else str(e)
            raise ConfigError(f"{_ESTIMATOR_NAME[self.kind]} has no parameter {bad!r}") from None
        except (ValueError, AssertionError) as e:
            raise ConfigError(f"{_ESTIMATOR_NAME[self.kind]}: invalid parameters: {e}") from None


def parse_spec(data: ModelSpec | dict[str, Any], field: str) -> ModelSpec:
    """Validate ``data`` as a `ModelSpec`; raise `ConfigError` naming ``field`` and the problem."""
    if isinstance(data, ModelSpec):
        return data
    try:
        return ModelSpec(**data)
    except ValidationError as e:
        raise config_error(field, e) from None
