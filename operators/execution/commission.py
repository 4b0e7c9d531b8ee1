"""Commission models: what an order costs, charged fill by fill.

Each model gives the *cumulative* commission of an order that has filled ``quantity`` for
``notional`` in total; the exchange charges each fill the difference from the previous total, so a
per-order minimum is charged once however many partial fills an order has.

Examples
--------
>>> model = PerShareCommission(rate=0.005, minimum=1.0)
>>> model.total(100.0, 10_000.0)   # 100 shares: the minimum applies
1.0
>>> model.total(1_000.0, 100_000.0)
5.0
>>> BpsCommission(bps=2.0).total(10.0, 50_000.0)
10.0
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoCommission(_Model):
    """Trade for free.

    Examples
    --------
    >>> NoCommission().total(100.0, 1_000.0)
    0.0
    """

    kind: Literal["none"] = "none"

    def total(self, quantity: float, notional: float) -> float:
        """Return the cumulative commission of an order (always 0)."""
        return 0.0

    def totals(self, quantity: np.ndarray, notional: np.ndarray) -> np.ndarray:
        """`total` of many orders at once."""
        return np.zeros(len(quantity))


class PerShareCommission(_Model):
    """``rate`` per unit filled, at least ``minimum`` per order (and at most ``maximum_bps`` of notional).

    Examples
    --------
    >>> PerShareCommission(rate=0.01, minimum=0.0).total(250.0, 2_500.0)
    2.5
    >>> PerShareCommission(rate=0.01, minimum=1.0, maximum_bps=1.0).total(1_000.0, 5_000.0)
    0.5
    """

    kind: Literal["per_share"] = "per_share"
    rate: float = Field(ge=0, description="Commission per unit.")
    minimum: float = Field(default=0.0, ge=0, description="Minimum commission per order.")
    maximum_bps: float | None = Field(default=None, gt=0, description="Cap, in bps of the order's notional.")

    def total(self, quantity: float, notional: float) -> float:
        """Return the cumulative commission of an order that filled ``quantity`` for ``notional``."""
        if quantity <= 0.0:
            return 0.0
        fee = max(self.rate * quantity, self.minimum)
        if self.maximum_bps is not None:
            fee = min(fee, abs(notional) * self.maximum_bps * 1e-4)
        return fee

    def totals(self, quantity: np.ndarray, notional: np.ndarray) -> np.ndarray:
        """`total` of many orders at once."""
        fee = np.maximum(self.rate * quantity, self.minimum)
        if self.maximum_bps is not None:
            fee = np.minimum(fee, np.abs(notional) * self.maximum_bps * 1e-4)
        return np.where(quantity <= 0.0, 0.0, fee)


class BpsCommission(_Model):
    """``bps`` basis points of the filled notional, at least ``minimum`` per order.

    Examples
    --------
    >>> BpsCommission(bps=10.0, minimum=5.0).total(1.0, 100.0)
    5.0
    """

    kind: Literal["bps"] = "bps"
    bps: float = Field(ge=0, description="Basis points of notional.")
    minimum: float = Field(default=0.0, ge=0, description="Minimum commission per order.")

    def total(self, quantity: float, notional: float) -> float:
        """Return the cumulative commission of an order that filled ``quantity`` for ``notional``."""
        if quantity <= 0.0:
            return 0.0
        return max(abs(notional) * self.bps * 1e-4, self.minimum)

    def totals(self, quantity: np.ndarray, notional: np.ndarray) -> np.ndarray:
        """`total` of many orders at once."""
        return np.where(quantity <= 0.0, 0.0, np.maximum(np.abs(notional) * self.bps * 1e-4, self.minimum))


class FixedCommission(_Model):
    """A flat ``amount`` per order, charged with its first fill.

    Examples
    --------
    >>> FixedCommission(amount=1.5).total(10.0, 1_000.0)
    1.5
    """

    kind: Literal["fixed"] = "fixed"
    amount: float = Field(ge=0, description="Commission per order.")

    def total(self, quantity: float, notional: float) -> float:
        """Return the cumulative commission of an order that filled ``quantity`` for ``notional``."""
        return self.amount if quantity > 0.0 else 0.0

    def totals(self, quantity: np.ndarray, notional: np.ndarray) -> np.ndarray:
        """`total` of many orders at once."""
        return np.where(quantity > 0.0, self.amount, 0.0)


CommissionModel = Annotated[
    NoCommission | PerShareCommission | BpsCommission | FixedCommission, Field(discriminator="kind")
]
"""Any commission model; in config files pick one with ``kind``."""
