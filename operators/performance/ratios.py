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

from operators.performance.blocks import BlockExtremes, pairwise_sums, scratch


def per_period_rate(annual_rate: float, periods_per_year: float) -> float:
    """Return the per-period rate that compounds to ``annual_rate`` over ``periods_per_year``."""
    return compound(1.0 + annual_rate, 1.0 / periods_per_year) - 1.0


def compound(growth: float, exponent: float) -> float:
    """Return ``growth ** exponent``, infinite rather than raising where it overflows a float."""
    with np.errstate(over="ignore"):
        return float(np.power(np.float64(growth), exponent))


def excess_returns(returns: np.ndarray, rate: float, buffer: np.ndarray) -> np.ndarray:
    """Return ``returns - rate`` in ``buffer``'s first values, or ``returns`` itself for a zero rate."""
    return np.subtract(returns, rate, out=buffer[: len(returns)]) if rate else returns


@dataclass(frozen=True)
class ReturnSums:
    """Sums over per-period returns that the ratios share, each equal to NumPy's to the last bit.

    Attributes
    ----------
    count
        Number of returns.
    total
        ``np.add.reduce(returns)``.
    excess_total
        ``np.add.reduce(returns - target)``; ``total`` for a zero target.
    growth
        ``np.prod(1.0 + returns)``, the growth over all periods.
    shortfall_squares
        ``np.add.reduce(np.minimum(returns - target, 0.0) ** 2)``.

    Examples
    --------
    >>> sums = ReturnSums.of(np.array([0.01, -0.02, 0.015]))
    >>> sums.count, round(sums.total, 6), round(sums.growth, 6), round(sums.shortfall_squares, 6)
    (3, 0.005, 1.004647, 0.0004)
    """

    count: int
    total: float
    excess_total: float
    growth: float
    shortfall_squares: float

    @classmethod
    def of(cls, returns: np.ndarray, target: float = 0.0) -> ReturnSums:
        """Return the sums of ``returns`` over the per-period ``target``, in one pass."""
        return _sums(returns, target)


def returns_with_sums(
    values: np.ndarray, target: float = 0.0, extremes: BlockExtremes | None = None
) -> tuple[np.ndarray, ReturnSums]:
    """Return the simple returns of ``values`` (as `operators.performance.series.simple_returns`) and
    their `ReturnSums` over ``target``, in one pass: each block of returns is summed while in cache.

    ``extremes``: the values' `BlockExtremes`. When the highest value is at most twice the lowest,
    every ratio ``values[i] / values[i - 1]`` lies in [0.5, 2], where subtracting 1 is exact (Sterbenz)
    and adding it back gives the ratio itself: the growth then multiplies the ratios as they come.
    """
    returns = np.empty(max(len(values) - 1, 0))
    in_range = extremes is not None and extremes.highs.max() <= 2.0 * extremes.lows.min()
    return returns, _sums(returns, target, values, ratios_are_growth=in_range)


def _sums(
    returns: np.ndarray, target: float, values: np.ndarray | None = None, ratios_are_growth: bool = False
) -> ReturnSums:
    """Return the `ReturnSums` of ``returns``, block by block (see `operators.performance.blocks`),
    first computing each block of them from ``values`` if given (see `returns_with_sums`)."""
    buffer = scratch(len(returns))
    growth = 1.0

    def block_sums(start: int, stop: int) -> tuple[float, float, float]:
        nonlocal growth
        block = returns[start:stop]
        if values is not None:
            np.divide(values[start + 1 : stop + 1], values[start:stop], out=block)
            if ratios_are_growth:
                growth = np.multiply.reduce(block, initial=growth)
            block -= 1.0
        if not ratios_are_growth:
            ones_plus = np.add(block, 1.0, out=buffer[: stop - start])
            growth = np.multiply.reduce(ones_plus, initial=growth)
        total = np.add.reduce(block)
        excess = excess_returns(block, target, buffer)
        excess_total = np.add.reduce(excess) if target else total
        shortfalls = np.minimum(excess, 0.0, out=buffer[: stop - start])
        shortfall_squares = np.add.reduce(np.multiply(shortfalls, shortfalls, out=shortfalls))
        return total, excess_total, shortfall_squares

    total, excess_total, shortfall_squares = pairwise_sums(len(returns), block_sums)
    return ReturnSums(len(returns), total, excess_total, float(growth), shortfall_squares)


def annual_return(returns: np.ndarray, periods_per_year: float, sums: ReturnSums | None = None) -> float:
    """Return the compound annual growth rate (CAGR); NaN without returns. ``sums``: the returns'
    `ReturnSums`, if at hand."""
    if len(returns) == 0:
        return float("nan")
    growth = (sums if sums is not None else ReturnSums.of(returns)).growth
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


def risk_ratios(
    returns: np.ndarray, periods_per_year: float, risk_free: float = 0.0, sums: ReturnSums | None = None
) -> RiskRatios:
    """Return the `RiskRatios` of ``returns`` over a per-period ``risk_free`` rate (Sortino's target).

    ``sums``: the returns' `ReturnSums` over ``risk_free``, if at hand. The ratios share the mean and
    the standard deviation of the excess returns (the returns themselves for a zero rate), computed
    once and equal to ``np.mean`` and ``np.std(ddof=1)`` to the last bit.
    """
    nan = float("nan")
    if len(returns) < 2:
        return RiskRatios(nan, nan, nan)
    sums = sums if sums is not None else ReturnSums.of(returns, risk_free)
    buffer = scratch(len(returns))
    volatility = standard_deviation(returns, 0.0, sums.total / sums.count, buffer)
    mean_excess, excess_volatility = sums.excess_total / sums.count, volatility
    if risk_free:
        excess_volatility = standard_deviation(returns, risk_free, mean_excess, buffer)
    downside = math.sqrt(sums.shortfall_squares / sums.count) * math.sqrt(periods_per_year)
    return RiskRatios(
        annual_volatility=volatility * math.sqrt(periods_per_year),
        sharpe=nan
        if is_constant(returns, risk_free)
        else mean_excess / excess_volatility * math.sqrt(periods_per_year),
        sortino=nan if downside == 0.0 else mean_excess * periods_per_year / downside,
    )


def standard_deviation(returns: np.ndarray, rate: float, mean: float, buffer: np.ndarray) -> float:
    """Return ``np.std(returns - rate, ddof=1)`` given their ``mean``, as NumPy computes it: the root of
    the summed squared deviations over ``n - 1``; ``buffer`` holds a block of deviations."""

    def squared_deviations(start: int, stop: int) -> tuple[float]:
        excess = excess_returns(returns[start:stop], rate, buffer)
        deviations = np.subtract(excess, mean, out=buffer[: stop - start])
        return (np.add.reduce(np.square(deviations, out=deviations)),)

    (total,) = pairwise_sums(len(returns), squared_deviations)
    return math.sqrt(total / (len(returns) - 1))


def is_constant(values: np.ndarray, shift: float = 0.0) -> bool:
    """Return whether ``np.ptp(values - shift) == 0``: all shifted values equal. A spread-out sample
    that varies settles it without reading every value.

    ``values - shift`` rounds monotonically, so its extremes are those of ``values``, shifted.
    """
    sample = values[:: max(1, len(values) // 1024)]
    return _shifted_range(sample, shift) == 0.0 and _shifted_range(values, shift) == 0.0


def _shifted_range(values: np.ndarray, shift: float) -> float:
    """Return ``np.ptp(values - shift)`` from the extremes of ``values``."""
    return float((values.max() - shift) - (values.min() - shift))


def calmar_ratio(annual_return: float, max_drawdown: float) -> float:
    """Return the annual return over the magnitude of the (non-positive) maximum drawdown.

    NaN when there was no drawdown or the annual return is not finite.
    """
    if max_drawdown >= 0.0 or not np.isfinite(annual_return):
        return float("nan")
    return annual_return / -max_drawdown
