"""Return and risk ratios of per-period simple returns, annualised with ``periods_per_year``.

Conventions follow empyrical (the tests compare against it): volatility uses the sample standard
deviation (ddof=1); the annual return compounds the total growth over ``len(returns) /
periods_per_year`` years; Sortino divides the annualised mean excess return by the annualised root
mean square of the below-target excess returns. Where a denominator is zero (a flat curve, no losing
period, no drawdown) or there are too few returns, the ratio is NaN rather than infinite.

Examples
--------
>>> import numpy as np
>>> returns = np.array([0.01, -0.02, 0.015, 0.005])
>>> round(sharpe_ratio(returns, 252.0), 6)
2.552889
>>> round(annual_return(returns, 252.0), 6)
0.833631
"""

from __future__ import annotations

import math

import numpy as np


def per_period_rate(annual_rate: float, periods_per_year: float) -> float:
    """Return the per-period rate that compounds to ``annual_rate`` over ``periods_per_year``."""
    return compound(1.0 + annual_rate, 1.0 / periods_per_year) - 1.0


def compound(growth: float, exponent: float) -> float:
    """Return ``growth ** exponent``, infinite rather than raising where it overflows a float."""
    with np.errstate(over="ignore"):
        return float(np.power(np.float64(growth), exponent))


def annual_return(returns: np.ndarray, periods_per_year: float) -> float:
    """Return the compound annual growth rate (CAGR); NaN without returns."""
    if len(returns) == 0:
        return float("nan")
    growth = float(np.prod(1.0 + returns))
    return compound(growth, periods_per_year / len(returns)) - 1.0


def annual_volatility(returns: np.ndarray, periods_per_year: float) -> float:
    """Return the annualised sample standard deviation of ``returns``; NaN for fewer than two."""
    if len(returns) < 2:
        return float("nan")
    return float(np.std(returns, ddof=1)) * math.sqrt(periods_per_year)


def sharpe_ratio(returns: np.ndarray, periods_per_year: float, risk_free: float = 0.0) -> float:
    """Return the annualised Sharpe ratio of ``returns`` over a per-period ``risk_free`` rate.

    NaN for fewer than two returns or constant excess returns (zero standard deviation).
    """
    excess = returns - risk_free
    if len(excess) < 2 or np.ptp(excess) == 0.0:
        return float("nan")
    return float(np.mean(excess) / np.std(excess, ddof=1)) * math.sqrt(periods_per_year)


def downside_risk(returns: np.ndarray, periods_per_year: float, target: float = 0.0) -> float:
    """Return the annualised root mean square of the shortfalls below the per-period ``target``."""
    if len(returns) == 0:
        return float("nan")
    shortfall = np.minimum(returns - target, 0.0)
    return float(np.sqrt(np.mean(shortfall * shortfall))) * math.sqrt(periods_per_year)


def sortino_ratio(returns: np.ndarray, periods_per_year: float, target: float = 0.0) -> float:
    """Return the annualised mean excess return over the downside risk below a per-period ``target``.

    NaN for fewer than two returns or when no return falls below the target.
    """
    if len(returns) < 2:
        return float("nan")
    risk = downside_risk(returns, periods_per_year, target)
    if risk == 0.0:
        return float("nan")
    return float(np.mean(returns - target)) * periods_per_year / risk


def calmar_ratio(annual_return: float, max_drawdown: float) -> float:
    """Return the annual return over the magnitude of the (non-positive) maximum drawdown.

    NaN when there was no drawdown or the annual return is not finite.
    """
    if max_drawdown >= 0.0 or not np.isfinite(annual_return):
        return float("nan")
    return annual_return / -max_drawdown
