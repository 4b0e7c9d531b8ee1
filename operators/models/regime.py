"""Regime detection with a Gaussian HMM: fitted offline (``hmmlearn``), filtered in the stream.

`fit_hmm` estimates a diagonal-covariance Gaussian HMM on a training window of feature vectors and
orders its states by the variance of the first feature (state 0 = calmest). `HmmRegime` then runs
the forward filter bar by bar: P(state_t | observations up to t). Unlike Viterbi decoding or
smoothed posteriors it never uses later bars, so it is safe for trading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class HmmParams:
    """A fitted diagonal Gaussian HMM: start probabilities, transitions, means and variances per state."""

    startprob: tuple[float, ...]
    transmat: tuple[tuple[float, ...], ...]
    means: tuple[tuple[float, ...], ...]
    variances: tuple[tuple[float, ...], ...]


def fit_hmm(features: np.ndarray, n_states: int = 2, seed: int = 42, n_iter: int = 100) -> HmmParams:
    """Fit a Gaussian HMM (``hmmlearn``, diagonal covariances) to ``features`` (rows = bars).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> calm, wild = rng.normal(0, 0.5, (300, 1)), rng.normal(0, 3.0, (300, 1))
    >>> params = fit_hmm(np.vstack([calm, wild, calm]), n_states=2)
    >>> params.variances[0][0] < params.variances[1][0]
    True
    """
    from hmmlearn.hmm import GaussianHMM

    features = np.asarray(features, dtype=np.float64)
    if features.ndim == 1:
        features = features[:, None]
    features = features[np.isfinite(features).all(axis=1)]
    if len(features) < 10 * n_states:
        raise ValueError(f"HMM needs at least {10 * n_states} finite rows to fit; was {len(features)}")
    model = GaussianHMM(n_components=n_states, covariance_type="diag", n_iter=n_iter, random_state=seed)
    model.fit(features)
    variances = np.asarray(model._covars_)  # (n_states, n_features) for "diag"
    order = np.argsort(variances[:, 0], kind="stable")
    transmat = model.transmat_[np.ix_(order, order)]
    return HmmParams(
        tuple(model.startprob_[order].tolist()),
        tuple(tuple(row) for row in transmat.tolist()),
        tuple(tuple(row) for row in model.means_[order].tolist()),
        tuple(tuple(row) for row in variances[order].tolist()),
    )


class HmmRegime:
    """Forward-filtered state probabilities of a fitted HMM, one observation at a time.

    Parameters
    ----------
    params
        The fitted HMM.

    Examples
    --------
    >>> params = HmmParams((0.5, 0.5), ((0.95, 0.05), (0.05, 0.95)), ((0.0,), (0.0,)), ((0.25,), (9.0,)))
    >>> regime = HmmRegime(params)
    >>> [regime.update([x]) for x in (0.1, -0.2, 6.0, -5.0)]
    [0, 0, 1, 1]
    >>> round(regime.probabilities[1], 4)
    1.0
    """

    def __init__(self, params: HmmParams):
        self.params = params
        self._start = np.log(np.asarray(params.startprob))
        self._transmat = np.asarray(params.transmat)
        self._means = np.asarray(params.means)
        self._variances = np.asarray(params.variances)
        self._log_norm = -0.5 * (
            self._means.shape[1] * math.log(2 * math.pi) + np.log(self._variances).sum(axis=1)
        )
        self._alpha: np.ndarray | None = None
        self.log_likelihood = 0.0

    @property
    def probabilities(self) -> tuple[float, ...]:
        """P(state | observations so far), by state (empty before the first observation)."""
        return () if self._alpha is None else tuple(self._alpha.tolist())

    def update(self, observation: list[float] | np.ndarray) -> int:
        """Add one observation (a feature vector); return the most probable current state."""
        x = np.asarray(observation, dtype=np.float64)
        log_b = self._log_norm - 0.5 * (((x - self._means) ** 2) / self._variances).sum(axis=1)
        prior = self._start if self._alpha is None else np.log(self._alpha @ self._transmat)
        joint = prior + log_b
        top = joint.max()
        weights = np.exp(joint - top)
        total = weights.sum()
        self.log_likelihood += top + math.log(total)
        self._alpha = weights / total
        return int(np.argmax(self._alpha))
