"""The strategy API: a researcher's strategy is a small class that maps market data to targets.

>>> from operators.strategy import Strategy, StrategyRunner
"""

from operators.strategy.base import Bars, BarView, Context, Strategy
from operators.strategy.runner import StrategyRunner, Targets

__all__ = ["Bars", "BarView", "Context", "Strategy", "StrategyRunner", "Targets"]
