"""The audit trail (操作日志): who changed what, when, before and after."""

from ..extensions import db
from .base import utcnow


class AuditEntry(db.Model):
    """One inserted, updated or deleted row of an audited table."""

    __tablename__ = "audit_entries"
    __table_args__ = (db.Index("ix_audit_entries_entity", "entity", "entity_id"),)

    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    #: ``username`` of a signed-in user, ``cli:<login>`` for a command, ``system`` for jobs.
    actor = db.Column(db.String(100), nullable=False)
    user_id = db.Column(db.Integer)
    #: ``insert``, ``update`` or ``delete``.
    action = db.Column(db.String(10), nullable=False)
    #: The table name of the changed row.
    entity = db.Column(db.String(50), nullable=False)
    entity_id = db.Column(db.Integer)
    #: Column values before the change (changed columns only for an update; empty for an insert).
    before = db.Column(db.JSON, nullable=False, default=dict)
    #: Column values after the change (changed columns only for an update; empty for a delete).
    after = db.Column(db.JSON, nullable=False, default=dict)
