"""State changes of reporting periods and quarterly completion forms (季度完成情况报送表).

Every change is one function here, shared by the web pages, the JSON API, the CLI and the
scheduler. Each validates everything first, then writes and commits once; a refused change
raises :class:`ReturnError` and leaves the database as it was.
"""

import datetime
import time
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import case, func, inspect, type_coerce
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from .. import handoff
from ..extensions import db
from ..models import AuditEntry, HalfYearSummary, Plan, Section, Task, TaskDepartment, TaskGroup
from ..models.base import is_lock_conflict
from ..models.plan import marked_title
from ..models.returns import (
    Channel,
    CountKind,
    LineStatus,
    PeriodKind,
    QuarterlyReturn,
    ReportingPeriod,
    ReturnCount,
    ReturnLine,
    ReturnState,
    default_due,
)
from ..plans.operations import plan_departments
from ..timeutil import now_utc, today

MAX_TEXT = 5000
#: A due date further than this after the period (or, for a correction, after today) is a typo.
MAX_DUE_AFTER = datetime.timedelta(days=366)
MAX_COUNT = 1_000_000


class ReturnError(Exception):
    """A form operation was refused.

    ``code`` is stable for the API (``conflict``, ``not_editable``, ``invalid``, ``forbidden``),
    ``message`` is English (CLI, API), ``zh`` is the message a person sees in the UI, and
    ``fields`` maps the fields at fault to what is wrong with each.
    """

    def __init__(self, code, message, zh, fields=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.zh = zh
        self.fields = fields or {}

    @classmethod
    def invalid(cls, errors):
        """Return the error of a save whose fields ``errors`` (field: what is wrong) refuses."""
        listed = "; ".join(f"{k}: {v}" for k, v in errors.items())
        return cls("invalid", f"some fields are not valid: {listed}", "部分内容填写有误，请按提示修改。", errors)


@contextmanager
def writing(noun_zh="报送表"):
    """Commit what the block writes; on any error roll back, and report a lost version race as 409."""
    try:
        yield
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise _stale(noun_zh) from None
    except OperationalError as exc:
        db.session.rollback()
        if not is_lock_conflict(exc):
            raise
        raise _stale(noun_zh) from None
    except Exception:
        db.session.rollback()
        raise


def _stale(noun_zh="报送表"):
    return ReturnError(
        "conflict",
        "it was changed by someone else since you opened it; reload it and apply your changes again",
        f"该{noun_zh}已被他人修改，您的保存未生效。请刷新页面，在最新内容上重新修改。",
    )


# --- periods ------------------------------------------------------------------------------


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
    issued = plan.issued_on
    first = (issued.month - 1) // 3 + 1 if issued and issued.year == plan.year else 1
    existing = {(p.kind, p.number): p for p in ReportingPeriod.query.filter_by(plan_id=plan.id)}
    for quarter in range(first, 5):
        start, end = _quarter_bounds(plan.year, quarter)
        _period(plan, existing, PeriodKind.QUARTER, quarter, start, end)
    for half in sorted({1 if q <= 2 else 2 for q in range(first, 5)}):
        start = datetime.date(plan.year, 1 if half == 1 else 7, 1)
        end = datetime.date(plan.year, 6, 30) if half == 1 else datetime.date(plan.year, 12, 31)
        _period(plan, existing, PeriodKind.HALF, half, start, end)
    db.session.flush()
    # Who reports on what is the same every quarter: work it out once per plan.
    assigned = [(d, department_tasks(plan, d)) for d in plan_departments(plan)]
    for period in existing.values():
        if period.kind is PeriodKind.QUARTER:
            _ensure_returns(period, assigned)
        else:
            _ensure_summaries(period, [d for d, _ in assigned])
    if commit:
        db.session.commit()
    return sorted(existing.values(), key=lambda p: (p.kind.value, p.number))


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
    have = {line.task_id for line in report.lines}
    for position, task in enumerate(tasks, 1):
        if task.id not in have:
            report.lines.append(ReturnLine(task=task, position=position))
    positions = {task.id: i for i, task in enumerate(tasks, 1)}
    # Lines kept for tasks the department no longer reports on (withdrawn ones, say) follow, in
    # their order. The lines just added (no task_id until flushed) have their places already.
    others = [line for line in report.lines if line.task_id is not None and line.task_id not in positions]
    others.sort(key=lambda line: line.position)
    positions.update((line.task_id, i) for i, line in enumerate(others, len(tasks) + 1))
    for line in report.lines:
        if line.task_id in positions and line.position != positions[line.task_id]:
            line.position = positions[line.task_id]


def set_period_due(period, due_on):
    """Change a period's due date (audited); forms not yet returned for correction follow it."""
    if due_on < period.ends_on:
        raise ReturnError(
            "invalid",
            f"the due date {due_on} is before the period ends ({period.ends_on})",
            f"截止日期不能早于报送期结束日（{period.ends_on}）。",
            {"due_on": "before the end of the period"},
        )
    latest = period.ends_on + MAX_DUE_AFTER
    if due_on > latest:
        raise ReturnError(
            "invalid",
            f"the due date {due_on} is more than a year after the period ends (latest {latest})",
            f"截止日期不能晚于报送期结束后一年（{latest}），请检查年份是否填错。",
            {"due_on": "more than a year after the period ends"},
        )
    period.due_on = due_on
    db.session.commit()


# --- the form -----------------------------------------------------------------------------


def _text(value, field, errors):
    if not isinstance(value, str) or "\x00" in value:  # PostgreSQL text cannot hold NUL
        errors[field] = "must be text"
        return ""
    if len(value) > MAX_TEXT:
        errors[field] = f"at most {MAX_TEXT} characters"
    return value.strip()


def _validated(report, data):
    """Check a save's payload; return ``(header, lines, counts)`` or raise ReturnError (422)."""
    errors = {}
    header = _validated_header(data, errors)
    lines = _validated_lines(report, data.get("lines", []), errors)
    counts = _validated_counts(data.get("counts", {}), errors)
    if errors:
        raise ReturnError.invalid(errors)
    return header, lines, counts


def _validated_header(data, errors):
    """Return the form's header fields given (填报人, 联系电话, 审核人), noting any too long in ``errors``."""
    header = {}
    for field, limit in (("filled_by_name", 50), ("filled_by_phone", 30), ("approved_by", 50)):
        if field in data:
            header[field] = _text(data[field], field, errors)
            if len(header[field]) > limit:
                errors[field] = f"at most {limit} characters"
    return header


def _validated_lines(report, raw_lines, errors):
    """Return ``[(line, values)]`` for the lines given, by task code, noting what is wrong in ``errors``."""
    if not isinstance(raw_lines, list):
        errors["lines"] = "must be a list"
        return []
    lines_by_code = {line.task.code: line for line in report.lines}
    lines = []
    for index, raw in enumerate(raw_lines):
        where = f"lines[{index}]"
        if not isinstance(raw, dict):
            errors[where] = "must be an object"
            continue
        code = raw.get("task_code")
        line = lines_by_code.get(code) if isinstance(code, str) else None
        if line is None:
            errors[f"{where}.task_code"] = "not a task of this form"
            continue
        lines.append((line, _validated_line(raw, where, errors)))
    return lines


def _validated_line(raw, where, errors):
    """Return the values one line sets: its 进展 and its texts."""
    values = {}
    if "status" in raw:
        status = raw["status"]
        if status in (None, ""):
            values["status"] = None
        elif isinstance(status, str) and status in LineStatus._value2member_map_:
            values["status"] = LineStatus(status)
        else:
            errors[f"{where}.status"] = "one of " + ", ".join(s.value for s in LineStatus)
    for field in ("done", "problems", "next_steps"):
        if field in raw:
            values[field] = _text(raw[field], f"{where}.{field}", errors)
    return values


def _validated_counts(raw_counts, errors):
    """Return ``{(kind, channel): number}`` of the counts given (信息报送数, 发布数 by channel)."""
    if not isinstance(raw_counts, dict):
        errors["counts"] = "must be an object"
        return {}
    counts = {}
    for kind, channels in raw_counts.items():
        if kind not in CountKind._value2member_map_ or not isinstance(channels, dict):  # keys are strings
            errors[f"counts.{kind}"] = "unknown kind (submitted or published, each an object of channels)"
            continue
        for channel, value in channels.items():
            field = f"counts.{kind}.{channel}"
            if channel not in Channel._value2member_map_:
                errors[field] = "unknown channel"
            elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
                errors[field] = f"a whole number from 0 to {MAX_COUNT}"
            else:
                counts[(CountKind(kind), Channel(channel))] = value
    return counts


def lock(record):
    """Lock a form's or summary's row for this transaction (``SELECT … FOR UPDATE``) and read it afresh.

    Every change to a form takes this lock before it touches any of the form's rows, so two
    writers queue on one row in one order instead of locking lines, counts and the form in
    opposite orders and deadlocking. SQLite, which has one writer at a time, needs no lock.
    """
    columns = [attr.key for attr in inspect(record).mapper.column_attrs]
    with db.session.no_autoflush:
        # The columns only: the lines and counts already loaded stay, so a save reads no more for a bigger form.
        db.session.refresh(record, attribute_names=columns, with_for_update=True)


def check_editable(report, expected_version):
    """Lock the form or summary, then refuse a change if it moved on since it was read or is not editable."""
    lock(report)
    if expected_version is not None and int(expected_version) != report.version:
        raise _stale(report.noun_zh)
    if not report.is_editable:
        raise ReturnError(
            "not_editable",
            f"it is {report.state.value} and cannot be changed",
            f"该{report.noun_zh}当前状态为“{report.state.label}”，不能修改。",
        )


def _apply(report, data, expected_version):
    """Validate ``data`` and write it into the session (not committed)."""
    check_editable(report, expected_version)
    header, lines, counts = _validated(report, data)
    for field, value in header.items():
        setattr(report, field, value)
    for line, values in lines:
        for field, value in values.items():
            setattr(line, field, value)
    existing = {(c.kind, c.channel): c for c in report.counts}
    for key, value in counts.items():
        if key in existing:
            existing[key].value = value
        else:
            report.counts.append(ReturnCount(kind=key[0], channel=key[1], value=value))
    # Touch the form itself so its version moves on even when only lines changed.
    report.updated_at = now_utc()


def save_return(report, data, expected_version):
    """Save a draft (or a returned form being corrected): header fields, lines by task code, counts.

    ``expected_version`` is the version the editor read; if the form moved on since, the save is
    refused and nothing is written, so one person's text never overwrites another's.
    """
    with writing(report.noun_zh):
        _apply(report, data, expected_version)
    return report


def save_and_submit(report, data, expected_version, user):
    """Save what the form says and submit it, in one transaction: if it is incomplete, nothing is saved."""
    with writing(report.noun_zh):
        _apply(report, data, expected_version)
        db.session.flush()
        _submit(report, user)
    return report


def missing_for_submit(report):
    """Return what a form lacks before it can be submitted, by field; a withdrawn task's line may stay empty."""
    errors = {}
    for field, label in (("filled_by_name", "填报人"), ("filled_by_phone", "联系电话"), ("approved_by", "审核人")):
        if not getattr(report, field):
            errors[field] = f"required ({label})"
    codes = dict(
        db.session.query(Task.id, Task.code).filter(
            Task.id.in_({line.task_id for line in report.lines}), Task.withdrawn_at.is_(None)
        )
    )
    for index, line in enumerate(report.lines):
        if line.task_id not in codes:
            continue
        if line.status is None:
            errors[f"lines[{index}].status"] = f"required (task {codes[line.task_id]})"
        elif line.status is not LineStatus.NOT_STARTED and not line.done:
            errors[f"lines[{index}].done"] = f"required unless not started (task {codes[line.task_id]})"
    return errors


def lacking_tasks(report_ids):
    """Return ``{form id: [task code, …]}``: the lines that keep each form from being submitted, in one query.

    The rule is :func:`missing_for_submit`'s, stated in SQL for many forms at once (the chase names
    what each form lacks): a line of a task still in force with no 进展, or started with no 完成情况.
    """
    lacking = {}
    report_ids = sorted(report_ids)
    for start in range(0, len(report_ids), 500):  # a bounded IN list, however many forms
        rows = db.session.execute(
            db.select(ReturnLine.return_id, Task.code)
            .join(Task, Task.id == ReturnLine.task_id)
            .where(
                ReturnLine.return_id.in_(report_ids[start : start + 500]),
                Task.withdrawn_at.is_(None),
                db.or_(
                    ReturnLine.status.is_(None),
                    db.and_(ReturnLine.status != LineStatus.NOT_STARTED, func.coalesce(ReturnLine.done, "") == ""),
                ),
            )
            .order_by(ReturnLine.return_id, ReturnLine.id)
        )
        for report_id, code in rows:
            lacking.setdefault(report_id, []).append(code)
    return lacking


def content_of(report):
    """Return the form's content as plain values (what a version keeps)."""
    return {
        "filled_by_name": report.filled_by_name,
        "filled_by_phone": report.filled_by_phone,
        "approved_by": report.approved_by,
        "lines": [
            {
                "task_code": line.task.code,
                "task_title": line.task.title,
                "status": line.status.value if line.status else None,
                "done": line.done,
                "problems": line.problems,
                "next_steps": line.next_steps,
                "evidence": [e.original_name for e in line.evidence],
            }
            for line in report.lines
        ],
        "counts": {
            kind.value: {channel.value: report.count(kind, channel) for channel in Channel} for kind in CountKind
        },
    }


def submit_return(report, user, expected_version=None):
    """Submit the form for review; every line needs a status, and what was done unless 未启动.

    The first submission is measured against the period's due date, a correction against the
    new due date it was returned with; each submission is kept as a version.
    """
    check_editable(report, expected_version)
    with writing(report.noun_zh):
        _submit(report, user)
    return report


def _submit(report, user):
    record_submission(report, user, missing_for_submit(report), content_of)


def record_submission(report, user, errors, content):
    """Submit a form or summary whose missing fields are ``errors``; keep ``content(report)`` as a version.

    The first submission is measured against the period's due date, a correction against the
    new due date it was returned with. Writes into the session; the caller commits.
    """
    if errors:
        raise ReturnError(
            "invalid",
            "it is not complete: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
            f"{report.noun_zh}尚未填写完整，请补全标红的内容后再报送。",
            errors,
        )
    version_class = type(report).versions.property.mapper.class_
    event_class = type(report).events.property.mapper.class_
    moment = now_utc()
    is_correction = report.state is ReturnState.RETURNED
    due = report.due_on
    is_late = today() > due
    if report.first_submitted_at is None:
        report.first_submitted_at = moment
        report.is_first_late = is_late
    report.last_submitted_at = moment
    report.state = ReturnState.SUBMITTED
    report.versions.append(
        version_class(
            number=len(report.versions) + 1,
            is_correction=is_correction,
            submitted_at=moment,
            submitted_by_id=user.id if user else None,
            due_on=due,
            is_late=is_late,
            content=content(report),
        )
    )
    report.events.append(
        event_class(action="resubmit" if is_correction else "submit", at=moment, actor_id=user.id if user else None)
    )
    handoff.notify(report, "submitted", is_correction=is_correction)


def review_return(report, user, decision, reason=None, due_on=None, line_comments=None):
    """Accept a submitted form or summary (it is then locked), or return it with a reason and a new due date.

    A form returned may carry ``line_comments`` ({task code: text}), shown to the department beside
    those lines; a return without them clears the last return's.
    """
    if report.state is not ReturnState.SUBMITTED:
        raise ReturnError(
            "not_editable",
            f"only a submitted {type(report).__name__} can be reviewed; this one is {report.state.value}",
            f"只有“已报送”的{report.noun_zh}可以审核，当前为“{report.state.label}”。",
        )
    moment = now_utc()
    with writing(report.noun_zh):
        _review(report, user, decision, reason, due_on, moment)
        if decision == "return" and isinstance(report, QuarterlyReturn):
            _comment_lines(report, line_comments or {})
    return report


def accept_all(records, user):
    """Accept each submitted form or summary of ``records`` (the office's bulk 审核通过); return (accepted, skipped).

    Each is accepted in its own transaction, as if one by one: one that is no longer submitted
    (returned or accepted meanwhile by someone else) is skipped, never changed.
    """
    accepted, skipped = [], []
    for record in records:
        try:
            review_return(record, user, "accept")
        except ReturnError:
            skipped.append(record)
        else:
            accepted.append(record)
    return accepted, skipped


def _comment_lines(report, comments):
    """Put the office's comments beside the lines they are about; refuse a code the form does not have."""
    codes = {line.task.code: line for line in report.lines}
    unknown = sorted(set(comments) - set(codes))
    too_long = sorted(code for code, text in comments.items() if not isinstance(text, str) or len(text) > 2000)
    if unknown or too_long:
        fields = {f"line_comments.{code}": "no such line" for code in unknown}
        fields.update({f"line_comments.{code}": "text of at most 2000 characters" for code in too_long})
        raise ReturnError("invalid", "; ".join(f"{k}: {v}" for k, v in fields.items()), "逐项意见有误。", fields)
    for code, line in codes.items():
        line.review_comment = (comments.get(code) or "").strip() or None


def _review(report, user, decision, reason, due_on, moment):
    if isinstance(decision, str) and decision == "accept":
        report.state = ReturnState.ACCEPTED
        report.accepted_at = moment
        report.events.append(_event(report, action="accept", at=moment, actor_id=user.id))
        handoff.notify(report, "accepted")
    elif isinstance(decision, str) and decision == "return":
        _return(report, user, reason, due_on, "return", moment)
    else:
        raise ReturnError(
            "invalid", "decision must be accept or return", "请选择通过或退回。", {"decision": "accept or return"}
        )


def _return(report, user, reason, due_on, action, moment):
    errors = {}
    reason = (reason or "").strip() if isinstance(reason, str) and "\x00" not in reason else ""
    if not reason:
        errors["reason"] = "required when returning a form"
    if due_on is not None and not isinstance(due_on, str | datetime.date):
        errors["due_on"] = "a date as YYYY-MM-DD"
        due_on = None
    if isinstance(due_on, str):
        try:
            due_on = datetime.date.fromisoformat(due_on)
        except ValueError:
            errors["due_on"] = "a date as YYYY-MM-DD"
            due_on = None
    if due_on is None and "due_on" not in errors:
        errors["due_on"] = "required when returning a form"
    elif due_on is not None and due_on < today():
        errors["due_on"] = "must not be in the past"
    elif due_on is not None and due_on > today() + MAX_DUE_AFTER:
        errors["due_on"] = "must be within a year from today"
    if errors:
        raise ReturnError(
            "invalid",
            "; ".join(f"{k}: {v}" for k, v in errors.items()),
            "修改截止日期不能晚于一年之后，请检查年份是否填错。"
            if errors.get("due_on") == "must be within a year from today"
            else "退回时须填写退回原因和不早于今天的修改截止日期。",
            errors,
        )
    report.state = ReturnState.RETURNED
    report.return_reason = reason
    report.correction_due_on = due_on
    report.returned_count += 1
    report.events.append(_event(report, action=action, at=moment, actor_id=user.id, reason=reason, due_on=due_on))
    handoff.notify(report, "returned", reason=reason, due_on=due_on, reopened=action == "reopen")


def _event(report, **values):
    return type(report).events.property.mapper.class_(**values)


def reopen_return(report, user, reason, due_on):
    """Reopen an accepted form or summary for correction, with a reason and a new due date."""
    if report.state is not ReturnState.ACCEPTED:
        raise ReturnError(
            "not_editable",
            "only an accepted form or summary can be reopened",
            f"只有“已通过”的{report.noun_zh}可以重新打开。",
        )
    with writing(report.noun_zh):
        _return(report, user, reason, due_on, "reopen", now_utc())
        report.accepted_at = None
        if isinstance(report, QuarterlyReturn):
            _comment_lines(report, {})  # the last return's comments are about another version
    return report


# --- reading ------------------------------------------------------------------------------


def previous_return(report):
    """Return the same department's form for the quarter before, in the same plan, or None."""
    return (
        QuarterlyReturn.query.join(ReportingPeriod)
        .filter(
            ReportingPeriod.plan_id == report.period.plan_id,
            ReportingPeriod.kind == PeriodKind.QUARTER,
            ReportingPeriod.number == report.period.number - 1,
            QuarterlyReturn.department_id == report.department_id,
        )
        .one_or_none()
    )


def compare_versions(old, new):
    """Return, per task code, the fields whose text differs between two contents (a version, or the live form)."""
    old_lines = {line["task_code"]: line for line in old["lines"]}
    changes = {}
    for line in new["lines"]:
        before = old_lines.get(line["task_code"], {})
        fields = [f for f in ("status", "done", "problems", "next_steps") if before.get(f) != line.get(f)]
        if fields:
            changes[line["task_code"]] = fields
    return changes


def copied_lines(report, previous):
    """Return the task codes whose non-empty 完成情况 is word for word the previous quarter's."""
    if previous is None:
        return set()
    before = dict(
        db.session.query(ReturnLine.task_id, ReturnLine.done).filter(ReturnLine.return_id == previous.id).all()
    )
    return {line.task.code for line in report.lines if line.done and before.get(line.task_id) == line.done}


def department_returns(department, plan=None):
    """Return a department's quarterly forms, newest period first."""
    query = QuarterlyReturn.query.join(ReportingPeriod).filter(QuarterlyReturn.department_id == department.id)
    if plan is not None:
        query = query.filter(ReportingPeriod.plan_id == plan.id)
    return query.order_by(ReportingPeriod.starts_on.desc()).all()


def cell_state(report, today_):
    """Return the dashboard state of a form: not_due, draft, submitted, returned, accepted or overdue."""
    if report.is_editable and today_ > report.due_on:
        return "overdue"
    if report.state is ReturnState.DRAFT:
        return "draft" if report.version > 1 else "not_due"
    return report.state.value


CELL_LABELS = {
    "not_due": "未到期",
    "draft": "填报中",
    "submitted": "已报送",
    "returned": "退回修改",
    "accepted": "已通过",
    "overdue": "逾期未报",
}


def _rate(part, whole):
    return round(100 * part / whole) if whole else None


def row_state(row, due_on, today_):
    """Return the dashboard state of a form read as a plain row, its state as text or enum (see :func:`cell_state`)."""
    state = row.state
    if state == "draft":
        if today_ > due_on:
            return "overdue"
        return "draft" if row.version > 1 else "not_due"
    if state == "returned" and today_ > (row.correction_due_on or due_on):
        return "overdue"
    return str(state)


#: How long a kept dashboard may be reused at most, even when nothing seems to have changed.
CACHE_SECONDS = 60

#: Departments per page of the dashboard's matrix and counts table.
DASHBOARD_PAGE_SIZE = 50


def _rate_sums(today_, *group_by):
    """Return the columns that count a group's expected, submitted and on-time forms."""
    submitted = QuarterlyReturn.first_submitted_at.isnot(None)
    return (
        *group_by,
        func.sum(case((db.or_(submitted, ReportingPeriod.due_on < today_), 1), else_=0)).label("expected"),
        func.sum(case((submitted, 1), else_=0)).label("submitted"),
        func.sum(case((db.and_(submitted, QuarterlyReturn.is_first_late.is_(False)), 1), else_=0)).label("on_time"),
    )


def _rates(row):
    expected, submitted, on_time = (
        (int(row.expected or 0), int(row.submitted or 0), int(row.on_time or 0)) if row else (0, 0, 0)
    )
    return {
        "expected": expected,
        "submitted": submitted,
        "on_time": on_time,
        "late": submitted - on_time,
        "reporting_rate": _rate(submitted, expected),
        "on_time_rate": _rate(on_time, expected),
    }


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
    shown = [d for d in departments if d.id == department_id] if department_id else departments
    period_ids = [p.id for p in periods]

    def forms():
        query = db.session.query(QuarterlyReturn).join(ReportingPeriod).filter(ReportingPeriod.id.in_(period_ids))
        return query.filter(QuarterlyReturn.department_id == department_id) if department_id else query

    by_period = {
        row.period_id: row
        for row in forms()
        .with_entities(*_rate_sums(today_, QuarterlyReturn.period_id))
        .group_by(QuarterlyReturn.period_id)
    }
    chosen = _chosen_quarter(periods, by_period, quarter)
    if state in STATE_FILTERS and chosen is not None:
        shown = _in_state(shown, chosen, STATE_FILTERS[state][1], today_)
    pages = max(1, -(-len(shown) // DASHBOARD_PAGE_SIZE))
    page = min(max(1, page or 1), pages)
    on_page = shown[(page - 1) * DASHBOARD_PAGE_SIZE : page * DASHBOARD_PAGE_SIZE]
    page_ids = [d.id for d in on_page]
    by_department = {
        row.department_id: row
        for row in forms()
        .filter(QuarterlyReturn.department_id.in_(page_ids))
        .with_entities(*_rate_sums(today_, QuarterlyReturn.department_id))
        .group_by(QuarterlyReturn.department_id)
    }
    matrix = _matrix(on_page, periods, by_department, today_)
    all_sections = _progress(plan, chosen, department_id)
    progress = [s for s in all_sections if s["id"] == section_id] or all_sections
    return {
        "periods": periods,
        "chosen": chosen,
        "departments": departments,
        "shown": len(shown),
        "state": state if state in STATE_FILTERS else None,
        "section_id": section_id if progress is not all_sections else None,
        "all_sections": all_sections,
        "page": page,
        "pages": pages,
        "matrix": matrix,
        "per_quarter": [{"period": p, **_rates(by_period.get(p.id))} for p in periods],
        "progress": progress,
        "counts": _counts(chosen, on_page, department_id),
        "today": today_,
    }


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
        row.department_id: row_state(row, chosen.due_on, today_)
        for row in db.session.query(
            QuarterlyReturn.department_id,
            type_coerce(QuarterlyReturn.state, db.String).label("state"),
            QuarterlyReturn.version,
            QuarterlyReturn.correction_due_on,
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
                    "state": row_state(row, p.due_on, today_),
                    "late": bool(row.is_first_late),
                    "returned": row.returned_count,
                }
            )
        matrix.append({"department": d, "cells": row_cells, "rates": _rates(by_department.get(d.id))})
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
        query = (
            db.session.query(
                ReturnLine.task_id,
                func.count(),
                func.sum(case((ReturnLine.status == LineStatus.DONE, 1), else_=0)),
            )
            .join(QuarterlyReturn, QuarterlyReturn.id == ReturnLine.return_id)
            .filter(
                QuarterlyReturn.period_id == period.id,
                QuarterlyReturn.state.in_([ReturnState.SUBMITTED, ReturnState.ACCEPTED]),
            )
        )
        if department_id:
            query = query.filter(QuarterlyReturn.department_id == department_id)
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
                "percent": _rate(done, lines),
            }
        )
    result = list(sections.values())
    for entry in result:
        entry["percent"] = _rate(entry["done"], entry["lines"])
    return result


def _counts(period, departments, department_id=None):
    """Return the period's 报送/发布 totals for ``departments`` (a page of them) and over all.

    Only submitted and accepted forms count: a draft's numbers are not yet the department's word.
    """
    per_department, totals = {}, {CountKind.SUBMITTED: 0, CountKind.PUBLISHED: 0}
    if period is not None:
        query = (
            db.session.query(QuarterlyReturn.department_id, ReturnCount.kind, func.sum(ReturnCount.value))
            .join(ReturnCount, ReturnCount.return_id == QuarterlyReturn.id)
            .filter(
                QuarterlyReturn.period_id == period.id,
                QuarterlyReturn.state.in_([ReturnState.SUBMITTED, ReturnState.ACCEPTED]),
            )
        )
        if department_id:
            query = query.filter(QuarterlyReturn.department_id == department_id)
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


def plan_for_year(year):
    """Return the plan of ``year``, or the newest plan when ``year`` is None."""
    if year is not None:
        return Plan.query.filter_by(year=year).one_or_none()
    return Plan.query.order_by(Plan.year.desc()).first()
