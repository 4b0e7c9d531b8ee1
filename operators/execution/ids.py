"""Deterministic event ids: a hash of an event's causes, so a replay produces the same ids.

An id is 128 bits written as 32 hex digits. Root events hash their causes with blake2b
(`event_id`). Events caused by one parent event — the intent of a target, the order of an intent,
the reports and fills of an order — derive their id from the parent's id, the child's kind and a
sequence number with a 128-bit mix of 64-bit lanes (`child_id`). The mix has an array form
(`child_lanes` on numpy ``uint64`` arrays) that gives the very same ids, so the columnar backtest
path can derive ids for a whole batch at once while the per-event path derives them one by one.
Ids only need to be unique and reproducible, not secret: the mix is splitmix64's finaliser.

Examples
--------
>>> event_id("Order", "intent-1") == event_id("Order", "intent-1")
True
>>> len(event_id("Fill", "order-1", 0))
32
>>> parent = event_id("TargetPosition", "s", "AAPL", 60)
>>> child_id(parent, "OrderIntent") != child_id(parent, "OrderIntent", 1)
True
>>> hi, lo = lanes(parent)
>>> format_ids(*child_lanes(np.array([hi], np.uint64), np.array([lo], np.uint64), "OrderIntent", 0)).tolist()[0] \\
...     == child_id(parent, "OrderIntent")
True
"""

from __future__ import annotations

from functools import lru_cache
from hashlib import blake2b

import numpy as np

from schemas.event_table import id_lanes, id_text

_SEPARATOR = "\x1f"
_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def event_id(*causes: object) -> str:
    """Return the 32-hex-digit blake2b hash of ``causes`` (joined by their ``str`` forms)."""
    return blake2b(_SEPARATOR.join(map(str, causes)).encode(), digest_size=16).hexdigest()


@lru_cache(maxsize=4096)
def lanes(identifier: str) -> tuple[int, int]:
    """The two 64-bit lanes of an id; any other string is first hashed to 128 bits with blake2b."""
    if len(identifier) == 32:
        try:
            return int(identifier[:16], 16), int(identifier[16:], 16)
        except ValueError:
            pass
    digest = blake2b(identifier.encode(), digest_size=16).digest()
    return int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:], "big")


@lru_cache(maxsize=256)
def _salt(kind: str) -> tuple[int, int]:
    return lanes(event_id("kind", kind))


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _mix_array(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> 30)) * _M1
    z = (z ^ (z >> 27)) * _M2
    return z ^ (z >> 31)


def child_id(parent: str, kind: str, sequence: int = 0) -> str:
    """The id of the ``sequence``-th event of ``kind`` caused by the event with id ``parent``."""
    hi, lo = lanes(parent)
    salt_hi, salt_lo = _salt(kind)
    x = _mix(hi ^ salt_hi ^ (((sequence & _MASK) * _GOLDEN) & _MASK))
    y = _mix(lo ^ salt_lo ^ x)
    return f"{_mix(x ^ (((y << 32) | (y >> 32)) & _MASK)):016x}{y:016x}"


def child_lanes(
    hi: np.ndarray, lo: np.ndarray, kind: str, sequence: int | np.ndarray = 0
) -> tuple[np.ndarray, np.ndarray]:
    """`child_id` on arrays: the lanes of the children of parents with lanes ``hi``/``lo`` (``uint64``).

    ``sequence`` is an int or an ``int64``/``uint64`` array (negative values wrap like `child_id`'s).
    """
    salt_hi, salt_lo = _salt(kind)
    if isinstance(sequence, np.ndarray):  # uint64 arrays wrap on overflow, as the & _MASK of child_id
        spread = sequence.astype(np.int64, copy=False).view(np.uint64) * np.uint64(_GOLDEN)
    else:
        spread = np.uint64(((sequence & _MASK) * _GOLDEN) & _MASK)
    x = _mix_array(hi ^ np.uint64(salt_hi) ^ spread)
    y = _mix_array(lo ^ np.uint64(salt_lo) ^ x)
    return _mix_array(x ^ ((y << 32) | (y >> 32))), y


def format_ids(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Lanes as an object array of 32-hex-digit id strings (the `child_id` form)."""
    return id_text(id_lanes(hi, lo)).astype("U32").astype(object)


@lru_cache(maxsize=4096)
def _target_root(strategy_id: str, instrument: str) -> str:
    return event_id("TargetPosition", strategy_id, instrument)


def target_id(strategy_id: str, instrument: str, ts_event: int) -> str:
    """The id of a strategy's target for an instrument at an event time.

    >>> target_id("s", "X", 60) == format_ids(*target_lanes("s", "X", np.array([60])))[0]
    True
    """
    return child_id(_target_root(strategy_id, instrument), "TargetPosition", ts_event)


def target_lanes(strategy_id: str, instrument: str, ts_event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`target_id` on an array of event times: the lanes of those targets' ids."""
    hi, lo = lanes(_target_root(strategy_id, instrument))
    return child_lanes(
        np.full(len(ts_event), hi, np.uint64), np.full(len(ts_event), lo, np.uint64), "TargetPosition", ts_event
    )
