"""Bar intervals: ``"1m"`` ↔ nanoseconds, and the bar topic ``md.bar.<interval>``.

Examples
--------
>>> parse_interval("5m")
300000000000
>>> format_interval(86_400_000_000_000)
'1d'
>>> bar_topic(60_000_000_000)
'md.bar.1m'
"""

from __future__ import annotations

import re

from schemas.errors import ConfigError

UNIT_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
}
_PATTERN = re.compile(r"^\s*(\d+)\s*(ns|us|ms|s|m|h|d)\s*$")


def parse_interval(text: str, field: str = "interval") -> int:
    """The length of an interval such as ``"30s"``, ``"1m"``, ``"4h"`` or ``"1d"`` in nanoseconds."""
    match = _PATTERN.match(text)
    if match is None or int(match.group(1)) == 0:
        raise ConfigError(
            f"{field} must be a positive count and a unit (ns, us, ms, s, m, h, d) like '1m', was {text!r}"
        )
    return int(match.group(1)) * UNIT_NS[match.group(2)]


def format_interval(interval_ns: int) -> str:
    """The shortest spelling of an interval in the largest unit that divides it (``60e9`` → ``"1m"``)."""
    if interval_ns <= 0:
        raise ConfigError(f"interval_ns must be positive, was {interval_ns}")
    for unit, size in sorted(UNIT_NS.items(), key=lambda item: -item[1]):
        if interval_ns % size == 0:
            return f"{interval_ns // size}{unit}"
    raise AssertionError("unreachable: 1 ns divides every interval")


def bar_topic(interval_ns: int) -> str:
    """The topic that carries bars of this interval, e.g. ``md.bar.1m``."""
    return f"md.bar.{format_interval(interval_ns)}"
