"""Avro-form records the model operators emit, with deterministic ids (a replay reproduces them)."""

from __future__ import annotations

import hashlib


def _id(*parts: object) -> str:
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).hexdigest()


def prediction_record(
    model_id: str,
    model_version: str,
    instrument: str,
    horizon: int,
    value: float,
    proba: float | None,
    ts_event: int,
    ts_init: int,
) -> dict:
    """A ``Prediction`` event.

    Examples
    --------
    >>> record = prediction_record("logistic", "1.0", "X", 5, 1.0, 0.7, 10, 11)
    >>> record["id"] == prediction_record("logistic", "1.0", "X", 5, 0.0, 0.6, 10, 99)["id"], len(record["id"])
    (True, 32)
    """
    return {
        "id": _id("prediction", model_id, model_version, instrument, horizon, ts_event),
        "model_id": model_id,
        "model_version": model_version,
        "instrument": instrument,
        "horizon": horizon,
        "value": float(value),
        "proba": None if proba is None else float(proba),
        "ts_event": ts_event,
        "ts_init": ts_init,
    }


def metric_record(
    model_id: str,
    model_version: str,
    instrument: str,
    metric: str,
    window: int,
    value: float,
    ts_event: int,
    ts_init: int,
) -> dict:
    """A ``ModelMetric`` event (a rolling progressive-validation metric).

    Examples
    --------
    >>> metric_record("logistic", "1.0", "X", "accuracy", 500, 0.55, 10, 11)["metric"]
    'accuracy'
    """
    return {
        "id": _id("model_metric", model_id, model_version, instrument, metric, window, ts_event),
        "model_id": model_id,
        "model_version": model_version,
        "instrument": instrument,
        "metric": metric,
        "window": window,
        "value": float(value),
        "ts_event": ts_event,
        "ts_init": ts_init,
    }


def drift_alert_record(
    account_id: str,
    model_id: str,
    instrument: str,
    message: str,
    mean_error: float,
    ts_event: int,
    ts_init: int,
) -> dict:
    """A ``RiskAlert`` with rule ``model_drift`` and action NONE (monitoring; it halts nothing).

    Examples
    --------
    >>> alert = drift_alert_record("acc", "logistic", "X", "error rose", 0.6, 10, 11)
    >>> alert["rule"], alert["action"], alert["severity"]
    ('model_drift', 'NONE', 'WARNING')
    """
    return {
        "id": _id("model_drift", model_id, instrument, ts_event),
        "strategy_id": None,
        "account_id": account_id,
        "instrument": instrument,
        "rule": "model_drift",
        "severity": "WARNING",
        "message": message,
        "value": float(mean_error),
        "limit": None,
        "action": "NONE",
        "ts_event": ts_event,
        "ts_init": ts_init,
    }
