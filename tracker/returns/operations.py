"""State changes of quarterly completion forms (季度完成情况报送表), and what is read of them.

A form follows the review workflow of :mod:`tracker.workflow` (save, submit, review, reopen);
this module holds what is a form's own: its lines and counts, how a save is checked, what a
submission needs, and the comparisons its pages show. Each change validates everything first,
then writes and commits once; a refused change raises :class:`~tracker.workflow.WorkflowError`
and leaves the database as it was.
"""

from sqlalchemy import func

from ..extensions import db
from ..models import Task
from ..models.returns import (
    Channel,
    CountKind,
    LineStatus,
    PeriodKind,
    QuarterlyReturn,
    ReportingPeriod,
    ReturnCount,
    ReturnLine,
)
from ..timeutil import now_utc
from ..workflow import WorkflowError, check_editable, record_submission, writing

MAX_TEXT = 5000
MAX_COUNT = 1_000_000


# --- the form -----------------------------------------------------------------------------


def _text(value, field, errors):
    if not isinstance(value, str) or "\x00" in value:  # PostgreSQL text cannot hold NUL
        errors[field] = "must be text"
        return ""
    if len(value) > MAX_TEXT:
        errors[field] = f"at most {MAX_TEXT} characters"
    return value.strip()


def _validated(report, data):
    """Check a save's payload; return ``(header, lines, counts)`` or raise WorkflowError (422)."""
    errors = {}
    header = _validated_header(data, errors)
    lines = _validated_lines(report, data.get("lines", []), errors)
    counts = _validated_counts(data.get("counts", {}), errors)
    if errors:
        raise WorkflowError.invalid(errors)
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
