"""Indicator names for config files, and `make` to build an indicator from a name and parameters."""

from __future__ import annotations

import inspect
from typing import Any

from operators.indicators.adx import ADX
from operators.indicators.atr import ATR
from operators.indicators.base import Indicator
from operators.indicators.bollinger import BollingerBands
from operators.indicators.cci import CCI
from operators.indicators.dema import DEMA
from operators.indicators.ema import EMA
from operators.indicators.kama import KAMA
from operators.indicators.macd import MACD
from operators.indicators.mom import MOM
from operators.indicators.natr import NATR
from operators.indicators.obv import OBV
from operators.indicators.roc import ROC
from operators.indicators.rsi import RSI
from operators.indicators.sma import SMA
from operators.indicators.stddev import STDDEV
from operators.indicators.stoch import Stochastic
from operators.indicators.tema import TEMA
from operators.indicators.vwap import VWAP
from operators.indicators.willr import WilliamsR
from operators.indicators.wma import WMA
from operators.indicators.zscore import ZScore
from schemas.errors import ConfigError

#: Indicator classes by config name (TA-Lib's function names, lower case, where TA-Lib has one).
INDICATORS: dict[str, type[Indicator]] = {
    cls.name: cls
    for cls in (
        SMA,
        EMA,
        WMA,
        DEMA,
        TEMA,
        KAMA,
        RSI,
        MACD,
        BollingerBands,
        ATR,
        NATR,
        Stochastic,
        WilliamsR,
        CCI,
        ROC,
        MOM,
        STDDEV,
        ZScore,
        VWAP,
        OBV,
        ADX,
    )
}


def make(name: str, **params: Any) -> Indicator:
    """Build the indicator registered as ``name`` with ``params``.

    Raises `ConfigError` naming the field for an unknown name, an unknown parameter or a bad value.

    Examples
    --------
    >>> make("ema", period=10)
    EMA(period=10, source='close')
    >>> make("rsi", period=1)
    Traceback (most recent call last):
    ...
    schemas.errors.ConfigError: RSI: period must be an integer >= 2, was 1
    """
    cls = INDICATORS.get(name.lower()) if isinstance(name, str) else None
    if cls is None:
        raise ConfigError(f"indicator: unknown name {name!r}; expected one of {sorted(INDICATORS)}")
    accepted = inspect.signature(cls).parameters
    for key in params:
        if key not in accepted:
            raise ConfigError(f"{cls.__name__}: unknown parameter {key!r}; parameters are {list(accepted)}")
    return cls(**params)
