"""Reporting periods and the quarterly completion form (季度完成情况报送表)."""

import datetime
import enum

from sqlalchemy import orm

from ..extensions import db
from .base import enum_column_type, utcnow


class PeriodKind(enum.StrEnum):
    """A quarter (for the completion forms) or a half-year (for the work summaries)."""

    QUARTER = "quarter"
    HALF = "half"


QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
HALF_NAMES = {1: "上半年", 2: "下半年"}


class ReportingPeriod(db.Model):
    """报送期: a quarter or half-year of a plan, with the date its report is due."""

    __tablename__ = "reporting_periods"
    __audited__ = True
    __table_args__ = (db.UniqueConstraint("plan_id", "kind", "number"),)

    id = db.Column(db.Integer, primary_key=True)
    plan_id = db.Column(db.Integer, db.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(enum_column_type(PeriodKind), nullable=False)
    #: 1-4 for a quarter, 1-2 for a half.
    number = db.Column(db.Integer, nullable=False)
    starts_on = db.Column(db.Date, nullable=False)
    ends_on = db.Column(db.Date, nullable=False)
    #: When the report is due; defaults to 10 days (quarter) or 15 days (half) after the end.
    due_on = db.Column(db.Date, nullable=False)

    plan = orm.relationship("Plan", backref=orm.backref("periods", cascade="all, delete-orphan"))

    @property
    def year(self):
        """Return the period's calendar year."""
        return self.starts_on.year

    @property
    def name(self):
        """Return e.g. 第三季度 or 下半年 (the period within its year)."""
        return (QUARTER_NAMES if self.kind is PeriodKind.QUARTER else HALF_NAMES)[self.number]

    @property
    def label(self):
        """Return e.g. 2018年第三季度 or 2018年下半年."""
        return f"{self.year}年{self.name}"

    @property
    def short_label(self):
        """Return e.g. Q3 or H2."""
        return f"{'Q' if self.kind is PeriodKind.QUARTER else 'H'}{self.number}"


class ReturnState(enum.StrEnum):
    """Where a form is in its workflow."""

    DRAFT = "draft"  #: 填报中
    SUBMITTED = "submitted"  #: 已报送, waiting for review
    RETURNED = "returned"  #: 退回修改, with a reason and a new due date
    ACCEPTED = "accepted"  #: 已通过, locked

    @property
    def label(self):
        """Return the Chinese label."""
        return {"draft": "填报中", "submitted": "已报送", "returned": "退回修改", "accepted": "已通过"}[self.value]


class LineStatus(enum.StrEnum):
    """How far a task has come in the quarter."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    ONGOING = "ongoing"

    @property
    def label(self):
        """Return the Chinese label."""
        return {"not_started": "未启动", "in_progress": "推进中", "done": "已完成", "ongoing": "持续推进"}[self.value]


class CountKind(enum.StrEnum):
    """Government-affairs information submitted to the office (报送) or published (发布)."""

    SUBMITTED = "submitted"
    PUBLISHED = "published"

    @property
    def label(self):
        """Return the Chinese label."""
        return {"submitted": "报送", "published": "发布"}[self.value]


class Channel(enum.StrEnum):
    """Where information was submitted or published."""

    PORTAL = "portal"
    WEIBO = "weibo"
    WECHAT = "wechat"
    APP = "app"
    OTHER = "other"

    @property
    def label(self):
        """Return the Chinese label."""
        return {
            "portal": "政务服务平台/门户网站",
            "weibo": "政务微博",
            "wechat": "政务微信",
            "app": "移动客户端",
            "other": "其他",
        }[self.value]


class ReviewedMixin:
    """What a reviewed submission (a completion form, a half-year summary) keeps of its workflow.

    The department fills it in and submits it; the office accepts it (it is then locked) or
    returns it with a reason and a new due date. ``version`` is bumped by every save, and a save
    that read an older version is refused, so nobody's text is lost.
    """

    #: What the UI calls it, e.g. 报送表.
    noun_zh = "报送表"

    state = db.Column(enum_column_type(ReturnState), nullable=False, default=ReturnState.DRAFT)
    version = db.Column(db.Integer, nullable=False)
    filled_by_name = db.Column(db.String(50), nullable=False, default="")
    filled_by_phone = db.Column(db.String(30), nullable=False, default="")
    #: Due date of the correction asked for when it was last returned.
    correction_due_on = db.Column(db.Date)
    return_reason = db.Column(db.Text)
    first_submitted_at = db.Column(db.DateTime(timezone=True))
    #: Whether the first submission came after the period's due date.
    is_first_late = db.Column(db.Boolean)
    last_submitted_at = db.Column(db.DateTime(timezone=True))
    accepted_at = db.Column(db.DateTime(timezone=True))
    returned_count = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    @orm.declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805 - a declarative class attribute
        return {"version_id_col": cls.__table__.c.version}

    @property
    def due_on(self):
        """Return the date it is due now: the correction's while returned, else the period's."""
        if self.state is ReturnState.RETURNED and self.correction_due_on:
            return self.correction_due_on
        return self.period.due_on

    @property
    def is_editable(self):
        """Tell whether the department may still change it."""
        return self.state in (ReturnState.DRAFT, ReturnState.RETURNED)


class QuarterlyReturn(ReviewedMixin, db.Model):
    """季度完成情况报送表: one department's report on its tasks for one quarter."""

    __tablename__ = "quarterly_returns"
    __audited__ = True
    __table_args__ = (db.UniqueConstraint("period_id", "department_id"),)

    id = db.Column(db.Integer, primary_key=True)
    period_id = db.Column(db.Integer, db.ForeignKey("reporting_periods.id", ondelete="CASCADE"), nullable=False)
    department_id = db.Column(
        db.Integer, db.ForeignKey("departments.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    #: The department head who approved the form (审核人).
    approved_by = db.Column(db.String(50), nullable=False, default="")

    period = orm.relationship("ReportingPeriod")
    department = orm.relationship("Department")
    lines = orm.relationship(
        "ReturnLine", back_populates="report", cascade="all, delete-orphan", order_by="ReturnLine.position"
    )
    counts = orm.relationship("ReturnCount", back_populates="report", cascade="all, delete-orphan")
    versions = orm.relationship(
        "ReturnVersion", back_populates="report", cascade="all, delete-orphan", order_by="ReturnVersion.number"
    )
    events = orm.relationship(
        "ReturnEvent", back_populates="report", cascade="all, delete-orphan", order_by="ReturnEvent.id"
    )

    def count(self, kind, channel):
        """Return the number reported for ``kind`` and ``channel`` (0 when none)."""
        for row in self.counts:
            if row.kind == kind and row.channel == channel:
                return row.value
        return 0

    def total(self, kind):
        """Return the total over all channels of ``kind``."""
        return sum(row.value for row in self.counts if row.kind == kind)


class ReturnLine(db.Model):
    """One task's line in a completion form."""

    __tablename__ = "return_lines"
    __audited__ = True
    __table_args__ = (
        db.UniqueConstraint("return_id", "task_id"),
        # The dashboard's progress counts a quarter's lines by task and status from this index alone
        # (an index-only scan): 14,000 lines of a city's quarter in 3 ms instead of 26.
        db.Index("ix_return_lines_return_id_task_id_status", "return_id", "task_id", "status"),
    )

    id = db.Column(db.Integer, primary_key=True)
    return_id = db.Column(db.Integer, db.ForeignKey("quarterly_returns.id", ondelete="CASCADE"), nullable=False)
    #: RESTRICT: the database itself refuses to delete a task that form lines report on (see
    #: :func:`tracker.plans.operations.load_plan`, which withdraws such a task instead).
    task_id = db.Column(db.Integer, db.ForeignKey("tasks.id", ondelete="RESTRICT"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False)
    #: None until the department chooses one.
    status = db.Column(enum_column_type(LineStatus))
    #: 完成情况: what was done; required unless the task has not started.
    done = db.Column(db.Text, nullable=False, default="")
    problems = db.Column(db.Text, nullable=False, default="")
    next_steps = db.Column(db.Text, nullable=False, default="")
    #: The office's comment on this line when it last returned the form (shown beside the line).
    review_comment = db.Column(db.Text)

    report = orm.relationship("QuarterlyReturn", back_populates="lines")
    task = orm.relationship("Task")
    evidence = orm.relationship("Evidence", back_populates="line", cascade="all, delete-orphan", order_by="Evidence.id")

    @property
    def has_content(self):
        """Tell whether the department wrote anything in the line: a status, a text or an evidence file."""
        return bool(self.status or self.done or self.problems or self.next_steps or self.evidence)


class ReturnCount(db.Model):
    """A department's count of information submitted or published in a channel in the quarter."""

    __tablename__ = "return_counts"
    __audited__ = True
    __table_args__ = (
        db.UniqueConstraint("return_id", "kind", "channel"),
        db.CheckConstraint("value >= 0", name="value_not_negative"),
    )

    id = db.Column(db.Integer, primary_key=True)
    return_id = db.Column(db.Integer, db.ForeignKey("quarterly_returns.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(enum_column_type(CountKind), nullable=False)
    channel = db.Column(enum_column_type(Channel), nullable=False)
    value = db.Column(db.Integer, nullable=False, default=0)

    report = orm.relationship("QuarterlyReturn", back_populates="counts")


class Evidence(db.Model):
    """An evidence file attached to a form line, stored under a generated name."""

    __tablename__ = "evidence"
    __audited__ = True

    id = db.Column(db.Integer, primary_key=True)
    line_id = db.Column(db.Integer, db.ForeignKey("return_lines.id", ondelete="CASCADE"), nullable=False, index=True)
    #: The name the file had on the uploader's computer, shown and used for download.
    original_name = db.Column(db.String(255), nullable=False)
    #: The random name it is stored under, outside the web root.
    stored_name = db.Column(db.String(64), nullable=False, unique=True)
    content_type = db.Column(db.String(100), nullable=False)
    size = db.Column(db.Integer, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    uploaded_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    line = orm.relationship("ReturnLine", back_populates="evidence")


class VersionMixin:
    """What a submission said when it was made; one per submission."""

    number = db.Column(db.Integer, nullable=False)
    #: True for a correction after it was returned.
    is_correction = db.Column(db.Boolean, nullable=False)
    submitted_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    @orm.declared_attr
    def submitted_by_id(cls):  # noqa: N805 - a declarative class attribute
        return db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))

    #: The due date the submission was measured against.
    due_on = db.Column(db.Date, nullable=False)
    is_late = db.Column(db.Boolean, nullable=False)
    #: The content as plain values (see ``content_of``).
    content = db.Column(db.JSON, nullable=False)

    @orm.declared_attr
    def submitted_by(cls):  # noqa: N805 - a declarative class attribute
        return orm.relationship("User")


EVENT_LABELS = {
    "submit": "报送",
    "resubmit": "修改后重新报送",
    "accept": "审核通过",
    "return": "退回修改",
    "reopen": "重新打开",
}


class EventMixin:
    """A step in a workflow: submitted, returned (with reason), accepted, reopened."""

    #: ``submit``, ``resubmit``, ``accept``, ``return`` or ``reopen``.
    action = db.Column(db.String(20), nullable=False)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    @orm.declared_attr
    def actor_id(cls):  # noqa: N805 - a declarative class attribute
        return db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))

    reason = db.Column(db.Text)
    due_on = db.Column(db.Date)

    @orm.declared_attr
    def actor(cls):  # noqa: N805 - a declarative class attribute
        return orm.relationship("User")

    @property
    def label(self):
        """Return the Chinese label of the action."""
        return EVENT_LABELS[self.action]


class ReturnVersion(VersionMixin, db.Model):
    """A completion form as submitted."""

    __tablename__ = "return_versions"
    __table_args__ = (db.UniqueConstraint("return_id", "number"),)

    id = db.Column(db.Integer, primary_key=True)
    return_id = db.Column(db.Integer, db.ForeignKey("quarterly_returns.id", ondelete="CASCADE"), nullable=False)

    report = orm.relationship("QuarterlyReturn", back_populates="versions")


class ReturnEvent(EventMixin, db.Model):
    """A step in a completion form's workflow."""

    __tablename__ = "return_events"

    id = db.Column(db.Integer, primary_key=True)
    return_id = db.Column(db.Integer, db.ForeignKey("quarterly_returns.id", ondelete="CASCADE"), nullable=False)

    report = orm.relationship("QuarterlyReturn", back_populates="events")


def default_due(period_end, kind):
    """Return the default due date: 10 days after a quarter ends, 15 after a half."""
    return period_end + datetime.timedelta(days=10 if kind is PeriodKind.QUARTER else 15)
