"""Column helpers shared by the models."""

from datetime import UTC, datetime


def utcnow():
    """Return the current time as an aware UTC datetime (timestamps are stored in UTC)."""
    return datetime.now(UTC)
