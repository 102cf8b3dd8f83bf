"""The day a cost is counted in (UTC), without importing the store's tables (sqlmodel, ~0.4 s)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_day() -> str:
    """Return today's date in UTC as ``YYYY-MM-DD``."""
    return datetime.now(UTC).strftime("%Y-%m-%d")
