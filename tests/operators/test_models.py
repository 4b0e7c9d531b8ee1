"""Online models: they learn a planted signal, never see the future, restore exactly, and flag drift.

References: GARCH forecasts vs ``arch``'s own ``forecast()``, HMM state probabilities vs ``hmmlearn``,
rolling metrics vs scikit-learn.
"""

from __future__ import annotations

import copy
import math
import pickle
import warnings

import numpy as np
import pytest
from arch import arch_model
from hmmlearn.hmm import GaussianHMM
from sklearn.metrics import accuracy_score, log_loss, mean_absolute_error

from operators.models import (
    Checkpointed,
    GarchForecaster,
    GarchParams,
    HmmParams,
    HmmRegime,
    ModelOperator,
    ModelOperatorConfig,
    RollingEvaluator,
    fit_garch,
    fit_hmm,
    parse_spec,
)
from schemas.errors import ConfigError


def planted_stream(n: int, seed: int, flip_at: int | None = None, strength: float = 0.001):
    """Bars whose next return is ``strength * signal`` plus noise of the same size (sign flips at ``flip_at``)."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    distractors = rng.normal(size=(n, 2))
    noise = rng.normal(0, strength, n)
    price, bars = 100.0, []
    for t in range(n):
        bars.append(({"signal": signal[t], "d1": distractors[t, 0], "d2": distractors[t, 1]}, price))
        sign = -1.0 if flip_at is not None and t >= flip_at else 1.0
        price *= math.exp(sign * strength * signal[t] + noise[t])
    return bars


def run(operator: ModelOperator, bars, start: int = 0, instrument: str = "X"):
    steps = []
    for t, (x, price) in enumerate(bars[start:], start=start):
        steps.append(operator.on_bar(instrument, t, t, x, price))
    return steps


def realised_direction(bars, horizon: int = 1) -> np.ndarray:
    prices = np.array([price for _, price in bars])
    return np.where(np.arange(len(prices)) + horizon < len(prices), np.roll(prices, -horizon) > prices, False)


@pytest.mark.parametrize(
    "spec",
    [{"kind": "logistic", "learning_rate": 0.05}, {"kind": "hat_classifier", "params": {"grace_period": 50}}],
)
def test_direction_model_beats_naive_baseline_out_of_sample(spec):
    bars = planted_stream(3000, seed=1)
    operator = ModelOperator(ModelOperatorConfig(model=spec, horizon=1))
    steps = run(operator, bars)
    up = realised_direction(bars)
    half = slice(1500, 2999)  # predictions made before the model learned these bars
    model_hits = [(steps[t].prediction > 0.5) == up[t] for t in range(half.start, half.stop)]
    # naive: tomorrow moves like today (momentum), the usual no-model baseline for direction
    naive_hits = [up[t - 1] == up[t] for t in range(half.start, half.stop)]
    assert np.mean(model_hits) > 0.65
    assert np.mean(model_hits) > np.mean(naive_hits) + 0.1


def test_return_model_beats_zero_forecast_out_of_sample():
    bars = planted_stream(3000, seed=2)
    operator = ModelOperator(ModelOperatorConfig(model={"kind": "linear", "learning_rate": 0.01}, horizon=1))
    steps = run(operator, bars)
    prices = np.array([p for _, p in bars])
    actual = np.log(prices[1:] / prices[:-1])
    predicted = np.array([s.prediction for s in steps[:-1]])
    model_mae = np.mean(np.abs(actual[1500:] - predicted[1500:]))
    naive_mae = np.mean(np.abs(actual[1500:]))
    assert model_mae < 0.85 * naive_mae


def test_predictions_up_to_t_ignore_data_after_t():
    bars = planted_stream(800, seed=3)
    cut = 500
    rng = np.random.default_rng(99)
    perturbed = bars[:cut] + [
        ({k: v + rng.normal() for k, v in x.items()}, price * math.exp(rng.normal(0, 0.05)))
        for x, price in bars[cut:]
    ]
    config = ModelOperatorConfig(model={"kind": "logistic"}, challenger={"kind": "hat_classifier"}, horizon=3)
    original = run(ModelOperator(config), bars)
    changed = run(ModelOperator(config), perturbed)
    assert [s.events for s in original[:cut]] == [s.events for s in changed[:cut]]
    assert [s.events for s in original[cut:]] != [s.events for s in changed[cut:]]


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "logistic", "checkpoint_every": 128},
        {"kind": "linear", "checkpoint_every": 1},
        {"kind": "hat_classifier", "checkpoint_every": 128},
        {"kind": "arf_classifier", "params": {"n_models": 3}, "checkpoint_every": 128},
        {"kind": "snarimax", "series": "signal", "checkpoint_every": 128},
        {"kind": "holt_winters", "series": "signal", "checkpoint_every": 128},
    ],
)
def test_snapshot_restore_gives_identical_subsequent_predictions(spec):
    bars = planted_stream(900, seed=4)
    operator = ModelOperator(ModelOperatorConfig(model=spec, horizon=2, metrics_every=50))
    run(operator, bars[:600])
    from_pickle = pickle.loads(pickle.dumps(operator))
    from_deepcopy = copy.deepcopy(operator)  # what Bytewax's stateful_map snapshots
    expected = run(operator, bars, start=600)
    assert any(s.prediction is not None for s in expected)
    assert run(from_pickle, bars, start=600) == expected
    assert run(from_deepcopy, bars, start=600) == expected


def test_checkpointed_state_holds_bytes_and_a_bounded_journal():
    spec = parse_spec({"kind": "hat_classifier", "checkpoint_every": 100}, "model")
    wrapped = Checkpointed(spec.build(), every=spec.checkpoint_every)
    for x, price in planted_stream(450, seed=5):
        wrapped.learn_one(x, price > 100.0)
    state = wrapped.__getstate__()
    assert isinstance(state["checkpoint"], bytes)
    assert len(state["journal"]) == 50
    assert copy.deepcopy(wrapped).__getstate__()["checkpoint"] is state["checkpoint"]  # shared, not copied


def test_drift_alert_follows_a_planted_regime_change_within_bounded_delay():
    flip = 2000
    bars = planted_stream(3000, seed=6, flip_at=flip)
    config = ModelOperatorConfig(
        model={"kind": "logistic", "learning_rate": 0.05}, horizon=1, drift_action="reset", account_id="acc"
    )
    steps = run(ModelOperator(config), bars)
    alerts = [(t, e) for t, s in enumerate(steps) for name, e in s.events if name == "RiskAlert"]
    assert alerts, "no drift alert after the regime change"
    first_t, first = alerts[0]
    assert flip < first_t <= flip + 300
    assert first["rule"] == "model_drift" and first["action"] == "NONE" and first["instrument"] == "X"
    after = [s.prediction for s in steps[first_t + 300 : 2999]]
    up = realised_direction(bars)[first_t + 300 : 2999]
    assert (
        np.mean([(p > 0.5) == u for p, u in zip(after, up, strict=True)]) > 0.65
    )  # the reset model relearned


def test_drift_swaps_in_a_challenger_that_adapts_faster():
    flip = 2000
    bars = planted_stream(3000, seed=7, flip_at=flip)
    config = ModelOperatorConfig(
        model={"kind": "logistic", "id": "slow", "learning_rate": 0.002},
        challenger={"kind": "logistic", "id": "fast", "learning_rate": 0.2},
        horizon=1,
        metrics_window=100,
        drift_action="swap",
    )
    operator = ModelOperator(config)
    steps = run(operator, bars)
    messages = [e["message"] for s in steps for name, e in s.events if name == "RiskAlert"]
    assert any("challenger fast promoted to champion" in m for m in messages)
    assert operator.champion("X") == "fast"
    versions = {
        (e["model_id"], e["model_version"]) for s in steps[-10:] for n, e in s.events if n == "Prediction"
    }
    assert ("slow", "1.1") in versions  # the demoted champion restarted as the challenger


def test_model_metrics_are_emitted_every_n_scored_predictions():
    bars = planted_stream(1000, seed=8)
    config = ModelOperatorConfig(model={"kind": "logistic"}, horizon=2, metrics_every=100, metrics_window=200)
    steps = run(ModelOperator(config), bars)
    metrics = [e for s in steps for name, e in s.events if name == "ModelMetric"]
    assert {m["metric"] for m in metrics} == {"accuracy", "log_loss"}
    assert len(metrics) == 2 * (998 // 100)
    assert all(m["window"] == 200 for m in metrics) and len({m["id"] for m in metrics}) == len(metrics)


def test_rolling_metrics_match_scikit_learn_on_the_window():
    rng = np.random.default_rng(10)
    p_up, actual = rng.uniform(0.01, 0.99, 700), rng.normal(size=700)
    direction = RollingEvaluator("direction", window=250)
    for p, a in zip(p_up, actual, strict=True):
        direction.update(p, a)
    y, p = (actual[-250:] > 0).astype(int), p_up[-250:]
    assert direction.values()["accuracy"] == pytest.approx(accuracy_score(y, p > 0.5))
    assert direction.values()["log_loss"] == pytest.approx(log_loss(y, p, labels=[0, 1]))
    predicted = rng.normal(size=700)
    regression = RollingEvaluator("return", window=250)
    for guess, a in zip(predicted, actual, strict=True):
        regression.update(guess, a)
    assert regression.values()["mae"] == pytest.approx(mean_absolute_error(actual[-250:], predicted[-250:]))
    assert regression.values()["hit_rate"] == pytest.approx(
        accuracy_score(actual[-250:] > 0, predicted[-250:] > 0)
    )


def garch_returns(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    returns, variance = np.empty(n), 1e-4
    for t in range(n):
        returns[t] = 0.0002 + math.sqrt(variance) * rng.standard_normal()
        variance = 2e-6 + 0.1 * (returns[t] - 0.0002) ** 2 + 0.85 * variance
    return returns


def test_garch_stream_forecasts_match_arch_forecast():
    returns = garch_returns(2000, seed=12)
    params = fit_garch(returns[:1500])
    forecaster = GarchForecaster(params)
    streamed = [forecaster.variance]
    for r in returns[1500:]:
        streamed.append(forecaster.update(r))
    model = arch_model(returns * params.scale, mean="Constant", vol="GARCH", p=1, q=1, rescale=False)
    fixed = model.fix([params.mu, params.omega, params.alpha, params.beta])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = fixed.forecast(horizon=1, start=1499, reindex=False).variance.to_numpy()[:, 0]
    np.testing.assert_allclose(np.array(streamed) * params.scale**2, reference, rtol=1e-10)
    assert 0.03 < params.alpha < 0.2 and 0.7 < params.beta < 0.95  # recovers the planted process


def test_hmm_filtered_probabilities_match_hmmlearn_on_every_prefix():
    rng = np.random.default_rng(13)
    calm, wild = rng.normal(0, 0.5, (200, 1)), rng.normal(0, 3.0, (200, 1))
    features = np.vstack([calm, wild, calm, wild])
    params = fit_hmm(features, n_states=2, seed=1)
    regime = HmmRegime(params)
    reference = GaussianHMM(n_components=2, covariance_type="diag", init_params="", params="")
    reference.startprob_ = np.array(params.startprob)
    reference.transmat_ = np.array(params.transmat)
    reference.means_ = np.array(params.means)
    reference.covars_ = np.array(params.variances)
    states = []
    for t, row in enumerate(features):
        states.append(regime.update(row))
        if t % 97 == 0 or t == len(features) - 1:
            expected = reference.predict_proba(features[: t + 1])[-1]  # smoothed == filtered at the last row
            np.testing.assert_allclose(regime.probabilities, expected, atol=1e-9)
    assert regime.log_likelihood == pytest.approx(reference.score(features), rel=1e-9)
    assert np.mean(np.array(states[200:400]) == 1) > 0.9 and np.mean(np.array(states[:200]) == 0) > 0.9


def test_garch_forecaster_variance_recursion_by_hand():
    forecaster = GarchForecaster(
        GarchParams(mu=0.1, omega=0.2, alpha=0.1, beta=0.8, scale=10.0, variance=2.0)
    )
    forecaster.update(0.05)
    assert forecaster.variance == pytest.approx((0.2 + 0.1 * (0.5 - 0.1) ** 2 + 0.8 * 2.0) / 100)


def test_hmm_params_are_ordered_calm_first():
    params = HmmParams((0.5, 0.5), ((0.9, 0.1), (0.1, 0.9)), ((0.0,), (0.0,)), ((1.0,), (4.0,)))
    assert HmmRegime(params).update([0.1]) == 0


def test_bad_model_config_names_the_field():
    with pytest.raises(ConfigError, match=r"^model: kind: Input should be"):
        parse_spec({"kind": "xgboost"}, "model")
    with pytest.raises(ConfigError, match="ARFClassifier has no parameter 'trees'"):
        parse_spec({"kind": "arf_classifier", "params": {"trees": 3}}, "model")
    with pytest.raises(ValueError, match="challenger: task 'return' differs"):
        ModelOperatorConfig(model={"kind": "logistic"}, challenger={"kind": "linear"})
