"""GARCH(1,1) volatility: fitted offline (``arch``) on a stretch of returns, forecast in the stream.

Online learning does not suit GARCH (its likelihood is fitted on a whole sample), so `fit_garch`
estimates it once on a training window of returns and `GarchForecaster` then serves one-step-ahead
variance forecasts bar by bar with the fitted parameters — the same recursion ``arch``'s own
``forecast`` uses, carried forward from the training sample's last conditional variance.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class GarchParams:
    """A fitted constant-mean GARCH(1,1), in ``scale``-d return units, plus the sample's end state.

    ``variance`` is the conditional variance forecast for the bar after the training sample.
    """

    mu: float
    omega: float
    alpha: float
    beta: float
    scale: float
    variance: float


def fit_garch(returns: np.ndarray) -> GarchParams:
    """Fit a constant-mean GARCH(1,1) to ``returns`` by maximum likelihood (``arch``, rescaled).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> params = fit_garch(rng.normal(0.0, 0.01, 1000))
    >>> 0 <= params.alpha < 1 and 0 <= params.beta < 1 and params.variance > 0
    True
    """
    from arch import arch_model

    returns = np.asarray(returns, dtype=np.float64)
    returns = returns[np.isfinite(returns)]
    if len(returns) < 100:
        raise ValueError(f"GARCH needs at least 100 finite returns to fit; was {len(returns)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the fit is checked below
        result = arch_model(returns, mean="Constant", vol="GARCH", p=1, q=1, rescale=True).fit(disp="off")
    mu, omega, alpha, beta = (float(v) for v in result.params.to_numpy())
    variance = (
        omega + alpha * float(result.resid[-1]) ** 2 + beta * float(result.conditional_volatility[-1]) ** 2
    )
    return GarchParams(mu, omega, alpha, beta, float(result.scale), variance)


class GarchForecaster:
    """One-step-ahead GARCH(1,1) variance forecasts from fitted `GarchParams`, one return at a time.

    Parameters
    ----------
    params
        The fitted model and the state at the end of its training sample.

    Examples
    --------
    >>> forecaster = GarchForecaster(GarchParams(0.0, 0.1, 0.1, 0.8, 100.0, 1.0))
    >>> round(forecaster.update(0.02), 10)  # (0.1 + 0.1 * 2.0**2 + 0.8 * 1.0) / 100**2
    0.00013
    >>> round(forecaster.volatility, 6)
    0.011402
    """

    def __init__(self, params: GarchParams):
        self.params = params
        self._variance = params.variance

    @property
    def variance(self) -> float:
        """The variance forecast for the next return, in return units."""
        return self._variance / self.params.scale**2

    @property
    def volatility(self) -> float:
        """The standard deviation forecast for the next return, in return units."""
        return math.sqrt(self.variance)

    def update(self, ret: float) -> float:
        """Add the return that was just realised; return the variance forecast for the next one."""
        p = self.params
        residual = ret * p.scale - p.mu
        self._variance = p.omega + p.alpha * residual * residual + p.beta * self._variance
        return self.variance
