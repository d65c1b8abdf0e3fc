"""State changes of departments: adding one, and merging two into one (机构改革), which spans the whole system."""

from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Application,
    ChaseEntry,
    Department,
    DepartmentAlias,
    HalfYearSummary,
    QuarterlyReturn,
    ReportingPeriod,
    ReturnState,
    Role,
    TaskDepartment,
    User,
    normalize_department_name,
)
from ..plans.operations import NameTaken, PlanError
from ..returns.periods import ensure_periods
from ..transaction import commit, committed


def add_department(name, short_name=""):
    """Create a department the plan does not name yet (a new office, or one a notice left out); audited."""
    name = normalize_department_name(name or "")
    if not name or len(name) > 100:
        raise PlanError("a department needs a name of at most 100 characters")
    other = Department.lookup(name)
    if other is not None:
        raise NameTaken(name, other.name)
    short_name = (short_name or "").strip()
    if len(short_name) > 50:
        raise PlanError("a short name may have at most 50 characters")
    department = Department(name=name, short_name=short_name or name[:50])
    db.session.add(department)
    commit()
    return department


class MergeRefused(PlanError):
    """The two departments cannot be merged; ``periods`` names the clashing reporting periods."""

    def __init__(self, message, periods=()):
        super().__init__(message)
        self.periods = list(periods)


def _untouched(record):
    """Tell whether a form or summary is an empty draft nobody has written in or sent."""
    if record.state != ReturnState.DRAFT or record.first_submitted_at or record.filled_by_name:
        return False
    if isinstance(record, QuarterlyReturn):
        return not (
            record.approved_by
            or any(line.has_content for line in record.lines)
            or any(count.value for count in record.counts)
        )
    return not (record.text or record.document_name)


def _settle_periods(source, target):
    """Where both departments have a form (or summary) of a period, drop the one that is an empty
    draft; return the labels of the periods where both hold reported work (nothing dropped then)."""
    clashes, drop = [], []
    for model in (QuarterlyReturn, HalfYearSummary):
        mine = {r.period_id: r for r in model.query.filter_by(department_id=source.id)}
        for theirs in model.query.filter_by(department_id=target.id).filter(model.period_id.in_(list(mine))):
            own = mine[theirs.period_id]
            if _untouched(own):
                drop.append(own)
            elif _untouched(theirs):
                drop.append(theirs)
            else:
                clashes.append(theirs.period)
    clashes.sort(key=lambda period: period.starts_on)
    return [period.label for period in clashes], drop


def merge_departments(source, target):
    """Merge ``source`` into ``target`` (e.g. 安监局 into 应急管理局 after 机构改革); audited.

    ``target`` takes over ``source``'s tasks (where both have a task it keeps the stronger role:
    lead over responsible), its quarterly forms, half-year summaries, chase records, disclosure
    applications and accounts; ``source``'s name and aliases become ``target``'s aliases, and
    ``source`` is deleted. Where both have a form of a period and one of them is an empty draft,
    the empty one goes; refused when both reported in the same period, since two forms of one
    period cannot become one (nothing is changed then).
    """
    if source.id == target.id:
        raise MergeRefused("a department cannot be merged into itself")
    clashes, empty = _settle_periods(source, target)
    if clashes:
        raise MergeRefused(
            f"{source.name} and {target.name} both reported in {len(clashes)} period(s)", periods=clashes
        )
    with committed():
        for record in empty:
            db.session.delete(record)
        db.session.flush()
        _move_assignments(source, target)
        _move_chase_entries(source, target)
        _move_records(source, target)
        _delete_keeping_names(source, target)
        _complete_forms(target)
    return target


def _move_records(source, target):
    """Move the quarterly forms, half-year summaries, disclosure applications and accounts."""
    # Row by row, not one UPDATE, so that the audit trail records every move.
    for model in (QuarterlyReturn, HalfYearSummary, Application, User):
        for record in model.query.filter_by(department_id=source.id):
            record.department_id = target.id


def _delete_keeping_names(source, target):
    """Delete ``source``; its name, aliases and short name become ``target``'s aliases where no department has them."""
    names = [source.name, *source.alias_names]
    if source.short_name and source.short_name != source.name:
        names.append(normalize_department_name(source.short_name))
    for alias in list(source.aliases):
        db.session.delete(alias)
    db.session.flush()
    db.session.delete(source)
    db.session.flush()
    known = set(target.alias_names) | {target.name}
    for name in dict.fromkeys(names):
        if name not in known and Department.lookup(name) is None:
            target.aliases.append(DepartmentAlias(alias=name))


def _complete_forms(target):
    """Give the forms the target keeps lines for the tasks it took over."""

    plans = {
        period.plan
        for period in ReportingPeriod.query.join(QuarterlyReturn).filter(QuarterlyReturn.department_id == target.id)
    }
    for plan in plans:
        ensure_periods(plan, commit=False)


def _move_chase_entries(source, target):
    """Move the chase records; where both were chased at the same step of the same item (the
    source's form an empty draft that gave way), the target's record stands for both."""
    theirs = {(e.period_id, e.item, e.round, e.step_id) for e in ChaseEntry.query.filter_by(department_id=target.id)}
    for entry in ChaseEntry.query.filter_by(department_id=source.id).all():
        if (entry.period_id, entry.item, entry.round, entry.step_id) in theirs:
            db.session.delete(entry)
        else:
            entry.department_id = target.id
    db.session.flush()


def _move_assignments(source, target):
    theirs = {(a.task_id): a for a in TaskDepartment.query.filter_by(department_id=target.id)}
    for assignment in TaskDepartment.query.filter_by(department_id=source.id).all():
        kept = theirs.get(assignment.task_id)
        if kept is None:
            assignment.department_id = target.id
            continue
        if assignment.role == Role.LEAD and kept.role == Role.RESPONSIBLE:
            kept.role, kept.position = Role.LEAD, min(kept.position, assignment.position)
        db.session.delete(assignment)
    db.session.flush()


def department_usage(department):
    """Return counts of what refers to ``department`` (tasks, forms, summaries, accounts), for the page."""
    count = lambda model: db.session.scalar(  # noqa: E731 - a one-line counter
        select(func.count()).select_from(model).where(model.department_id == department.id)
    )
    return {
        "tasks": count(TaskDepartment),
        "forms": count(QuarterlyReturn),
        "summaries": count(HalfYearSummary),
        "users": count(User),
    }
