"""Record every change to an audited table in the audit trail.

A model opts in with ``__audited__ = True``. The listener runs after each flush, so every change
made through the ORM — by a view, the API, a CLI command or a job — is recorded in the same
transaction as the change itself, and a rolled-back change leaves no entry behind.
"""

import datetime
import decimal
import enum

from flask import g, has_app_context, has_request_context
from flask_login import current_user
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .models.audit import AuditEntry

HIDDEN = "***"


def set_actor(actor, user_id=None):
    """Name who is acting outside a request (a CLI command or a job) for the audit trail."""
    g.audit_actor = actor
    g.audit_user_id = user_id


def current_actor():
    """Return ``(actor, user_id)`` for the change being made now."""
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


@event.listens_for(Session, "after_flush")
def _record_changes(session, flush_context):
    """Write one audit entry per inserted, updated or deleted audited row."""
    actor, user_id = current_actor()
    rows = []

    def add(obj, action, before, after):
        rows.append(
            {
                "actor": actor,
                "user_id": user_id,
                "action": action,
                "entity": obj.__tablename__,
                "entity_id": inspect(obj).identity[0] if inspect(obj).identity else None,
                "before": before,
                "after": after,
            }
        )

    for obj in session.new:
        if getattr(obj, "__audited__", False):
            add(obj, "insert", {}, _snapshot(obj))
    for obj in session.dirty:
        if getattr(obj, "__audited__", False) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                add(obj, "update", before, after)
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            add(obj, "delete", _snapshot(obj), {})
    if rows:
        now = datetime.datetime.now(datetime.UTC)
        for row in rows:
            row["at"] = now
        session.connection().execute(AuditEntry.__table__.insert(), rows)
