"""Scheduled jobs: their runs, the scheduler's lease, the archive of spreadsheets they produce; and
the settings the office changes in the browser."""

from sqlalchemy import orm

from ..extensions import db
from .base import utcnow


class JobRun(db.Model):
    """One run of a scheduled job (by the scheduler, a catch-up after downtime, or "run now")."""

    __tablename__ = "job_runs"
    __table_args__ = (db.Index("ix_job_runs_job_id_started_at", "job_id", "started_at"),)

    id = db.Column(db.Integer, primary_key=True)
    #: The job's id in :data:`tracker.jobs.JOBS`.
    job_id = db.Column(db.String(50), nullable=False)
    #: ``schedule``, ``catch_up``, ``manual`` or ``cli``.
    trigger = db.Column(db.String(20), nullable=False)
    started_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    finished_at = db.Column(db.DateTime(timezone=True))
    #: ``running``, ``ok`` or ``error``.
    status = db.Column(db.String(20), nullable=False, default="running")
    summary = db.Column(db.Text, nullable=False, default="")
    #: host:pid of the process that ran it.
    runner = db.Column(db.String(200), nullable=False, default="")
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))

    user = orm.relationship("User")

    @property
    def duration(self):
        """Return the run's length in seconds, or None while it runs."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class SchedulerState(db.Model):
    """The scheduler process that holds the lock, and when it last showed it was alive (one row)."""

    __tablename__ = "scheduler_state"

    id = db.Column(db.Integer, primary_key=True)
    #: host:pid of the process running the jobs.
    holder = db.Column(db.String(200), nullable=False)
    started_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    heartbeat_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)


class ArchiveFile(db.Model):
    """A spreadsheet produced after a period's due date, kept for the office and the leaders."""

    __tablename__ = "archive_files"
    __table_args__ = (db.UniqueConstraint("period_id", "kind"),)

    id = db.Column(db.Integer, primary_key=True)
    plan_id = db.Column(db.Integer, db.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True)
    period_id = db.Column(db.Integer, db.ForeignKey("reporting_periods.id", ondelete="CASCADE"), nullable=False)
    #: ``breakdown``, ``quarter_status`` or ``half_status``.
    kind = db.Column(db.String(30), nullable=False)
    #: The name it downloads as, e.g. 2018年第三季度完成情况汇总表.xlsx.
    filename = db.Column(db.String(200), nullable=False)
    stored_name = db.Column(db.String(64), nullable=False, unique=True)
    size = db.Column(db.Integer, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    job_run_id = db.Column(db.Integer, db.ForeignKey("job_runs.id", ondelete="SET NULL"))

    plan = orm.relationship("Plan")
    period = orm.relationship("ReportingPeriod")


class Setting(db.Model):
    """A setting the office changes in the browser (e.g. which kinds of file may be uploaded)."""

    __tablename__ = "settings"
    __audited__ = True

    key = db.Column(db.String(50), primary_key=True)
    value = db.Column(db.JSON, nullable=False)
