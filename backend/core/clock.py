"""Time as the database stores it."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, at the millisecond precision MongoDB stores, so an answer matches a later read."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
