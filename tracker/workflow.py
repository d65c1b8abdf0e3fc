"""The review workflow that quarterly forms and half-year summaries share.

A department fills a form (or a summary) in and submits it; the office accepts it (it is then
locked) or returns it with a reason and a new due date; an accepted one can be reopened the same
way. Every save names the version it read (``expected_version``) and is refused if the record moved
on since; every submission is kept as a version and every step as an event. The rules of where a
record stands on a given day (expected, submitted, on time, overdue) are here too, once, for the
dashboard, the exports, the chase and the brief.

Each function validates first, then writes; a refused change raises :class:`WorkflowError` and
leaves the database as it was.
"""

import datetime
from dataclasses import dataclass

from sqlalchemy import case, func
from sqlalchemy import inspect as inspect_model

from . import handoff
from .errors import TrackerError
from .extensions import db
from .models.returns import QuarterlyReturn, ReportingPeriod, ReturnState
from .models.users import UserRole
from .permissions import is_office
from .timeutil import now_utc, today
from .transaction import committed, independently

#: A due date further than this after the period (or, for a correction, after today) is a typo.
MAX_DUE_AFTER = datetime.timedelta(days=366)


class WorkflowError(TrackerError):
    """A change to a form or summary was refused.

    ``code`` is ``conflict`` (someone saved in between), ``not_editable``, ``invalid``, ``too_large``
    or ``forbidden``; ``fields`` maps the fields at fault to what is wrong with each.
    """

    def __init__(self, code, message, zh, fields=None):
        super().__init__(message, zh, code=code, fields=fields)

    @classmethod
    def invalid(cls, errors):
        """Return the error of a save whose fields ``errors`` (field: what is wrong) refuses."""
        listed = "; ".join(f"{k}: {v}" for k, v in errors.items())
        return cls("invalid", f"some fields are not valid: {listed}", "部分内容填写有误，请按提示修改。", errors)


def writing(noun_zh="报送表"):
    """Commit what the block writes (see :func:`~tracker.transaction.committed`); a lost race is a conflict refusal."""
    return committed(conflict=lambda: _stale(noun_zh))


def _stale(noun_zh="报送表"):
    return WorkflowError(
        "conflict",
        "it was changed by someone else since you opened it; reload it and apply your changes again",
        f"该{noun_zh}已被他人修改，您的保存未生效。请刷新页面，在最新内容上重新修改。",
    )


def lock(record):
    """Lock a form's or summary's row for this transaction (``SELECT … FOR UPDATE``) and read it afresh.

    Every change to a form takes this lock before it touches any of the form's rows, so two
    writers queue on one row in one order instead of locking lines, counts and the form in
    opposite orders and deadlocking. SQLite, which has one writer at a time, needs no lock.
    """
    columns = [attr.key for attr in inspect_model(record).mapper.column_attrs]
    with db.session.no_autoflush:
        # The columns only: the lines and counts already loaded stay, so a save reads no more for a bigger form.
        db.session.refresh(record, attribute_names=columns, with_for_update=True)


def check_editable(report, expected_version):
    """Lock the form or summary, then refuse a change if it moved on since it was read or is not editable."""
    lock(report)
    if expected_version is not None and int(expected_version) != report.version:
        raise _stale(report.noun_zh)
    if not report.is_editable:
        raise WorkflowError(
            "not_editable",
            f"it is {report.state.value} and cannot be changed",
            f"该{report.noun_zh}当前状态为“{report.state.label}”，不能修改。",
        )


def record_submission(report, user, errors, content):
    """Submit a form or summary whose missing fields are ``errors``; keep ``content(report)`` as a version.

    The first submission is measured against the period's due date, a correction against the
    new due date it was returned with. Writes into the session; the caller commits.
    """
    if errors:
        raise WorkflowError(
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


def review(report, user, decision, reason=None, due_on=None, line_comments=None):
    """Accept a submitted form or summary (it is then locked), or return it with a reason and a new due date.

    A form returned may carry ``line_comments`` ({task code: text}), shown to the department beside
    those lines; a return without them clears the last return's.
    """
    if report.state is not ReturnState.SUBMITTED:
        raise WorkflowError(
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
            with independently():  # each in its own transaction, under a request's edge too
                review(record, user, "accept")
        except WorkflowError:
            skipped.append(record)
        else:
            accepted.append(record)
    return accepted, skipped


def _comment_lines(report, comments):
    """Put the office's comments beside the lines they are about; refuse a code the form does not have."""
    codes = {line.task.code: line for line in report.lines}
    fields = {f"line_comments.{code}": "no such line" for code in sorted(set(comments) - set(codes))}
    fields.update({f"line_comments.{code}": "text of at most 2000 characters" for code in sorted(_too_long(comments))})
    if fields:
        raise WorkflowError("invalid", "; ".join(f"{k}: {v}" for k, v in fields.items()), "逐项意见有误。", fields)
    for code, line in codes.items():
        line.review_comment = (comments.get(code) or "").strip() or None


def _too_long(comments):
    """Return the codes whose comment is not text of at most 2000 characters."""
    return [code for code, text in comments.items() if not isinstance(text, str) or len(text) > 2000]


def _review(report, user, decision, reason, due_on, moment):
    if isinstance(decision, str) and decision == "accept":
        report.state = ReturnState.ACCEPTED
        report.accepted_at = moment
        report.events.append(_event(report, action="accept", at=moment, actor_id=user.id))
        handoff.notify(report, "accepted")
    elif isinstance(decision, str) and decision == "return":
        _return(report, user, reason, due_on, "return", moment)
    else:
        raise WorkflowError(
            "invalid", "decision must be accept or return", "请选择通过或退回。", {"decision": "accept or return"}
        )


def _return(report, user, reason, due_on, action, moment):
    reason, due_on = _checked_return(reason, due_on)
    report.state = ReturnState.RETURNED
    report.return_reason = reason
    report.correction_due_on = due_on
    report.returned_count += 1
    report.events.append(_event(report, action=action, at=moment, actor_id=user.id, reason=reason, due_on=due_on))
    handoff.notify(report, "returned", reason=reason, due_on=due_on, reopened=action == "reopen")


def _checked_return(reason, due_on):
    """Return the reason and correction due date of a return, or refuse them (both are required)."""
    errors = {}
    reason = (reason or "").strip() if isinstance(reason, str) and "\x00" not in reason else ""
    if not reason:
        errors["reason"] = "required when returning a form"
    due_on, problem = _correction_due(due_on)
    if problem:
        errors["due_on"] = problem
    if errors:
        raise WorkflowError(
            "invalid",
            "; ".join(f"{k}: {v}" for k, v in errors.items()),
            "修改截止日期不能晚于一年之后，请检查年份是否填错。"
            if errors.get("due_on") == "must be within a year from today"
            else "退回时须填写退回原因和不早于今天的修改截止日期。",
            errors,
        )
    return reason, due_on


def _correction_due(value):
    """Return ``(date, None)`` for a correction due date (a date or YYYY-MM-DD), else ``(date, what is wrong)``."""
    if value is None:
        return None, "required when returning a form"
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            return None, "a date as YYYY-MM-DD"
    if not isinstance(value, datetime.date):
        return None, "a date as YYYY-MM-DD"
    if value < today():
        return value, "must not be in the past"
    if value > today() + MAX_DUE_AFTER:
        return value, "must be within a year from today"
    return value, None


def _event(report, **values):
    return type(report).events.property.mapper.class_(**values)


def reopen(report, user, reason, due_on):
    """Reopen an accepted form or summary for correction, with a reason and a new due date."""
    if report.state is not ReturnState.ACCEPTED:
        raise WorkflowError(
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


# --- who may do what -----------------------------------------------------------------------


def can_edit(user, record):
    """Only the department's own users fill in its form or summary, and only while it is a draft or returned."""
    return (
        user.is_authenticated
        and user.role is UserRole.DEPARTMENT
        and user.department_id == record.department_id
        and record.is_editable
    )


def can_review(user):
    """The office accepts, returns and reopens forms and summaries, and sets due dates."""
    return is_office(user)


# --- where a form or summary stands on a day ------------------------------------------------

#: The states whose content is the department's word: what the dashboard, exports and brief count.
REPORTED = (ReturnState.SUBMITTED, ReturnState.ACCEPTED)

#: The states a record shows on the dashboard and in the exports, as they are named there.
CELL_LABELS = {
    "not_due": "未到期",
    "draft": "填报中",
    "submitted": "已报送",
    "returned": "退回修改",
    "accepted": "已通过",
    "overdue": "逾期未报",
}

#: The colour (a Bootstrap contextual class) each state's badge is shown in.
STATE_COLORS = {
    "not_due": "secondary",
    "draft": "info",
    "submitted": "primary",
    "returned": "warning",
    "accepted": "success",
    "overdue": "danger",
}


@dataclass(frozen=True)
class Standing:
    """Where a form or summary stands on a day: the one rule the dashboard, exports, chase and brief count by."""

    #: ``not_due``, ``draft``, ``submitted``, ``returned``, ``accepted`` or ``overdue`` (see CELL_LABELS).
    state: str
    #: The date it is due now: the correction's while it is returned, else its period's.
    due_on: datetime.date
    #: Whether it counts in the reporting rate's whole: it was submitted, or its period's due date has passed.
    expected: bool
    #: Whether it was ever submitted.
    submitted: bool
    #: Whether its first submission came by its period's due date.
    on_time: bool
    #: Days past ``due_on`` while the department still owes it; 0 otherwise.
    overdue_days: int


def standing(record, period_due, today_):
    """Return the :class:`Standing` of ``record`` on ``today_``.

    ``record`` is a form or summary, or a row read with its ``state`` (text or enum), ``version``,
    ``correction_due_on``, ``first_submitted_at`` and ``is_first_late``; ``period_due`` is its
    period's due date. :func:`rate_columns` counts by the same rule in SQL.
    """
    state = str(record.state)
    due_on = record.correction_due_on if state == "returned" and record.correction_due_on else period_due
    owed = state in ("draft", "returned")
    overdue_days = (today_ - due_on).days if owed and today_ > due_on else 0
    if overdue_days:
        shown = "overdue"
    elif state == "draft":
        shown = "draft" if record.version > 1 else "not_due"
    else:
        shown = state
    submitted = record.first_submitted_at is not None
    return Standing(
        state=shown,
        due_on=due_on,
        expected=submitted or period_due < today_,
        submitted=submitted,
        on_time=submitted and record.is_first_late is False,
        overdue_days=overdue_days,
    )


def cell_state(record, today_):
    """Return the dashboard state of a form or summary (see :func:`standing`)."""
    return standing(record, record.period.due_on, today_).state


def rate(part, whole):
    """Return ``part`` as a whole percentage of ``whole``, or None when there is no whole."""
    return round(100 * part / whole) if whole else None


def rate_columns(today_, *group_by):
    """Return the columns that count a group's expected, submitted and on-time forms: :func:`standing` in SQL."""
    submitted = QuarterlyReturn.first_submitted_at.isnot(None)
    return (
        *group_by,
        func.sum(case((db.or_(submitted, ReportingPeriod.due_on < today_), 1), else_=0)).label("expected"),
        func.sum(case((submitted, 1), else_=0)).label("submitted"),
        func.sum(case((db.and_(submitted, QuarterlyReturn.is_first_late.is_(False)), 1), else_=0)).label("on_time"),
    )


def rates(row):
    """Return the counts of a :func:`rate_columns` row (or none) with the reporting and on-time rates."""
    expected, submitted, on_time = (
        (int(row.expected or 0), int(row.submitted or 0), int(row.on_time or 0)) if row else (0, 0, 0)
    )
    return {
        "expected": expected,
        "submitted": submitted,
        "on_time": on_time,
        "late": submitted - on_time,
        "reporting_rate": rate(submitted, expected),
        "on_time_rate": rate(on_time, expected),
    }
