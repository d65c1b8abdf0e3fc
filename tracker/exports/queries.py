"""What the report workbooks show, gathered from the database in a fixed number of queries.

Each function returns plain values (dicts, tuples, dates); the builders in this package turn
them into workbooks without touching the database. Times are converted to the office's time
zone here. Only submitted and accepted forms count as a department's word: a draft's lines and
numbers are not reported.
"""

import datetime
from dataclasses import dataclass, field

from sqlalchemy import String, case, func, select, type_coerce

from ..extensions import db
from ..models import (
    Channel,
    ChaseEntry,
    ChaseItem,
    ChaseResult,
    CountKind,
    Department,
    HalfYearSummary,
    LineStatus,
    PeriodKind,
    QuarterlyReturn,
    ReportingPeriod,
    ReturnCount,
    ReturnLine,
    ReturnState,
    Role,
    Section,
    Task,
    TaskDepartment,
    TaskGroup,
)
from ..models.plan import marked_title, plan_departments
from ..timeutil import local_date, now_utc, zone
from ..workflow import CELL_LABELS, REPORTED, cell_state, standing

#: How many characters of a half-year summary the half workbook quotes.
EXCERPT = 120


def produced_at():
    """Return the time a workbook is produced, in the office's time zone, without the zone (for Excel)."""
    return now_utc().astimezone(zone()).replace(tzinfo=None, microsecond=0)


def _local(moment):
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(zone()).replace(tzinfo=None, microsecond=0)


def _lateness(first_submitted_at, due_on, is_first_late):
    """Return 按时, 迟报N天, or None while not submitted."""
    if first_submitted_at is None:
        return None
    if not is_first_late:
        return "按时"
    days = (local_date(first_submitted_at) - due_on).days
    return f"迟报{max(days, 1)}天"


def quarter_period(plan, quarter):
    """Return the plan's period for ``quarter``, or None."""
    return ReportingPeriod.query.filter_by(plan_id=plan.id, kind=PeriodKind.QUARTER, number=quarter).one_or_none()


def half_period(plan, half):
    """Return the plan's period for ``half``, or None."""
    return ReportingPeriod.query.filter_by(plan_id=plan.id, kind=PeriodKind.HALF, number=half).one_or_none()


def _departments(plan):
    return plan_departments(plan)


def quarter_data(plan, period, today_):
    """Gather the quarter workbook: per-department completion, per-task content, counts, overdue."""
    departments = _departments(plan)
    forms = {
        row.department_id: row
        for row in db.session.query(
            QuarterlyReturn.id,
            QuarterlyReturn.department_id,
            QuarterlyReturn.state,
            QuarterlyReturn.version,
            QuarterlyReturn.first_submitted_at,
            QuarterlyReturn.last_submitted_at,
            QuarterlyReturn.is_first_late,
            QuarterlyReturn.returned_count,
            QuarterlyReturn.correction_due_on,
        ).filter(QuarterlyReturn.period_id == period.id)
    }
    line_stats = {
        row.return_id: (int(row.lines), int(row.done or 0))
        for row in db.session.query(
            ReturnLine.return_id,
            func.count().label("lines"),
            func.sum(case((ReturnLine.status == LineStatus.DONE, 1), else_=0)).label("done"),
        )
        .join(QuarterlyReturn, QuarterlyReturn.id == ReturnLine.return_id)
        .filter(QuarterlyReturn.period_id == period.id)
        .group_by(ReturnLine.return_id)
    }
    completion = []
    for department in departments:
        form = forms.get(department.id)
        if form is None:
            continue
        lines, done = line_stats.get(form.id, (0, 0))
        reported = form.state in REPORTED
        stands = standing(form, period.due_on, today_)
        completion.append(
            {
                "department": department.name,
                "tasks": lines,
                "reported": lines if reported else 0,
                "done": done if reported else 0,
                "state": CELL_LABELS[stands.state],
                "submitted_at": _local(form.first_submitted_at),
                "timeliness": _lateness(form.first_submitted_at, period.due_on, form.is_first_late)
                or (f"逾期{stands.overdue_days}天未报" if stands.overdue_days else None),
                "returned": form.returned_count,
            }
        )
    return {
        "completion": completion,
        "progress": _task_progress(plan, period, departments),
        "counts": _counts(period, departments, forms),
        "overdue": _overdue(period, departments, forms, today_),
    }


def _task_progress(plan, period, departments):
    """Return per task (in plan order) its lines, lead departments first, with the reported content."""
    order = {d.id: i for i, d in enumerate(departments)}
    names = {d.id: d.name for d in departments}
    leads = _lead_pairs(plan)
    tasks = {}
    for task_id, code, title, withdrawn_at, department_id, state, *content in _period_lines(period):
        entry = tasks.setdefault(
            task_id, {"code": code, "title": marked_title(title, withdrawn_at is not None), "lines": []}
        )
        is_lead = (task_id, department_id) in leads
        entry["lines"].append(
            {
                "department": names.get(department_id, ""),
                "role": "牵头" if is_lead else "落实",
                **_reported_content(state, *content),
                "_order": (0 if is_lead else 1, order.get(department_id, 0)),
            }
        )
    result = list(tasks.values())
    for entry in result:
        entry["lines"].sort(key=lambda line: line.pop("_order"))
    return result


def _lead_pairs(plan):
    """Return the plan's ``{(task id, department id)}`` where the department leads the task."""
    return {
        (task_id, department_id)
        for task_id, department_id in db.session.query(TaskDepartment.task_id, TaskDepartment.department_id)
        .join(Task, Task.id == TaskDepartment.task_id)
        .filter(Task.plan_id == plan.id, TaskDepartment.role == Role.LEAD)
    }


def _period_lines(period):
    """Return every line of the period's forms, in plan order, with its task and its form's state.

    A quarter has tens of thousands of lines: the state and status come as the stored text (the
    enums are ``StrEnum``, equal to their values), which spares turning each into its member.
    """
    return db.session.execute(
        select(
            Task.id,
            Task.code,
            Task.title,
            Task.withdrawn_at,
            QuarterlyReturn.department_id,
            type_coerce(QuarterlyReturn.state, String),
            type_coerce(ReturnLine.status, String),
            ReturnLine.done,
            ReturnLine.problems,
            ReturnLine.next_steps,
        )
        .join(ReturnLine, ReturnLine.task_id == Task.id)
        .join(QuarterlyReturn, QuarterlyReturn.id == ReturnLine.return_id)
        .where(QuarterlyReturn.period_id == period.id)
        .order_by(Task.position)
    ).all()


#: Each line status's label, looked up once: a quarter has tens of thousands of lines.
STATUS_LABELS = {status: status.label for status in LineStatus}


def _reported_content(state, status, done, problems, next_steps):
    """Return a line's status and texts; a form not reported shows 未报送 and no text."""
    if state not in REPORTED:
        return {"status": "未报送", "done": "", "problems": "", "next_steps": ""}
    label = STATUS_LABELS[status] if status else ""
    return {"status": label, "done": done, "problems": problems, "next_steps": next_steps}


def _counts(period, departments, forms):
    """Return per department its 报送/发布 numbers by channel (submitted and accepted forms only)."""
    values = {}
    for return_id, kind, channel, value in (
        db.session.query(ReturnCount.return_id, ReturnCount.kind, ReturnCount.channel, ReturnCount.value)
        .join(QuarterlyReturn, QuarterlyReturn.id == ReturnCount.return_id)
        .filter(QuarterlyReturn.period_id == period.id, QuarterlyReturn.state.in_(REPORTED))
    ):
        values[(return_id, kind, channel)] = value
    rows = []
    for department in departments:
        form = forms.get(department.id)
        if form is None:
            continue
        rows.append(
            {
                "department": department.name,
                "reported": form.state in REPORTED,
                "values": {
                    (kind, channel): values.get((form.id, kind, channel), 0)
                    for kind in CountKind
                    for channel in Channel
                },
            }
        )
    return rows


def _overdue(period, departments, forms, today_):
    """Return the departments whose form is overdue: days overdue, reminders sent, the last one's date."""
    reminders = {
        row.department_id: (int(row.sent), row.last)
        for row in db.session.query(
            ChaseEntry.department_id, func.count().label("sent"), func.max(ChaseEntry.at).label("last")
        )
        .filter(
            ChaseEntry.period_id == period.id,
            ChaseEntry.item == ChaseItem.RETURN,
            # Reminders that reached somebody.
            ChaseEntry.result.notin_([ChaseResult.SKIPPED, ChaseResult.NO_RECIPIENTS]),
        )
        .group_by(ChaseEntry.department_id)
    }
    rows = []
    for department in departments:
        form = forms.get(department.id)
        if form is None or form.state not in (ReturnState.DRAFT, ReturnState.RETURNED):
            continue
        due = form.correction_due_on if form.state is ReturnState.RETURNED and form.correction_due_on else period.due_on
        if today_ <= due:
            continue
        sent, last = reminders.get(department.id, (0, None))
        rows.append(
            {
                "department": department.name,
                "state": "退回修改未重报" if form.state is ReturnState.RETURNED else "未报送",
                "due_on": due,
                "days": (today_ - due).days,
                "reminders": sent,
                "last_reminder": _local(last),
            }
        )
    rows.sort(key=lambda r: -r["days"])
    return rows


def department_data(plan, department, today_):
    """Gather one department's year: every quarterly form and half-year summary, with states and dates."""
    rows = []
    for model, label in ((QuarterlyReturn, "季度完成情况报送表"), (HalfYearSummary, "半年工作总结")):
        items = (
            model.query.join(ReportingPeriod, ReportingPeriod.id == model.period_id)
            .filter(ReportingPeriod.plan_id == plan.id, model.department_id == department.id)
            .options(db.contains_eager(model.period))
            .order_by(ReportingPeriod.starts_on, ReportingPeriod.kind.desc())
            .all()
        )
        is_form = model is QuarterlyReturn
        stats = _line_stats(items) if is_form else {}
        rows.extend(_year_row(item, label, 0 if is_form else 1, stats, today_) for item in items)
    rows.sort(key=lambda r: r["sort"])
    return rows


def _line_stats(forms):
    """Return ``{form id: (lines, lines 已完成)}`` of ``forms`` (no query when there are none)."""
    if not forms:
        return {}
    return {
        row.return_id: (int(row.lines), int(row.done or 0))
        for row in db.session.query(
            ReturnLine.return_id,
            func.count().label("lines"),
            func.sum(case((ReturnLine.status == LineStatus.DONE, 1), else_=0)).label("done"),
        )
        .filter(ReturnLine.return_id.in_([i.id for i in forms]))
        .group_by(ReturnLine.return_id)
    }


def _year_row(item, label, rank, stats, today_):
    """Return a form's or a summary's row of the department's year; ``rank`` puts forms before summaries."""
    lines, done = stats.get(item.id, (None, None))
    return {
        "period": item.period.label,
        "sort": (item.period.ends_on, rank),
        "item": label,
        "state": CELL_LABELS[cell_state(item, today_)],
        "due_on": item.due_on,
        "submitted_at": _local(item.first_submitted_at),
        "timeliness": _lateness(item.first_submitted_at, item.period.due_on, item.is_first_late),
        "returned": item.returned_count,
        "accepted_at": _local(item.accepted_at),
        "lines": lines,
        "done": done if item.state in REPORTED else None,
        "return_reason": item.return_reason if item.state is ReturnState.RETURNED else "",
    }


def half_data(plan, period, today_):
    """Gather the half workbook: each department's summary: state, dates, an excerpt, the file name."""
    summaries = (
        HalfYearSummary.query.filter_by(period_id=period.id)
        .join(Department)
        .options(db.contains_eager(HalfYearSummary.department))
        .all()
    )
    order = {d.id: i for i, d in enumerate(_departments(plan))}
    summaries.sort(key=lambda s: order.get(s.department_id, len(order)))
    rows = []
    for s in summaries:
        reported = s.state in REPORTED
        text = " ".join(s.text.split()) if reported else ""
        rows.append(
            {
                "department": s.department.name,
                "state": CELL_LABELS[cell_state(s, today_)],
                "due_on": s.due_on,
                "submitted_at": _local(s.first_submitted_at),
                "timeliness": _lateness(s.first_submitted_at, s.period.due_on, s.is_first_late),
                "returned": s.returned_count,
                "accepted_at": _local(s.accepted_at),
                "excerpt": text[:EXCERPT] + ("……" if len(text) > EXCERPT else ""),
                "document": s.document_name if reported and s.document_name else "",
                "filled_by": f"{s.filled_by_name} {s.filled_by_phone}".strip() if reported else "",
            }
        )
    return rows


#: A department's form counts in a brief where it has no form in the periods.
NO_FORMS = {"expected": 0, "submitted": 0, "on_time": 0}


def summary_data(plan, periods, today_, all_expected=False):
    """Gather the leaders' brief over ``periods`` (quarters): rates, completion, overdue, counts, sections.

    A form is expected once it is due or submitted early; with ``all_expected`` (a brief while the
    forms are still coming in) every form is. Each department's row also counts its forms expected,
    submitted and submitted on time, for the ranking by on-time rate; ``waiting`` names the
    departments with a form not yet submitted.
    """
    period_ids = [p.id for p in periods]
    departments = _departments(plan)
    names = {d.id: d.name for d in departments}
    tally = _form_tally(periods, today_, all_expected)
    by_task, by_department = _line_totals(period_ids)
    return {
        "expected": tally.expected,
        "submitted": tally.submitted,
        "on_time": tally.on_time,
        "sections": _section_progress(plan, by_task),
        "accepted": tally.accepted,
        "all_expected": all_expected,
        "waiting": [d.name for d in departments if d.id in tally.waiting],
        "departments": [
            {"department": d.name, "lines": lines, "done": done, **tally.rates.get(d.id, NO_FORMS)}
            for d in departments
            for lines, done in [by_department.get(d.id, (0, 0))]
        ],
        "overdue": sorted(
            ({"department": names.get(k, ""), **v} for k, v in tally.overdue.items()),
            key=lambda r: (-r["days"], -r["forms"]),
        ),
        "counts": _published_counts(periods, period_ids),
    }


@dataclass
class _Tally:
    """The forms of a brief's periods, counted: in all and by department."""

    expected: int = 0
    submitted: int = 0
    on_time: int = 0
    accepted: int = 0
    overdue: dict = field(default_factory=dict)
    rates: dict = field(default_factory=dict)
    waiting: set = field(default_factory=set)


def _form_tally(periods, today_, all_expected):
    """Count the periods' forms: expected, submitted, on time, accepted; who is late, by how much; who owes."""
    forms = db.session.query(
        QuarterlyReturn.department_id,
        QuarterlyReturn.period_id,
        QuarterlyReturn.state,
        QuarterlyReturn.version,
        QuarterlyReturn.first_submitted_at,
        QuarterlyReturn.is_first_late,
        QuarterlyReturn.correction_due_on,
    ).filter(QuarterlyReturn.period_id.in_([p.id for p in periods]))
    due = {p.id: p.due_on for p in periods}
    tally = _Tally()
    for row in forms:
        _count_form(tally, row, standing(row, due[row.period_id], today_), all_expected)
    return tally


def _count_form(tally, row, stands, all_expected):
    """Add one form, standing as ``stands`` (see :func:`~tracker.workflow.standing`), to ``tally``."""
    rate = tally.rates.setdefault(row.department_id, {"expected": 0, "submitted": 0, "on_time": 0})
    if not stands.submitted:
        tally.waiting.add(row.department_id)
    if stands.expected or all_expected:
        tally.expected += 1
        rate["expected"] += 1
    if stands.submitted:
        tally.submitted, tally.on_time = tally.submitted + 1, tally.on_time + stands.on_time
        rate["submitted"], rate["on_time"] = rate["submitted"] + 1, rate["on_time"] + stands.on_time
    tally.accepted += row.state is ReturnState.ACCEPTED
    if stands.overdue_days:
        entry = tally.overdue.setdefault(row.department_id, {"forms": 0, "days": 0})
        entry["forms"] += 1
        entry["days"] = max(entry["days"], stands.overdue_days)


def _line_totals(period_ids):
    """Return the reported lines and those done, by task and by department: ``({id: [lines, done]}, …)``."""
    line_rows = (
        db.session.query(
            ReturnLine.task_id,
            QuarterlyReturn.department_id,
            func.count(),
            func.sum(case((ReturnLine.status == LineStatus.DONE, 1), else_=0)),
        )
        .join(QuarterlyReturn, QuarterlyReturn.id == ReturnLine.return_id)
        .filter(QuarterlyReturn.period_id.in_(period_ids), QuarterlyReturn.state.in_(REPORTED))
        .group_by(ReturnLine.task_id, QuarterlyReturn.department_id)
        .all()
    )
    by_task, by_department = {}, {}
    for task_id, department_id, lines, done in line_rows:
        lines, done = int(lines), int(done or 0)
        for totals in (by_task.setdefault(task_id, [0, 0]), by_department.setdefault(department_id, [0, 0])):
            totals[0] += lines
            totals[1] += done
    return by_task, by_department


def _section_progress(plan, by_task):
    """Return the plan's sections with their tasks' reported and done lines, in order."""
    tasks = (
        db.session.query(Task.id, Task.code, Task.title, Task.withdrawn_at, TaskGroup.section_id)
        .join(TaskGroup, TaskGroup.id == Task.group_id)
        .filter(Task.plan_id == plan.id)
        .order_by(Task.position)
        .all()
    )
    sections = [
        {"numeral": s.numeral, "title": s.title, "id": s.id, "lines": 0, "done": 0, "tasks": []}
        for s in Section.query.filter_by(plan_id=plan.id).order_by(Section.number)
    ]
    by_section = {s["id"]: s for s in sections}
    for task in tasks:
        lines, done = by_task.get(task.id, (0, 0))
        section = by_section[task.section_id]
        section["lines"] += lines
        section["done"] += done
        section["tasks"].append(
            {
                "code": task.code,
                "title": marked_title(task.title, task.withdrawn_at is not None),
                "lines": lines,
                "done": done,
            }
        )
    return sections


def _published_counts(periods, period_ids):
    """Return each period's information submitted and published, from the forms reported."""
    totals = {
        (period_id, kind): int(total or 0)
        for period_id, kind, total in db.session.query(
            QuarterlyReturn.period_id, ReturnCount.kind, func.sum(ReturnCount.value)
        )
        .join(ReturnCount, ReturnCount.return_id == QuarterlyReturn.id)
        .filter(QuarterlyReturn.period_id.in_(period_ids), QuarterlyReturn.state.in_(REPORTED))
        .group_by(QuarterlyReturn.period_id, ReturnCount.kind)
    }
    return [
        {
            "period": p.short_label,
            "label": p.label,
            "submitted": totals.get((p.id, CountKind.SUBMITTED), 0),
            "published": totals.get((p.id, CountKind.PUBLISHED), 0),
        }
        for p in periods
    ]


def task_progress_counts(period):
    """Return task code → (lines reported, lines 已完成) in ``period`` (submitted and accepted forms)."""
    return {
        code: (int(lines), int(done or 0))
        for code, lines, done in db.session.query(
            Task.code, func.count(), func.sum(case((ReturnLine.status == LineStatus.DONE, 1), else_=0))
        )
        .join(ReturnLine, ReturnLine.task_id == Task.id)
        .join(QuarterlyReturn, QuarterlyReturn.id == ReturnLine.return_id)
        .filter(QuarterlyReturn.period_id == period.id, QuarterlyReturn.state.in_(REPORTED))
        .group_by(Task.code)
    }
