"""报表下载: choose a workbook and its period; the file is made on demand."""

from flask import abort, flash, redirect, render_template, request, url_for

from .. import storage
from ..exports.operations import KINDS, ExportError, export_workbook
from ..models import PeriodKind, Plan, ReportingPeriod
from ..models.plan import plan_departments
from ..permissions import can_download_exports, require
from ..returns.filetypes import XLSX
from . import bp


@bp.route("/exports")
@require(can_download_exports)
def index():
    """List the workbooks with the choices each needs."""
    plans = Plan.query.order_by(Plan.year.desc()).all()
    year = request.args.get("year", type=int)
    plan = next((p for p in plans if p.year == year), plans[0] if plans else None)
    if plan is None:
        return render_template("main/empty.html")
    periods = ReportingPeriod.query.filter_by(plan_id=plan.id).order_by(ReportingPeriod.number).all()
    return render_template(
        "downloads/index.html",
        plans=plans,
        plan=plan,
        kinds=KINDS,
        quarters=[p for p in periods if p.kind is PeriodKind.QUARTER],
        halves=[p for p in periods if p.kind is PeriodKind.HALF],
        departments=plan_departments(plan),
    )


@bp.route("/exports/<kind>.xlsx")
@require(can_download_exports)
def download(kind):
    """Make and send a workbook; a choice that does not fit is explained on the download page."""
    if kind not in KINDS:
        abort(404)
    args = request.args
    year = args.get("year", type=int)
    quarter, half = args.get("quarter", type=int), args.get("half", type=int)
    # The brief's one 范围 list says "q:3" or "h:1" (empty: the whole year).
    scope, _, number = args.get("scope", "").partition(":")
    if scope in ("q", "h") and number.isdecimal() and len(number) == 1:
        quarter, half = (int(number), None) if scope == "q" else (None, int(number))
    try:
        name, workbook = export_workbook(
            kind,
            year,
            quarter=quarter,
            half=half,
            department=args.get("department") or None,
        )
    except ExportError as error:
        flash(error.zh, "danger")
        return redirect(url_for("downloads.index", year=year))
    return storage.attachment(storage.saved(workbook), XLSX, name)


@bp.route("/plans/<int(min=1900, max=2999):year>/breakdown.xlsx")
@require(can_download_exports)
def breakdown(year):
    """Download the task breakdown table (任务分解表)."""
    plan = Plan.query.filter_by(year=year).first_or_404()
    workbook = export_workbook("breakdown", plan.year)[1]
    return storage.attachment(storage.saved(workbook), XLSX, f"{plan.title}任务分解表.xlsx")
