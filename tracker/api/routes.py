"""API endpoints; each parses input, checks permission, calls one operation and answers JSON."""

import json

from flask import jsonify, request
from flask_login import current_user

from .. import workflow
from ..extensions import db
from ..models import Department, PeriodKind, QuarterlyReturn, ReportingPeriod, ReturnLine, Task, UserRole
from ..permissions import can_view_dashboard, can_view_return
from ..plans.operations import plan_as_dict
from ..returns.dashboard import dashboard
from ..returns.operations import content_of, save_return, submit_return
from ..returns.periods import plan_for_year
from ..textinput import ControlCharacter, clean_json
from ..timeutil import as_utc
from ..workflow import WorkflowError, can_edit, can_review
from . import bp, error
from .openapi import SPEC

STATUS = {"conflict": 409, "not_editable": 409, "invalid": 422, "too_large": 413}


def _failure(exc):
    return error(STATUS.get(exc.code, 400), exc.code, exc.message, exc.fields)


def return_json(report):
    """Return a form as the API's documented JSON."""
    content = content_of(report)
    return {
        "id": report.id,
        "department": report.department.name,
        "year": report.period.year,
        "quarter": report.period.number,
        "state": report.state.value,
        "version": report.version,
        "due_on": report.due_on.isoformat(),
        # In UTC with its offset, on every database (SQLite hands back times without one).
        "submitted_at": as_utc(report.last_submitted_at).isoformat() if report.last_submitted_at else None,
        "first_submitted_at": as_utc(report.first_submitted_at).isoformat() if report.first_submitted_at else None,
        "is_late": report.is_first_late,
        "returned_count": report.returned_count,
        "return_reason": report.return_reason,
        "filled_by_name": content["filled_by_name"],
        "filled_by_phone": content["filled_by_phone"],
        "approved_by": content["approved_by"],
        "lines": [
            {k: line[k] for k in ("task_code", "status", "done", "problems", "next_steps")} for line in content["lines"]
        ],
        "counts": content["counts"],
    }


def _year():
    value = request.args.get("year")
    if value is None:
        return None, None
    if not (value.isascii() and value.isdigit() and len(value) == 4 and 1900 <= int(value) <= 2999):
        return None, error(422, "invalid", "year must be a year from 1900 to 2999", {"year": "a year such as 2018"})
    return int(value), None


def _plan_or_error():
    year, failure = _year()
    if failure:
        return None, failure
    plan = plan_for_year(year)
    if plan is None:
        return None, error(404, "not_found", f"no plan for {year}" if year else "no plan loaded")
    return plan, None


def _load(report_id):
    """Load a form with everything its JSON shows in a fixed number of queries, whatever its size."""
    return db.session.get(
        QuarterlyReturn,
        report_id,
        options=[
            db.joinedload(QuarterlyReturn.period),
            db.joinedload(QuarterlyReturn.department),
            # Only what the JSON shows of a task: its long text would cost more to read than the rest.
            db.selectinload(QuarterlyReturn.lines).joinedload(ReturnLine.task).load_only(Task.code, Task.title),
            db.selectinload(QuarterlyReturn.lines).joinedload(ReturnLine.evidence),  # few: joined, not queried
            db.joinedload(QuarterlyReturn.counts),
        ],
        populate_existing=True,
    )


def _written(report, write):
    """Run ``write``, an operation that changes the form and commits; answer with the form as it is now.

    Nobody changed the form between this request's read and the write's row lock when the write
    moved its version exactly one on from what was read; then the form in memory is the form in the
    database, and it is answered without being read a second time. Otherwise it is read afresh.
    """
    read_version = report.version
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        write()
    except WorkflowError as exc:  # the operation has rolled back already
        return _failure(exc)
    finally:
        session.expire_on_commit = expire
    if report.version == read_version + 1:
        return jsonify(return_json(report))
    return _answer(report.id)


def _report(report_id):
    report = _load(report_id)
    if report is None or not can_view_return(current_user, report):
        return None, error(404, "not_found", "no such form")
    return report, None


def _answer(report_id):
    """Answer with the form as it is now (read afresh after a change, in the same few queries).

    Takes the id, not the form: touching the form after its commit would reload it, lines and all,
    only to load it again here.
    """
    return jsonify(return_json(_load(report_id)))


@bp.get("/openapi.json")
def openapi():
    """Describe the API in OpenAPI 3."""
    return jsonify(SPEC)


@bp.get("/tasks")
def tasks():
    """List a plan's tasks with their departments."""
    plan, failure = _plan_or_error()
    if failure:
        return failure
    data = plan_as_dict(plan)
    return jsonify(year=data["year"], title=data["title"], tasks=data["tasks"])


@bp.get("/returns")
def list_returns():
    """List the quarterly forms the user may see, filtered by year, quarter and department."""
    plan, failure = _plan_or_error()
    if failure:
        return failure
    query = (
        QuarterlyReturn.query.join(ReportingPeriod)
        .filter(ReportingPeriod.plan_id == plan.id, ReportingPeriod.kind == PeriodKind.QUARTER)
        .options(db.selectinload(QuarterlyReturn.lines))
    )
    quarter = request.args.get("quarter")
    if quarter is not None:
        if quarter not in {"1", "2", "3", "4"}:
            return error(422, "invalid", "quarter must be 1 to 4", {"quarter": "1, 2, 3 or 4"})
        query = query.filter(ReportingPeriod.number == int(quarter))
    name = request.args.get("department")
    if name:
        department = Department.lookup(name)
        if department is None:
            return error(404, "not_found", f"no department called {name}")
        query = query.filter(QuarterlyReturn.department_id == department.id)
    if current_user.role is UserRole.DEPARTMENT:
        query = query.filter(QuarterlyReturn.department_id == current_user.department_id)
    reports = query.order_by(ReportingPeriod.number, QuarterlyReturn.department_id).all()
    return jsonify(returns=[return_json(r) for r in reports])


@bp.get("/returns/<int:report_id>")
def get_return(report_id):
    """Return one form."""
    report, failure = _report(report_id)
    return failure or jsonify(return_json(report))


def _body():
    """Return the request's JSON object, cleaned (:func:`clean_json`), or an error to answer with.

    A body that is not JSON at all (wrong type, broken, or nested past the reader's depth) is a bad
    request (400); JSON that is not an object, or holds control characters, is invalid (422).
    """
    if not request.is_json:
        return None, error(400, "bad_request", "send the body as JSON (Content-Type: application/json)")
    try:
        data = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep, as no form is
        return None, error(400, "bad_request", "the body is not valid JSON")
    if not isinstance(data, dict):
        return None, error(422, "invalid", "the body must be a JSON object", {"body": "a JSON object"})
    try:
        return clean_json(data), None
    except ControlCharacter as exc:
        return None, error(422, "invalid", str(exc), {exc.field or "body": "no control characters"})


def _may_edit(report):
    if not can_edit(current_user, report):
        if current_user.role is UserRole.DEPARTMENT and not report.is_editable:
            return error(409, "not_editable", f"the form is {report.state.value} and cannot be changed")
        return error(403, "forbidden", "only the department's own users may change its form")
    return None


@bp.put("/returns/<int:report_id>")
def put_return(report_id):
    """Save a form; the body carries the ``version`` read, and a stale one is refused with 409."""
    report, failure = _report(report_id)
    if failure:
        return failure
    data, failure = _body()
    if failure:
        return failure
    if not isinstance(data.get("version"), int) or isinstance(data.get("version"), bool):
        return error(422, "invalid", "version is required: the version you read", {"version": "required"})
    failure = _may_edit(report)
    if failure:
        return failure
    return _written(report, lambda: save_return(report, data, data["version"]))


@bp.post("/returns/<int:report_id>/submit")
def submit(report_id):
    """Submit a form for review."""
    report, failure = _report(report_id)
    if failure:
        return failure
    failure = _may_edit(report)
    if failure:
        return failure
    return _written(report, lambda: submit_return(report, current_user))


@bp.post("/returns/<int:report_id>/review")
def review(report_id):
    """Accept a submitted form, or return it with a reason and a new due date (the office only)."""
    report, failure = _report(report_id)
    if failure:
        return failure
    if not can_review(current_user):
        return error(403, "forbidden", "only the office reviews forms")
    data, failure = _body()
    if failure:
        return failure
    comments = data.get("line_comments") or {}
    if not isinstance(comments, dict):
        return error(422, "invalid", "line_comments must map task codes to text", {"line_comments": "an object"})
    return _written(
        report,
        lambda: workflow.review(
            report, current_user, data.get("decision"), data.get("reason"), data.get("due_on"), comments
        ),
    )


@bp.get("/progress")
def progress():
    """Report rates per quarter, completion per section and task, and information counts (office and leaders)."""
    if not can_view_dashboard(current_user):
        return error(403, "forbidden", "only the office and leaders see the progress of the whole plan")
    plan, failure = _plan_or_error()
    if failure:
        return failure
    quarter = request.args.get("quarter")
    if quarter is not None and quarter not in {"1", "2", "3", "4"}:
        return error(422, "invalid", "quarter must be 1 to 4", {"quarter": "1, 2, 3 or 4"})
    data = dashboard(plan, int(quarter) if quarter else None)
    return jsonify(_progress_json(plan, data))


#: A quarter's figures in the progress answer.
RATE_KEYS = ("expected", "submitted", "on_time", "late", "reporting_rate", "on_time_rate")


def _progress_json(plan, data):
    """Return the dashboard's figures (``data``) as the progress answer documents them."""
    return {
        "year": plan.year,
        "quarter": data["chosen"].number if data["chosen"] else None,
        "quarters": [{"quarter": q["period"].number, **{k: q[k] for k in RATE_KEYS}} for q in data["per_quarter"]],
        "sections": [_section_json(entry) for entry in data["progress"]],
        "counts": {
            "submitted": data["counts"]["submitted"],
            "published": data["counts"]["published"],
            "departments": [
                {"department": r["department"].name, "submitted": r["submitted"], "published": r["published"]}
                for r in data["counts"]["rows"]
            ],
        },
    }


def _section_json(entry):
    """Return a section's completion, and each of its tasks', as the progress answer documents them."""
    return {
        "section": entry["title"],
        "lines": entry["lines"],
        "done": entry["done"],
        "percent": entry["percent"],
        "tasks": [
            {"code": t["code"], "lines": t["lines"], "done": t["done"], "percent": t["percent"]} for t in entry["tasks"]
        ],
    }
