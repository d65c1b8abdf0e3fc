"""Pages: the jobs page (runs, ladder), the chase ledger and its download, the archive, the overdue list."""

import datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import storage
from ..archive import archived_files, kind_label
from ..chase.operations import ChaseError, departments_with_entries, ladder, ledger_query, overdue_list, save_step
from ..exports.reports import build_ledger
from ..extensions import db
from ..jobs import JOBS, job_by_id, last_runs, run_job
from ..models import ArchiveFile, ChaseItem, ChaseResult, ChaseStep, ReportingPeriod
from ..permissions import can_download_exports, can_run_jobs, can_view_overdue_list, require
from ..returns.filetypes import XLSX
from ..scheduler import next_run_times, scheduler_state
from ..timeutil import now_utc, today
from . import bp

LEDGER_PAGE_SIZE = 100


@bp.route("/jobs")
@require(can_run_jobs)
def jobs():
    """Show each job's next and last run, the scheduler's state and the chase ladder."""
    state = scheduler_state()
    beat = state.heartbeat_at if state else None
    if beat is not None and beat.tzinfo is None:  # SQLite gives back naive UTC
        beat = beat.replace(tzinfo=datetime.UTC)
    # Alive while its heartbeat is at most a few beats old.
    limit = 3 * current_app.config["SCHEDULER_HEARTBEAT_SECONDS"] + 30
    alive = beat is not None and (now_utc() - beat).total_seconds() < limit
    return render_template(
        "monitor/jobs.html",
        jobs=JOBS,
        next_runs=next_run_times(current_app, now_utc()),
        last=last_runs(),
        state=state,
        alive=alive,
        steps=ladder(),
    )


@bp.route("/jobs/<job_id>/run", methods=["POST"])
@require(can_run_jobs)
def run_now(job_id):
    """Run a job now, as the signed-in office user, and say how it went."""
    job = job_by_id(job_id) or abort(404)
    if not job.runs_from_web:
        flash(f"“{job.name}”不能在网页上运行，请在服务器上运行 flask --app tracker backup --out 文件名。", "danger")
        return redirect(url_for("monitor.jobs"))
    run = run_job(job, "manual", current_user)
    if run.status == "ok":
        flash(f"“{job.name}”已运行：{run.summary}", "success")
    else:
        flash(f"“{job.name}”运行出错：{run.summary}", "danger")
    return redirect(url_for("monitor.jobs"))


@bp.route("/jobs/ladder", methods=["POST"])
@require(can_run_jobs)
def edit_step():
    """Change a step of the chase ladder, or add one."""
    step_id = request.form.get("step_id", type=int)
    step = db.session.get(ChaseStep, step_id) if step_id else None
    if step_id and step is None:
        abort(404)
    try:
        save_step(step, request.form)
    except ChaseError as error:
        flash(error.zh, "danger")
    else:
        flash("催办规则已保存。", "success")
    return redirect(url_for("monitor.jobs") + "#ladder")


def _ledger_filters():
    args = request.args
    result = args.get("result") or None
    if result is not None and result not in ChaseResult._value2member_map_:
        result = None
    return {
        "department_id": args.get("department", type=int),
        "period_id": args.get("period", type=int),
        "step_id": args.get("step", type=int),
        "result": ChaseResult(result) if result else None,
    }


@bp.route("/jobs/ledger")
@require(can_run_jobs)
def ledger():
    """The chase ledger (催办台账), filtered by department, period, step and result."""
    filters = _ledger_filters()
    page = ledger_query(**filters).paginate(per_page=LEDGER_PAGE_SIZE, error_out=False)
    periods = ReportingPeriod.query.order_by(ReportingPeriod.starts_on.desc(), ReportingPeriod.kind).all()
    return render_template(
        "monitor/ledger.html",
        page=page,
        filters=filters,
        departments=departments_with_entries(),
        periods=periods,
        steps=ladder(),
        results=list(ChaseResult),
        items={k.value: k.label for k in ChaseItem},
    )


@bp.route("/jobs/ledger.xlsx")
@require(can_run_jobs)
def ledger_xlsx():
    """Download the chase ledger, with the page's filters, as a spreadsheet."""
    workbook = build_ledger(ledger_query(**_ledger_filters()).all(), today())
    return storage.attachment(storage.saved(workbook), XLSX, f"催办台账_{today().isoformat()}.xlsx")


@bp.route("/archive")
@require(can_download_exports)
def archive():
    """The spreadsheets produced after each period's due date."""
    return render_template("monitor/archive.html", files=archived_files(), kind_label=kind_label)


@bp.route("/archive/<int:file_id>")
@require(can_download_exports)
def archive_download(file_id):
    """Download an archived spreadsheet."""
    archived = db.session.get(ArchiveFile, file_id) or abort(404)
    return storage.send(archived.stored_name, XLSX, archived.filename)


@bp.route("/overdue")
@require(can_view_overdue_list)
def overdue():
    """The leaders' overdue list (逾期名单): what is still missing after the ladder's last steps."""
    return render_template("monitor/overdue.html", rows=overdue_list(today()), today=today())
