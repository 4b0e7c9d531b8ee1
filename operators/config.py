"""`RunConfig`: the validated file that drives a backtest and a live deployment alike.

A run config names the strategy (a registered short name or ``module:Class``), its params, the
universe, the account, the exchange model (commission, slippage, participation), how targets
become orders (executor) and the risk limits. It is validated before anything
runs; errors name the field.

Examples
--------
>>> cfg = RunConfig.from_yaml_text('''
... strategy: {name: ma_crossover, params: {fast: 10, slow: 30, quantity: 100}}
... universe: [AAPL]
... ''')
>>> cfg.strategy.name, cfg.account.initial_cash
('ma_crossover', 1000000.0)
>>> RunConfig.from_yaml_text("strategy: {name: x}\\nuniversa: [A]")
Traceback (most recent call last):
...
schemas.errors.ConfigError: run config: universa: Extra inputs are not permitted
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from operators.execution.exchange import ExchangeConfig
from operators.execution.executor import ExecutorConfig
from operators.execution.stage import ExecutionStageConfig
from operators.feature_set import FeatureSetConfig
from operators.performance.config import MetricsConfig
from operators.risk.limits import RiskLimits
from schemas.errors import ConfigError, config_error


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StrategyConfig(_Strict):
    name: str = Field(description="Registered strategy name (see `tape strategies`) or 'module:Class'.")
    id: str = Field(default="", description="Strategy id in events; defaults to the name.")
    params: dict[str, Any] = Field(default_factory=dict)
    callback: Literal["auto", "batch", "bar"] = Field(
        default="auto",
        description="Force the vectorised (batch) or per-event (bar) path; auto prefers batch.",
    )

    @property
    def strategy_id(self) -> str:
        return self.id or self.name


class AccountConfig(_Strict):
    id: str = "default"
    initial_cash: float = Field(default=1_000_000.0, gt=0)
    currency: str = "USD"


class DataConfig(_Strict):
    topics: list[str] = Field(default_factory=lambda: ["md.bar.1m"])
    batch_rows: int = Field(
        default=262_144,
        gt=0,
        description="Rows per replay batch: larger batches amortise per-batch work (~20 MB per batch of bars).",
    )


class RunConfig(_Strict):
    strategy: StrategyConfig
    universe: list[str] | None = Field(
        default=None, description="Instruments traded; None = all in the data."
    )
    benchmark: str | None = Field(default=None, description="Instrument used for alpha/beta.")
    data: DataConfig = DataConfig()
    account: AccountConfig = AccountConfig()
    exchange: ExchangeConfig = Field(default_factory=ExchangeConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    risk: RiskLimits = Field(default_factory=RiskLimits)
    flatten_on_halt: bool = Field(
        default=False, description="On HALT or kill switch, also flatten positions."
    )
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    features: FeatureSetConfig = Field(
        default_factory=FeatureSetConfig, description="The features service's set."
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "run config") -> RunConfig:
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            raise config_error(source, e) from None

    @classmethod
    def from_yaml_text(cls, text: str, source: str = "run config") -> RunConfig:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"{source}: not valid YAML: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping at the top level, was {type(data).__name__}")
        return cls.from_dict(data, source)

    def stage_config(self) -> ExecutionStageConfig:
        """The execution stage's config of this run."""
        return ExecutionStageConfig(
            initial_cash=self.account.initial_cash,
            exchange=self.exchange,
            executor=self.executor,
            risk=self.risk,
            flatten_on_halt=self.flatten_on_halt,
        )

    def config_hash(self) -> str:
        """sha256 of the canonical JSON form: equal configs hash equal, whatever their YAML layout."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
