"""`AnalyticsError`: the analytics store was used wrongly (unknown table, rows of the wrong shape)."""

from __future__ import annotations

from schemas.errors import TapeError


class AnalyticsError(TapeError):
    """A store call failed: unknown table, rows missing columns or of the wrong type, bad location."""
