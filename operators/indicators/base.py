"""`Indicator`: the contract every streaming indicator follows, and parameter checks."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from schemas.errors import ConfigError

Output = np.ndarray | tuple[np.ndarray, ...]


class Indicator(ABC):
    """A technical indicator updated incrementally from columnar batches.

    Subclasses set ``inputs`` (the input field names, in positional order) and ``warmup`` (the
    number of inputs before the first non-NaN output, TA-Lib's lookback + 1) in ``__init__`` and
    implement ``_update``. Feeding a series in batches of any size, or one value at a time with
    `update_one`, gives the same outputs as feeding it at once. State is a few floats and arrays
    no longer than the window, so `copy.deepcopy` and `pickle` snapshot it cheaply.

    Examples
    --------
    >>> import numpy as np
    >>> from operators.indicators import SMA
    >>> sma = SMA(period=3)
    >>> sma.inputs, sma.warmup
    (('close',), 3)
    >>> sma.update(close=np.array([1.0, 2.0, 3.0, 4.0])).tolist()
    [nan, nan, 2.0, 3.0]
    >>> sma.update_one(close=8.0), sma.value
    (5.0, 5.0)
    """

    #: Registry name (used in config files and by `operators.indicators.make`).
    name: ClassVar[str]
    #: The NamedTuple of a multi-output indicator; ``None`` when it returns one array.
    result_type: ClassVar[type[NamedTuple] | None] = None

    inputs: tuple[str, ...]
    warmup: int
    _value: Any = None

    @abstractmethod
    def _update(self, *columns: np.ndarray) -> Output:
        """Consume one batch (one float64 array per input, equal lengths) and return its outputs."""

    def update(self, *values: ArrayLike, **named: ArrayLike) -> Output:
        """Consume a batch of inputs and return one output per input (NaN while warming up).

        Inputs are given positionally in the order of ``inputs`` or by name.
        """
        columns = self._bind(values, named)
        result = self._update(*columns)
        if len(columns[0]):
            self._value = _last(result)
        return result

    def update_one(self, *values: float, **named: float) -> Any:
        """Consume one input and return its output: a float, or a NamedTuple of floats."""
        result = self.update(
            *(np.array([value], dtype=np.float64) for value in values),
            **{key: np.array([value], dtype=np.float64) for key, value in named.items()},
        )
        return _last(result)

    @property
    def value(self) -> Any:
        """The latest output (NaN, or a NamedTuple of NaN, before the first update)."""
        if self._value is None:
            nan = float("nan")
            return (
                nan
                if self.result_type is None
                else self.result_type(*([nan] * len(self.result_type._fields)))
            )
        return self._value

    @property
    def params(self) -> dict[str, Any]:
        """The constructor arguments, read back from the attributes of the same name."""
        return {name: getattr(self, name) for name in inspect.signature(type(self)).parameters}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{type(self).__name__}({arguments})"

    def _bind(self, values: tuple[ArrayLike, ...], named: dict[str, ArrayLike]) -> list[np.ndarray]:
        if len(values) > len(self.inputs):
            raise TypeError(
                f"{self!r} takes {len(self.inputs)} inputs {self.inputs}, {len(values)} were given"
            )
        bound = dict(zip(self.inputs, values, strict=False))
        for key, column in named.items():
            if key not in self.inputs:
                raise TypeError(f"{self!r} has no input {key!r}; its inputs are {self.inputs}")
            if key in bound:
                raise TypeError(f"{self!r} got input {key!r} both by position and by name")
            bound[key] = column
        missing = [key for key in self.inputs if key not in bound]
        if missing:
            raise TypeError(f"{self!r} is missing inputs {tuple(missing)}")
        columns = [np.ascontiguousarray(bound[key], dtype=np.float64) for key in self.inputs]
        for key, column in zip(self.inputs, columns, strict=True):
            if column.ndim != 1:
                raise ValueError(f"{self!r}: input {key!r} must be 1-D, its shape was {column.shape}")
            if len(column) != len(columns[0]):
                raise ValueError(
                    f"{self!r}: inputs must have equal lengths, they were "
                    f"{dict(zip(self.inputs, map(len, columns), strict=True))}"
                )
        return columns


def _last(result: Output) -> Any:
    if isinstance(result, np.ndarray):
        return float(result[-1])
    return type(result)(*(float(column[-1]) for column in result))


def check_int(owner: str, field: str, value: object, minimum: int) -> int:
    """Return ``value`` if it is an integer ``>= minimum``, else raise `ConfigError` naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{owner}: {field} must be an integer >= {minimum}, was {value!r}")
    return int(value)


def check_float(owner: str, field: str, value: object, minimum: float) -> float:
    """Return ``value`` as float if it is a finite real ``>= minimum``, else raise `ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"{owner}: {field} must be a number >= {minimum}, was {value!r}")
    if not np.isfinite(value) or value < minimum:
        raise ConfigError(f"{owner}: {field} must be a number >= {minimum}, was {value!r}")
    return float(value)


def check_name(owner: str, field: str, value: object) -> str:
    """Return ``value`` if it is a non-empty string (an input field name), else raise `ConfigError`."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{owner}: {field} must be a non-empty field name, was {value!r}")
    return value
