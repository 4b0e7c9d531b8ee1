"""Validation of the inputs: an equity curve or price series on ``ts_event`` (int ns UTC), as a pandas
Series indexed by it or as a pair of arrays ``(timestamps, values)``; and its per-period returns.

Examples
--------
>>> import pandas as pd
>>> curve = curve_arrays(pd.Series([100.0, 101.0], index=[0, 60_000_000_000]))
>>> simple_returns(curve.values).tolist()
[0.010000000000000009]
>>> curve_arrays(pd.Series([100.0, 0.0], index=[0, 1]))
Traceback (most recent call last):
...
schemas.errors.ConfigError: equity: values must be positive; equity[1] was 0.0 at ts 1
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd

from operators.performance.blocks import BlockExtremes, block_extremes, blocks, scratch
from operators.performance.calendar import BarSpacing, bar_spacing
from schemas.errors import ConfigError

# An equity curve or price series: a Series indexed by ts_event, or a (timestamps, values) pair.
CurveLike: TypeAlias = pd.Series | tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class CheckedCurve:
    """A valid curve as arrays, see `curve_arrays`.

    Attributes
    ----------
    timestamps
        ``ts_event`` (int64 ns), strictly increasing.
    values
        The values (float64), finite and positive.
    spacing
        The timestamps' `BarSpacing`.
    extremes
        The highest and lowest value of each block of
        `operators.performance.blocks.EXTREMES_BLOCK` points: the values are checked through them,
        and the drawdowns read them (`operators.performance.drawdown`).
    """

    timestamps: np.ndarray
    values: np.ndarray
    spacing: BarSpacing
    extremes: BlockExtremes


def curve_arrays(curve: CurveLike, name: str = "equity") -> CheckedCurve:
    """Return the `CheckedCurve` of a positive curve with strictly increasing timestamps.

    ``curve`` is a pandas Series indexed by ``ts_event`` (int ns) or a pair ``(timestamps, values)`` of
    equal-length 1-D arrays; the arrays returned may share memory with it.

    Raises
    ------
    ConfigError
        If ``curve`` is neither, is empty, has timestamps that are not integers or not strictly
        increasing, or has a value that is not finite and positive. The message names ``name``.
    """
    timestamps, values = _curve_columns(curve, name)
    if len(values) == 0:
        raise ConfigError(f"{name}: is empty; expected at least one point")
    spacing = bar_spacing(timestamps)
    later = None if spacing.regular_step else _first_not_increasing(timestamps)
    if later is not None:
        raise ConfigError(
            f"{name}: timestamps must be strictly increasing; ts {timestamps[later]} "
            f"at position {later} follows ts {timestamps[later - 1]}"
        )
    extremes = block_extremes(values)
    # the lowest and highest are NaN if any value is: a mask is built only to name a bad value
    if not (extremes.lows.min() > 0 and extremes.highs.max() < np.inf):
        bad = ~(np.isfinite(values) & (values > 0))
        i = int(np.argmax(bad))
        kind = "finite" if not np.isfinite(values[i]) else "positive"
        raise ConfigError(f"{name}: values must be {kind}; {name}[{i}] was {values[i]} at ts {timestamps[i]}")
    return CheckedCurve(timestamps, values, spacing, extremes)


def _curve_columns(curve: CurveLike, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the timestamps (int64) and values (float64) of a Series or a pair, unchecked but for types."""
    if isinstance(curve, pd.Series):
        index = curve.index
        if len(curve) and not pd.api.types.is_integer_dtype(index.dtype):
            raise ConfigError(
                f"{name}: index must be int ns since epoch, was {index.dtype}; "
                f"hint: use series.set_axis(series.index.as_unit('ns').asi8) for a DatetimeIndex"
            )
        return index.to_numpy(dtype=np.int64), _float_values(curve, name)
    if not (isinstance(curve, tuple) and len(curve) == 2):
        raise ConfigError(
            f"{name}: expected a pandas Series indexed by ts_event (int ns) or a (timestamps, values) "
            f"pair of arrays, was {type(curve).__name__}"
        )
    timestamps, values = np.asarray(curve[0]), _float_values(curve[1], name)
    if timestamps.ndim != 1 or timestamps.shape != values.shape:
        raise ConfigError(
            f"{name}: timestamps and values must be 1-D arrays of one length, were of shapes "
            f"{timestamps.shape} and {values.shape}"
        )
    if len(timestamps) and not np.issubdtype(timestamps.dtype, np.integer):
        raise ConfigError(f"{name}: timestamps must be int ns since epoch, was {timestamps.dtype}")
    return timestamps.astype(np.int64, copy=False), values


def _float_values(values: pd.Series | np.ndarray, name: str) -> np.ndarray:
    try:
        if isinstance(values, pd.Series):
            return values.to_numpy(dtype=np.float64)
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        dtype = values.dtype if hasattr(values, "dtype") else np.asarray(values).dtype
        raise ConfigError(f"{name}: values must be numbers, was {dtype}") from e


def _first_not_increasing(timestamps: np.ndarray) -> int | None:
    """Return the first position whose timestamp is not above the previous one; None if they all are.

    Compared block by block, so no full-length mask is written (see `operators.performance.blocks`).
    """
    later = scratch(len(timestamps) - 1, bool)
    for block in blocks(len(timestamps) - 1):
        part = later[: block.stop - block.start]
        np.greater(timestamps[block.start + 1 : block.stop + 1], timestamps[block], out=part)
        if not part.all():
            return block.start + 1 + int(np.argmin(part))
    return None


def aligned_benchmark(benchmark: pd.Series, timestamps: np.ndarray) -> np.ndarray:
    """Return the benchmark's prices, checked to sit on exactly the equity curve's ``timestamps``.

    Raises
    ------
    ConfigError
        If the benchmark is not a valid curve (see `curve_arrays`) or its timestamps differ.
    """
    checked = curve_arrays(benchmark, "benchmark")
    bench_ts, prices = checked.timestamps, checked.values
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


def simple_returns(values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Return the per-period simple returns ``values[i] / values[i - 1] - 1`` (one fewer than values),
    written into ``out`` if given.

    Computed block by block, so that each block is still in cache when 1 is taken off.
    """
    returns = np.empty(max(len(values) - 1, 0)) if out is None else out
    for block in blocks(len(returns)):
        part = returns[block]
        np.divide(values[block.start + 1 : block.stop + 1], values[block], out=part)
        part -= 1.0
    return returns
