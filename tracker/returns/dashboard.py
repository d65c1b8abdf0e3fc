"""The office dashboard (报送情况): rates per quarter, the departments × quarters matrix, progress and counts."""

import time

from flask import current_app
from sqlalchemy import case, func, type_coerce

from ..extensions import db
from ..models import AuditEntry, Section, Task, TaskGroup
from ..models.plan import marked_title, plan_departments
from ..models.returns import (
    CountKind,
    LineStatus,
    PeriodKind,
    QuarterlyReturn,
    ReportingPeriod,
    ReturnCount,
    ReturnLine,
)
from ..timeutil import today
from ..workflow import REPORTED, rate, rate_columns, rates, standing

#: How long a kept dashboard may be reused at most, even when nothing seems to have changed.
CACHE_SECONDS = 60


#: Departments per page of the dashboard's matrix and counts table.
DASHBOARD_PAGE_SIZE = 50


#: The dashboard's state filter: what the office looks for, and the cell states that are it.
STATE_FILTERS = {
    "unreported": ("未报", ("not_due", "draft", "overdue")),
    "submitted": ("待审核", ("submitted",)),
    "returned": ("退回", ("returned",)),
    "accepted": ("通过", ("accepted",)),
    "overdue": ("逾期", ("overdue",)),
}


def dashboard(plan, quarter=None, department_id=None, page=1, state=None, section_id=None):
    """Return :func:`compute_dashboard`'s data, reusing this worker's last result while nothing changed.

    Every change to the data adds a row to the audit trail. The trail's highest id and the number
    of rows among its last thousand ids, with today's date (forms become overdue by the calendar
    alone), tell whether a kept result is still true; the check is one indexed query. Counting the
    recent rows catches a transaction that took a lower id but committed after a higher one (on
    PostgreSQL ids are handed out at insert, not at commit); a kept result is also dropped after
    CACHE_SECONDS whatever the stamp says. The cache lives on the app, one per worker.
    """
    cache = current_app.extensions.setdefault("tracker_dashboard_cache", {})
    latest = db.session.query(func.max(AuditEntry.id)).scalar_subquery()
    recent = db.session.query(func.max(AuditEntry.id), func.count()).filter(AuditEntry.id > latest - 1000).one()
    stamp = (today(), *recent)
    key = (plan.id, quarter, department_id, page, state, section_id)
    kept = cache.get(key)
    now = time.monotonic()
    if kept is not None and kept[0] == stamp and now - kept[1] < CACHE_SECONDS:
        return kept[2]
    data = compute_dashboard(plan, quarter, department_id, page, state, section_id)
    if len(cache) >= 64:
        cache.clear()
    cache[key] = (stamp, now, data)
    return data


def compute_dashboard(plan, quarter=None, department_id=None, page=1, state=None, section_id=None):
    """Gather the office dashboard for ``plan`` in a fixed number of queries, whatever its size.

    Returns reporting and on-time rates per quarter, one page of the departments × quarters
    matrix with each department's rates and 报送/发布 counts, completion per section and per task
    in the chosen quarter (default: the latest quarter with a submission, else the first), and
    the quarter's count totals. Counting is done by the database; forms are read as plain rows,
    and only for the departments on the page. ``state`` (a key of STATE_FILTERS) keeps the departments
    whose form for the chosen quarter is in that state; ``section_id`` narrows the progress to a section.
    """
    today_ = today()
    periods = (
        ReportingPeriod.query.filter_by(plan_id=plan.id, kind=PeriodKind.QUARTER).order_by(ReportingPeriod.number).all()
    )
    departments = plan_departments(plan, rows=True)
    forms = _forms_of(periods, department_id)
    by_period = _rates_by(forms, QuarterlyReturn.period_id, today_)
    chosen = _chosen_quarter(periods, by_period, quarter)
    shown = _shown(departments, department_id, chosen, state, today_)
    page, pages, on_page = _page_of(shown, page)
    page_forms = forms.filter(QuarterlyReturn.department_id.in_([d.id for d in on_page]))
    by_department = _rates_by(page_forms, QuarterlyReturn.department_id, today_)
    all_sections = _progress(plan, chosen, department_id)
    progress = [s for s in all_sections if s["id"] == section_id]
    return {
        "periods": periods,
        "chosen": chosen,
        "departments": departments,
        "shown": len(shown),
        "state": state if state in STATE_FILTERS else None,
        "section_id": section_id if progress else None,
        "all_sections": all_sections,
        "page": page,
        "pages": pages,
        "matrix": _matrix(on_page, periods, by_department, today_),
        "per_quarter": [{"period": p, **rates(by_period.get(p.id))} for p in periods],
        "progress": progress or all_sections,
        "counts": _counts(chosen, on_page, department_id),
        "today": today_,
    }


def _shown(departments, department_id, chosen, state, today_):
    """Return the departments the dashboard shows: one, given ``department_id``; those in ``state``, given one."""
    shown = [d for d in departments if d.id == department_id] if department_id else departments
    if state in STATE_FILTERS and chosen is not None:
        shown = _in_state(shown, chosen, STATE_FILTERS[state][1], today_)
    return shown


def _page_of(shown, page):
    """Return ``(page, pages, departments on it)``: the page asked for, kept within the pages there are."""
    pages = max(1, -(-len(shown) // DASHBOARD_PAGE_SIZE))
    page = min(max(1, page or 1), pages)
    return page, pages, shown[(page - 1) * DASHBOARD_PAGE_SIZE : page * DASHBOARD_PAGE_SIZE]


def _forms_of(periods, department_id=None):
    """Return the query of the forms of ``periods`` (of one department's only, given ``department_id``)."""
    query = (
        db.session.query(QuarterlyReturn).join(ReportingPeriod).filter(ReportingPeriod.id.in_([p.id for p in periods]))
    )
    return query.filter(QuarterlyReturn.department_id == department_id) if department_id else query


def _rates_by(forms, column, today_):
    """Return ``{value of column: rate_columns row}`` counting ``forms`` grouped by ``column``."""
    return {row[0]: row for row in forms.with_entities(*rate_columns(today_, column)).group_by(column)}


def _chosen_quarter(periods, by_period, quarter):
    """Return the quarter asked for; else the latest with a submission; else the first (None if there is none)."""
    chosen = next((p for p in periods if p.number == quarter), None) if quarter else None
    if chosen is None:
        reported = [p for p in periods if by_period.get(p.id) is not None and by_period[p.id].submitted]
        chosen = reported[-1] if reported else (periods[0] if periods else None)
    return chosen


def _in_state(shown, chosen, wanted, today_):
    """Return the departments of ``shown`` whose form for ``chosen`` is in one of the ``wanted`` states."""
    states = {
        row.department_id: standing(row, chosen.due_on, today_).state
        for row in db.session.query(
            QuarterlyReturn.department_id,
            type_coerce(QuarterlyReturn.state, db.String).label("state"),
            QuarterlyReturn.version,
            QuarterlyReturn.correction_due_on,
            QuarterlyReturn.first_submitted_at,
            QuarterlyReturn.is_first_late,
        ).filter(QuarterlyReturn.period_id == chosen.id)
    }
    return [d for d in shown if states.get(d.id) in wanted]


def _matrix(on_page, periods, by_department, today_):
    """Return the page's rows of the departments × quarters matrix: each cell's form state, and the rates."""
    cells = {
        (row.department_id, row.period_id): row
        for row in db.session.query(
            QuarterlyReturn.id,
            QuarterlyReturn.department_id,
            QuarterlyReturn.period_id,
            # Read as text: converting many values to the enum costs more than the query.
            type_coerce(QuarterlyReturn.state, db.String).label("state"),
            QuarterlyReturn.version,
            QuarterlyReturn.first_submitted_at,
            QuarterlyReturn.is_first_late,
            QuarterlyReturn.returned_count,
            QuarterlyReturn.correction_due_on,
        ).filter(
            QuarterlyReturn.period_id.in_([p.id for p in periods]),
            QuarterlyReturn.department_id.in_([d.id for d in on_page]),
        )
    }
    matrix = []
    for d in on_page:
        row_cells = []
        for p in periods:
            row = cells.get((d.id, p.id))
            row_cells.append(
                None
                if row is None
                else {
                    "id": row.id,
                    "state": standing(row, p.due_on, today_).state,
                    "late": bool(row.is_first_late),
                    "returned": row.returned_count,
                }
            )
        matrix.append({"department": d, "cells": row_cells, "rates": rates(by_department.get(d.id))})
    return matrix


def _progress(plan, period, department_id=None):
    """Share of reported lines marked 已完成, per task and per section, in submitted or accepted forms."""
    tasks = (
        db.session.query(Task.id, Task.code, Task.title, Task.withdrawn_at, TaskGroup.section_id)
        .join(TaskGroup, TaskGroup.id == Task.group_id)
        .filter(Task.plan_id == plan.id)
        .order_by(Task.position)
        .all()
    )
    stats = {t.id: [0, 0] for t in tasks}
    if period is not None:
        query = _reported(
            db.session.query(
                ReturnLine.task_id,
                func.count(),
                func.sum(case((ReturnLine.status == LineStatus.DONE, 1), else_=0)),
            ).join(QuarterlyReturn, QuarterlyReturn.id == ReturnLine.return_id),
            period,
            department_id,
        )
        for task_id, lines, done in query.group_by(ReturnLine.task_id):
            stats[task_id] = [int(lines), int(done or 0)]
    sections = {
        s.id: {"id": s.id, "numeral": s.numeral, "title": s.title, "lines": 0, "done": 0, "tasks": []}
        for s in Section.query.filter_by(plan_id=plan.id).order_by(Section.number)
    }
    for task in tasks:
        entry = sections[task.section_id]
        lines, done = stats[task.id]
        entry["lines"] += lines
        entry["done"] += done
        entry["tasks"].append(
            {
                "code": task.code,
                "title": marked_title(task.title, task.withdrawn_at is not None),
                "lines": lines,
                "done": done,
                "percent": rate(done, lines),
            }
        )
    result = list(sections.values())
    for entry in result:
        entry["percent"] = rate(entry["done"], entry["lines"])
    return result


def _reported(query, period, department_id=None):
    """Keep the rows of ``query`` from ``period``'s submitted and accepted forms (one department's, given one)."""
    query = query.filter(QuarterlyReturn.period_id == period.id, QuarterlyReturn.state.in_(REPORTED))
    return query.filter(QuarterlyReturn.department_id == department_id) if department_id else query


def _counts(period, departments, department_id=None):
    """Return the period's 报送/发布 totals for ``departments`` (a page of them) and over all.

    Only submitted and accepted forms count: a draft's numbers are not yet the department's word.
    """
    per_department, totals = {}, {CountKind.SUBMITTED: 0, CountKind.PUBLISHED: 0}
    if period is not None:
        query = _reported(
            db.session.query(QuarterlyReturn.department_id, ReturnCount.kind, func.sum(ReturnCount.value)).join(
                ReturnCount, ReturnCount.return_id == QuarterlyReturn.id
            ),
            period,
            department_id,
        )
        for dept, kind, total in query.group_by(QuarterlyReturn.department_id, ReturnCount.kind):
            per_department[(dept, kind)] = int(total or 0)
            totals[kind] += int(total or 0)
    return {
        "rows": [
            {
                "department": d,
                "submitted": per_department.get((d.id, CountKind.SUBMITTED), 0),
                "published": per_department.get((d.id, CountKind.PUBLISHED), 0),
            }
            for d in departments
        ],
        "submitted": totals[CountKind.SUBMITTED],
        "published": totals[CountKind.PUBLISHED],
    }
