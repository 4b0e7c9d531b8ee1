"""Portfolio accounting: cash, positions at average cost, realised and unrealised P&L, exposure."""

from operators.portfolio.portfolio import Portfolio

__all__ = ["Portfolio"]
