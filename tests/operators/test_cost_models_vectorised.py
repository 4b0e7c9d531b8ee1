"""The array forms of the slippage and commission models equal their scalar forms bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from operators.execution.commission import BpsCommission, FixedCommission, NoCommission, PerShareCommission
from operators.execution.slippage import (
    FixedBpsSlippage,
    FixedTicksSlippage,
    NoSlippage,
    SquareRootImpact,
    VolumeShareSlippage,
)

SLIPPAGE = [
    NoSlippage(),
    FixedBpsSlippage(bps=3.7),
    FixedTicksSlippage(ticks=2, tick_size=0.01),
    VolumeShareSlippage(price_impact=0.13),
    SquareRootImpact(coefficient=0.021),
]
COMMISSION = [
    NoCommission(),
    PerShareCommission(rate=0.005, minimum=1.0),
    PerShareCommission(rate=0.005, minimum=1.0, maximum_bps=2.0),
    BpsCommission(bps=1.5, minimum=0.5),
    FixedCommission(amount=2.5),
]
positive = st.floats(min_value=1e-6, max_value=1e7, allow_nan=False)
fills = st.lists(
    st.tuples(st.sampled_from([1, -1]), positive, positive, st.one_of(st.just(0.0), positive)),
    min_size=1,
    max_size=40,
)


@given(fills)
def test_slippage_prices_equal_price(rows):
    side, reference, quantity, volume = (np.array(c, dtype=np.float64) for c in zip(*rows, strict=True))
    for model in SLIPPAGE:
        expected = [model.price(int(s), r, q, v) for s, r, q, v in rows]
        np.testing.assert_array_equal(model.prices(side, reference, quantity, volume), expected)


@given(fills)
def test_commission_totals_equal_total(rows):
    quantity = np.array([q for _, _, q, _ in rows])
    notional = np.array([q * r for _, r, q, _ in rows])
    quantity[::3] = 0.0
    for model in COMMISSION:
        expected = [model.total(q, n) for q, n in zip(quantity.tolist(), notional.tolist(), strict=True)]
        np.testing.assert_array_equal(model.totals(quantity, notional), expected)
