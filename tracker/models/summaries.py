"""The half-year work summary (半年工作总结) each department hands in."""

from sqlalchemy import orm

from ..extensions import db
from .returns import EventMixin, ReviewedMixin, VersionMixin


class HalfYearSummary(ReviewedMixin, db.Model):
    """半年工作总结: one department's summary of a half-year, as text and/or a document (docx, pdf)."""

    __tablename__ = "half_year_summaries"
    __audited__ = True
    __table_args__ = (db.UniqueConstraint("period_id", "department_id"),)

    noun_zh = "半年工作总结"

    id = db.Column(db.Integer, primary_key=True)
    period_id = db.Column(db.Integer, db.ForeignKey("reporting_periods.id", ondelete="CASCADE"), nullable=False)
    department_id = db.Column(
        db.Integer, db.ForeignKey("departments.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    text = db.Column(db.Text, nullable=False, default="")
    #: The department head who approved the summary (审核人), as on the quarterly form.
    approved_by = db.Column(db.String(50), nullable=False, default="", server_default="")
    #: The uploaded document's name on the uploader's computer; None when there is none.
    document_name = db.Column(db.String(255))
    #: The random name the document is stored under, outside the web root.
    document_stored_name = db.Column(db.String(64), unique=True)
    document_type = db.Column(db.String(100))
    document_size = db.Column(db.Integer)
    document_sha256 = db.Column(db.String(64))

    period = orm.relationship("ReportingPeriod")
    department = orm.relationship("Department")
    versions = orm.relationship(
        "SummaryVersion", back_populates="summary", cascade="all, delete-orphan", order_by="SummaryVersion.number"
    )
    events = orm.relationship(
        "SummaryEvent", back_populates="summary", cascade="all, delete-orphan", order_by="SummaryEvent.id"
    )


class SummaryVersion(VersionMixin, db.Model):
    """A half-year summary as submitted."""

    __tablename__ = "summary_versions"
    __table_args__ = (db.UniqueConstraint("summary_id", "number"),)

    id = db.Column(db.Integer, primary_key=True)
    summary_id = db.Column(db.Integer, db.ForeignKey("half_year_summaries.id", ondelete="CASCADE"), nullable=False)

    summary = orm.relationship("HalfYearSummary", back_populates="versions")


class SummaryEvent(EventMixin, db.Model):
    """A step in a half-year summary's workflow."""

    __tablename__ = "summary_events"

    id = db.Column(db.Integer, primary_key=True)
    summary_id = db.Column(db.Integer, db.ForeignKey("half_year_summaries.id", ondelete="CASCADE"), nullable=False)

    summary = orm.relationship("HalfYearSummary", back_populates="events")
