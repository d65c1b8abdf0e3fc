"""The archive of periodic spreadsheets (报表归档), produced once each period's due date has passed.

After a quarter's due date: the task breakdown table with that quarter's progress, the
quarter workbook and the leaders' brief (see :mod:`tracker.exports.reports`); after the last
quarter's, the year's brief too. After a half-year's: the breakdown table, the half-year summaries
workbook and the half-year's brief. The weekly briefs of a reporting window are archived by the
brief job as it sends them (:mod:`tracker.briefs.operations`). Each is produced once per period and kind (a
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
from .transaction import commit

KIND_LABELS = {
    "breakdown": "任务分解表",
    "quarter_status": "季度完成情况汇总表",
    "half_status": "半年工作总结报送情况表",
    "brief": "领导简报",
    "year_brief": "全年领导简报",
}


#: The order a period's files are listed in: the breakdown, the status table, the briefs (then weekly ones).
SHOWN_ORDER = {"breakdown": 0, "quarter_status": 1, "half_status": 1, "brief": 2, "year_brief": 3}


def kind_label(kind):
    """Return the Chinese name of an archived workbook's kind (a weekly brief's says its week)."""
    if kind.startswith("brief_w"):
        return f"报送周报（第{kind[7:]}周）"
    return KIND_LABELS.get(kind, kind)


def _is_last_quarter(period):
    last = (
        db.session.query(db.func.max(ReportingPeriod.due_on))
        .filter_by(plan_id=period.plan_id, kind=PeriodKind.QUARTER)
        .scalar()
    )
    return period.kind is PeriodKind.QUARTER and period.due_on == last


def _workbooks_for(period):
    """Yield ``(kind, filename, build)`` for the spreadsheets a period's archive holds.

    The last quarter also holds the whole year's brief: the year's figures are complete once its
    form falls due.
    """
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
        yield (
            "brief",
            f"{period.label}政务公开工作情况简报.xlsx",
            lambda: export_workbook("summary", plan.year, quarter=period.number)[1],
        )
        if _is_last_quarter(period):
            yield (
                "year_brief",
                f"{plan.year}年政务公开工作情况简报.xlsx",
                lambda: export_workbook("summary", plan.year)[1],
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
        yield (
            "brief",
            f"{period.label}政务公开工作情况简报.xlsx",
            lambda: export_workbook("summary", plan.year, half=period.number)[1],
        )


def archive(period, kind, filename, build, job_run_id=None):
    """Return the archived workbook of ``period`` and ``kind``, producing and storing it if there is none.

    Returns ``(file, made)``. Two runs at once store it once: the second one's row is refused by
    the unique constraint, its stored file goes with its transaction, and it returns the first's.
    """
    found = ArchiveFile.query.filter_by(period_id=period.id, kind=kind).one_or_none()
    if found is not None:
        return found, False
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
        commit()
    except IntegrityError:
        db.session.rollback()
        return ArchiveFile.query.filter_by(period_id=period.id, kind=kind).one(), False
    return archived, True


def produce_due_archives(today_, job_run_id=None):
    """Produce the spreadsheets of every period whose due date has passed and that has none yet.

    Returns the files made. Running it again makes nothing new; two runs at once make each file
    once (see :func:`archive`).
    """
    done = {(a.period_id, a.kind) for a in ArchiveFile.query}
    made = []
    for period in ReportingPeriod.query.filter(ReportingPeriod.due_on < today_).order_by(ReportingPeriod.due_on):
        for kind, filename, build in _workbooks_for(period):
            if (period.id, kind) in done:
                continue
            archived, is_new = archive(period, kind, filename, build, job_run_id)
            if is_new:
                made.append(archived)
    return made


def archived_files():
    """Return the archive, newest period first."""
    return (
        ArchiveFile.query.join(ReportingPeriod)
        .options(db.contains_eager(ArchiveFile.period))
        .order_by(
            ReportingPeriod.due_on.desc(), db.case(SHOWN_ORDER, value=ArchiveFile.kind, else_=4), ArchiveFile.kind
        )
        .all()
    )
