"""Deterministic event ids: a hash of an event's causes, so a replay produces the same ids.

Examples
--------
>>> event_id("Order", "intent-1") == event_id("Order", "intent-1")
True
>>> len(event_id("Fill", "order-1", 0))
32
"""

from __future__ import annotations

from hashlib import blake2b

_SEPARATOR = "\x1f"


def event_id(*causes: object) -> str:
    """Return the 32-hex-digit blake2b hash of ``causes`` (joined by their ``str`` forms)."""
    return blake2b(_SEPARATOR.join(map(str, causes)).encode(), digest_size=16).hexdigest()
