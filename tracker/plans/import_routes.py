"""工作安排 → 导入: upload an arrangement, preview and correct it, confirm; and compare years."""

import re
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import Department, Plan, PlanImport, chinese_numeral
from ..permissions import can_manage_plan, can_view_plan, require
from . import bp
from .compare import compare_plans, previous_plan
from .forms import ImportForm, PreviewForm
from .intake import IntakeRefused, confirm_import, name_matches, parsed_plan, start_import
from .operations import LoadReport, PlanError, WithdrawalNeedsConfirmation
from .parser import PlanFormatError
from .parser.model import describe_zh


@bp.route("/plans/import", methods=["GET", "POST"])
@require(can_manage_plan)
def import_upload():
    """Upload a notice or task table; a readable one goes on to the preview."""
    form = ImportForm()
    error = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            record = start_import(upload.read(), upload.filename or "upload.txt", current_user)
        except PlanFormatError as exc:
            error = f"无法读取该文件：{describe_zh(exc)}。"
        except IntakeRefused as exc:
            error = exc.zh
        else:
            return redirect(url_for("plans.import_preview", import_id=record.id))
    elif form.is_submitted():
        error = "；".join(e for errors in form.errors.values() for e in errors) + "。"
    return render_template("plans/import.html", form=form, error=error), 400 if error else 200


def _corrections(parsed):
    tasks = {}
    for task in parsed.tasks():
        key = task.code
        if f"lead-{key}" in request.form:
            tasks[key] = {
                "lead": request.form.get(f"lead-{key}", ""),
                "responsible": request.form.get(f"responsible-{key}", ""),
                "all_departments": request.form.get(f"all-{key}") == "1",
            }
    matches = {}
    for index, name in enumerate(parsed.departments()):
        value = request.form.get(f"match-{index}", "")
        if value.isdecimal() and value.isascii() and len(value) < 10:
            matches[name] = int(value)
    return tasks, matches


def _valid_year(value):
    return value if isinstance(value, int) and 2000 <= value <= 2100 else None


def _title_year_differs(title, year):
    """Return the year a title names when it is not ``year`` (a 2024 notice loaded as 2026)."""
    found = re.search(r"((?:19|20)\d{2})\s*年", title or "")
    return int(found.group(1)) if found and year and int(found.group(1)) != year else None


@dataclass
class _Outcome:
    """What sending the preview came to: the load's report, or why nothing was loaded."""

    report: LoadReport | None = None
    error: str | None = None
    #: The refusal that asks to confirm withdrawing tasks, for the page to list the forms concerned.
    needs_confirmation: WithdrawalNeedsConfirmation | None = None
    status: int = 200


def _untitled(parsed):
    """Tell whether the parser found no title in the file (the form then starts with an empty one)."""
    return any(w.message.startswith("no title") for w in parsed.warnings)


def _existing_plan(year, title):
    """Return the plan already loaded for ``year`` (or None), and whether ``title`` would replace its title."""
    existing = Plan.query.filter_by(year=year).one_or_none() if year else None
    return existing, existing is not None and existing.title != (title or "").strip()


@bp.route("/plans/import/<int:import_id>", methods=["GET", "POST"])
@require(can_manage_plan)
def import_preview(import_id):
    """Show what was read; the office corrects departments and matches, then confirms."""
    record = db.session.get(PlanImport, import_id) or abort(404)
    if record.loaded_at is not None:
        flash("该文件已经导入。", "info")
        return redirect(url_for("plans.show", year=record.plan.year) if record.plan else url_for("main.index"))
    parsed = parsed_plan(record)
    form = PreviewForm(year=parsed.year, title="" if _untitled(parsed) else parsed.title)
    year = _valid_year(form.year.data)
    existing, replacing = _existing_plan(year, form.title.data)
    outcome = _submit(record, parsed, form, year, existing if replacing else None)
    if outcome.report is not None:
        return redirect(url_for("plans.show", year=outcome.report.plan.year))
    needs_confirmation = outcome.needs_confirmation
    impact = _impact(record, year or parsed.year) if not needs_confirmation else needs_confirmation.report
    return (
        render_template(
            "plans/import_preview.html",
            record=record,
            parsed=parsed,
            form=form,
            matches=name_matches(parsed),
            departments=Department.query.order_by(Department.name).all(),
            existing=existing,
            replacing=replacing,
            other_year=_title_year_differs(form.title.data, year),
            submitted=request.form if request.method == "POST" else None,
            error=outcome.error,
            needs_confirmation=needs_confirmation,
            impact=impact,
            numeral=chinese_numeral,
        ),
        outcome.status,
    )


def _submit(record, parsed, form, year, replaced):
    """Load the import if the preview was sent and is valid; return the :class:`_Outcome` (nothing, for a GET).

    ``replaced`` is the year's plan when the file's title differs from its title: loading then
    needs the office to tick "confirm the update".
    """
    valid = form.validate_on_submit()
    if valid and replaced is not None and not form.confirm_replace.data:
        return _Outcome(
            error=f"{year}年已有工作安排《{replaced.title}》，与本文件的标题不同。如确要以本文件更新该年度的工作安排，"
            "请勾选“确认更新”后再导入；否则请改正年度。",
            status=409,
        )
    if valid:
        return _confirm(record, parsed, form, year)
    if form.is_submitted():
        return _Outcome(error="；".join(e for errors in form.errors.values() for e in errors), status=400)
    return _Outcome()


def _confirm(record, parsed, form, year):
    """Load the import with the preview's corrections; return the :class:`_Outcome`."""
    tasks, matches = _corrections(parsed)
    try:
        report = confirm_import(
            record,
            year=year,
            title=form.title.data,
            tasks=tasks,
            matches=matches,
            confirm_withdrawal=form.confirm_withdrawal.data,
        )
    except WithdrawalNeedsConfirmation as exc:
        error = "文件中已没有的任务有已填报的内容，请查看下列报送表，并勾选“确认撤销”后再导入。"
        return _Outcome(error=error, needs_confirmation=exc, status=409)
    except IntakeRefused as exc:
        return _Outcome(error=exc.zh, status=400)
    except PlanError as exc:
        return _Outcome(error=f"无法导入，请检查后重试（{exc}）。", status=400)
    withdrawn = f"，撤销{len(report.withdrawn)}项" if report.withdrawn else ""
    flash(
        f"已导入{report.plan.year}年工作安排：{report.tasks}项任务"
        f"（新增{report.created}项，修改{report.updated}项{withdrawn}）。",
        "success",
    )
    return _Outcome(report=report)


def _impact(record, year):
    """What confirming would do, from a dry run (None when the year is unknown or it would fail)."""
    if not year:
        return None
    try:
        return confirm_import(record, year=year, dry_run=True, confirm_withdrawal=True)
    except (PlanError, SQLAlchemyError):  # the page still shows; confirming says what is wrong
        db.session.rollback()
        return None


@bp.route("/plans/<int(min=1900, max=2999):year>/compare")
@require(can_view_plan)
def compare(year):
    """Compare the year's plan with the previous year's: tasks new, continued, dropped."""
    plan = Plan.query.filter_by(year=year).first_or_404()
    previous = previous_plan(plan)
    comparison = compare_plans(plan, previous) if previous else None
    return render_template("plans/compare.html", plan=plan, previous=previous, comparison=comparison)
