"""Shipped, configurable strategies and the registry that finds a strategy class by name.

>>> strategy_class("ma_crossover").__name__
'MovingAverageCrossover'
>>> strategy_class("operators.strategies.rsi_reversion:RsiReversion").__name__
'RsiReversion'
>>> strategy_class("nope")
Traceback (most recent call last):
...
schemas.errors.ConfigError: strategy.name: unknown strategy 'nope'; use one of bollinger_reversion, ma_crossover, macd_momentum, ml_online, pairs_trading, rsi_reversion, stat_arb_basket, or 'module:Class'
"""

from __future__ import annotations

import importlib

from operators.strategy import Strategy
from schemas.errors import ConfigError

REGISTRY: dict[str, str] = {
    "ma_crossover": "operators.strategies.ma_crossover:MovingAverageCrossover",
    "rsi_reversion": "operators.strategies.rsi_reversion:RsiReversion",
    "macd_momentum": "operators.strategies.macd_momentum:MacdMomentum",
    "bollinger_reversion": "operators.strategies.bollinger_reversion:BollingerReversion",
    "pairs_trading": "operators.strategies.pairs_trading:PairsTrading",
    "stat_arb_basket": "operators.strategies.stat_arb_basket:StatArbBasket",
    "ml_online": "operators.strategies.ml_online:MlOnline",
}


def strategy_class(name: str) -> type[Strategy]:
    """The strategy class registered as ``name``, or imported from ``'module:Class'``."""
    path = REGISTRY.get(name, name)
    if ":" not in path:
        known = ", ".join(sorted(REGISTRY))
        raise ConfigError(f"strategy.name: unknown strategy {name!r}; use one of {known}, or 'module:Class'")
    module_name, _, class_name = path.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"strategy.name: cannot load {path!r}: {e}") from None
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ConfigError(f"strategy.name: {path!r} is not a Strategy subclass")
    return cls
