"""Record every change to an audited table in the audit trail.

A model opts in with ``__audited__ = True``. Mapper events fire for every row the ORM inserts,
updates or deletes (cascaded deletes included), so every change made through the ORM — by a
view, the API, a CLI command or a job — is recorded on the same connection and in the same
transaction as the change itself, and a rolled-back change leaves no entry behind.
"""

import datetime
import decimal
import enum
from contextlib import contextmanager

from flask import g, has_app_context, has_request_context
from flask_login import current_user
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, object_session

from .extensions import db
from .models.audit import AuditEntry
from .timeutil import now_utc

HIDDEN = "***"


def set_actor(actor, user_id=None):
    """Name who is acting outside a request (a CLI command or a job) for the audit trail."""
    g.audit_actor = actor
    g.audit_user_id = user_id


@contextmanager
def acting_as_system():
    """Record the changes made in the block as the system's, even inside someone's request.

    For housekeeping a page does on its way (seeding the default chase ladder the first time the
    jobs page opens), which is nobody's act.
    """
    previous = g.get("audit_override")
    g.audit_override = ("system", None)
    try:
        yield
    finally:
        g.audit_override = previous


def current_actor():
    """Return ``(actor, user_id)`` for the change being made now."""
    if has_app_context() and g.get("audit_override"):
        return g.audit_override
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.username, current_user.id
    if has_app_context() and "audit_actor" in g:
        return g.audit_actor, g.get("audit_user_id")
    return "system", None


def _plain(value):
    """Return ``value`` in a form JSON can hold."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _columns(obj):
    mapper = inspect(obj).mapper
    return [attr.key for attr in mapper.column_attrs]


def _snapshot(obj):
    hidden = getattr(obj, "__audit_exclude__", ())
    return {key: HIDDEN if key in hidden else _plain(getattr(obj, key)) for key in _columns(obj)}


def _changes(obj):
    state = inspect(obj)
    hidden = getattr(obj, "__audit_exclude__", ())
    before, after = {}, {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        before[key] = HIDDEN if key in hidden else _plain(old)
        after[key] = HIDDEN if key in hidden else _plain(new)
    return before, after


def _write(connection, target, action, before, after):
    """Note the entry for the flush under way; :func:`_insert_entries` writes them at its end, in one go."""
    if not getattr(target, "__audited__", False):
        return
    actor, user_id = current_actor()
    mapper = inspect(target).mapper
    session = object_session(target)
    pending = session.info.setdefault(PENDING, []) if session is not None else None
    entry = {
        "at": now_utc(),
        "actor": actor,
        "user_id": user_id,
        "action": action,
        "entity": target.__tablename__,
        # A row keyed by a name (a setting) has no number; the change itself says which.
        "entity_id": key if isinstance((key := mapper.primary_key_from_instance(target)[0]), int) else None,
        "before": before,
        "after": after,
    }
    if pending is None:  # a row written outside a session: its entry goes at once
        connection.execute(AuditEntry.__table__.insert(), entry)
    else:
        pending.append(entry)


#: Where a session keeps the entries of the flush under way.
PENDING = "audit_entries"


@event.listens_for(Session, "after_flush")
def _insert_entries(session, flush_context):
    """Write the flush's entries with one statement (not one per row), in the flush's transaction."""
    entries = session.info.pop(PENDING, None)
    if entries:
        session.connection().execute(AuditEntry.__table__.insert(), entries)


@event.listens_for(Session, "after_rollback")
def _forget_entries(session):
    """A flush that failed leaves no entries behind for the next one."""
    session.info.pop(PENDING, None)


@event.listens_for(db.Model, "after_insert", propagate=True)
def _inserted(mapper, connection, target):
    """Record an inserted row with all its values."""
    _write(connection, target, "insert", {}, _snapshot(target))


@event.listens_for(db.Model, "after_update", propagate=True)
def _updated(mapper, connection, target):
    """Record the changed columns of an updated row, before and after."""
    before, after = _changes(target)
    if after:
        _write(connection, target, "update", before, after)


@event.listens_for(db.Model, "after_delete", propagate=True)
def _deleted(mapper, connection, target):
    """Record a deleted row, including rows removed by a delete-orphan cascade."""
    _write(connection, target, "delete", _snapshot(target), {})
