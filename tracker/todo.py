"""Each role's landing page (待办): what a department owes, what waits for the office, the leaders' brief.

Pure reads: every function gathers what one page shows, in a fixed number of queries.
"""

import datetime
from dataclasses import dataclass

from sqlalchemy import func

from .chase.operations import open_items
from .extensions import db
from .models import (
    ChaseEntry,
    ChaseItem,
    Department,
    HalfYearSummary,
    PeriodKind,
    Plan,
    QuarterlyReturn,
    ReportingPeriod,
    ReturnEvent,
    ReturnState,
    SummaryEvent,
)
from .timeutil import as_utc

#: A department sees what falls due within this many days (and everything overdue).
HORIZON_DAYS = 45
#: The office sees applications whose statutory deadline is this close.
APPLICATION_WARNING_DAYS = 5
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
#: "Recently done" reaches back this far.
RECENT_DAYS = 30

#: What follows a period's label (2018年第三季度 + 完成情况报送表).
KIND_LABELS = {ChaseItem.RETURN: "完成情况报送表", ChaseItem.SUMMARY: "工作总结"}


@dataclass
class Owed:
    """One thing a department owes, as its to-do list shows it."""

    kind: ChaseItem
    title: str
    url: str
    due_on: datetime.date
    days_left: int
    department: str
    state: str = ""
    reason: str = ""
    is_provisional: bool = False

    @property
    def is_overdue(self):
        """Tell whether its due date has passed."""
        return self.days_left < 0

    @property
    def when_zh(self):
        """Say how urgent it is: 今天到期, 还有3天, 已逾期5天."""
        if self.days_left == 0:
            return "今天到期"
        return f"已逾期{-self.days_left}天" if self.days_left < 0 else f"还有{self.days_left}天"


def _owed(kind, item, today_):
    if kind is ChaseItem.APPLICATION:
        return Owed(
            kind,
            f"依申请公开申请 {item.number} 的答复",
            f"/applications/{item.id}",
            item.due_on,
            (item.due_on - today_).days,
            item.department.name if item.department else "",
            is_provisional=item.is_provisional,
        )
    returned = item.state is ReturnState.RETURNED
    return Owed(
        kind,
        f"{item.period.label}{KIND_LABELS[kind]}",
        ("/returns/" if kind is ChaseItem.RETURN else "/summaries/") + str(item.id),
        item.due_on,
        (item.due_on - today_).days,
        item.department.name,
        state="退回修改" if returned else "待报送",
        reason=(item.return_reason or "") if returned else "",
    )


def department_todo(department, today_):
    """Return what ``department`` owes, most urgent first, and what it did in the last RECENT_DAYS."""
    owed = [
        _owed(kind, item, today_)
        for kind, item in open_items(today_, HORIZON_DAYS, department_id=department.id)
        if item.department_id == department.id
    ]
    owed.sort(key=lambda o: (o.due_on, o.kind.value))
    return {"owed": owed, "recent": recent_events(department.id, today_)}


def recent_events(department_id, today_):
    """Return the department's forms and summaries submitted, accepted or returned lately, newest first."""
    since = datetime.datetime.combine(today_ - datetime.timedelta(days=RECENT_DAYS), datetime.time(), datetime.UTC)
    rows = []
    for event_model, model, link, noun in (
        (ReturnEvent, QuarterlyReturn, "/returns/", KIND_LABELS[ChaseItem.RETURN]),
        (SummaryEvent, HalfYearSummary, "/summaries/", KIND_LABELS[ChaseItem.SUMMARY]),
    ):
        owner = event_model.return_id if event_model is ReturnEvent else event_model.summary_id
        query = (
            db.session.query(event_model, model)
            .join(model, model.id == owner)
            .filter(model.department_id == department_id, event_model.at >= since)
            .options(db.joinedload(model.period), db.joinedload(event_model.actor))
            .order_by(event_model.at.desc())
            .limit(20)
        )
        rows.extend(
            {"at": event.at, "label": event.label, "title": f"{item.period.label}{noun}", "url": f"{link}{item.id}"}
            for event, item in query
        )
    rows.sort(key=lambda r: r["at"], reverse=True)
    return rows[:20]


# --- the office -------------------------------------------------------------------------------


#: The review queue shows the oldest this many; the rest are counted.
QUEUE_SHOWN = 50


def _queue_rows(limit, excluding=None):
    rows = []
    for model, link, noun, prefix in (
        (QuarterlyReturn, "/returns/", KIND_LABELS[ChaseItem.RETURN], "return"),
        (HalfYearSummary, "/summaries/", KIND_LABELS[ChaseItem.SUMMARY], "summary"),
    ):
        query = model.query.filter(model.state == ReturnState.SUBMITTED)
        if excluding is not None and excluding[0] is model:
            query = query.filter(model.id != excluding[1])
        query = query.options(db.joinedload(model.period), db.joinedload(model.department))
        for row in query.order_by(model.last_submitted_at, model.id).limit(limit):
            rows.append(
                {
                    "kind": noun,
                    "key": f"{prefix}-{row.id}",
                    "title": f"{row.department.name} {row.period.label}{noun}",
                    "url": f"{link}{row.id}",
                    "submitted_at": row.last_submitted_at,
                    "is_correction": row.returned_count > 0,
                }
            )
    rows.sort(key=lambda r: (r["submitted_at"] is None, as_utc(r["submitted_at"]) or EPOCH))
    return rows[:limit]


def review_queue(limit=QUEUE_SHOWN):
    """Return the oldest ``limit`` forms and summaries waiting for the office's review (待审核), oldest first."""
    return _queue_rows(limit)


def review_count():
    """Return how many forms and summaries wait for review (the number beside 待审核 in the menu)."""
    forms = db.session.scalar(
        db.select(func.count()).select_from(QuarterlyReturn).where(QuarterlyReturn.state == ReturnState.SUBMITTED)
    )
    summaries = db.session.scalar(
        db.select(func.count()).select_from(HalfYearSummary).where(HalfYearSummary.state == ReturnState.SUBMITTED)
    )
    return forms + summaries


def next_in_queue(current_url):
    """Return the queue's oldest item other than the page at ``current_url``, or None (two short queries)."""
    kind, _, number = current_url.strip("/").partition("/")
    models = {"returns": QuarterlyReturn, "summaries": HalfYearSummary}
    excluding = (models[kind], int(number)) if kind in models and number.isdecimal() else None
    rows = _queue_rows(1, excluding)
    return rows[0] if rows else None


def office_todo(today_):
    """Return the office's day: the review queue, overdue departments, today's chase, applications near deadline."""
    overdue, applications = {}, []
    plan = Plan.query.order_by(Plan.year.desc()).first()
    for kind, item in open_items(today_, APPLICATION_WARNING_DAYS, plan_id=plan.id if plan else None):
        owed = _owed(kind, item, today_)
        if kind is ChaseItem.APPLICATION:
            applications.append(owed)
        elif owed.is_overdue:
            row = overdue.setdefault(owed.department, {"department": owed.department, "items": [], "days": 0})
            row["items"].append(owed)
            row["days"] = max(row["days"], -owed.days_left)
    chase = dict(
        db.session.query(ChaseEntry.result, func.count())
        .filter(ChaseEntry.run_on == today_)
        .group_by(ChaseEntry.result)
    )
    return {
        "queue": review_queue(),
        "queue_total": review_count(),
        "overdue": sorted(overdue.values(), key=lambda r: (-r["days"], r["department"])),
        "chase": sorted(chase.items(), key=lambda kv: kv[0].value),
        "applications": sorted(applications, key=lambda o: o.due_on)[:20],
    }


# --- leaders ----------------------------------------------------------------------------------


def current_quarter(plan, today_):
    """Return the quarter leaders should look at: the latest one that has ended, else the first."""
    quarters = (
        ReportingPeriod.query.filter_by(plan_id=plan.id, kind=PeriodKind.QUARTER).order_by(ReportingPeriod.number).all()
    )
    ended = [q for q in quarters if q.ends_on < today_]
    return ended[-1] if ended else (quarters[0] if quarters else None)


def leader_brief(today_):
    """Return the current quarter's brief for leaders: rates, most overdue, progress by section."""
    from .exports.queries import summary_data

    plan = Plan.query.order_by(Plan.year.desc()).first()
    period = current_quarter(plan, today_) if plan else None
    if period is None:
        return None
    data = summary_data(plan, [period], today_)
    expected = data["expected"]
    return {
        "plan": plan,
        "period": period,
        "expected": expected,
        "submitted": data["submitted"],
        "on_time": data["on_time"],
        "rate": round(100 * data["submitted"] / expected) if expected else None,
        "on_time_rate": round(100 * data["on_time"] / expected) if expected else None,
        "overdue": data["overdue"][:10],
        "overdue_count": len(data["overdue"]),
        "sections": [
            {**s, "percent": round(100 * s["done"] / s["lines"]) if s["lines"] else 0} for s in data["sections"]
        ],
        "departments": Department.query.count(),
    }
