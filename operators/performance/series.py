"""Validation of the inputs: an equity curve or price series indexed by ``ts_event`` (int ns UTC).

Examples
--------
>>> import pandas as pd
>>> ts, values = curve_arrays(pd.Series([100.0, 101.0], index=[0, 60_000_000_000]))
>>> simple_returns(values).tolist()
[0.010000000000000009]
>>> curve_arrays(pd.Series([100.0, 0.0], index=[0, 1]))
Traceback (most recent call last):
...
schemas.errors.ConfigError: equity: values must be positive; equity[1] was 0.0 at ts 1
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.errors import ConfigError


def curve_arrays(curve: pd.Series, name: str = "equity") -> tuple[np.ndarray, np.ndarray]:
    """Return ``(timestamps int64, values float64)`` of a positive curve with increasing timestamps.

    Raises
    ------
    ConfigError
        If ``curve`` is not a non-empty Series with an integer index, its timestamps are not strictly
        increasing, or a value is not finite and positive. The message names ``name``.
    """
    if not isinstance(curve, pd.Series):
        raise ConfigError(
            f"{name}: expected a pandas Series indexed by ts_event (int ns), was {type(curve).__name__}"
        )
    if len(curve) == 0:
        raise ConfigError(f"{name}: is empty; expected at least one point")
    if not pd.api.types.is_integer_dtype(curve.index.dtype):
        raise ConfigError(
            f"{name}: index must be int ns since epoch, was {curve.index.dtype}; "
            f"hint: use series.set_axis(series.index.as_unit('ns').asi8) for a DatetimeIndex"
        )
    timestamps = curve.index.to_numpy(dtype=np.int64)
    try:
        values = curve.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{name}: values must be numbers, was {curve.dtype}") from e
    later = timestamps[1:] > timestamps[:-1]
    if not later.all():
        i = int(np.argmin(later))
        raise ConfigError(
            f"{name}: timestamps must be strictly increasing; ts {timestamps[i + 1]} "
            f"at position {i + 1} follows ts {timestamps[i]}"
        )
    # min and max are NaN if any value is: two reductions instead of a mask in the valid, common case
    if not (values.min() > 0 and values.max() < np.inf):
        bad = ~(np.isfinite(values) & (values > 0))
        i = int(np.argmax(bad))
        kind = "finite" if not np.isfinite(values[i]) else "positive"
        raise ConfigError(f"{name}: values must be {kind}; {name}[{i}] was {values[i]} at ts {timestamps[i]}")
    return timestamps, values


def aligned_benchmark(benchmark: pd.Series, timestamps: np.ndarray) -> np.ndarray:
    """Return the benchmark's prices, checked to sit on exactly the equity curve's ``timestamps``.

    Raises
    ------
    ConfigError
        If the benchmark is not a valid curve (see `curve_arrays`) or its timestamps differ.
    """
    bench_ts, prices = curve_arrays(benchmark, "benchmark")
    if len(bench_ts) != len(timestamps):
        raise ConfigError(
            f"benchmark: has {len(bench_ts)} points, equity has {len(timestamps)}; "
            f"expected prices at the same timestamps"
        )
    differ = bench_ts != timestamps
    if np.any(differ):
        i = int(np.argmax(differ))
        raise ConfigError(
            f"benchmark: timestamp at position {i} was {bench_ts[i]}, equity's is "
            f"{timestamps[i]}; expected prices at the same timestamps"
        )
    return prices


def simple_returns(values: np.ndarray) -> np.ndarray:
    """Return the per-period simple returns ``values[i] / values[i - 1] - 1`` (one fewer than values)."""
    returns = values[1:] / values[:-1]
    returns -= 1.0
    return returns
