"""Reductions over a long array, block by block: sums and products equal to NumPy's over the whole
array, and the extremes of each block.

A full-length temporary such as ``returns - mean`` or ``1 + returns`` costs a pass to write it, a pass
to read it back and, in a fresh process, a page fault every 4 KiB. Computed block by block into one
small buffer that stays in cache, the same values meet in the same order, so the result is NumPy's to
the last bit:

- ``np.add.reduce`` sums pairwise: it splits an array at half its length rounded down to a multiple of
  8, sums each part the same way, and adds the two sums (down to 128 values, which it adds in 8
  interleaved accumulators). A part's sum is therefore ``np.add.reduce`` of that part alone, and
  `pairwise_sums` follows the same splits down to parts of at most `BLOCK` values.
- ``np.multiply.reduce`` multiplies in order; ``initial=`` carries a product on from one block to
  the next (see `blocks`).

Examples
--------
>>> import numpy as np
>>> values = np.random.default_rng(0).normal(size=100_000)
>>> squares = pairwise_sums(len(values), lambda start, stop: (np.add.reduce(values[start:stop] ** 2),))
>>> squares == (np.sum(values**2),)
True
>>> product = 1.0
>>> for block in blocks(len(values)):
...     product = np.multiply.reduce(1.0 + values[block] / 1e4, initial=product)
>>> bool(product == np.prod(1.0 + values / 1e4))
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

# Points per block of `block_extremes`, the blocks `operators.performance.drawdown` follows.
EXTREMES_BLOCK = 1024

# Values per block: 512 KiB of float64, within the core's cache with the arrays each block reads. At
# least 128, so that `pairwise_sums` splits only where NumPy does (it sums up to 128 values unsplit).
BLOCK = 65_536


def pairwise_sums(
    length: int, block_sums: Callable[[int, int], tuple[float, ...]], start: int = 0
) -> tuple[float, ...]:
    """Return ``np.add.reduce`` of virtual arrays of ``length`` values each, given ``block_sums(i, j)``,
    the ``np.add.reduce`` of each array's values ``i`` to ``j`` (positions from ``start``, at most
    `BLOCK` of them).

    ``block_sums`` is called on consecutive blocks from left to right, so it may also carry a product
    or fill an array as it goes.
    """
    if length <= BLOCK:
        return tuple(float(total) for total in block_sums(start, start + length))
    half = length // 2
    half -= half % 8
    left = pairwise_sums(half, block_sums, start)
    right = pairwise_sums(length - half, block_sums, start + half)
    return tuple(a + b for a, b in zip(left, right, strict=True))


def blocks(length: int) -> Iterator[slice]:
    """Yield consecutive slices of at most `BLOCK` positions that cover ``range(length)``, in order."""
    for start in range(0, length, BLOCK):
        yield slice(start, min(start + BLOCK, length))


def scratch(length: int, dtype: type = np.float64) -> np.ndarray:
    """Return an uninitialised buffer for one block of an array of ``length`` values."""
    return np.empty(min(max(length, 0), BLOCK), dtype=dtype)


@dataclass(frozen=True)
class BlockExtremes:
    """The highest and the lowest of each ``size`` consecutive values (NaN where one is NaN).

    Examples
    --------
    >>> block_extremes(np.array([3.0, 1.0, 4.0, 1.0, 5.0]), size=2)
    BlockExtremes(size=2, highs=array([3., 4., 5.]), lows=array([1., 1., 5.]))
    """

    size: int
    highs: np.ndarray
    lows: np.ndarray


def block_extremes(values: np.ndarray, size: int = EXTREMES_BLOCK) -> BlockExtremes:
    """Return the `BlockExtremes` of non-empty ``values`` in blocks of ``size``."""
    starts = np.arange(0, len(values), size)
    return BlockExtremes(size, np.maximum.reduceat(values, starts), np.minimum.reduceat(values, starts))
