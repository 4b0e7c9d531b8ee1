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
>>> round(risk_ratios(returns, 252.0).sharpe, 6)
2.552889
>>> round(annual_return(returns, 252.0), 6)
0.833631
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def per_period_rate(annual_rate: float, periods_per_year: float) -> float:
    """Return the per-period rate that compounds to ``annual_rate`` over ``periods_per_year``."""
    return compound(1.0 + annual_rate, 1.0 / periods_per_year) - 1.0


def compound(growth: float, exponent: float) -> float:
    """Return ``growth ** exponent``, infinite rather than raising where it overflows a float."""
    with np.errstate(over="ignore"):
        return float(np.power(np.float64(growth), exponent))


def excess_returns(returns: np.ndarray, rate: float) -> np.ndarray:
    """Return ``returns - rate``; ``returns`` itself, not a copy, for a zero rate."""
    return returns - rate if rate else returns


def annual_return(returns: np.ndarray, periods_per_year: float) -> float:
    """Return the compound annual growth rate (CAGR); NaN without returns."""
    if len(returns) == 0:
        return float("nan")
    growth = float(np.prod(1.0 + returns))
    return compound(growth, periods_per_year / len(returns)) - 1.0


@dataclass(frozen=True)
class RiskRatios:
    """Annualised risk and risk-adjusted return of per-period returns.

    Attributes
    ----------
    annual_volatility
        Sample standard deviation of the returns times ``sqrt(periods_per_year)``; NaN for fewer than
        two returns.
    sharpe
        Mean excess return over its sample standard deviation, times ``sqrt(periods_per_year)``; NaN for
        fewer than two returns or constant excess returns (zero standard deviation).
    sortino
        Annualised mean excess return over the downside risk; NaN for fewer than two returns or when no
        return falls below the risk-free rate.

    Examples
    --------
    >>> risk = risk_ratios(np.array([0.01, -0.02, 0.015, 0.005]), 252.0)
    >>> round(risk.annual_volatility, 6), round(risk.sortino, 6)
    (0.246779, 3.968627)
    """

    annual_volatility: float
    sharpe: float
    sortino: float


def risk_ratios(returns: np.ndarray, periods_per_year: float, risk_free: float = 0.0) -> RiskRatios:
    """Return the `RiskRatios` of ``returns`` over a per-period ``risk_free`` rate (Sortino's target).

    The ratios share the mean and the standard deviation of the excess returns (the returns themselves
    for a zero rate), computed once.
    """
    nan = float("nan")
    if len(returns) < 2:
        return RiskRatios(nan, nan, nan)
    excess = excess_returns(returns, risk_free)
    volatility = float(np.std(returns, ddof=1))
    excess_volatility = volatility if excess is returns else float(np.std(excess, ddof=1))
    mean_excess = float(np.mean(excess))
    downside = downside_risk(excess, periods_per_year)
    return RiskRatios(
        annual_volatility=volatility * math.sqrt(periods_per_year),
        sharpe=nan if is_constant(excess) else mean_excess / excess_volatility * math.sqrt(periods_per_year),
        sortino=nan if downside == 0.0 else mean_excess * periods_per_year / downside,
    )


def is_constant(values: np.ndarray) -> bool:
    """Return whether ``np.ptp(values) == 0``: all values equal. A spread-out sample that varies settles
    it without reading every value."""
    sample = values[:: max(1, len(values) // 1024)]
    return bool(np.ptp(sample) == 0.0 and np.ptp(values) == 0.0)


def downside_risk(returns: np.ndarray, periods_per_year: float, target: float = 0.0) -> float:
    """Return the annualised root mean square of the shortfalls below the per-period ``target``."""
    if len(returns) == 0:
        return float("nan")
    shortfall = np.minimum(excess_returns(returns, target), 0.0)
    shortfall *= shortfall
    return float(np.sqrt(np.mean(shortfall))) * math.sqrt(periods_per_year)


def calmar_ratio(annual_return: float, max_drawdown: float) -> float:
    """Return the annual return over the magnitude of the (non-positive) maximum drawdown.

    NaN when there was no drawdown or the annual return is not finite.
    """
    if max_drawdown >= 0.0 or not np.isfinite(annual_return):
        return float("nan")
    return annual_return / -max_drawdown
