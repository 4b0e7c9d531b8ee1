"""Throughput of the online models and the cost of snapshotting them.

Run ``python bench/bench_models.py``; prints markdown tables (median of 3 runs):

* predictions/s per model kind: one ``predict`` plus one ``learn`` per example (test-then-train), on a
  stream with 8 features, through `operators.models.OnlineModel`;
* the whole `ModelOperator` (delayed labels, rolling metrics, ADWIN, events) and the GARCH and HMM
  forecasters served bar by bar;
* what Bytewax pays per epoch snapshot: ``copy.deepcopy`` of a raw River model vs the `Checkpointed`
  wrapper, and the checkpoint's pickled size.
"""

from __future__ import annotations

import copy
import pickle
import statistics
import time
from collections.abc import Callable

import numpy as np

from operators.models import (
    Checkpointed,
    GarchForecaster,
    HmmRegime,
    ModelOperator,
    ModelOperatorConfig,
    ModelSpec,
    OnlineModel,
    fit_garch,
    fit_hmm,
)

FEATURES = 8


def stream(n: int, seed: int = 0) -> tuple[list[dict[str, float]], np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES))
    y = 0.001 * x[:, 0] + rng.normal(0, 0.001, n)
    return [{f"f{i}": float(v) for i, v in enumerate(row)} for row in x], y


def median_seconds(run: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def model_rate(spec: ModelSpec, n: int) -> float:
    xs, ys = stream(n)

    def run() -> None:
        model = OnlineModel(spec, horizon=1)
        for x, y in zip(xs, ys.tolist(), strict=True):
            if spec.task == "series":
                model.observe(y)
            model.predict(x)
            model.learn(x, y)

    return n / median_seconds(run)


def operator_rate(n: int) -> float:
    xs, ys = stream(n)
    prices = (100.0 * np.exp(np.cumsum(ys))).tolist()
    config = ModelOperatorConfig(model={"kind": "logistic"}, horizon=5)

    def run() -> None:
        operator = ModelOperator(config)
        for t, (x, price) in enumerate(zip(xs, prices, strict=True)):
            operator.on_bar("X", t, t, x, price)

    return n / median_seconds(run)


def snapshot_costs(spec: ModelSpec, n: int) -> tuple[float, float, float, int]:
    xs, ys = stream(n, seed=1)
    raw = spec.build()
    wrapped = Checkpointed(spec.build(), every=n)  # checkpoint taken at the end of the stream
    for x, y in zip(xs, ys.tolist(), strict=True):
        raw.learn_one(x, y > 0 if spec.task == "direction" else y)
        wrapped.learn_one(x, y > 0 if spec.task == "direction" else y)
    return (
        median_seconds(lambda: copy.deepcopy(raw)),
        median_seconds(lambda: pickle.dumps(raw, protocol=pickle.HIGHEST_PROTOCOL)),
        median_seconds(lambda: copy.deepcopy(wrapped)),
        len(pickle.dumps(raw)),
    )


def main() -> None:
    kinds = [
        ("logistic", {}, 20_000),
        ("linear", {}, 20_000),
        ("hat_classifier", {}, 5_000),
        ("hat_regressor", {}, 5_000),
        ("arf_classifier", {}, 1_000),
        ("arf_regressor", {}, 1_000),
        ("snarimax", {}, 20_000),
        ("holt_winters", {}, 20_000),
    ]
    print("| model | examples | predictions/s (predict + learn) |\n|---|---:|---:|")
    for kind, params, n in kinds:
        spec = ModelSpec(kind=kind, params=params, checkpoint_every=1_000_000)
        print(f"| `{kind}` | {n:,} | {model_rate(spec, n):,.0f} |")

    n = 20_000
    returns = np.random.default_rng(2).normal(0, 0.001, n)
    garch = GarchForecaster(fit_garch(returns[:2000]))
    hmm = HmmRegime(fit_hmm(returns[:2000, None] / 0.001, n_states=2))
    print("\n| served bar by bar | updates/s |\n|---|---:|")
    print(f"| `ModelOperator` (logistic, horizon 5, metrics + ADWIN + events) | {operator_rate(n):,.0f} |")
    garch_rate = n / median_seconds(lambda: [garch.update(r) for r in returns.tolist()])
    hmm_rate = n / median_seconds(lambda: [hmm.update([r / 0.001]) for r in returns.tolist()])
    print(f"| GARCH(1,1) forecaster | {garch_rate:,.0f} |")
    print(f"| HMM (2 states) forward filter | {hmm_rate:,.0f} |")

    print(
        "\n| model (after N learns) | pickle size | deepcopy (raw model, per epoch) "
        "| checkpoint = pickle.dumps (per `checkpoint_every` learns) | deepcopy `Checkpointed` (per epoch) |"
        "\n|---|---:|---:|---:|---:|"
    )
    for kind, n in (("logistic", 10_000), ("hat_classifier", 10_000), ("arf_classifier", 2_000)):
        raw_s, dump_s, wrapped_s, size = snapshot_costs(ModelSpec(kind=kind), n)
        print(
            f"| `{kind}` ({n:,}) | {size / 1024:,.0f} KiB | {raw_s * 1000:,.2f} ms | {dump_s * 1000:,.2f} ms "
            f"| {wrapped_s * 1000:,.3f} ms |"
        )


if __name__ == "__main__":
    main()
