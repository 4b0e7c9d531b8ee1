"""Every indicator against its reference (TA-Lib, or pandas for VWAP) on awkward generated series."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import talib

from operators import indicators as ind
from schemas.errors import ConfigError


def make_bars(seed: int, size: int = 6000, scale: float = 100.0) -> dict[str, np.ndarray]:
    """A random walk with price jumps (gaps), flat stretches (one long enough for Wilder averages
    to decay below TA-Lib's 1e-8 zero threshold) and zero-volume stretches."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.004, size)
    steps[rng.choice(size, 12, replace=False)] += rng.choice([-1.0, 1.0], 12) * rng.uniform(0.03, 0.12, 12)
    close = scale * np.exp(np.cumsum(steps))
    spread = close * rng.uniform(0.0, 0.006, size)
    high = close + spread * rng.uniform(0.0, 1.0, size)
    low = close - spread * rng.uniform(0.0, 1.0, size)
    volume = rng.integers(0, 5000, size).astype(np.float64)
    for start, length in ((700, 40), (2500, 600), (4000, 3)):
        if start >= size:
            continue
        flat = slice(start, start + length)
        close[flat] = high[flat] = low[flat] = close[start - 1]
    volume[3000:3100] = 0.0
    return {"high": high, "low": low, "close": close, "volume": volume}


# name -> (indicator factory, reference from the bars, absolute tolerance)
Reference = Callable[[dict[str, np.ndarray]], tuple[np.ndarray, ...]]


def zscore_reference(bars: dict[str, np.ndarray], period: int) -> tuple[np.ndarray, ...]:
    close = bars["close"]
    mean = talib.SMA(close, period)
    std = talib.STDDEV(close, period, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.where(std == 0.0, 0.0, (close - mean) / std),)


def vwap_reference(bars: dict[str, np.ndarray], period: int | None) -> tuple[np.ndarray, ...]:
    typical = pd.Series((bars["high"] + bars["low"] + bars["close"]) / 3)
    volume = pd.Series(bars["volume"])
    turnover = typical * volume
    if period is None:
        turnovers, volumes = turnover.cumsum(), volume.cumsum()
    else:
        turnovers, volumes = turnover.rolling(period).sum(), volume.rolling(period).sum()
    return (np.where(volumes == 0.0, np.nan, turnovers / volumes),)


def hlc(bars):
    return bars["high"], bars["low"], bars["close"]


CASES: dict[str, tuple[Callable[[], ind.Indicator], Reference, float]] = {
    "sma": (lambda: ind.SMA(20), lambda b: (talib.SMA(b["close"], 20),), 0.0),
    "ema": (lambda: ind.EMA(10), lambda b: (talib.EMA(b["close"], 10),), 0.0),
    "ema-long": (lambda: ind.EMA(200), lambda b: (talib.EMA(b["close"], 200),), 0.0),
    "wma": (lambda: ind.WMA(15), lambda b: (talib.WMA(b["close"], 15),), 0.0),
    "dema": (lambda: ind.DEMA(10), lambda b: (talib.DEMA(b["close"], 10),), 0.0),
    "tema": (lambda: ind.TEMA(10), lambda b: (talib.TEMA(b["close"], 10),), 0.0),
    "kama": (lambda: ind.KAMA(10), lambda b: (talib.KAMA(b["close"], 10),), 0.0),
    "rsi": (lambda: ind.RSI(14), lambda b: (talib.RSI(b["close"], 14),), 0.0),
    "rsi-short": (lambda: ind.RSI(2), lambda b: (talib.RSI(b["close"], 2),), 0.0),
    # MACD, its signal and histogram cross zero; they are differences of EMAs of ~100-valued
    # prices, whose rounding differs from TA-Lib's by a few ulps of 100 (~1e-14).
    "macd": (lambda: ind.MACD(12, 26, 9), lambda b: talib.MACD(b["close"], 12, 26, 9), 1e-11),
    "macd-ext": (
        lambda: ind.MACD(5, 35, 5),
        lambda b: talib.MACDEXT(
            b["close"], 5, talib.MA_Type.EMA, 35, talib.MA_Type.EMA, 5, talib.MA_Type.EMA
        ),
        1e-11,
    ),
    "bbands": (
        lambda: ind.BollingerBands(20, 2.0),
        lambda b: talib.BBANDS(b["close"], 20, 2.0, 2.0, talib.MA_Type.SMA),
        0.0,
    ),
    "atr": (lambda: ind.ATR(14), lambda b: (talib.ATR(*hlc(b), 14),), 0.0),
    "atr-1": (lambda: ind.ATR(1), lambda b: (talib.ATR(*hlc(b), 1),), 0.0),
    "natr": (lambda: ind.NATR(14), lambda b: (talib.NATR(*hlc(b), 14),), 0.0),
    # Slow %K and %D are SMAs of fast %K, which is exactly 0 across flat stretches; there both
    # TA-Lib's running window sum and ours hold only rounding residue (|x| < 1e-12 on a 0-100 scale).
    "stoch": (
        lambda: ind.Stochastic(5, 3, 3),
        lambda b: talib.STOCH(*hlc(b), 5, 3, talib.MA_Type.SMA, 3, talib.MA_Type.SMA),
        1e-12,
    ),
    "stoch-wide": (
        lambda: ind.Stochastic(14, 1, 5),
        lambda b: talib.STOCH(*hlc(b), 14, 1, talib.MA_Type.SMA, 5, talib.MA_Type.SMA),
        1e-12,
    ),
    "willr": (lambda: ind.WilliamsR(14), lambda b: (talib.WILLR(*hlc(b), 14),), 0.0),
    "cci": (lambda: ind.CCI(14), lambda b: (talib.CCI(*hlc(b), 14),), 0.0),
    "cci-odd": (lambda: ind.CCI(7), lambda b: (talib.CCI(*hlc(b), 7),), 0.0),
    "roc": (lambda: ind.ROC(10), lambda b: (talib.ROC(b["close"], 10),), 0.0),
    "mom": (lambda: ind.MOM(10), lambda b: (talib.MOM(b["close"], 10),), 0.0),
    "stddev": (lambda: ind.STDDEV(20, 1.5), lambda b: (talib.STDDEV(b["close"], 20, 1.5),), 0.0),
    "zscore": (lambda: ind.ZScore(20), lambda b: zscore_reference(b, 20), 0.0),
    "vwap": (lambda: ind.VWAP(), lambda b: vwap_reference(b, None), 0.0),
    "vwap-rolling": (lambda: ind.VWAP(period=30), lambda b: vwap_reference(b, 30), 0.0),
    "obv": (lambda: ind.OBV(), lambda b: (talib.OBV(b["close"], b["volume"]),), 0.0),
    "adx": (lambda: ind.ADX(14), lambda b: (talib.ADX(*hlc(b), 14),), 0.0),
    "adx-short": (lambda: ind.ADX(3), lambda b: (talib.ADX(*hlc(b), 3),), 0.0),
}


def outputs(result: np.ndarray | tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return (result,) if isinstance(result, np.ndarray) else tuple(result)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("case", sorted(CASES))
def test_indicator_on_generated_bars_matches_reference(case: str, seed: int):
    factory, reference, atol = CASES[case]
    bars = make_bars(seed)
    indicator = factory()

    ours = outputs(indicator.update(*(bars[name] for name in indicator.inputs)))
    expected = reference(bars)

    assert len(ours) == len(expected)
    for mine, theirs in zip(ours, expected, strict=True):
        np.testing.assert_array_equal(np.isnan(mine), np.isnan(theirs))
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=atol)


@pytest.mark.parametrize("case", sorted(CASES))
def test_indicator_warmup_is_index_of_first_output_plus_one(case: str):
    factory, reference, _ = CASES[case]
    bars = make_bars(3, size=600)
    indicator = factory()

    first_outputs = [int(np.argmin(np.isnan(column))) for column in outputs(reference(bars))]

    assert first_outputs == [indicator.warmup - 1] * len(first_outputs)


@pytest.mark.parametrize("scale", [0.01, 1.0, 25_000.0])
@pytest.mark.parametrize("case", ["rsi", "stddev", "bbands", "cci", "adx", "kama", "natr", "willr"])
def test_indicator_at_other_price_scales_matches_talib(case: str, scale: float):
    factory, reference, atol = CASES[case]
    bars = make_bars(4, size=3000, scale=scale)
    indicator = factory()

    ours = outputs(indicator.update(*(bars[name] for name in indicator.inputs)))

    for mine, theirs in zip(ours, reference(bars), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=atol)


def test_indicator_value_before_update_is_nan_then_last_output():
    macd = ind.MACD(3, 5, 2)

    before = macd.value
    out = macd.update(close=np.linspace(1.0, 2.0, 10))

    assert all(np.isnan(before))
    assert macd.value == ind.MACDResult(out.macd[-1], out.signal[-1], out.hist[-1])


def test_indicator_inputs_positional_and_named_agree():
    bars = make_bars(5, size=200)

    positional = ind.ATR(5).update(bars["high"], bars["low"], bars["close"])
    named = ind.ATR(5).update(close=bars["close"], high=bars["high"], low=bars["low"])

    np.testing.assert_array_equal(positional, named)


def test_indicator_with_source_reads_named_field():
    volume = make_bars(6, size=100)["volume"]

    ours = ind.SMA(5, source="volume").update(volume=volume)

    np.testing.assert_allclose(ours, talib.SMA(volume, 5), rtol=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ind.EMA(1), "EMA: period must be an integer >= 2, was 1"),
        (lambda: ind.SMA(2.5), "SMA: period must be an integer >= 2"),
        (lambda: ind.ATR(0), "ATR: period must be an integer >= 1"),
        (lambda: ind.MACD(26, 12), "MACD: fast must be less than slow"),
        (lambda: ind.BollingerBands(20, -1.0), "BollingerBands: num_std must be a number >= 0"),
        (lambda: ind.Stochastic(slowd_period=0), "Stochastic: slowd_period must be"),
        (lambda: ind.VWAP(period=0), "VWAP: period must be"),
        (lambda: ind.make("nope"), "indicator: unknown name 'nope'"),
        (lambda: ind.make("ema", length=3), "EMA: unknown parameter 'length'"),
        (lambda: ind.make("rsi", period=True), "RSI: period must be an integer"),
    ],
)
def test_indicator_with_bad_parameter_raises_config_error_naming_it(call, message: str):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        call()


def test_make_builds_every_registered_indicator_with_defaults():
    built = {name: ind.make(name) for name in ind.INDICATORS}

    assert {name: type(indicator) for name, indicator in built.items()} == ind.INDICATORS
    assert ind.make("EMA", period=10).params == {"period": 10, "source": "close"}


def test_indicator_rejects_mismatched_or_unknown_inputs():
    atr = ind.ATR(3)

    with pytest.raises(ValueError, match="equal lengths"):
        atr.update(high=np.ones(3), low=np.ones(2), close=np.ones(3))
    with pytest.raises(TypeError, match="no input 'price'"):
        atr.update(high=np.ones(3), low=np.ones(3), price=np.ones(3))
