"""Produce any workbook by kind: one function the CLI, the web pages and the scheduler's archive share."""

from dataclasses import dataclass

from flask import current_app

from ..disclosure.tables import annual_tables, year_summaries
from ..errors import TrackerError
from ..models import Department, PeriodKind, Plan, ReportingPeriod
from ..models.plan import plan_departments
from ..plans.operations import plan_info, plan_outline
from ..timeutil import today
from .annual import build_annual_report
from .breakdown import build_breakdown
from .queries import (
    department_data,
    half_data,
    half_period,
    produced_at,
    quarter_data,
    quarter_period,
    summary_data,
    task_progress_counts,
)
from .report_draft import build_report_draft
from .reports import build_department, build_half, build_quarter, build_summary

#: The kinds of workbook, with the Chinese name the download page shows.
KINDS = {
    "breakdown": "任务分解表",
    "quarter": "季度完成情况汇总",
    "department": "部门全年报送情况",
    "summary": "领导简报",
    "half": "半年工作总结报送情况",
}


class ExportError(TrackerError):
    """A workbook cannot be made from what was asked; ``message`` is English, ``zh`` Chinese."""


def _plan(year):
    if year is None:
        raise ExportError("give the plan's year", "请选择年度。")
    plan = Plan.query.filter_by(year=year).one_or_none()
    if plan is None:
        raise ExportError(f"no plan for {year}", f"没有{year}年的工作安排。")
    return plan


def _quarter(plan, quarter):
    if quarter is None:
        raise ExportError("give the quarter (1-4)", "请选择季度。")
    period = quarter_period(plan, quarter)
    if period is None:
        raise ExportError(
            f"the {plan.year} plan has no quarter {quarter}", f"{plan.year}年的工作安排没有第{quarter}季度的报送期。"
        )
    return period


def _half(plan, half):
    if half is None:
        raise ExportError("give the half (1 or 2)", "请选择上半年或下半年。")
    period = half_period(plan, half)
    if period is None:
        raise ExportError(f"the {plan.year} plan has no half {half}", f"{plan.year}年的工作安排没有该半年的报送期。")
    return period


def export_workbook(kind, year, quarter=None, half=None, department=None, as_of=None):
    """Return ``(file name, workbook)`` of ``kind`` for the plan of ``year``; raise ExportError if it cannot be made.

    ``breakdown`` takes an optional quarter (adds its progress column), ``quarter`` a quarter,
    ``department`` a department name (or alias), ``summary`` a quarter, a half or neither (the
    whole year), ``half`` a half. ``as_of`` is the day whose state it shows (default: today).
    """
    plan = _plan(year)
    builder = BUILDERS.get(kind)
    if builder is None:
        raise ExportError(f"unknown kind '{kind}'", "没有这种报表。")
    made = Made(plan, plan_info(plan), produced_at(), as_of or today())
    return builder(made, quarter=quarter, half=half, department=department)


@dataclass(frozen=True)
class Made:
    """What every workbook is made from: the plan, its title rows, when it is made, the day it shows."""

    plan: Plan
    info: dict
    produced: object
    today: object


def _breakdown(made, quarter, **_):
    plan = made.plan
    if quarter is None:
        return f"{plan.year}年任务分解表.xlsx", build_breakdown(made.info, plan_outline(plan), produced=made.produced)
    period = _quarter(plan, quarter)
    progress = task_progress_counts(period)
    workbook = build_breakdown(made.info, plan_outline(plan), progress, period.name, made.produced)
    return f"{plan.year}年任务分解表（{period.name}进展）.xlsx", workbook


def _quarter_status(made, quarter, **_):
    period = _quarter(made.plan, quarter)
    data = quarter_data(made.plan, period, made.today)
    return f"{period.label}完成情况汇总.xlsx", build_quarter(made.info, period.label, data, made.produced)


def _department(made, department, **_):
    plan = made.plan
    if not department:
        raise ExportError("give the department", "请选择部门。")
    found = Department.lookup(department)
    if found is None or found.id not in {d.id for d in plan_departments(plan)}:
        raise ExportError(
            f"no department '{department}' in the {plan.year} plan",
            f"{plan.year}年的工作安排中没有“{department or ''}”这个部门。",
        )
    rows = department_data(plan, found, made.today)
    return f"{found.name}{plan.year}年报送情况.xlsx", build_department(made.info, found.name, rows, made.produced)


def _summary(made, quarter, half, **_):
    plan = made.plan
    if quarter is not None and half is not None:
        raise ExportError("give a quarter or a half, not both", "季度和半年只能选一个。")
    quarters = ReportingPeriod.query.filter_by(plan_id=plan.id, kind=PeriodKind.QUARTER)
    if quarter is not None:
        periods = [_quarter(plan, quarter)]
        scope = periods[0].label
    elif half is not None:
        chosen = _half(plan, half)
        periods = [p for p in quarters if chosen.starts_on <= p.starts_on <= chosen.ends_on]
        scope = chosen.label
    else:
        periods, scope = list(quarters), f"{plan.year}年"
    periods.sort(key=lambda p: p.number)
    # While the forms are still coming in, every one counts as expected: the rate is how many are in.
    still_open = bool(periods) and made.today <= max(p.due_on for p in periods)
    data = summary_data(plan, periods, made.today, all_expected=still_open)
    return f"{scope}政务公开工作情况简报.xlsx", build_summary(made.info, scope, data, made.produced)


def _half_status(made, half, **_):
    period = _half(made.plan, half)
    data = half_data(made.plan, period, made.today)
    return f"{period.label}工作总结报送情况.xlsx", build_half(made.info, period.label, data, made.produced)


#: The function that makes each kind of workbook.
BUILDERS = {
    "breakdown": _breakdown,
    "quarter": _quarter_status,
    "department": _department,
    "summary": _summary,
    "half": _half_status,
}


def export_annual_report(year, layout=None, kind="xlsx"):
    """Return ``(file name, document)``: the annual report's tables (.xlsx) or the whole report's draft (.docx)."""
    if layout is not None and layout not in ("2021", "2019"):
        raise ExportError(
            f"unknown layout {layout}; use 2021 or 2019", "表格格式须为2021年起的现行格式或2019—2020年格式。"
        )
    tables = annual_tables(year, layout)
    organisation = current_app.config["REPORT_ORGANISATION"]
    if kind == "docx":
        return f"{year}年政府信息公开工作年度报告（草稿）.docx", build_report_draft(
            organisation, tables, year_summaries(year)
        )
    return f"{year}年政府信息公开工作年度报告表格.xlsx", build_annual_report(organisation, tables, produced_at())
