"""Online machine learning in the stream (River), its monitoring, and batch models served online.

* `ModelSpec` / `OnlineModel`: a River model (logistic/linear, Hoeffding adaptive tree, adaptive
  random forest, SNARIMAX, Holt-Winters) with one predict/learn API and cheap checkpointed state.
* `ModelOperator`: features → predictions per instrument with delayed labels (learn only once the
  label is known), rolling test-then-train metrics, ADWIN drift alerts, champion/challenger.
* `fit_garch` / `GarchForecaster`, `fit_hmm` / `HmmRegime`: fitted offline on a training window,
  served bar by bar.
"""

from operators.models.checkpoint import Checkpointed
from operators.models.drift import DriftMonitor
from operators.models.evaluation import RollingEvaluator
from operators.models.garch import GarchForecaster, GarchParams, fit_garch
from operators.models.online import OnlineModel
from operators.models.operator import ModelOperator, ModelOperatorConfig, ModelStep
from operators.models.regime import HmmParams, HmmRegime, fit_hmm
from operators.models.spec import TASK_OF, ModelSpec, parse_spec

__all__ = [
    "TASK_OF",
    "Checkpointed",
    "DriftMonitor",
    "GarchForecaster",
    "GarchParams",
    "HmmParams",
    "HmmRegime",
    "ModelOperator",
    "ModelOperatorConfig",
    "ModelSpec",
    "ModelStep",
    "OnlineModel",
    "RollingEvaluator",
    "fit_garch",
    "fit_hmm",
    "parse_spec",
]
