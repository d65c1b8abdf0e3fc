"""The archive of periodic spreadsheets (报表归档), produced once each period's due date has passed.

After a quarter's due date: the task breakdown table and the quarter's status workbook (every
department's form state, timeliness and 报送/发布 counts). After a half-year's: the breakdown
table and the half's summary status workbook. Each is produced once per period and kind (a
unique constraint), stored under a generated name, and listed for the office and the leaders.
"""

import hashlib
import io
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import IntegrityError

from .exports.breakdown import build_breakdown
from .exports.table import build_table
from .extensions import db
from .models import (
    ArchiveFile,
    CountKind,
    Department,
    HalfYearSummary,
    PeriodKind,
    QuarterlyReturn,
    ReportingPeriod,
)
from .plans.operations import plan_info, plan_outline
from .returns.operations import CELL_LABELS, cell_state
from .timeutil import local_date

KIND_LABELS = {
    "breakdown": "任务分解表",
    "quarter_status": "季度完成情况汇总表",
    "half_status": "半年工作总结报送情况表",
}


def archive_dir():
    """Return the folder archived spreadsheets are kept in (config ARCHIVE_DIR, default instance/archive)."""
    path = Path(current_app.config.get("ARCHIVE_DIR") or Path(current_app.instance_path) / "archive")
    path.mkdir(parents=True, exist_ok=True)
    return path


def archive_path(archived):
    """Return where an archived spreadsheet is stored."""
    return archive_dir() / archived.stored_name


def _yes_no(value):
    return "—" if value is None else ("迟报" if value else "按时")


def _when(moment):
    return local_date(moment).isoformat() if moment else "—"


def quarter_status_workbook(period, today_):
    """Build the quarter's status workbook: one row per department's form."""
    reports = (
        QuarterlyReturn.query.filter_by(period_id=period.id)
        .join(Department)
        .options(db.contains_eager(QuarterlyReturn.department), db.selectinload(QuarterlyReturn.counts))
        .order_by(Department.id)
        .all()
    )
    rows = [
        (
            number,
            r.department.name,
            CELL_LABELS[cell_state(r, today_)],
            r.due_on.isoformat(),
            _when(r.first_submitted_at),
            _yes_no(r.is_first_late),
            r.returned_count,
            r.total(CountKind.SUBMITTED),
            r.total(CountKind.PUBLISHED),
        )
        for number, r in enumerate(reports, 1)
    ]
    columns = [
        ("序号", 6, True),
        ("部门", 26, False),
        ("状态", 10, True),
        ("截止日期", 12, True),
        ("首次报送", 12, True),
        ("是否按时", 9, True),
        ("退回次数", 9, True),
        ("信息报送数", 10, True),
        ("信息发布数", 10, True),
    ]
    title = f"{period.plan.year}年政务公开工作{period.label[5:]}完成情况汇总表"
    return build_table("完成情况汇总", title, f"统计日期：{today_.isoformat()}", columns, rows)


def half_status_workbook(period, today_):
    """Build the half-year's summary status workbook: one row per department's summary."""
    summaries = (
        HalfYearSummary.query.filter_by(period_id=period.id)
        .join(Department)
        .options(db.contains_eager(HalfYearSummary.department))
        .order_by(Department.id)
        .all()
    )
    rows = [
        (
            number,
            s.department.name,
            CELL_LABELS[cell_state(s, today_)],
            s.due_on.isoformat(),
            _when(s.first_submitted_at),
            _yes_no(s.is_first_late),
            s.returned_count,
            s.document_name or "",
        )
        for number, s in enumerate(summaries, 1)
    ]
    columns = [
        ("序号", 6, True),
        ("部门", 26, False),
        ("状态", 10, True),
        ("截止日期", 12, True),
        ("首次报送", 12, True),
        ("是否按时", 9, True),
        ("退回次数", 9, True),
        ("总结文件", 30, False),
    ]
    title = f"{period.label}政务公开工作总结报送情况表"
    return build_table("半年总结报送情况", title, f"统计日期：{today_.isoformat()}", columns, rows)


def _workbooks_for(period, today_):
    """Yield ``(kind, filename, build)`` for the spreadsheets a period's archive holds."""
    plan = period.plan
    yield (
        "breakdown",
        f"{plan.year}年任务分解表（{period.label}归档）.xlsx",
        lambda: build_breakdown(plan_info(plan), plan_outline(plan)),
    )
    if period.kind is PeriodKind.QUARTER:
        yield "quarter_status", f"{period.label}完成情况汇总表.xlsx", lambda: quarter_status_workbook(period, today_)
    else:
        yield "half_status", f"{period.label}工作总结报送情况表.xlsx", lambda: half_status_workbook(period, today_)


def produce_due_archives(today_, job_run_id=None):
    """Produce the spreadsheets of every period whose due date has passed and that has none yet.

    Returns the files made. Running it again makes nothing new; two runs at once make each file
    once (the second one's row is refused by the unique constraint and its file removed).
    """
    done = {(a.period_id, a.kind) for a in ArchiveFile.query}
    made = []
    for period in ReportingPeriod.query.filter(ReportingPeriod.due_on < today_).order_by(ReportingPeriod.due_on):
        for kind, filename, build in _workbooks_for(period, today_):
            if (period.id, kind) in done:
                continue
            buffer = io.BytesIO()
            build().save(buffer)
            data = buffer.getvalue()
            stored = secrets.token_hex(16) + ".xlsx"
            path = archive_dir() / stored
            path.write_bytes(data)
            archived = ArchiveFile(
                plan_id=period.plan_id,
                period_id=period.id,
                kind=kind,
                filename=filename,
                stored_name=stored,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                job_run_id=job_run_id,
            )
            db.session.add(archived)
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                path.unlink(missing_ok=True)
                continue
            made.append(archived)
    return made


def archived_files():
    """Return the archive, newest period first."""
    return (
        ArchiveFile.query.join(ReportingPeriod)
        .options(db.contains_eager(ArchiveFile.period))
        .order_by(ReportingPeriod.due_on.desc(), ArchiveFile.kind)
        .all()
    )
