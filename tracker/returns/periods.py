"""A plan's reporting periods (报送期) and the forms and summaries each period asks of every department."""

import datetime

from .. import transaction
from ..extensions import db
from ..models import HalfYearSummary, Plan, Task, TaskDepartment
from ..models.plan import plan_departments
from ..models.returns import PeriodKind, QuarterlyReturn, ReportingPeriod, ReturnLine, ReturnState, default_due
from ..workflow import MAX_DUE_AFTER, WorkflowError


def _quarter_bounds(year, quarter):
    start = datetime.date(year, 3 * quarter - 2, 1)
    end = (datetime.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)) - datetime.timedelta(days=1)
    return start, end


def ensure_periods(plan, commit=True):
    """Create the plan's reporting periods and every department's quarterly form; commit.

    Quarters run from the quarter of the notice's issue date (Q1 if it was issued in an earlier
    year) to Q4 of the plan year, with the half-years they fall in. A form exists from the moment
    its period does, one line per task the department leads or carries out, so the office sees
    who has not started; so does each department's half-year summary. Running it again adds only
    what is missing (e.g. after a plan revision); a withdrawn task gets no new lines, and a
    department left with only withdrawn tasks no new forms.
    """
    existing = {(p.kind, p.number): p for p in ReportingPeriod.query.filter_by(plan_id=plan.id)}
    _add_periods(plan, existing)
    db.session.flush()
    # Who reports on what is the same every quarter: work it out once per plan.
    assigned = [(d, department_tasks(plan, d)) for d in plan_departments(plan)]
    for period in existing.values():
        if period.kind is PeriodKind.QUARTER:
            _ensure_returns(period, assigned)
        else:
            _ensure_summaries(period, [d for d, _ in assigned])
    if commit:
        transaction.commit()
    return sorted(existing.values(), key=lambda p: (p.kind.value, p.number))


def _add_periods(plan, existing):
    """Add the quarters and half-years of ``plan`` missing from ``existing`` ({(kind, number): period})."""
    issued = plan.issued_on
    first = (issued.month - 1) // 3 + 1 if issued and issued.year == plan.year else 1
    for quarter in range(first, 5):
        start, end = _quarter_bounds(plan.year, quarter)
        _period(plan, existing, PeriodKind.QUARTER, quarter, start, end)
    for half in sorted({1 if q <= 2 else 2 for q in range(first, 5)}):
        start = datetime.date(plan.year, 1 if half == 1 else 7, 1)
        end = datetime.date(plan.year, 6, 30) if half == 1 else datetime.date(plan.year, 12, 31)
        _period(plan, existing, PeriodKind.HALF, half, start, end)


def _period(plan, existing, kind, number, start, end):
    if (kind, number) not in existing:
        period = ReportingPeriod(
            plan_id=plan.id, kind=kind, number=number, starts_on=start, ends_on=end, due_on=default_due(end, kind)
        )
        db.session.add(period)
        existing[(kind, number)] = period


def department_tasks(plan, department):
    """Return the tasks ``department`` reports on: those it leads or carries out, and those for all; none withdrawn."""
    named = db.session.query(TaskDepartment.task_id).filter_by(department_id=department.id)
    return (
        Task.query.filter(Task.plan_id == plan.id, Task.withdrawn_at.is_(None))
        .filter(db.or_(Task.id.in_(named), Task.is_all_departments.is_(True)))
        .order_by(Task.position)
        .all()
    )


def _ensure_returns(period, assigned):
    """Give every department in ``assigned`` (department, its tasks) a form for ``period`` with those lines."""
    reports = {r.department_id: r for r in QuarterlyReturn.query.filter_by(period_id=period.id)}
    for department, tasks in assigned:
        report = reports.get(department.id)
        if report is None and not tasks:
            continue
        if report is None:
            report = QuarterlyReturn(period=period, department=department, state=ReturnState.DRAFT)
            db.session.add(report)
        if report.is_editable:
            _sync_lines(report, tasks)


def _ensure_summaries(period, departments):
    """Give every department a half-year summary for ``period``."""
    have = {s.department_id for s in HalfYearSummary.query.filter_by(period_id=period.id)}
    for department in departments:
        if department.id not in have:
            db.session.add(HalfYearSummary(period=period, department=department, state=ReturnState.DRAFT))


def _sync_lines(report, tasks):
    """Give ``report`` a line for each of ``tasks`` it lacks, and put its lines in the tasks' order."""
    have = {line.task_id for line in report.lines}
    for position, task in enumerate(tasks, 1):
        if task.id not in have:
            report.lines.append(ReturnLine(task=task, position=position))
    positions = _line_positions(report, tasks)
    for line in report.lines:
        if line.task_id in positions and line.position != positions[line.task_id]:
            line.position = positions[line.task_id]


def _line_positions(report, tasks):
    """Return ``{task id: position}``: the tasks in order, then the lines of other tasks kept, in their order.

    Lines kept for tasks the department no longer reports on (withdrawn ones, say) follow the
    tasks. The lines just added (no task_id until flushed) have their places already.
    """
    positions = {task.id: i for i, task in enumerate(tasks, 1)}
    others = [line for line in report.lines if line.task_id is not None and line.task_id not in positions]
    others.sort(key=lambda line: line.position)
    positions.update((line.task_id, i) for i, line in enumerate(others, len(tasks) + 1))
    return positions


def set_period_due(period, due_on):
    """Change a period's due date (audited); forms not yet returned for correction follow it."""
    if due_on < period.ends_on:
        raise WorkflowError(
            "invalid",
            f"the due date {due_on} is before the period ends ({period.ends_on})",
            f"截止日期不能早于报送期结束日（{period.ends_on}）。",
            {"due_on": "before the end of the period"},
        )
    latest = period.ends_on + MAX_DUE_AFTER
    if due_on > latest:
        raise WorkflowError(
            "invalid",
            f"the due date {due_on} is more than a year after the period ends (latest {latest})",
            f"截止日期不能晚于报送期结束后一年（{latest}），请检查年份是否填错。",
            {"due_on": "more than a year after the period ends"},
        )
    period.due_on = due_on
    transaction.commit()


def plan_for_year(year):
    """Return the plan of ``year``, or the newest plan when ``year`` is None."""
    if year is not None:
        return Plan.query.filter_by(year=year).one_or_none()
    return Plan.query.order_by(Plan.year.desc()).first()
