"""The leaders' brief (领导简报) sent without asking: who subscribes to which briefs, and the ledger of deliveries."""

import enum

from sqlalchemy import orm

from ..extensions import db
from .base import enum_column_type, utcnow
from .chase import MailState


class BriefKind(enum.StrEnum):
    """Which brief: after a quarter, after a half-year, after the year, or weekly in a reporting window."""

    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"
    WEEKLY = "weekly"

    @property
    def label(self):
        """Return the Chinese label."""
        return {"quarter": "季度简报", "half": "半年简报", "year": "全年简报", "weekly": "报送周报"}[self.value]


class BriefSubscription(db.Model):
    """One user's choice of briefs (a leader without one gets the office's defaults)."""

    __tablename__ = "brief_subscriptions"
    __audited__ = True

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    wants_quarter = db.Column(db.Boolean, nullable=False, default=True)
    wants_half = db.Column(db.Boolean, nullable=False, default=True)
    wants_year = db.Column(db.Boolean, nullable=False, default=True)
    #: Weekly during each quarter's reporting window (due date - 7 to due date + 15).
    wants_weekly = db.Column(db.Boolean, nullable=False, default=False)
    #: The bell and e-mail (with the workbook attached); False: the bell only.
    by_email = db.Column(db.Boolean, nullable=False, default=True)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    user = orm.relationship("User")


class BriefDelivery(db.Model):
    """简报发送台账: one brief given to one subscriber. The unique key is what makes it happen once:
    the row is claimed (inserted) before anything is sent, and of two runs only one can insert it."""

    __tablename__ = "brief_deliveries"
    __table_args__ = (db.UniqueConstraint("user_id", "kind", "scope"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(enum_column_type(BriefKind), nullable=False)
    #: Which brief of its kind, as the CLI and the page address name it: 2018-Q3, 2018-H1, 2018, 2018-Q3-W2.
    scope = db.Column(db.String(20), nullable=False, index=True)
    plan_id = db.Column(db.Integer, db.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True)
    #: The workbook sent (kept in the archive).
    archive_id = db.Column(db.Integer, db.ForeignKey("archive_files.id", ondelete="SET NULL"), index=True)
    #: The e-mail, when the subscriber chose e-mail and has an address (None: the bell only).
    mail_id = db.Column(db.Integer, db.ForeignKey("outgoing_mail.id", ondelete="SET NULL"), index=True)
    #: Why no e-mail went, when the subscriber wanted one (no address, mail not configured).
    detail = db.Column(db.Text, nullable=False, default="")
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    user = orm.relationship("User")
    plan = orm.relationship("Plan")
    archive = orm.relationship("ArchiveFile")
    mail = orm.relationship("OutgoingMail")

    @property
    def result_zh(self):
        """Say how the delivery stands: 已发送, 待发送, 发送失败（待重试）, or 仅站内通知."""
        if self.mail is None:
            return "仅站内通知" + (f"（{self.detail}）" if self.detail else "")
        return {
            MailState.SENT: "已发送",
            MailState.PENDING: "待发送",
            MailState.SENDING: "发送中",
            MailState.FAILED: "发送失败（待重试）",
        }[self.mail.state]
