"""Execution: order types, the simulated exchange, target-to-order conversion and the execution stage.

`ExecutionStage` and `ExecutionStageConfig` load on first use: the stage depends on
``operators.risk``, which itself uses this package's ids and config base.
"""

from operators.execution.commission import BpsCommission, FixedCommission, NoCommission, PerShareCommission
from operators.execution.exchange import ExchangeConfig, SimulatedExchange
from operators.execution.executor import ExecutorConfig, TargetExecutor, order_from_intent
from operators.execution.ids import event_id
from operators.execution.slippage import (
    FixedBpsSlippage,
    FixedTicksSlippage,
    NoSlippage,
    SquareRootImpact,
    VolumeShareSlippage,
)

__all__ = [
    "BpsCommission",
    "ExchangeConfig",
    "ExecutionStage",
    "ExecutionStageConfig",
    "ExecutorConfig",
    "FixedBpsSlippage",
    "FixedCommission",
    "FixedTicksSlippage",
    "NoCommission",
    "NoSlippage",
    "PerShareCommission",
    "SimulatedExchange",
    "SquareRootImpact",
    "TargetExecutor",
    "VolumeShareSlippage",
    "event_id",
    "order_from_intent",
]


def __getattr__(name: str) -> object:
    if name in ("ExecutionStage", "ExecutionStageConfig"):
        from operators.execution import stage

        return getattr(stage, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
