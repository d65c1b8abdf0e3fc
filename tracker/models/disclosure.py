"""Disclosure on application (依申请公开), review and litigation cases, and the annual report's figures.

The register of applications is what Table 3 of the annual report (政府信息公开工作年度报告) is
computed from; the cases make Table 4; the office enters Table 2's proactive-disclosure figures.
"""

import enum
import re

from sqlalchemy import orm

from ..extensions import db
from .base import enum_column_type, utcnow


class ReceiptChannel(enum.StrEnum):
    """How an application arrived; Art. 31 says which day counts as received."""

    IN_PERSON = "in_person"
    POST = "post"
    ONLINE = "online"
    FAX = "fax"

    @property
    def label(self):
        """Return the Chinese label."""
        return {"in_person": "当面", "post": "邮寄", "online": "网络", "fax": "传真"}[self.value]

    @property
    def receipt_rule(self):
        """Return the Art. 31 rule for the day of receipt."""
        return {
            "in_person": "当面提交的，以提交之日为收到申请之日",
            "post": "以邮寄方式提交的，以行政机关签收之日为收到申请之日",
            "online": "通过互联网渠道或者政府信息公开工作机构的传真提交的，以双方确认之日为收到申请之日",
            "fax": "通过互联网渠道或者政府信息公开工作机构的传真提交的，以双方确认之日为收到申请之日",
        }[self.value]


class ApplicantType(enum.StrEnum):
    """The columns of Table 3: 自然人, and the five kinds of 法人或其他组织."""

    NATURAL = "natural"
    BUSINESS = "business"
    RESEARCH = "research"
    NONPROFIT = "nonprofit"
    LEGAL = "legal"
    OTHER = "other"

    @property
    def label(self):
        """Return the Chinese label (Table 3's column)."""
        return APPLICANT_LABELS[self]


APPLICANT_LABELS = {
    ApplicantType.NATURAL: "自然人",
    ApplicantType.BUSINESS: "商业企业",
    ApplicantType.RESEARCH: "科研机构",
    ApplicantType.NONPROFIT: "社会公益组织",
    ApplicantType.LEGAL: "法律服务机构",
    ApplicantType.OTHER: "其他",
}

#: Table 3's outcomes: (code, group, reason or None), in the table's order.
OUTCOME_GROUPS = {
    "open": ("（一）予以公开", []),
    "partial": ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", []),
    "withheld": (
        "（三）不予公开",
        [
            "属于国家秘密",
            "其他法律行政法规禁止公开",
            "危及“三安全一稳定”",
            "保护第三方合法权益",
            "属于三类内部事务信息",
            "属于四类过程性信息",
            "属于行政执法案卷",
            "属于行政查询事项",
        ],
    ),
    "unavailable": (
        "（四）无法提供",
        ["本机关不掌握相关政府信息", "没有现成信息需要另行制作", "补正后申请内容仍不明确"],
    ),
    "not_processed": (
        "（五）不予处理",
        [
            "信访举报投诉类申请",
            "重复申请",
            "要求提供公开出版物",
            "无正当理由大量反复申请",
            "要求行政机关确认或重新出具已获取信息",
        ],
    ),
    "other": ("（六）其他处理", []),
}

#: The outcome names of the import file: 予以公开, 不予公开/属于国家秘密 …
GROUP_NAMES = {
    "open": "予以公开",
    "partial": "部分公开",
    "withheld": "不予公开",
    "unavailable": "无法提供",
    "not_processed": "不予处理",
    "other": "其他处理",
}


def outcome_codes():
    """Return every outcome code in Table 3's order: open, partial, withheld:1 … withheld:8, …, other."""
    codes = []
    for group, (_, reasons) in OUTCOME_GROUPS.items():
        codes.extend([f"{group}:{i}" for i in range(1, len(reasons) + 1)] if reasons else [group])
    return codes


def outcome_label(code):
    """Return the import file's wording of an outcome code, e.g. 不予公开/属于国家秘密."""
    if code is None:
        return ""
    group, _, number = code.partition(":")
    name = GROUP_NAMES[group]
    return f"{name}/{OUTCOME_GROUPS[group][1][int(number) - 1]}" if number else name


def outcome_from_label(text):
    """Return the outcome code of an import file's wording, or None if it is not one."""

    def plain(value):
        # Quotes and slashes as typed in Excel, spaces around the slash: the wording is what counts.
        value = value.replace("／", "/").replace("“", '"').replace("”", '"').replace("＂", '"')
        return re.sub(r"\s*/\s*", "/", value.strip())

    wanted = plain(str(text or ""))
    for code in outcome_codes():
        if plain(outcome_label(code)) == wanted:
            return code
    return None


class Application(db.Model):
    """依申请公开: one application for government information, from receipt to answer."""

    __tablename__ = "applications"
    __audited__ = True

    id = db.Column(db.Integer, primary_key=True)
    #: The office's own number, e.g. 2026-001.
    number = db.Column(db.String(50), nullable=False, unique=True)
    #: The day of receipt under Art. 31 (see :attr:`ReceiptChannel.receipt_rule`).
    received_on = db.Column(db.Date, nullable=False)
    channel = db.Column(enum_column_type(ReceiptChannel), nullable=False)
    applicant_type = db.Column(enum_column_type(ApplicantType), nullable=False)
    request = db.Column(db.Text, nullable=False, default="")
    #: The department that handles it (办理部门).
    department_id = db.Column(db.Integer, db.ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    #: A correction notice (补正) sent; the clock stops until it is answered, then starts again.
    correction_sent_on = db.Column(db.Date)
    correction_answered_on = db.Column(db.Date)
    #: The day an extension (at most 20 working days, Art. 33) was approved; None without one.
    extended_on = db.Column(db.Date)
    #: Working days spent consulting third parties, which do not count (Art. 33).
    third_party_days = db.Column(db.Integer, nullable=False, default=0)
    answered_on = db.Column(db.Date)
    #: One of :func:`outcome_codes` once answered.
    outcome = db.Column(db.String(20))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    department = orm.relationship("Department")

    @property
    def is_open(self):
        """Tell whether it still waits for an answer."""
        return self.answered_on is None

    @property
    def outcome_label(self):
        """Return the outcome as the import file writes it."""
        return outcome_label(self.outcome)


class CalendarException(db.Model):
    """A day the office's calendar treats differently from the calendar library (a holiday or a working day)."""

    __tablename__ = "calendar_exceptions"
    __audited__ = True

    id = db.Column(db.Integer, primary_key=True)
    day = db.Column(db.Date, nullable=False, unique=True)
    is_workday = db.Column(db.Boolean, nullable=False)
    note = db.Column(db.String(100), nullable=False, default="")


class CaseKind(enum.StrEnum):
    """Table 4's kinds of case."""

    REVIEW = "review"
    SUIT_DIRECT = "suit_direct"
    SUIT_AFTER_REVIEW = "suit_after_review"

    @property
    def label(self):
        """Return the Chinese label."""
        return {"review": "行政复议", "suit_direct": "未经复议直接起诉", "suit_after_review": "复议后起诉"}[self.value]


class CaseResult(enum.StrEnum):
    """Table 4's results."""

    UPHELD = "upheld"
    CORRECTED = "corrected"
    OTHER = "other"
    PENDING = "pending"

    @property
    def label(self):
        """Return the Chinese label (as the import file writes it)."""
        return {"upheld": "维持", "corrected": "纠正", "other": "其他", "pending": "尚未审结"}[self.value]


class ReviewCase(db.Model):
    """An administrative review (行政复议) or lawsuit (行政诉讼) about disclosure."""

    __tablename__ = "review_cases"
    __audited__ = True

    id = db.Column(db.Integer, primary_key=True)
    number = db.Column(db.String(50), nullable=False, unique=True)
    kind = db.Column(enum_column_type(CaseKind, length=30), nullable=False)
    received_on = db.Column(db.Date, nullable=False)
    result = db.Column(enum_column_type(CaseResult), nullable=False, default=CaseResult.PENDING)


class DisclosureFigures(db.Model):
    """Table 2 (主动公开政府信息情况) of one year, as the office enters it."""

    __tablename__ = "disclosure_figures"
    __audited__ = True

    id = db.Column(db.Integer, primary_key=True)
    year = db.Column(db.Integer, nullable=False, unique=True)
    #: ``2021`` (the current layout) or ``2019`` (the 2019-2020 layout).
    layout = db.Column(db.String(4), nullable=False)
    #: Cell key → value (see :data:`tracker.disclosure.tables.TABLE2_LAYOUTS`).
    values = db.Column(db.JSON, nullable=False, default=dict)


class AnnualReport(db.Model):
    """A year's annual report as the office finalised it (定稿): the tables as published, kept as they were.

    The next year's check compares its 上年结转 with this snapshot's 结转下年度, so an edit to the
    register after publication shows up instead of silently changing what was published.
    """

    __tablename__ = "annual_reports"
    __audited__ = True

    id = db.Column(db.Integer, primary_key=True)
    year = db.Column(db.Integer, nullable=False, unique=True)
    layout = db.Column(db.String(4), nullable=False)
    #: Tables 2, 3 and 4 as computed when finalised.
    tables = db.Column(db.JSON, nullable=False)
    finalised_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    finalised_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
