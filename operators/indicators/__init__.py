"""Streaming technical indicators over columnar batches, matched to TA-Lib."""

from operators.indicators.adx import ADX
from operators.indicators.atr import ATR
from operators.indicators.base import Indicator
from operators.indicators.bollinger import BandsResult, BollingerBands
from operators.indicators.cci import CCI
from operators.indicators.dema import DEMA
from operators.indicators.ema import EMA
from operators.indicators.kama import KAMA
from operators.indicators.macd import MACD, MACDResult
from operators.indicators.mom import MOM
from operators.indicators.natr import NATR
from operators.indicators.obv import OBV
from operators.indicators.registry import INDICATORS, make
from operators.indicators.roc import ROC
from operators.indicators.rsi import RSI
from operators.indicators.sma import SMA
from operators.indicators.stddev import STDDEV
from operators.indicators.stoch import Stochastic, StochasticResult
from operators.indicators.tema import TEMA
from operators.indicators.vwap import VWAP
from operators.indicators.willr import WilliamsR
from operators.indicators.wma import WMA
from operators.indicators.zscore import ZScore

__all__ = [
    "ADX",
    "ATR",
    "CCI",
    "DEMA",
    "EMA",
    "INDICATORS",
    "KAMA",
    "MACD",
    "MOM",
    "NATR",
    "OBV",
    "ROC",
    "RSI",
    "SMA",
    "STDDEV",
    "TEMA",
    "VWAP",
    "WMA",
    "BandsResult",
    "BollingerBands",
    "Indicator",
    "MACDResult",
    "Stochastic",
    "StochasticResult",
    "WilliamsR",
    "ZScore",
    "make",
]
