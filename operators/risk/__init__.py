"""Pre-trade risk checks, trading modes (halt, reduce-only) and the drawdown kill switch."""

from operators.risk.engine import RiskEngine
from operators.risk.limits import RateLimit, RiskLimits

__all__ = ["RateLimit", "RiskEngine", "RiskLimits"]
