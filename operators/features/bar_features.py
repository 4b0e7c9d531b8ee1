"""`BarFeatures`: the feature vector of each instrument, bar by bar, from `FeatureConfig`."""

from __future__ import annotations

import math
from collections import OrderedDict

from pydantic import BaseModel, ConfigDict, Field, field_validator

from operators.features.cross_asset import BenchmarkRelation
from operators.features.returns import Returns
from operators.features.volatility import RealisedVolatility
from operators.features.volume import VolumeFeatures


class FeatureConfig(BaseModel):
    """Which features a model sees.

    ``benchmark`` (an instrument of the stream) enables ``corr_bench`` and ``rs_bench``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    return_horizons: tuple[int, ...] = Field((1, 5, 20), description="Log-return look-backs, in bars.")
    volatility_window: int = Field(20, ge=2)
    volume_window: int = Field(20, ge=2)
    correlation_window: int = Field(60, ge=2)
    benchmark: str | None = None

    @field_validator("return_horizons")
    @classmethod
    def _positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or min(value) < 1:
            raise ValueError("needs at least one horizon, each at least 1 bar")
        return tuple(sorted(set(value)))


class _InstrumentFeatures:
    __slots__ = ("returns", "volatility", "volume", "relation", "unmatched", "last_close")

    def __init__(self, config: FeatureConfig):
        self.returns = Returns(config.return_horizons)
        self.volatility = RealisedVolatility(config.volatility_window)
        self.volume = VolumeFeatures(config.volume_window)
        self.relation = BenchmarkRelation(config.correlation_window)
        self.unmatched: OrderedDict[int, float] = OrderedDict()  # one-bar returns awaiting the benchmark's
        self.last_close = math.nan


class BarFeatures:
    """Feature vectors per instrument, updated one bar at a time in event-time order.

    The cross-asset features pair an instrument's one-bar return at ``ts_event`` with the benchmark's
    return at the same ``ts_event``; a pair counts once both bars have arrived, so the value at a bar
    never uses a later bar.

    Parameters
    ----------
    config
        The features to compute.

    Examples
    --------
    >>> features = BarFeatures(FeatureConfig(return_horizons=(1,), volatility_window=2, volume_window=2))
    >>> for ts, close in enumerate([100.0, 101.0, 99.0]):
    ...     vector = features.on_bar("X", ts, close, 1000.0)
    >>> sorted(vector), round(vector["ret_1"], 6)
    (['ret_1', 'rvol', 'volume_ratio', 'volume_z'], -0.020001)
    """

    def __init__(self, config: FeatureConfig | None = None):
        self.config = config or FeatureConfig()
        self._instruments: dict[str, _InstrumentFeatures] = {}
        self._benchmark_returns: OrderedDict[int, float] = OrderedDict()

    def on_bar(self, instrument: str, ts_event: int, close: float, volume: float) -> dict[str, float]:
        """Update ``instrument`` with one bar; return its feature vector (NaN while warming up)."""
        state = self._instruments.get(instrument)
        if state is None:
            state = self._instruments[instrument] = _InstrumentFeatures(self.config)
        one_bar = math.log(close / state.last_close) if state.last_close > 0 and close > 0 else math.nan
        state.last_close = close
        vector = state.returns.update(close)
        vector["rvol"] = state.volatility.update(close)
        vector.update(state.volume.update(volume))
        benchmark = self.config.benchmark
        if benchmark is not None:
            if instrument == benchmark:
                self._on_benchmark_return(ts_event, one_bar)
            elif one_bar == one_bar:
                self._pair(state, ts_event, one_bar)
            vector["corr_bench"] = state.relation.correlation()
            vector["rs_bench"] = state.relation.relative_strength()
        return vector

    def _pair(self, state: _InstrumentFeatures, ts_event: int, one_bar: float) -> None:
        bench = self._benchmark_returns.get(ts_event)
        if bench is not None:
            state.relation.push(one_bar, bench)
            return
        state.unmatched[ts_event] = one_bar
        if len(state.unmatched) > self.config.correlation_window:
            state.unmatched.popitem(last=False)

    def _on_benchmark_return(self, ts_event: int, one_bar: float) -> None:
        if one_bar != one_bar:
            return
        self._benchmark_returns[ts_event] = one_bar
        if len(self._benchmark_returns) > self.config.correlation_window:
            self._benchmark_returns.popitem(last=False)
        for instrument, state in self._instruments.items():
            if instrument != self.config.benchmark:
                asset = state.unmatched.pop(ts_event, None)
                if asset is not None:
                    state.relation.push(asset, one_bar)
