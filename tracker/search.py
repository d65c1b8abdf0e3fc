"""Keyword search (搜索) over what people wrote: tasks, forms' lines, summaries, the register, notices.

Each user finds only what they may open: a department its own forms, summaries and applications.
A fixed number of queries (one per kind), each capped, whatever the data's size.
"""

from dataclasses import dataclass

from sqlalchemy import or_

from .extensions import db
from .models import (
    Application,
    Department,
    HalfYearSummary,
    Notification,
    Plan,
    QuarterlyReturn,
    ReportingPeriod,
    ReturnLine,
    Task,
    UserRole,
)

#: Results per kind; the page says when there were more.
LIMIT = 20
MAX_QUERY = 100


@dataclass
class Hit:
    """One place the words were found: a title, where it leads, and the words in their context."""

    title: str
    url: str
    before: str = ""
    match: str = ""
    after: str = ""


def _context(text, q, width=40):
    """Return (before, match, after) around the first occurrence of ``q`` in ``text``."""
    text = text or ""
    at = text.casefold().find(q.casefold())  # the database matched ASCII letters without regard to case
    if at < 0:
        return text[: width * 2], "", ""
    start = max(0, at - width)
    return ("…" if start else "") + text[start:at], text[at : at + len(q)], text[at + len(q) : at + len(q) + width]


def _holding(q, *texts):
    """Return the first of ``texts`` that holds ``q`` (regardless of case), else the first."""
    return next((t for t in texts if q.casefold() in (t or "").casefold()), texts[0] or "")


def _like(*columns, q):
    """Match ``q`` anywhere, Latin letters regardless of case, on SQLite and PostgreSQL alike."""
    return or_(*(column.icontains(q, autoescape=True) for column in columns))


def search(user, q):
    """Return {kind label: (hits, has_more)} for ``q`` as ``user`` may see it; {} for an empty query."""
    q = (q or "").strip()[:MAX_QUERY]
    if not q:
        return {}
    # A department's staff find their own department's forms, summaries and applications only
    # (``own`` holds its id; an account without a department finds none of them).
    own = (user.department_id,) if user.role is UserRole.DEPARTMENT else None
    results = {
        "工作任务": _tasks(q),
        "季度报送表": _form_lines(q, own),
        "半年工作总结": _summaries(q, own),
        "依申请公开": _applications(q, own),
        "我的通知": _notices(q, user),
    }
    return {kind: (hits[:LIMIT], len(hits) > LIMIT) for kind, hits in results.items()}


def _tasks(q):
    tasks = (
        db.session.query(Task, Plan.year)
        .join(Plan, Plan.id == Task.plan_id)
        .filter(_like(Task.title, Task.text, q=q))
        .order_by(Plan.year.desc(), Task.position)
        .limit(LIMIT + 1)
        .all()
    )
    return [
        Hit(f"{year}年 {task.code} {task.title[:40]}", f"/tasks/{task.id}", *_context(task.text or task.title, q))
        for task, year in tasks
    ]


def _form_lines(q, own):
    lines = (
        db.session.query(ReturnLine, QuarterlyReturn, Department.name, ReportingPeriod)
        .join(QuarterlyReturn, QuarterlyReturn.id == ReturnLine.return_id)
        .join(Department, Department.id == QuarterlyReturn.department_id)
        .join(ReportingPeriod, ReportingPeriod.id == QuarterlyReturn.period_id)
        .filter(_like(ReturnLine.done, ReturnLine.problems, ReturnLine.next_steps, q=q))
        .options(db.joinedload(ReturnLine.task))
    )
    if own is not None:
        lines = lines.filter(QuarterlyReturn.department_id == own[0])
    lines = lines.order_by(ReportingPeriod.starts_on.desc(), Department.name).limit(LIMIT + 1).all()
    return [
        Hit(
            f"{name} {period.label} {line.task.code}",
            f"/returns/{report.id}",
            *_context(_holding(q, line.done, line.problems, line.next_steps), q),
        )
        for line, report, name, period in lines
    ]


def _summaries(q, own):
    summaries = (
        db.session.query(HalfYearSummary, Department.name, ReportingPeriod)
        .join(Department, Department.id == HalfYearSummary.department_id)
        .join(ReportingPeriod, ReportingPeriod.id == HalfYearSummary.period_id)
        .filter(_like(HalfYearSummary.text, q=q))
    )
    if own is not None:
        summaries = summaries.filter(HalfYearSummary.department_id == own[0])
    summaries = summaries.order_by(ReportingPeriod.starts_on.desc()).limit(LIMIT + 1).all()
    return [
        Hit(f"{name} {period.label}", f"/summaries/{summary.id}", *_context(summary.text, q))
        for summary, name, period in summaries
    ]


def _applications(q, own):
    applications = Application.query.filter(_like(Application.number, Application.request, q=q))
    if own is not None:
        applications = applications.filter(Application.department_id == own[0])
    applications = applications.order_by(Application.received_on.desc()).limit(LIMIT + 1).all()
    return [
        Hit(f"申请 {a.number}（{a.received_on.isoformat()}）", f"/applications/{a.id}", *_context(a.request, q))
        for a in applications
    ]


def _notices(q, user):
    notices = (
        Notification.query.filter(Notification.user_id == user.id, _like(Notification.title, Notification.body, q=q))
        .order_by(Notification.id.desc())
        .limit(LIMIT + 1)
        .all()
    )
    return [Hit(n.title, n.url or "/notifications", *_context(n.body or n.title, q)) for n in notices]
