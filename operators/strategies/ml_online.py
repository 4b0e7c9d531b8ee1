"""Prediction-driven trading: an online model's P(up), sized by forecast volatility."""

from __future__ import annotations

import hashlib
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from operators.features import BarFeatures, FeatureConfig
from operators.models import (
    GarchForecaster,
    HmmRegime,
    ModelOperator,
    ModelOperatorConfig,
    fit_garch,
    fit_hmm,
)
from operators.models.events import prediction_record
from operators.strategy import Strategy
from schemas.errors import ConfigError


def _version(params: object) -> str:
    return hashlib.blake2b(repr(params).encode(), digest_size=4).hexdigest()


class MlOnline(Strategy):
    """Long (optionally short) when an online model is confident, sized so each position risks the same.

    Per instrument and bar: features (`operators.features.BarFeatures`) → `ModelOperator` (River
    model learning from delayed labels, champion/challenger, rolling metrics, ADWIN drift alerts) →
    target. A ``direction`` model goes long when P(up) > ``threshold`` (short when P(up) <
    1 − ``threshold`` and ``allow_short``); a ``return`` model when the predicted forward return
    exceeds ``min_return`` in size. The quantity is ``risk_budget / (close · σ · √horizon)``, capped
    at ``max_quantity``, where σ is the next bar's volatility: GARCH(1,1) fitted on the first
    ``fit_bars`` returns of the instrument (``volatility: garch``) or the realised volatility.
    With ``regimes`` ≥ 2 a Gaussian HMM fitted on the same bars filters the regime each bar and
    trading is allowed only in ``trade_regimes`` (state 0 = calmest). Predictions, model metrics and
    drift alerts are emitted as ``Prediction``, ``ModelMetric`` and ``RiskAlert`` events; the GARCH
    forecast (``garch11``) and the regime (``hmm_regime``) are ``Prediction`` events too.

    Examples
    --------
    >>> strategy = MlOnline({"online": {"model": {"kind": "logistic"}, "horizon": 5}, "threshold": 0.6})
    >>> strategy.p.online.model.kind, strategy.p.threshold
    ('logistic', 0.6)
    >>> MlOnline({"online": {"model": {"kind": "snarimax"}}})
    Traceback (most recent call last):
    ...
    schemas.errors.ConfigError: MlOnline params: online.model: trades on direction or return models; snarimax forecasts a series
    """

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        features: FeatureConfig = Field(default_factory=FeatureConfig)
        online: ModelOperatorConfig = Field(default_factory=ModelOperatorConfig)
        threshold: float = Field(0.55, gt=0.5, lt=1.0, description="P(up) needed to go long.")
        min_return: float = Field(0.0, ge=0.0, description="Predicted return needed (return models).")
        allow_short: bool = False
        volatility: Literal["garch", "realised"] = "garch"
        fit_bars: int = Field(1000, ge=100, description="Bars per instrument that fit GARCH and the HMM.")
        regimes: int = Field(0, ge=0, le=5, description="HMM states (0 = no regime filter).")
        trade_regimes: tuple[int, ...] = (0,)
        risk_budget: float = Field(1000.0, gt=0, description="Target σ·√horizon of each position's value.")
        max_quantity: float = Field(1000.0, gt=0)

        @model_validator(mode="after")
        def _check(self):
            if self.online.model.task == "series":
                raise ValueError(
                    f"online.model: trades on direction or return models; {self.online.model.kind} forecasts a series"
                )
            if 1 not in self.features.return_horizons:
                raise ValueError("features.return_horizons: must include 1 (GARCH and the HMM use it)")
            if self.regimes == 1:
                raise ValueError("regimes: needs 0 (off) or at least 2 states")
            if self.regimes and not all(0 <= r < self.regimes for r in self.trade_regimes):
                raise ValueError(f"trade_regimes: states must lie in 0..{self.regimes - 1}")
            return self

    def __init__(self, params=None):
        super().__init__(params)
        self._features = BarFeatures(self.p.features)
        self._models = ModelOperator(self.p.online)
        self._training: dict[str, list[float]] = {}  # returns that will fit GARCH, per instrument
        self._hmm_training: dict[str, list[float]] = {}
        self._garch: dict[str, GarchForecaster] = {}
        self._hmm: dict[str, tuple[HmmRegime, float, str]] = {}

    @classmethod
    def validate_params(cls, params):
        try:
            return super().validate_params(params)
        except ConfigError as e:
            raise ConfigError(str(e).replace("Value error, ", "")) from None

    def validate_universe(self, universe):
        benchmark = self.p.features.benchmark
        if benchmark is not None and benchmark not in universe:
            raise ConfigError(
                f"ml_online: features.benchmark {benchmark!r} is not in the universe {universe}; "
                "list it in the run config's universe (it is never traded)"
            )

    def on_bar(self, bar, ind, ctx):
        p, instrument = self.p, bar.instrument
        vector = self._features.on_bar(instrument, bar.ts_event, bar.close, bar.volume)
        if instrument == p.features.benchmark:
            return
        sigma = self._volatility(instrument, vector, bar, ctx)
        regime = self._regime(instrument, vector.get("ret_1", math.nan), bar, ctx)
        step = self._models.on_bar(instrument, bar.ts_event, bar.ts_init, vector, bar.close)
        for schema, record in step.events:
            ctx.emit(schema, record)
        if step.prediction is None or sigma is None or not sigma > 0:
            return
        if p.regimes and regime not in p.trade_regimes:
            ctx.target(instrument, 0.0, f"regime={regime}")
            return
        forecast = step.prediction
        if p.online.model.task == "direction":
            side = 1.0 if forecast > p.threshold else (-1.0 if forecast < 1.0 - p.threshold else 0.0)
        else:
            side = 1.0 if forecast > p.min_return else (-1.0 if forecast < -p.min_return else 0.0)
        if side < 0 and not p.allow_short:
            side = 0.0
        size = min(
            p.max_quantity, math.floor(p.risk_budget / (bar.close * sigma * math.sqrt(p.online.horizon)))
        )
        ctx.target(instrument, side * size, f"forecast={forecast:.4f} sigma={sigma:.6f}")

    def _volatility(self, instrument, vector, bar, ctx) -> float | None:
        p = self.p
        if p.volatility == "realised":
            sigma = vector["rvol"]
            return sigma if math.isfinite(sigma) else None
        ret = vector.get("ret_1", math.nan)
        forecaster = self._garch.get(instrument)
        if forecaster is None:
            self._train(instrument, ret)
            forecaster = self._garch.get(instrument)
            if forecaster is None:
                return None
        elif math.isfinite(ret):
            forecaster.update(ret)
        sigma = forecaster.volatility
        ctx.emit(
            "Prediction",
            prediction_record("garch11", _version(forecaster.params), instrument, 1, sigma, None,
                              bar.ts_event, bar.ts_init),
        )  # fmt: skip
        return sigma

    def _train(self, instrument: str, ret: float) -> None:
        """Collect the instrument's first ``fit_bars`` returns, then fit GARCH (and the HMM) on them."""
        p = self.p
        window = self._training.setdefault(instrument, [])
        if math.isfinite(ret):
            window.append(ret)
        if len(window) < p.fit_bars:
            return
        del self._training[instrument]
        self._garch[instrument] = GarchForecaster(fit_garch(window))

    def _regime(self, instrument, ret, bar, ctx) -> int | None:
        p = self.p
        if not p.regimes:
            return None
        state = self._hmm.get(instrument)
        if state is None:
            window = self._hmm_training.setdefault(instrument, [])
            if math.isfinite(ret):
                window.append(ret)
            if len(window) < p.fit_bars:
                return None
            del self._hmm_training[instrument]
            scale = math.sqrt(math.fsum(r * r for r in window) / len(window)) or 1.0
            params = fit_hmm([[r / scale] for r in window], n_states=p.regimes)
            state = self._hmm[instrument] = (HmmRegime(params), scale, _version(params))
            return None
        regime, scale, version = state
        if not math.isfinite(ret):
            return None
        current = regime.update([ret / scale])
        ctx.emit(
            "Prediction",
            prediction_record("hmm_regime", version, instrument, 0, float(current),
                              regime.probabilities[current], bar.ts_event, bar.ts_init),
        )  # fmt: skip
        return current
