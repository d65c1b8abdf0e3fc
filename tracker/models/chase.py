"""Chasing what is overdue (催办): the ladder of steps, the ledger (催办台账), notices and e-mail."""

import enum

from sqlalchemy import orm

from ..extensions import db
from .base import enum_column_type, utcnow


class ChaseItem(enum.StrEnum):
    """What is chased: a quarterly completion form or a half-year summary."""

    RETURN = "return"
    SUMMARY = "summary"
    APPLICATION = "application"

    @property
    def label(self):
        """Return the Chinese label."""
        return {"return": "季度完成情况报送表", "summary": "半年工作总结", "application": "依申请公开答复"}[self.value]


class ChaseStep(db.Model):
    """A rung of the chase ladder: what happens so many days before or after the due date."""

    __tablename__ = "chase_steps"
    __audited__ = True

    id = db.Column(db.Integer, primary_key=True)
    #: Days from the due date: -3 is three days before, 0 the day itself, 5 five days overdue.
    offset_days = db.Column(db.Integer, nullable=False, unique=True)
    name = db.Column(db.String(50), nullable=False)
    #: Notify the department's users (in-app, and e-mail to those with an address).
    notify_department = db.Column(db.Boolean, nullable=False, default=True)
    #: Also e-mail the department head's contact address.
    notify_head = db.Column(db.Boolean, nullable=False, default=False)
    #: Tell the office's users.
    notify_office = db.Column(db.Boolean, nullable=False, default=False)
    #: Put the department on the leaders' overdue list (逾期名单).
    notify_leaders = db.Column(db.Boolean, nullable=False, default=False)
    is_active = db.Column(db.Boolean, nullable=False, default=True)

    @property
    def when_zh(self):
        """Return e.g. 截止前3天, 截止当天 or 逾期5天."""
        if self.offset_days < 0:
            return f"截止前{-self.offset_days}天"
        if self.offset_days == 0:
            return "截止当天"
        return f"逾期{self.offset_days}天"


class ChaseResult(enum.StrEnum):
    """How a chase step ended."""

    SENT = "sent"  #: every notice and e-mail went out
    PENDING = "pending"  #: notices given, e-mail waiting to be sent
    FAILED = "failed"  #: some e-mail could not be sent yet; retried on the next run
    SKIPPED = "skipped"  #: fell due while the system was down, overtaken by a later step
    NO_RECIPIENTS = "no_recipients"  #: nobody to tell: the department has no users or addresses

    @property
    def label(self):
        """Return the Chinese label."""
        return {
            "sent": "已发送",
            "pending": "待发送",
            "failed": "发送失败（待重试）",
            "skipped": "已跳过",
            "no_recipients": "无接收人",
        }[self.value]


class ChaseEntry(db.Model):
    """催办台账: one step of the ladder taken (or skipped) for one department's item in one period.

    The unique constraint is what makes a step happen once: two runs racing both try to insert
    the row, and only one of them can.
    """

    __tablename__ = "chase_entries"
    __table_args__ = (
        db.UniqueConstraint("department_id", "period_id", "item", "round", "step_id"),
        # An application has no period: its own key makes each step happen once.
        db.UniqueConstraint("application_id", "round", "step_id"),
    )

    id = db.Column(db.Integer, primary_key=True)
    department_id = db.Column(db.Integer, db.ForeignKey("departments.id", ondelete="CASCADE"), nullable=False)
    #: The reporting period of a form or summary; None for an application.
    period_id = db.Column(db.Integer, db.ForeignKey("reporting_periods.id", ondelete="CASCADE"), index=True)
    #: The application chased, for an application's deadline.
    application_id = db.Column(db.Integer, db.ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    item = db.Column(enum_column_type(ChaseItem), nullable=False)
    #: 0 for the first due date; n for the correction asked for by the n-th return (for an
    #: application: its due date's ordinal, so a moved deadline starts the ladder again).
    round = db.Column(db.Integer, nullable=False, default=0)
    step_id = db.Column(db.Integer, db.ForeignKey("chase_steps.id", ondelete="RESTRICT"), nullable=False)
    #: The due date chased against.
    due_on = db.Column(db.Date, nullable=False)
    #: The day the chase ran as of.
    run_on = db.Column(db.Date, nullable=False)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    #: Who was told, how: a list of {"name", "address", "channel", "role"}.
    recipients = db.Column(db.JSON, nullable=False, default=list)
    result = db.Column(enum_column_type(ChaseResult), nullable=False)
    #: Why it was skipped, or the last e-mail error.
    detail = db.Column(db.Text, nullable=False, default="")
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    department = orm.relationship("Department")
    period = orm.relationship("ReportingPeriod")
    application = orm.relationship("Application")
    step = orm.relationship("ChaseStep")
    mails = orm.relationship("OutgoingMail", back_populates="entry", order_by="OutgoingMail.id")

    @property
    def subject_zh(self):
        """Return what the entry chased: the period, or the application's number."""
        if self.period is not None:
            return self.period.label
        return f"依申请公开 {self.application.number}" if self.application else "—"

    @property
    def round_zh(self):
        """Return which correction the step chased, in words: （第2次退回后）; empty for a first due date.

        An application's round is its due date's ordinal (a moved deadline starts the ladder again),
        never a count of returns: its due date column says which deadline was chased.
        """
        if self.application_id is not None or not self.round:
            return ""
        return f"（第{self.round}次退回后）"

    @property
    def recipients_zh(self):
        """Return who was told and how, e.g. 张三（站内通知）；张三（邮件 a@b.cn）."""
        how = {"in_app": "站内通知", "list": "名单"}
        return "；".join(
            f"{r['name']}（{'邮件 ' + r['address'] if r['channel'] == 'email' else how[r['channel']]}）"
            for r in self.recipients
        )

    @property
    def channels_zh(self):
        """Return the channels used, e.g. 站内通知、邮件."""
        names = {"in_app": "站内通知", "email": "邮件", "list": "逾期名单"}
        used = dict.fromkeys(r["channel"] for r in self.recipients)
        return "、".join(names[c] for c in used) or "—"


class MailState(enum.StrEnum):
    """Where an e-mail is: waiting, being sent, sent, or failed (and waiting to be tried again)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutgoingMail(db.Model):
    """An e-mail to send; kept until it is sent, so a failure is retried, never lost."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (db.Index("ix_outgoing_mail_state", "state"),)

    id = db.Column(db.Integer, primary_key=True)
    entry_id = db.Column(db.Integer, db.ForeignKey("chase_entries.id", ondelete="CASCADE"), index=True)
    #: A workbook of the archive sent with the mail (a leaders' brief).
    attachment_id = db.Column(db.Integer, db.ForeignKey("archive_files.id", ondelete="SET NULL"), index=True)
    to_address = db.Column(db.String(200), nullable=False)
    to_name = db.Column(db.String(100), nullable=False, default="")
    subject = db.Column(db.String(200), nullable=False)
    body_text = db.Column(db.Text, nullable=False)
    body_html = db.Column(db.Text, nullable=False)
    state = db.Column(enum_column_type(MailState), nullable=False, default=MailState.PENDING)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    #: When a run took the mail to send it; a claim older than CLAIM_MINUTES is taken to have died.
    claimed_at = db.Column(db.DateTime(timezone=True))
    last_error = db.Column(db.Text)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at = db.Column(db.DateTime(timezone=True))

    entry = orm.relationship("ChaseEntry", back_populates="mails")
    attachment = orm.relationship("ArchiveFile")


class Notification(db.Model):
    """An in-app notice (站内通知) for one user, shown under the bell until read."""

    __tablename__ = "notifications"
    __table_args__ = (db.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    entry_id = db.Column(db.Integer, db.ForeignKey("chase_entries.id", ondelete="SET NULL"), index=True)
    title = db.Column(db.String(200), nullable=False)
    body = db.Column(db.Text, nullable=False, default="")
    #: Where the notice leads, as a path inside the site (e.g. /returns/12).
    url = db.Column(db.String(500), nullable=False, default="")
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    read_at = db.Column(db.DateTime(timezone=True))
    #: What the notice is about when a form changed hands: submitted, returned or accepted ("" for a chase).
    event = db.Column(db.String(20), nullable=False, default="", server_default="")
    #: When the hourly digest took it (sent by e-mail, or passed over: the user wants the bell only).
    digested_at = db.Column(db.DateTime(timezone=True))

    user = orm.relationship("User")
    entry = orm.relationship("ChaseEntry")


class NotificationPreference(db.Model):
    """How one user wants to hear of one kind of hand-off: the bell only, or the bell and e-mail."""

    __tablename__ = "notification_preferences"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    #: submitted (the office), returned, accepted (the department).
    event = db.Column(db.String(20), primary_key=True)
    by_email = db.Column(db.Boolean, nullable=False)
