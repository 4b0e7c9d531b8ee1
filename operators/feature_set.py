"""`FeatureSet`: a named set of streaming indicators computed per instrument into ``Features`` events.

Configured by `FeatureSetConfig` (in a run config's ``features`` section): output name → indicator
spec (``kind`` plus the indicator's parameters, see `operators.indicators.make`). Multi-output
indicators give one value per output (``bbands.upper``, ``bbands.middle``…). Warm-up values are NaN.

Examples
--------
>>> import numpy as np
>>> from schemas.batch import EventBatch
>>> config = FeatureSetConfig(name="fast", indicators={"sma_2": {"kind": "sma", "period": 2}})
>>> bars = [{"instrument": "X", "interval_ns": 1, "open": c, "high": c, "low": c, "close": c, "volume": 1.0,
...          "ts_event": t, "ts_init": t} for t, c in enumerate([1.0, 3.0, 5.0])]
>>> [r["values"]["sma_2"] for r in FeatureSet(config).on_batch(EventBatch.from_records("Bar", "md", bars))]
[nan, 2.0, 4.0]
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from operators.indicators import make
from schemas.batch import EventBatch

DEFAULT_INDICATORS: dict[str, dict[str, Any]] = {
    "ema_10": {"kind": "ema", "period": 10},
    "ema_30": {"kind": "ema", "period": 30},
    "rsi_14": {"kind": "rsi", "period": 14},
    "atr_14": {"kind": "atr", "period": 14},
    "bbands_20": {"kind": "bbands", "period": 20},
    "macd": {"kind": "macd"},
}


class FeatureSetConfig(BaseModel):
    """Which indicators make up a feature set, by output name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="default", pattern=r"^[A-Za-z0-9_\-]+$", description="Topic is feat.<name>.")
    indicators: dict[str, dict[str, Any]] = Field(default_factory=lambda: dict(DEFAULT_INDICATORS))

    @field_validator("indicators")
    @classmethod
    def _buildable(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, spec in value.items():
            if "kind" not in spec:
                raise ValueError(f"{name}: needs a 'kind' (an indicator name such as 'ema')")
            make(spec["kind"], **{k: v for k, v in spec.items() if k != "kind"})
        return value


class FeatureSet:
    """Computes a `FeatureSetConfig`'s indicators for one instrument's bars; see the module docstring."""

    def __init__(self, config: FeatureSetConfig | None = None):
        self.config = config or FeatureSetConfig()
        self._indicators = {
            name: make(spec["kind"], **{k: v for k, v in spec.items() if k != "kind"})
            for name, spec in self.config.indicators.items()
        }

    def on_batch(self, batch: EventBatch) -> list[dict]:
        """``Features`` events (Avro-form dicts), one per bar of the batch (one instrument)."""
        if batch.schema != "Bar" or len(batch) == 0:
            return []
        columns: dict[str, list[float]] = {}
        for name, indicator in self._indicators.items():
            output = indicator.update(**{field: batch.columns[field] for field in indicator.inputs})
            if isinstance(output, tuple):
                for field, values in zip(output._fields, output, strict=True):
                    columns[f"{name}.{field}"] = values.tolist()
            else:
                columns[name] = output.tolist()
        instruments = batch.strings("instrument").tolist()
        ts_event, ts_init = batch.columns["ts_event"].tolist(), batch.columns["ts_init"].tolist()
        names = list(columns)
        return [
            {
                "id": hashlib.blake2b(
                    f"features|{self.config.name}|{instrument}|{ts}".encode(), digest_size=16
                ).hexdigest(),
                "instrument": instrument,
                "feature_set": self.config.name,
                "values": {name: columns[name][row] for name in names},
                "ts_event": ts,
                "ts_init": ts_init[row],
            }
            for row, (instrument, ts) in enumerate(zip(instruments, ts_event, strict=True))
        ]
