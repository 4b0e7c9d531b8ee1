"""Features are compared with pandas' rolling computations on random data; none looks ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from operators.features import (
    BarFeatures,
    BenchmarkRelation,
    FeatureConfig,
    RealisedVolatility,
    Returns,
    VolumeFeatures,
)


@pytest.fixture
def prices() -> pd.Series:
    rng = np.random.default_rng(11)
    return pd.Series(100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, 400))))


def test_returns_match_pandas_log_returns(prices):
    returns = Returns((1, 5, 20))
    got = pd.DataFrame([returns.update(c) for c in prices])
    for h in (1, 5, 20):
        expected = np.log(prices / prices.shift(h))
        np.testing.assert_allclose(got[f"ret_{h}"], expected, rtol=1e-12, equal_nan=True)


def test_realised_volatility_matches_pandas_rolling_std(prices):
    vol = RealisedVolatility(20)
    got = np.array([vol.update(c) for c in prices])
    expected = np.log(prices).diff().rolling(20).std(ddof=1)
    np.testing.assert_allclose(got, expected, rtol=1e-10, equal_nan=True)


def test_volume_features_match_pandas_rolling_mean_and_zscore():
    rng = np.random.default_rng(3)
    volume = pd.Series(rng.integers(0, 10_000, 300).astype(float))
    features = VolumeFeatures(15)
    got = pd.DataFrame([features.update(v) for v in volume])
    logs = np.log1p(volume)
    np.testing.assert_allclose(
        got["volume_ratio"], volume / volume.rolling(15).mean(), rtol=1e-10, equal_nan=True
    )
    expected_z = (logs - logs.rolling(15).mean()) / logs.rolling(15).std(ddof=1)
    np.testing.assert_allclose(got["volume_z"], expected_z, rtol=1e-9, equal_nan=True)


def test_benchmark_relation_matches_pandas_rolling_correlation():
    rng = np.random.default_rng(5)
    bench = rng.normal(0, 0.01, 300)
    asset = 0.6 * bench + rng.normal(0, 0.01, 300)
    relation = BenchmarkRelation(30)
    corr, strength = [], []
    for a, b in zip(asset, bench, strict=True):
        relation.push(a, b)
        corr.append(relation.correlation())
        strength.append(relation.relative_strength())
    expected_corr = pd.Series(asset).rolling(30).corr(pd.Series(bench))
    expected_strength = pd.Series(asset - bench).rolling(30).sum()
    np.testing.assert_allclose(corr, expected_corr, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(strength, expected_strength, rtol=1e-9, atol=1e-15, equal_nan=True)


def test_bar_features_pair_returns_by_time_whatever_the_arrival_order(prices):
    rng = np.random.default_rng(9)
    bench = pd.Series(100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, len(prices)))))
    config = FeatureConfig(return_horizons=(1,), correlation_window=25, benchmark="SPX")
    features = BarFeatures(config)
    last = {}
    for t in range(len(prices)):
        # the benchmark's bar comes first at even times, last at odd times
        order = [("SPX", bench[t]), ("X", prices[t])]
        for instrument, close in order if t % 2 == 0 else order[::-1]:
            last[instrument] = features.on_bar(instrument, t, close, 1000.0)
    asset_ret, bench_ret = np.log(prices).diff(), np.log(bench).diff()
    expected = asset_ret.rolling(25).corr(bench_ret).iloc[-1]
    # the final bar: X came before SPX at this (odd) time, so its pair completes after X's vector
    assert last["X"]["corr_bench"] == pytest.approx(asset_ret.rolling(25).corr(bench_ret).iloc[-2], rel=1e-9)
    final = BarFeatures(config)
    for t in range(len(prices)):
        final.on_bar("SPX", t, bench[t], 1.0)
        vector = final.on_bar("X", t, prices[t], 1.0)
    assert vector["corr_bench"] == pytest.approx(expected, rel=1e-9)


def test_bar_features_values_up_to_t_ignore_later_bars(prices):
    config = FeatureConfig(return_horizons=(1, 5), volatility_window=10, volume_window=10)
    changed = prices.copy()
    changed.iloc[200:] *= 1.5
    features_a, features_b = BarFeatures(config), BarFeatures(config)
    a = pd.DataFrame([features_a.on_bar("X", t, c, 100.0) for t, c in enumerate(prices)])
    b = pd.DataFrame([features_b.on_bar("X", t, c, 100.0) for t, c in enumerate(changed)])
    pd.testing.assert_frame_equal(a.iloc[:200], b.iloc[:200])
    assert not a.iloc[200].equals(b.iloc[200])


def test_feature_config_rejects_empty_horizons():
    with pytest.raises(ValueError, match="return_horizons"):
        FeatureConfig(return_horizons=())
