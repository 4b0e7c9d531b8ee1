"""`Strategy`: the base class of every strategy, with its two callback styles.

A strategy declares pydantic ``Params``, the streaming indicators it needs per instrument, and returns
*target positions* — never orders, never the clock. Two ways to write the decision:

* ``on_bar(bar, ind, ctx)``: called once per bar in event-time order across the universe, with the bar
  and the indicators' current values; it calls ``ctx.target(instrument, quantity)``.
* ``on_batch(bars, ind, ctx)``: the vectorised path, called with one instrument's bars of a batch as
  arrays and the indicators as arrays; it returns the target quantity per bar (NaN = no change).

Both paths see the same indicator values (indicators are computed incrementally per batch, and
batch size does not change their output), so a strategy written either way trades identically.

Examples
--------
>>> from pydantic import BaseModel
>>> from operators.indicators import EMA
>>> class EmaCross(Strategy):
...     class Params(BaseModel):
...         fast: int = 10
...         slow: int = 30
...         qty: float = 100.0
...     def indicators(self, p):
...         return {"fast": EMA(p.fast), "slow": EMA(p.slow)}
...     def on_bar(self, bar, ind, ctx):
...         ctx.target(bar.instrument, self.p.qty if ind.fast > ind.slow else 0.0)
>>> EmaCross({"fast": 5}).p
Params(fast=5, slow=30, qty=100.0)
>>> EmaCross({"fats": 5})
Traceback (most recent call last):
...
schemas.errors.ConfigError: EmaCross params: fats: Extra inputs are not permitted
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.errors import ConfigError, config_error


class _NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _bar_field(index: int, name: str) -> property:
    return property(lambda bar: bar._fields[index][bar._position], doc=f"The bar's ``{name}``.")


class BarView:
    """One bar as attributes (``bar.close``…); the engine reuses the object, so do not keep it.

    ``instrument`` is set for each bar; the other fields are read from the batch's columns
    (``_fields``, in `FIELDS` order, at ``_position``) only when the strategy asks for them, so a
    callback pays for the fields it reads, not for all of them.

    >>> bar = BarView()
    >>> bar.instrument, bar._fields, bar._position = "X", ([1.0, 2.0],) * 5 + ([60, 120],) * 2, 1
    >>> bar.close, bar.ts_event
    (2.0, 120)
    """

    FIELDS = ("open", "high", "low", "close", "volume", "ts_event", "ts_init")
    __slots__ = ("instrument", "_fields", "_position")

    open = _bar_field(0, "open")
    high = _bar_field(1, "high")
    low = _bar_field(2, "low")
    close = _bar_field(3, "close")
    volume = _bar_field(4, "volume")
    ts_event = _bar_field(5, "ts_event")
    ts_init = _bar_field(6, "ts_init")

    def __repr__(self) -> str:
        return (
            f"Bar({self.instrument} o={self.open} h={self.high} l={self.low} c={self.close} "
            f"v={self.volume} ts_event={self.ts_event})"
        )


class IndicatorValues:
    """One instrument's indicator values at a bar as attributes (``ind.fast``…), ``on_bar``'s ``ind``.

    The engine reuses the object from bar to bar of the instrument, so do not keep it.
    """

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"IndicatorValues({values})"


def _bars_field(name: str) -> property:
    return property(lambda bars: bars._columns[name], doc=f"The bars' ``{name}`` values.")


class Bars:
    """One instrument's bars of a batch as arrays: ``open``, ``high``, ``low``, ``close``, ``volume``, ``ts_event``.

    A field is looked up in ``columns`` when the strategy reads it, so the engine can copy only the fields
    strategies read. The arrays may be the batch's own and are read-only.
    """

    __slots__ = ("instrument", "_columns")

    open = _bars_field("open")
    high = _bars_field("high")
    low = _bars_field("low")
    close = _bars_field("close")
    volume = _bars_field("volume")
    ts_event = _bars_field("ts_event")

    def __init__(self, instrument: str, columns: Mapping[str, np.ndarray]):
        self.instrument = instrument
        self._columns = columns

    def __len__(self) -> int:
        return len(self.close)


class Context:
    """What a strategy may ask of the engine while it decides: the time, the universe, targets.

    Positions and fills are deliberately absent: strategies emit targets and the execution stage
    owns positions (DESIGN §1.4), which keeps the dataflow acyclic and replay exact.
    """

    __slots__ = ("universe", "ts_event", "_targets", "_pending", "_unchanged", "_last_bars", "_emitted")

    def __init__(self, universe: tuple[str, ...]):
        self.universe = universe
        self.ts_event = 0
        self._targets: dict[str, float] = {}
        self._pending: dict[str, tuple[float, str]] = {}
        self._unchanged: str | None = None  # a bar's first request, when it kept the held target
        self._last_bars: dict[str, dict[str, float]] = {}
        self._emitted: list[tuple[str, dict]] = []

    def target(self, instrument: str, quantity: float, reason: str = "") -> None:
        """Ask for a position of ``quantity`` (signed) in ``instrument`` from now on."""
        if self._pending or self._unchanged is not None or self._targets.get(instrument, 0.0) != quantity:
            self._ask(instrument, float(quantity), reason)
        else:  # the usual bar: one request, for the target already held; nothing to record
            self._unchanged = instrument

    def _ask(self, instrument: str, quantity: float, reason: str) -> None:
        """Record a request; the engine takes the requests of a bar, in first-asked order, after it."""
        pending = self._pending
        if not pending and self._unchanged is not None:  # keep the skipped request's place in that order
            pending[self._unchanged] = (self._targets.get(self._unchanged, 0.0), "")
        pending[instrument] = (quantity, reason)

    def emit(self, schema: str, record: dict) -> None:
        """Publish a side event (e.g. a ``Prediction`` or ``Features``) as an Avro-form dict of ``schema``.

        The backtest stores these with the run's results; the live ``strategies`` service produces them
        to their topic (``ml.prediction``, ``feat.<set>``). They never feed back into execution.
        """
        self._emitted.append((schema, record))

    def target_of(self, instrument: str) -> float:
        """The last target set for ``instrument`` (0 before any)."""
        pending = self._pending.get(instrument)
        return pending[0] if pending is not None else self._targets.get(instrument, 0.0)

    def last(self, instrument: str) -> dict[str, float] | None:
        """The latest bar seen of ``instrument`` as a dict (open, high, low, close, volume, ts_event), or None."""
        return self._last_bars.get(instrument)


class Strategy:
    """Base class of strategies; see the module docstring for an example."""

    Params: ClassVar[type[BaseModel]] = _NoParams
    #: True when the decision for an instrument depends only on that instrument's bars, indicators and
    #: held target (not on the universe or other instruments): instances with equal params over
    #: disjoint universes then decide, run as one over the union, what each decides alone.
    per_instrument: ClassVar[bool] = False

    def __init__(self, params: BaseModel | dict[str, Any] | None = None):
        self.p = self.validate_params(params)

    @classmethod
    def validate_params(cls, params: BaseModel | dict[str, Any] | None) -> BaseModel:
        """Validate ``params`` against ``Params``; raise `ConfigError` naming the bad field."""
        if isinstance(params, cls.Params):
            return params
        data = params.model_dump() if isinstance(params, BaseModel) else dict(params or {})
        unknown = sorted(set(data) - set(cls.Params.model_fields))
        if unknown:
            raise ConfigError(f"{cls.__name__} params: {', '.join(unknown)}: Extra inputs are not permitted")
        try:
            return cls.Params(**data)
        except ValidationError as e:
            raise config_error(f"{cls.__name__} params", e) from None

    @property
    def vectorised(self) -> bool:
        """Whether the strategy implements the vectorised ``on_batch`` path."""
        return type(self).on_batch is not Strategy.on_batch

    @property
    def per_bar(self) -> bool:
        """Whether the strategy implements the per-event ``on_bar`` path."""
        return type(self).on_bar is not Strategy.on_bar

    def indicators(self, p: BaseModel) -> dict[str, Any]:
        """The streaming indicators kept per instrument, by name (none by default)."""
        return {}

    def validate_universe(self, universe: tuple[str, ...]) -> None:
        """Raise `ConfigError` if the strategy cannot trade ``universe`` (e.g. pairs need two)."""

    def on_bar(self, bar: BarView, ind: Any, ctx: Context) -> None:
        """Decide on one bar; call ``ctx.target``. Needed unless ``on_batch`` is implemented."""
        raise NotImplementedError(f"{type(self).__name__} implements neither on_bar nor on_batch")

    def on_batch(self, bars: Bars, ind: Any, ctx: Context) -> np.ndarray:
        """Vectorised decision over one instrument's bars: the target per bar (NaN = keep)."""
        raise NotImplementedError
