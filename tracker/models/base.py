"""Column helpers shared by the models."""

from ..extensions import db
from ..timeutil import now_utc


def utcnow():
    """Return the current time as an aware UTC datetime (timestamps are stored in UTC; see :mod:`tracker.timeutil`)."""
    return now_utc()


def enum_column_type(enum_class, length=20):
    """Return a column type storing ``enum_class`` by its values in a plain string column.

    A string, not a native database enum: adding a member then needs no ALTER TYPE.
    """
    return db.Enum(enum_class, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


#: SQLSTATEs of errors that only say another transaction got in the way: deadlock, serialization.
LOCK_CONFLICTS = frozenset({"40P01", "40001"})


def is_lock_conflict(exc):
    """Tell whether a database error says another writer got in the way (a retry would succeed)."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in LOCK_CONFLICTS:
        return True
    return "database is locked" in str(orig)  # SQLite's busy timeout ran out
