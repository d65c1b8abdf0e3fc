"""Quarterly completion form pages: department home, the form, review, history, dashboard, due dates."""

import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import storage
from ..extensions import db
from ..models import (
    Channel,
    CountKind,
    Evidence,
    HalfYearSummary,
    LineStatus,
    PeriodKind,
    QuarterlyReturn,
    ReportingPeriod,
    ReturnLine,
    UserRole,
)
from ..permissions import (
    can_view_dashboard,
    can_view_plan,
    require,
    visible_return_or_404,
)
from ..timeutil import today
from ..workflow import CELL_LABELS, WorkflowError, accept_all, can_edit, can_review
from ..workflow_pages import autosaved, reopen_posted, review_posted, save_posted
from . import bp
from .dashboard import STATE_FILTERS, dashboard
from .files import add_evidence, remove_evidence
from .filetypes import EVIDENCE_KINDS, allowed_for
from .operations import (
    compare_versions,
    content_of,
    copied_lines,
    department_returns,
    previous_return,
    save_and_submit,
    save_return,
)
from .periods import plan_for_year, set_period_due

HEADER_FIELDS = ("filled_by_name", "filled_by_phone", "approved_by")


def carried_header(report, previous):
    """Return last quarter's 填报人, 电话 and 审核人 to fill an untouched form's empty header (shown, saved on save)."""
    if previous is None or not report.is_editable or any(getattr(report, f) for f in HEADER_FIELDS):
        return {}
    return {f: getattr(previous, f) for f in HEADER_FIELDS if getattr(previous, f)}


def _report_or_404(report_id):
    """Load a form with its lines, their tasks and evidence in three queries, or 404 if not visible."""
    report = db.session.get(
        QuarterlyReturn,
        report_id,
        options=[
            db.selectinload(QuarterlyReturn.lines).joinedload(ReturnLine.task),
            db.selectinload(QuarterlyReturn.lines).selectinload(ReturnLine.evidence),
            db.selectinload(QuarterlyReturn.counts),
        ],
    )
    return visible_return_or_404(current_user, report)


@bp.route("/returns")
@require(can_view_plan)
def index():
    """Show a department its forms with due dates, states and reasons for return; send others to the dashboard."""
    if current_user.role is not UserRole.DEPARTMENT:
        return redirect(url_for("returns.dashboard_view"))
    reports = department_returns(current_user.department)
    return render_template("returns/index.html", reports=reports, labels=CELL_LABELS)


def form_payload(report, form):
    """Turn the posted form fields into the payload :func:`save_return` takes (the API's shape)."""
    data = {field: form.get(field, "") for field in HEADER_FIELDS}
    data["lines"] = [
        {
            "task_code": line.task.code,
            "status": form.get(f"line-{line.id}-status") or None,
            "done": form.get(f"line-{line.id}-done", ""),
            "problems": form.get(f"line-{line.id}-problems", ""),
            "next_steps": form.get(f"line-{line.id}-next_steps", ""),
        }
        for line in report.lines
    ]
    counts = {}
    for kind in CountKind:
        counts[kind.value] = {}
        for channel in Channel:
            raw = form.get(f"count-{kind.value}-{channel.value}", "").strip()
            try:
                counts[kind.value][channel.value] = int(raw) if raw else 0
            except ValueError:
                counts[kind.value][channel.value] = raw  # validation names it as not a whole number
    data["counts"] = counts
    return data


def _field_errors(report, error):
    """Map an error's field names (``lines[3].done``) to the form's input names (``line-17-done``)."""
    names = {}
    for field in error.fields:
        if field.startswith("lines[") and "]" in field:
            index = int(field[6 : field.index("]")])
            rest = field[field.index("]") + 2 :] or "status"
            if index < len(report.lines):
                names[f"line-{report.lines[index].id}-{rest}"] = error.fields[field]
        elif field.startswith("counts."):
            names["count-" + field[7:].replace(".", "-")] = error.fields[field]
        else:
            names[field] = error.fields[field]
    return names


def _unsaved(report, payload):
    """Return the lines whose posted text differs from what is saved, for a refused (stale) save."""
    saved = {line.task.code: line for line in report.lines}
    rows = []
    for line in payload["lines"]:
        current = saved[line["task_code"]]
        texts = {f: line[f] for f in ("done", "problems", "next_steps") if line[f] and line[f] != getattr(current, f)}
        if texts:
            rows.append((line["task_code"], texts))
    return rows


@bp.route("/returns/<int:report_id>", methods=["GET", "POST"])
@require(can_view_plan)
def edit(report_id):
    """Show a form; its department fills it in, saves it and submits it here."""
    report = _report_or_404(report_id)
    errors, posted, unsaved = {}, None, []
    if request.method == "POST":
        if not can_edit(current_user, report):
            abort(403)
        posted = request.form
        payload = form_payload(report, request.form)
        error = save_posted(report, payload, save_return, save_and_submit, "完成情况报送表")
        if error is None:
            return redirect(url_for("returns.edit", report_id=report.id))
        errors = _field_errors(report, error)
        if error.code == "conflict":
            # Show what the other person saved, and keep this user's own text beside it to copy from.
            posted = None
            unsaved = _unsaved(report, payload)
    return _form_page(report, errors, posted, unsaved)


def _form_page(report, errors=None, posted=None, unsaved=(), review=None):
    """Render the form page; ``review`` is what the office had typed into a review that was refused."""
    previous = previous_return(report)
    last_version = report.versions[-1] if report.versions else None
    before_last = report.versions[-2] if len(report.versions) > 1 else None
    changed = compare_versions(before_last.content, last_version.content) if before_last else {}
    return render_template(
        "returns/form.html",
        report=report,
        editable=can_edit(current_user, report),
        reviewable=can_review(current_user),
        statuses=list(LineStatus),
        kinds=list(CountKind),
        channels=list(Channel),
        errors=errors or {},
        posted=posted,
        review=review or {},
        copied=copied_lines(report, previous) if previous else set(),
        changed=changed,
        previous=previous,
        carried=carried_header(report, previous),
        unsaved=unsaved,
        allowed=allowed_for(EVIDENCE_KINDS),
        today=today(),
    )


@bp.route("/returns/<int:report_id>/autosave", methods=["POST"])
@require(can_view_plan)
def autosave(report_id):
    """Save the draft the page's script sends after a pause in typing (the same save and version check)."""
    report = _report_or_404(report_id)
    return autosaved(report, save_return, form_payload(report, request.form))


@bp.route("/returns/<int:report_id>/evidence", methods=["POST"])
@require(can_view_plan)
def upload(report_id):
    """Attach an evidence file to one line of a form."""
    report = _report_or_404(report_id)
    if not can_edit(current_user, report):
        abort(403)
    line = next((li for li in report.lines if li.id == request.form.get("line_id", type=int)), None)
    upload = request.files.get("file")
    if line is None or upload is None or not upload.filename:
        flash("请选择任务和要上传的文件。", "danger")
    else:
        try:
            evidence = add_evidence(line, upload.filename, upload.read(), current_user)
        except WorkflowError as error:
            flash(error.zh, "danger")
        else:
            flash(f"已上传“{evidence.original_name}”。", "success")
    return redirect(url_for("returns.edit", report_id=report.id) + "#evidence")


def _evidence_or_404(evidence_id):
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        abort(404)
    visible_return_or_404(current_user, evidence.line.report)
    return evidence


@bp.route("/evidence/<int:evidence_id>")
@require(can_view_plan)
def download(evidence_id):
    """Download an evidence file under its original name, to people who may see its form."""
    evidence = _evidence_or_404(evidence_id)
    return storage.send(evidence.stored_name, evidence.content_type, evidence.original_name)


@bp.route("/evidence/<int:evidence_id>/delete", methods=["POST"])
@require(can_view_plan)
def delete_evidence(evidence_id):
    """Remove an evidence file from a form that can still be changed."""
    evidence = _evidence_or_404(evidence_id)
    report = evidence.line.report
    if not can_edit(current_user, report):
        abort(403)
    try:
        remove_evidence(evidence)
    except WorkflowError as error:
        flash(error.zh, "danger")
    else:
        flash("已删除附件。", "success")
    return redirect(url_for("returns.edit", report_id=report.id) + "#evidence")


@bp.route("/returns/<int:report_id>/review", methods=["POST"])
@require(can_review)
def review(report_id):
    """Accept a submitted form, or return it with a reason and a new due date."""
    report = _report_or_404(report_id)
    comments = {line.task.code: request.form.get(f"comment-{line.id}", "") for line in report.lines}
    if review_posted(report, {code: text for code, text in comments.items() if text.strip()}):
        return _form_page(report, review=request.form)  # the reason and line comments typed stay
    return redirect(url_for("returns.edit", report_id=report.id))


@bp.route("/review/accept", methods=["POST"])
@require(can_review)
def accept_selected():
    """Accept the forms and summaries ticked in the review queue (待审核), each as if one by one."""
    models = {"return": QuarterlyReturn, "summary": HalfYearSummary}
    records = []
    for key in dict.fromkeys(request.form.getlist("item")):  # each once, however often it was sent
        kind, _, number = key.partition("-")
        if kind in models and number.isdecimal() and len(number) < 10:
            record = db.session.get(models[kind], int(number))
            if record is not None:
                records.append(record)
    if not records:
        flash("请先勾选要审核通过的报送表或总结。", "warning")
        return redirect(url_for("main.index"))
    accepted, skipped = accept_all(records, current_user)
    flash(f"已审核通过{len(accepted)}份。", "success")
    if skipped:
        names = "、".join(
            f"{r.department.name}{r.period.label}{'完成情况报送表' if isinstance(r, QuarterlyReturn) else '工作总结'}"
            for r in skipped
        )
        flash(f"{len(skipped)}份已不在待审核状态，未作改动：{names}。", "warning")
    return redirect(url_for("main.index"))


@bp.route("/returns/<int:report_id>/reopen", methods=["POST"])
@require(can_review)
def reopen(report_id):
    """Reopen an accepted form for correction."""
    report = _report_or_404(report_id)
    reopen_posted(report)
    return redirect(url_for("returns.edit", report_id=report.id))


@bp.route("/returns/<int:report_id>/history")
@require(can_view_plan)
def history(report_id):
    """Show every submitted version, what changed between them, and against the previous quarter."""
    report = _report_or_404(report_id)
    versions = report.versions
    diffs = [compare_versions(versions[i - 1].content, v.content) if i else {} for i, v in enumerate(versions)]
    previous = previous_return(report)
    against_previous = compare_versions(content_of(previous), content_of(report)) if previous else None
    return render_template(
        "returns/history.html",
        report=report,
        versions=list(zip(versions, diffs, strict=True)),
        previous=previous,
        against_previous=against_previous,
        copied=copied_lines(report, previous),
        statuses={s.value: s.label for s in LineStatus},
        withdrawn={line.task.code for line in report.lines if line.task.is_withdrawn},
    )


@bp.route("/dashboard")
@require(can_view_dashboard)
def dashboard_view():
    """The office's and leaders' view of who has reported, rates, progress and information counts."""
    plan = plan_for_year(request.args.get("year", type=int))
    if plan is None:
        return render_template("main/empty.html")
    args = request.args
    department_id = args.get("department", type=int)
    data = dashboard(
        plan,
        args.get("quarter", type=int),
        department_id,
        args.get("page", type=int),
        args.get("state") or None,
        args.get("section", type=int),
    )
    return render_template(
        "returns/dashboard.html",
        plan=plan,
        data=data,
        state_filters=STATE_FILTERS,
        department_id=department_id,
        form_url=url_for("returns.edit", report_id=0)[:-1],
    )


@bp.route("/plans/<int(min=1900, max=2999):year>/periods", methods=["GET", "POST"])
@require(can_review)
def periods(year):
    """Let the office change a period's due date (audited)."""
    plan = plan_for_year(year) or abort(404)
    if request.method == "POST":
        period = db.session.get(ReportingPeriod, request.form.get("period_id", type=int) or 0)
        if period is None or period.plan_id != plan.id:
            abort(404)
        try:
            due_on = datetime.date.fromisoformat(request.form.get("due_on", ""))
            set_period_due(period, due_on)
        except ValueError:
            flash("请填写有效的日期。", "danger")
        except WorkflowError as error:
            flash(error.zh, "danger")
        else:
            flash(f"{period.label}的截止日期已改为{due_on:%Y年%m月%d日}。", "success")
        return redirect(url_for("returns.periods", year=year))
    # Quarters first ('quarter' sorts after 'half'), then the halves.
    rows = ReportingPeriod.query.filter_by(plan_id=plan.id).order_by(
        ReportingPeriod.kind.desc(), ReportingPeriod.number
    )
    return render_template("returns/periods.html", plan=plan, periods=rows.all(), quarter=PeriodKind.QUARTER)
