"""依申请公开台账, 复议诉讼, 工作日历 and 年度报告 pages; every change goes through tracker.disclosure.operations."""

import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import storage
from ..disclosure.deadlines import calendar_exceptions, covered_years, deadline
from ..disclosure.operations import (
    DisclosureError,
    finalise_annual_report,
    import_applications,
    import_cases,
    remove_calendar_exception,
    save_application,
    save_case,
    save_figures,
    set_calendar_exception,
)
from ..disclosure.tables import TABLE2_LAYOUTS, annual_tables, default_layout
from ..exports.operations import ExportError, export_annual_report
from ..exports.register import export_applications
from ..extensions import db
from ..models import (
    AnnualReport,
    ApplicantType,
    Application,
    CalendarException,
    CaseKind,
    CaseResult,
    Department,
    ReceiptChannel,
    ReviewCase,
    UserRole,
)
from ..models.disclosure import OUTCOME_GROUPS, outcome_codes, outcome_label
from ..permissions import (
    can_manage_register,
    can_view_annual_report,
    can_view_application,
    can_view_register,
    require,
)
from ..returns.filetypes import DOCX, XLSX
from ..timeutil import today
from . import bp

FIELDS = (
    "number",
    "received_on",
    "channel",
    "applicant_type",
    "request",
    "department",
    "correction_sent_on",
    "correction_answered_on",
    "extended_on",
    "third_party_days",
    "answered_on",
    "outcome",
)


def _send(document, name, mimetype):
    return storage.attachment(storage.saved(document), mimetype, name)


@bp.route("/applications")
@require(can_view_register)
def applications():
    """List applications with their statutory deadlines: open ones first, the most urgent on top."""
    query = Application.query.options(db.joinedload(Application.department))
    if current_user.role is UserRole.DEPARTMENT:
        query = query.filter(Application.department_id == current_user.department_id)
    show = request.args.get("show", "open")
    if show == "open":
        query = query.filter(Application.answered_on.is_(None))
    elif show == "answered":
        query = query.filter(Application.answered_on.isnot(None))
    exceptions, today_ = calendar_exceptions(), today()
    rows = [(a, deadline(a, exceptions)) for a in query.order_by(Application.received_on.desc(), Application.id.desc())]
    rows.sort(key=lambda r: (r[0].answered_on is not None, r[1].due_on or datetime.date.max))
    uncovered = sorted({year for _, limit in rows for year in limit.uncovered})
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    return render_template(
        "register/applications.html",
        rows=rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(rows),
        page=page,
        pages=pages,
        show=show,
        today=today_,
        uncovered=uncovered,
        covered=covered_years(),
        manage=can_manage_register(current_user),
    )


#: Applications per page (the most urgent first, so the first page is the one that matters).
PAGE_SIZE = 50


def _form_choices():
    return {
        "channels": list(ReceiptChannel),
        "applicant_types": list(ApplicantType),
        "departments": Department.query.order_by(Department.id).all(),
        "outcomes": [(code, outcome_label(code)) for code in outcome_codes()],
    }


def _application_or_abort(application_id):
    """Return the application asked for (None for a new one): 404 if it cannot be seen, 403 if it cannot be made."""
    item = db.session.get(Application, application_id) if application_id else None
    if application_id and (item is None or not can_view_application(current_user, item)):
        abort(404)
    if item is None and not can_manage_register(current_user):
        abort(403)
    return item


@bp.route("/applications/new", methods=["GET", "POST"])
@bp.route("/applications/<int:application_id>", methods=["GET", "POST"])
@require(can_view_register)
def application(application_id=None):
    """Show an application and its deadline; the office records and updates it here."""
    item = _application_or_abort(application_id)
    errors, posted = {}, None
    if request.method == "POST":
        if not can_manage_register(current_user):
            abort(403)
        posted = request.form
        try:
            item = save_application(item, {field: request.form.get(field, "") for field in FIELDS})
        except DisclosureError as exc:
            errors = exc.fields
            flash(f"未保存：{exc.zh}", "danger")
        else:
            flash(f"申请 {item.number} 已保存。", "success")
            return redirect(url_for("register.application", application_id=item.id))
    return render_template(
        "register/application.html",
        item=item,
        limit=deadline(item) if item is not None and item.received_on else None,
        posted=posted,
        errors=errors,
        manage=can_manage_register(current_user),
        today=today(),
        **_form_choices(),
    )


@bp.route("/applications/import", methods=["POST"])
@require(can_manage_register)
def applications_import():
    """Import a register file: all of it, or nothing with the bad rows named."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要导入的 Excel 文件。", "danger")
        return redirect(url_for("register.applications"))
    try:
        added, updated = import_applications(upload.read())
    except DisclosureError as exc:
        flash(f"导入失败：{exc.zh}", "danger")
    else:
        flash(f"已导入：新增 {added} 条，更新 {updated} 条。", "success")
    return redirect(url_for("register.applications", show="all"))


@bp.route("/applications.xlsx")
@require(can_view_annual_report)
def applications_export():
    """Download the register with the import's columns."""
    return _send(export_applications(), f"依申请公开台账_{today().isoformat()}.xlsx", XLSX)


@bp.route("/cases", methods=["GET", "POST"])
@require(can_view_annual_report)
def cases():
    """List review and litigation cases; the office adds them one by one or imports a file."""
    if request.method == "POST":
        if not can_manage_register(current_user):
            abort(403)
        upload = request.files.get("file")
        try:
            if upload is not None and upload.filename:
                added, updated = import_cases(upload.read())
                flash(f"已导入：新增 {added} 件，更新 {updated} 件。", "success")
            else:
                case = db.session.get(ReviewCase, request.form.get("case_id", type=int) or 0)
                save_case(case, {k: request.form.get(k, "") for k in ("number", "kind", "received_on", "result")})
                flash("已保存。", "success")
        except DisclosureError as exc:
            flash(f"未保存：{exc.zh}", "danger")
        return redirect(url_for("register.cases"))
    return render_template(
        "register/cases.html",
        cases=ReviewCase.query.order_by(ReviewCase.received_on.desc()).all(),
        kinds=list(CaseKind),
        results=list(CaseResult),
        manage=can_manage_register(current_user),
    )


@bp.route("/calendar", methods=["GET", "POST"])
@require(can_manage_register)
def calendar():
    """The office's calendar exceptions: holidays and make-up working days the library does not know."""
    if request.method == "POST":
        if request.form.get("remove"):
            exception = db.session.get(CalendarException, request.form.get("remove", type=int) or 0) or abort(404)
            remove_calendar_exception(exception)
            flash("已删除。", "success")
        else:
            try:
                day = datetime.date.fromisoformat(request.form.get("day", ""))
            except ValueError:
                flash("请填写有效的日期。", "danger")
            else:
                try:
                    set_calendar_exception(day, request.form.get("is_workday") == "1", request.form.get("note", ""))
                except DisclosureError as error:
                    flash(error.zh, "danger")
                else:
                    kind = "工作日" if request.form.get("is_workday") == "1" else "休息日"
                    flash(f"{day.isoformat()} 已设为{kind}。", "success")
        return redirect(url_for("register.calendar"))
    return render_template(
        "register/calendar.html",
        exceptions=CalendarException.query.order_by(CalendarException.day).all(),
        covered=covered_years(),
    )


@bp.route("/annual-report")
@bp.route("/annual-report/<int(min=2008, max=2999):year>", methods=["GET", "POST"])
@require(can_view_annual_report)
def annual(year=None):
    """The annual report's tables for a year: Table 2 entry, Tables 3 and 4, the check, downloads, 定稿."""
    year = year or today().year - 1
    layout = request.values.get("layout") or default_layout(year)
    if layout not in TABLE2_LAYOUTS:
        abort(404)
    if request.method == "POST":
        if not can_manage_register(current_user):
            abort(403)
        try:
            if request.form.get("action") == "finalise":
                finalise_annual_report(year, layout, current_user)
                flash(f"{year}年报告表格已定稿存档；下一年度的校验将与之核对。", "success")
            else:
                save_figures(year, layout, request.form)
                flash("主动公开情况已保存。", "success")
        except DisclosureError as exc:
            flash(exc.zh, "danger")
        return redirect(url_for("register.annual", year=year, layout=layout))
    return render_template(
        "register/annual.html",
        year=year,
        layout=layout,
        tables=annual_tables(year, layout),
        sections=TABLE2_LAYOUTS[layout],
        groups=OUTCOME_GROUPS,
        # The outcome rows and (七)总计, which 三、本年度办理结果 spans.
        result_rows=sum(len(reasons) or 1 for _, reasons in OUTCOME_GROUPS.values()) + 1,
        applicant_types=list(ApplicantType),
        kinds=list(CaseKind),
        results=list(CaseResult),
        finalised=AnnualReport.query.filter_by(year=year).one_or_none(),
        manage=can_manage_register(current_user),
    )


@bp.route("/annual-report/<int(min=2008, max=2999):year>.<any(xlsx, docx):kind>")
@require(can_view_annual_report)
def annual_download(year, kind):
    """Download the tables with their check (.xlsx) or the whole report's draft (.docx)."""
    layout = request.args.get("layout") or None
    try:
        name, document = export_annual_report(year, layout, kind)
    except ExportError as exc:
        flash(exc.zh, "danger")
        return redirect(url_for("register.annual", year=year))
    return _send(document, name, XLSX if kind == "xlsx" else DOCX)
