"""Streaming features of bars for models: returns, realised volatility, volume, cross-asset relations.

Each feature is a small object updated one bar at a time that only sees the past (event time); warm-up
values are NaN. `BarFeatures` combines them per instrument into one feature vector (a dict).
"""

from operators.features.bar_features import BarFeatures, FeatureConfig
from operators.features.cross_asset import BenchmarkRelation
from operators.features.returns import Returns
from operators.features.volatility import RealisedVolatility
from operators.features.volume import VolumeFeatures

__all__ = [
    "BarFeatures",
    "BenchmarkRelation",
    "FeatureConfig",
    "RealisedVolatility",
    "Returns",
    "VolumeFeatures",
]
