"""Batching invariance and snapshotting: any split of a series gives bit-identical outputs."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from operators import indicators as ind

SIZE = 160


def series() -> dict[str, np.ndarray]:
    """Short bars with a jump, a flat stretch and zero volumes: enough to pass every warm-up."""
    rng = np.random.default_rng(11)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, SIZE)))
    close[60:] *= 1.08
    close[90:115] = close[89]
    high = close * (1.0 + rng.uniform(0.0, 0.004, SIZE))
    low = close * (1.0 - rng.uniform(0.0, 0.004, SIZE))
    high[90:115] = low[90:115] = close[89]
    volume = rng.integers(0, 900, SIZE).astype(np.float64)
    volume[40:50] = 0.0
    return {"high": high, "low": low, "close": close, "volume": volume, "price": close, "size": volume}


BARS = series()

FACTORIES = {
    "sma": lambda: ind.SMA(7),
    "ema": lambda: ind.EMA(9),
    "wma": lambda: ind.WMA(6),
    "dema": lambda: ind.DEMA(5),
    "tema": lambda: ind.TEMA(5),
    "kama": lambda: ind.KAMA(8),
    "rsi": lambda: ind.RSI(6),
    "macd": lambda: ind.MACD(4, 11, 5),
    "bbands": lambda: ind.BollingerBands(8, 2.0),
    "atr": lambda: ind.ATR(6),
    "natr": lambda: ind.NATR(6),
    "stoch": lambda: ind.Stochastic(5, 3, 4),
    "willr": lambda: ind.WilliamsR(7),
    "cci": lambda: ind.CCI(6),
    "roc": lambda: ind.ROC(5),
    "mom": lambda: ind.MOM(5),
    "stddev": lambda: ind.STDDEV(8, 1.5),
    "zscore": lambda: ind.ZScore(8),
    "vwap": lambda: ind.VWAP(price="price", volume="size"),
    "vwap-rolling": lambda: ind.VWAP(period=6),
    "obv": lambda: ind.OBV(),
    "adx": lambda: ind.ADX(5),
}


def columns(indicator: ind.Indicator, part: slice = slice(None)) -> list[np.ndarray]:
    return [BARS[name][part] for name in indicator.inputs]


def as_matrix(result) -> np.ndarray:
    return np.vstack(result) if isinstance(result, tuple) else np.atleast_2d(result)


def run_in_batches(indicator: ind.Indicator, cuts: list[int]) -> np.ndarray:
    edges = [0, *sorted(set(cuts)), SIZE]
    parts = [
        as_matrix(indicator.update(*columns(indicator, slice(a, b))))
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    return np.hstack(parts)


def run_one_by_one(indicator: ind.Indicator) -> np.ndarray:
    values = [indicator.update_one(*(float(column[i]) for column in columns(indicator))) for i in range(SIZE)]
    return np.array(values, dtype=np.float64).reshape(SIZE, -1).T


@pytest.mark.parametrize("name", sorted(FACTORIES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(min_value=0, max_value=SIZE), max_size=25))
def test_indicator_in_random_batches_equals_one_shot(name: str, cuts: list[int]):
    whole = as_matrix(FACTORIES[name]().update(*columns(FACTORIES[name]())))

    batched = run_in_batches(FACTORIES[name](), cuts)

    np.testing.assert_array_equal(batched, whole)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_indicator_update_one_loop_equals_one_shot(name: str):
    indicator = FACTORIES[name]()
    whole = as_matrix(FACTORIES[name]().update(*columns(indicator)))

    one_by_one = run_one_by_one(indicator)

    np.testing.assert_array_equal(one_by_one, whole)
    assert np.array_equal(
        np.atleast_1d(np.asarray(indicator.value, dtype=float)), whole[:, -1], equal_nan=True
    )


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("snapshot", [copy.deepcopy, lambda obj: pickle.loads(pickle.dumps(obj))])
def test_indicator_snapshot_mid_stream_continues_identically(name: str, snapshot):
    original = FACTORIES[name]()
    original.update(*columns(original, slice(0, 73)))

    restored = snapshot(original)
    expected = as_matrix(original.update(*columns(original, slice(73, SIZE))))
    resumed = as_matrix(restored.update(*columns(restored, slice(73, SIZE))))

    np.testing.assert_array_equal(resumed, expected)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_indicator_first_output_is_at_warmup(name: str):
    indicator = FACTORIES[name]()

    result = as_matrix(indicator.update(*columns(indicator)))

    first = [int(np.argmin(np.isnan(row))) for row in result]
    assert first == [indicator.warmup - 1] * len(first)
