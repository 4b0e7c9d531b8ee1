"""Throughput of the streaming indicators: 1M values fed in batches of 10k vs TA-Lib on the whole array.

Run ``python bench/bench_indicators.py``; prints values/s (median of 3 runs) per indicator.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import talib

from operators import indicators as ind

SIZE = 1_000_000
BATCH = 10_000


def bars() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, SIZE)))
    spread = close * rng.uniform(0.0, 0.004, SIZE)
    return {
        "close": close,
        "high": close + spread,
        "low": close - spread,
        "volume": rng.integers(1, 5000, SIZE).astype(np.float64),
    }


def median_rate(run: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return SIZE / float(np.median(times))


def main() -> None:
    data = bars()
    c, h, lo, v = data["close"], data["high"], data["low"], data["volume"]
    cases: dict[str, tuple[Callable[[], ind.Indicator], Callable[[], object] | None]] = {
        "SMA(20)": (lambda: ind.SMA(20), lambda: talib.SMA(c, 20)),
        "EMA(20)": (lambda: ind.EMA(20), lambda: talib.EMA(c, 20)),
        "WMA(20)": (lambda: ind.WMA(20), lambda: talib.WMA(c, 20)),
        "DEMA(20)": (lambda: ind.DEMA(20), lambda: talib.DEMA(c, 20)),
        "TEMA(20)": (lambda: ind.TEMA(20), lambda: talib.TEMA(c, 20)),
        "KAMA(30)": (lambda: ind.KAMA(30), lambda: talib.KAMA(c, 30)),
        "RSI(14)": (lambda: ind.RSI(14), lambda: talib.RSI(c, 14)),
        "MACD(12,26,9)": (lambda: ind.MACD(12, 26, 9), lambda: talib.MACD(c, 12, 26, 9)),
        "BBANDS(20,2)": (lambda: ind.BollingerBands(20, 2.0), lambda: talib.BBANDS(c, 20, 2.0, 2.0)),
        "ATR(14)": (lambda: ind.ATR(14), lambda: talib.ATR(h, lo, c, 14)),
        "NATR(14)": (lambda: ind.NATR(14), lambda: talib.NATR(h, lo, c, 14)),
        "STOCH(5,3,3)": (lambda: ind.Stochastic(5, 3, 3), lambda: talib.STOCH(h, lo, c)),
        "WILLR(14)": (lambda: ind.WilliamsR(14), lambda: talib.WILLR(h, lo, c, 14)),
        "CCI(14)": (lambda: ind.CCI(14), lambda: talib.CCI(h, lo, c, 14)),
        "ROC(10)": (lambda: ind.ROC(10), lambda: talib.ROC(c, 10)),
        "MOM(10)": (lambda: ind.MOM(10), lambda: talib.MOM(c, 10)),
        "STDDEV(20)": (lambda: ind.STDDEV(20), lambda: talib.STDDEV(c, 20)),
        "ZScore(20)": (lambda: ind.ZScore(20), None),
        "VWAP": (lambda: ind.VWAP(), None),
        "VWAP(20)": (lambda: ind.VWAP(period=20), None),
        "OBV": (lambda: ind.OBV(), lambda: talib.OBV(c, v)),
        "ADX(14)": (lambda: ind.ADX(14), lambda: talib.ADX(h, lo, c, 14)),
    }
    print(f"{'indicator':<15}{'ours, 10k batches':>20}{'talib, one array':>20}{'ratio':>8}   (values/s)")
    for name, (factory, reference) in cases.items():
        names = factory().inputs

        def batched(factory=factory, names=names) -> None:
            indicator = factory()
            for start in range(0, SIZE, BATCH):
                indicator.update(*(data[key][start : start + BATCH] for key in names))

        ours = median_rate(batched)
        theirs = median_rate(reference) if reference is not None else float("nan")
        print(f"{name:<15}{ours / 1e6:>18.1f}M{theirs / 1e6:>18.1f}M{ours / theirs:>8.2f}")


if __name__ == "__main__":
    main()
