"""Slippage models: the price a liquidity-taking fill gets, worse than the reference price.

``price(side, reference, quantity, volume)`` takes ``side`` +1 for a buy and -1 for a sell, the
reference price (a bar's open, a triggered stop, a trade's price), the fill quantity and the volume
it trades against (a bar's volume or a trade's size). Resting limit orders that fill as makers get
no slippage.

Examples
--------
>>> FixedBpsSlippage(bps=10.0).price(1, 100.0, 10.0, 1_000.0)
100.1
>>> FixedTicksSlippage(ticks=2, tick_size=0.01).price(-1, 100.0, 10.0, 1_000.0)
99.98
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoSlippage(_Model):
    """Fill at the reference price.

    Examples
    --------
    >>> NoSlippage().price(1, 100.0, 10.0, 1_000.0)
    100.0
    """

    kind: Literal["none"] = "none"

    def price(self, side: int, reference: float, quantity: float, volume: float) -> float:
        """Return ``reference`` unchanged."""
        return reference

    def prices(
        self, side: np.ndarray, reference: np.ndarray, quantity: np.ndarray, volume: np.ndarray
    ) -> np.ndarray:
        """`price` of many fills at once (``side`` as ±1.0)."""
        return reference


class FixedBpsSlippage(_Model):
    """Move the price ``bps`` basis points against the order.

    Examples
    --------
    >>> FixedBpsSlippage(bps=50.0).price(-1, 200.0, 1.0, 1.0)
    199.0
    """

    kind: Literal["bps"] = "bps"
    bps: float = Field(ge=0, description="Basis points against the order.")

    def price(self, side: int, reference: float, quantity: float, volume: float) -> float:
        """Return the reference moved ``bps`` against ``side``."""
        return reference * (1.0 + side * self.bps * 1e-4)

    def prices(
        self, side: np.ndarray, reference: np.ndarray, quantity: np.ndarray, volume: np.ndarray
    ) -> np.ndarray:
        """`price` of many fills at once (``side`` as ±1.0)."""
        return reference * (1.0 + side * self.bps * 1e-4)


class FixedTicksSlippage(_Model):
    """Move the price ``ticks`` ticks of ``tick_size`` against the order.

    Examples
    --------
    >>> FixedTicksSlippage(ticks=1, tick_size=0.25).price(1, 100.0, 1.0, 1.0)
    100.25
    """

    kind: Literal["ticks"] = "ticks"
    ticks: float = Field(ge=0, description="Ticks against the order.")
    tick_size: float = Field(gt=0, description="Price increment.")

    def price(self, side: int, reference: float, quantity: float, volume: float) -> float:
        """Return the reference moved ``ticks * tick_size`` against ``side``."""
        return reference + side * self.ticks * self.tick_size

    def prices(
        self, side: np.ndarray, reference: np.ndarray, quantity: np.ndarray, volume: np.ndarray
    ) -> np.ndarray:
        """`price` of many fills at once (``side`` as ±1.0)."""
        return reference + side * self.ticks * self.tick_size


class VolumeShareSlippage(_Model):
    """Impact grows with the square of the volume share: ``price_impact * (quantity/volume)**2``.

    The quadratic model of zipline's ``VolumeShareSlippage``. A fill against no volume gets the
    largest impact the model allows, ``price_impact``.

    Examples
    --------
    >>> round(VolumeShareSlippage(price_impact=0.1).price(1, 100.0, 250.0, 1_000.0), 6)
    100.625
    """

    kind: Literal["volume_share"] = "volume_share"
    price_impact: float = Field(
        default=0.1, ge=0, description="Impact (fraction of price) at 100% of volume."
    )

    def price(self, side: int, reference: float, quantity: float, volume: float) -> float:
        """Return the reference moved by the quadratic volume-share impact against ``side``."""
        share = min(quantity / volume, 1.0) if volume > 0.0 else 1.0
        return reference * (1.0 + side * self.price_impact * share * share)

    def prices(
        self, side: np.ndarray, reference: np.ndarray, quantity: np.ndarray, volume: np.ndarray
    ) -> np.ndarray:
        """`price` of many fills at once (``side`` as ±1.0)."""
        share = _volume_share(quantity, volume)
        return reference * (1.0 + side * self.price_impact * share * share)


class SquareRootImpact(_Model):
    """Impact grows with the square root of the volume share: ``coefficient * sqrt(quantity/volume)``.

    The "square-root law" of market impact (with the volatility folded into ``coefficient``).

    Examples
    --------
    >>> round(SquareRootImpact(coefficient=0.01).price(1, 100.0, 250.0, 1_000.0), 6)
    100.5
    """

    kind: Literal["square_root"] = "square_root"
    coefficient: float = Field(ge=0, description="Impact (fraction of price) at 100% of volume.")

    def price(self, side: int, reference: float, quantity: float, volume: float) -> float:
        """Return the reference moved by the square-root impact against ``side``."""
        share = min(quantity / volume, 1.0) if volume > 0.0 else 1.0
        return reference * (1.0 + side * self.coefficient * math.sqrt(share))

    def prices(
        self, side: np.ndarray, reference: np.ndarray, quantity: np.ndarray, volume: np.ndarray
    ) -> np.ndarray:
        """`price` of many fills at once (``side`` as ±1.0)."""
        return reference * (1.0 + side * self.coefficient * np.sqrt(_volume_share(quantity, volume)))


def _volume_share(quantity: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """``min(quantity / volume, 1)``, and 1 where there is no volume."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(volume > 0.0, np.minimum(quantity / volume, 1.0), 1.0)


SlippageModel = Annotated[
    NoSlippage | FixedBpsSlippage | FixedTicksSlippage | VolumeShareSlippage | SquareRootImpact,
    Field(discriminator="kind"),
]
"""Any slippage model; in config files pick one with ``kind``."""
