"""A file the office uploaded to load as a plan, kept between the preview and the confirmation."""

from sqlalchemy import orm

from ..extensions import db
from .base import utcnow


class PlanImport(db.Model):
    """An uploaded arrangement: what was read, and what the office corrected before loading it."""

    __tablename__ = "plan_imports"
    __audited__ = True

    id = db.Column(db.Integer, primary_key=True)
    filename = db.Column(db.String(255), nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    #: The parsed plan (:meth:`ParsedPlan.to_dict`), with the office's corrections applied.
    parsed = db.Column(db.JSON, nullable=False)
    #: What the office changed in the preview: ``{"tasks": {code: {...}}, "matches": {name: id}}``.
    corrections = db.Column(db.JSON, nullable=False, default=dict)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    #: Set when the office confirmed it: the plan it was loaded into.
    plan_id = db.Column(db.Integer, db.ForeignKey("plans.id", ondelete="SET NULL"), index=True)
    loaded_at = db.Column(db.DateTime(timezone=True))

    created_by = orm.relationship("User")
    plan = orm.relationship("Plan")
