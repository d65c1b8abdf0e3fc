"""The archive of periodic spreadsheets (报表归档), produced once each period's due date has passed.

After a quarter's due date: the task breakdown table with that quarter's progress and the
quarter workbook (see :mod:`tracker.exports.reports`). After a half-year's: the breakdown table
and the half-year summaries workbook. Each is produced once per period and kind (a
unique constraint), stored in the database with its row (:mod:`tracker.storage`), and listed
for the office and the leaders.
"""

from sqlalchemy.exc import IntegrityError

from . import storage
from .exports.operations import export_workbook
from .extensions import db
from .models import (
    ArchiveFile,
    PeriodKind,
    ReportingPeriod,
)

KIND_LABELS = {
    "breakdown": "任务分解表",
    "quarter_status": "季度完成情况汇总表",
    "half_status": "半年工作总结报送情况表",
}


def _workbooks_for(period):
    """Yield ``(kind, filename, build)`` for the spreadsheets a period's archive holds."""
    plan = period.plan
    if period.kind is PeriodKind.QUARTER:
        yield (
            "breakdown",
            f"{plan.year}年任务分解表（{period.label}归档）.xlsx",
            lambda: export_workbook("breakdown", plan.year, quarter=period.number)[1],
        )
        yield (
            "quarter_status",
            f"{period.label}完成情况汇总表.xlsx",
            lambda: export_workbook("quarter", plan.year, quarter=period.number)[1],
        )
    else:
        yield (
            "breakdown",
            f"{plan.year}年任务分解表（{period.label}归档）.xlsx",
            lambda: export_workbook("breakdown", plan.year)[1],
        )
        yield (
            "half_status",
            f"{period.label}工作总结报送情况表.xlsx",
            lambda: export_workbook("half", plan.year, half=period.number)[1],
        )


def produce_due_archives(today_, job_run_id=None):
    """Produce the spreadsheets of every period whose due date has passed and that has none yet.

    Returns the files made. Running it again makes nothing new; two runs at once make each file
    once (the second one's row is refused by the unique constraint, and its file goes with it).
    """
    done = {(a.period_id, a.kind) for a in ArchiveFile.query}
    made = []
    for period in ReportingPeriod.query.filter(ReportingPeriod.due_on < today_).order_by(ReportingPeriod.due_on):
        for kind, filename, build in _workbooks_for(period):
            if (period.id, kind) in done:
                continue
            stored = storage.put(storage.saved(build()), ".xlsx")
            archived = ArchiveFile(
                plan_id=period.plan_id,
                period_id=period.id,
                kind=kind,
                filename=filename,
                stored_name=stored.name,
                size=stored.size,
                sha256=stored.sha256,
                job_run_id=job_run_id,
            )
            db.session.add(archived)
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
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
