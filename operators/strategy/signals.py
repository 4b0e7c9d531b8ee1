"""Vectorised signal helpers shared by strategies."""

from __future__ import annotations

import numpy as np


def latch(on: np.ndarray, off: np.ndarray, initial: bool) -> np.ndarray:
    """A state that switches on where ``on`` holds, off where ``off`` holds, and otherwise keeps.

    ``on`` wins where both hold. The state before the first element is ``initial``.

    Examples
    --------
    >>> latch(np.array([0, 1, 0, 0, 0], bool), np.array([0, 0, 0, 1, 0], bool), False).tolist()
    [False, True, True, False, False]
    """
    events = np.where(on, 1.0, np.where(off, 0.0, np.nan))
    valid = ~np.isnan(events)
    index = np.where(valid, np.arange(len(events)), -1)
    np.maximum.accumulate(index, out=index)
    return np.where(index >= 0, events[np.maximum(index, 0)], float(initial)) > 0.5


def hysteresis_target(
    enter_long: np.ndarray,
    exit_long: np.ndarray,
    enter_short: np.ndarray | None,
    exit_short: np.ndarray | None,
    quantity: float,
    previous: float,
) -> np.ndarray:
    """Target per bar of an enter/exit rule pair for each side, carrying the previous target."""
    long = latch(enter_long, exit_long, previous > 0)
    target = np.where(long, quantity, 0.0)
    if enter_short is not None and exit_short is not None:
        short = latch(enter_short, exit_short, previous < 0)
        target = np.where(short & ~long, -quantity, target)
    return target
