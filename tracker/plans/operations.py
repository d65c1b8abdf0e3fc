"""State changes of plans, tasks and departments.

Views, CLI commands and jobs call these functions; each one commits once, or rolls back and
raises, so a failure never leaves half a change behind.
"""

from dataclasses import dataclass, field

from ..errors import TrackerError
from ..extensions import db
from ..models import (
    Department,
    DepartmentAlias,
    Plan,
    QuarterlyReturn,
    ReturnLine,
    ReturnState,
    Role,
    Section,
    Task,
    TaskDepartment,
    TaskGroup,
    normalize_department_name,
)
from ..models.plan import plan_departments
from ..returns.periods import ensure_periods
from ..timeutil import now_utc
from ..transaction import committed


class PlanError(TrackerError, ValueError):
    """A plan operation was refused; the message says why (English, for the CLI)."""


class NameTaken(PlanError):
    """A department name or alias already belongs to another department."""

    def __init__(self, name, other):
        super().__init__(f"'{name}' is already the name or an alias of {other}")
        self.name = name
        self.other = other


class DepartmentConflict(PlanError):
    """The same department was given both roles in one task."""


@dataclass(frozen=True)
class AffectedForm:
    """A quarterly form with reported work on tasks a load would withdraw."""

    department: str
    #: The period in English, e.g. ``2018 Q3``.
    period: str
    state: ReturnState
    #: The codes of the withdrawn tasks whose lines in the form hold something.
    task_codes: tuple[str, ...]
    #: The form's id, for a page to link to it.
    form_id: int
    #: The period as pages say it, e.g. ``2018年第三季度``.
    period_zh: str


class WithdrawalNeedsConfirmation(PlanError):
    """Tasks left out of the file hold reported work: the load needs ``confirm_withdrawal=True``.

    ``task_codes`` are the tasks that would be withdrawn, ``forms`` the :class:`AffectedForm`
    list, and ``report`` the :class:`LoadReport` of the load that was refused (nothing written).
    """

    def __init__(self, report):
        self.report = report
        self.task_codes = list(report.withdrawn)
        self.forms = list(report.affected_forms)
        super().__init__(
            f"{len(self.task_codes)} task(s) no longer in the file ({', '.join(self.task_codes)}) "
            f"hold reported work in {len(self.forms)} form(s)"
        )


@dataclass
class LoadReport:
    """What loading a file did to a plan (or, in a dry run, would do)."""

    plan: Plan
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    departments_created: int = 0
    #: A new plan reports only its counts, not each thing it added.
    is_new_plan: bool = False
    is_dry_run: bool = False
    changes: list[str] = field(default_factory=list)
    #: Codes of the tasks this load withdrew (撤销): left out of the file while forms report on them.
    withdrawn: list[str] = field(default_factory=list)
    #: Codes of withdrawn tasks the file brought back.
    restored: list[str] = field(default_factory=list)
    #: The forms whose reported work is on the tasks this load withdrew.
    affected_forms: list[AffectedForm] = field(default_factory=list)
    # What the plan holds after the load, counted before a dry run is rolled back.
    year: int = 0
    sections: int = 0
    groups: int = 0
    tasks: int = 0
    #: Withdrawn tasks the plan keeps, from this load and earlier ones.
    withdrawn_tasks: int = 0
    departments: int = 0

    def note(self, change):
        """Record a change to an existing plan, for the CLI to print."""
        if not self.is_new_plan:
            self.changes.append(change)

    @property
    def summary(self):
        """Return the one line of counts the CLI prints."""
        kept = f" + {self.withdrawn_tasks} withdrawn" if self.withdrawn_tasks else ""
        more = "".join(
            f", {len(codes)} {word}"
            for codes, word in ((self.withdrawn, "withdrawn"), (self.restored, "restored"))
            if codes
        )
        return (
            f"Plan {self.year}: {self.sections} sections, {self.groups} groups, {self.tasks} tasks{kept}, "
            f"{self.departments} departments (tasks: {self.created} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.removed} removed{more}; {self.departments_created} new departments)"
        )

    def count(self):
        """Count what the plan holds now, into plain numbers that outlive a rolled-back dry run."""
        plan = self.plan
        self.year = plan.year
        self.sections = len(plan.sections)
        self.groups = sum(len(s.groups) for s in plan.sections)
        self.withdrawn_tasks = sum(task.is_withdrawn for task in plan.tasks)
        self.tasks = len(plan.tasks) - self.withdrawn_tasks
        self.departments = len(plan_departments(plan))


def _assign(obj, **values):
    """Set the attributes that differ from ``values``; return the names of those changed."""
    changed = [key for key, value in values.items() if getattr(obj, key) != value]
    for key in changed:
        setattr(obj, key, values[key])
    return changed


def _department(name, report):
    department = Department.lookup(name)
    if department is None:
        department = Department(name=normalize_department_name(name), short_name=name)
        db.session.add(department)
        db.session.flush()
        report.departments_created += 1
        report.note(f"department {department.name}: added")
    return department


def _set_assignments(task, lead, responsible):
    """Make ``task``'s departments exactly ``lead`` and ``responsible`` (lists of Department)."""
    wanted = [(d.id, Role.LEAD) for d in lead] + [(d.id, Role.RESPONSIBLE) for d in responsible]
    current = [(a.department_id, a.role) for a in task.assignments]
    if wanted == current:
        return False
    task.assignments.clear()
    db.session.flush()  # delete the old rows before inserting rows the unique key would clash with
    for position, (department_id, role) in enumerate(wanted, 1):
        task.assignments.append(TaskDepartment(department_id=department_id, role=role, position=position))
    return True


def load_plan(parsed, year=None, *, dry_run=False, confirm_withdrawal=False, corrected=()):
    """Create or update the plan of ``year`` (default: the parsed title's year) from a parsed file.

    Tasks are kept by code: a task whose text is unchanged keeps its departments (the office may
    have corrected them); a changed task takes its text and departments from the file. A task no
    longer in the file is removed, unless forms report on it: then it is withdrawn (撤销) and
    kept, with its group and section and every line reported on it (see :func:`_remove_tasks`).
    Withdrawing tasks whose lines hold something the departments wrote is refused with
    :class:`WithdrawalNeedsConfirmation` unless ``confirm_withdrawal``. A withdrawn task that
    comes back in a later file is in the plan again. Loading the file the plan was loaded from
    changes nothing.

    With ``dry_run``, return the same report (changes, counts, affected forms) and write nothing.
    ``corrected`` names the tasks whose departments the office set in the import preview: they
    take the file's (corrected) departments even where their text is unchanged.
    """
    from .parser.files import fit  # titles and deadlines no longer than their columns

    parsed = fit(parsed)
    year = year or parsed.year
    if not year:
        raise PlanError("the plan's year is not in its title; give it with --year")

    with committed():
        report = _load(parsed, year, frozenset(corrected))
        report.is_dry_run = dry_run
        report.count()
        if report.affected_forms and not (confirm_withdrawal or dry_run):
            raise WithdrawalNeedsConfirmation(report)
        ensure_periods(report.plan, commit=False)
        if dry_run:
            db.session.rollback()  # nothing is kept
    return report


def _load(parsed, year, corrected=()):
    """Bring the plan of ``year`` in line with ``parsed`` (flushed, not committed); return the report."""
    plan = Plan.query.filter_by(year=year).one_or_none()
    if _is_reload(plan, parsed, corrected):
        return LoadReport(plan=plan, unchanged=sum(not task.is_withdrawn for task in plan.tasks))
    report = LoadReport(plan=plan, is_new_plan=plan is None)
    if plan is None:
        plan = report.plan = Plan(year=year, title=parsed.title)
        db.session.add(plan)
    _load_heading(plan, parsed, report)
    existing_tasks = {t.code: t for t in plan.tasks}
    in_file, seen_codes = _load_outline(plan, parsed, existing_tasks, report, corrected)
    _remove_tasks(plan, [task for code, task in existing_tasks.items() if code not in seen_codes], report)
    _remove_emptied(plan, in_file, report)
    db.session.flush()
    db.session.expire(plan)
    return report


def _is_reload(plan, parsed, corrected):
    """Tell whether ``parsed`` is the file and title the plan was loaded from, with nothing corrected."""
    same_file = plan is not None and plan.source_sha256 == parsed.source_sha256
    return same_file and not corrected and plan.title == parsed.title


def _load_heading(plan, parsed, report):
    """Take the plan's title, issuer, date and source from the file."""
    changed = _assign(
        plan,
        title=parsed.title,
        issuing_office=parsed.issuing_office,
        issued_on=parsed.issued_on,
        source_name=parsed.source_name,
        source_sha256=parsed.source_sha256,
    )
    if changed:
        report.note(f"plan: {', '.join(changed)} changed")


def _load_outline(plan, parsed, existing_tasks, report, corrected):
    """Add or update the file's sections, groups and tasks, in order; return ``(sections and groups, task codes)``."""
    sections = {s.number: s for s in plan.sections}
    in_file = set()  # the sections and groups the file has
    seen_codes = set()
    position = 0
    for parsed_section in parsed.sections:
        section = sections.get(parsed_section.number)
        if section is None:
            section = Section(number=parsed_section.number, title=parsed_section.title)
            plan.sections.append(section)
            report.note(f"section {parsed_section.number}: added")
        elif _assign(section, title=parsed_section.title):
            report.note(f"section {section.number}: title changed")
        in_file.add(section)
        groups = {g.number: g for g in section.groups}
        for parsed_group in parsed_section.groups:
            group = _load_group(section, groups.get(parsed_group.number), parsed_group, report)
            in_file.add(group)
            for parsed_task in parsed_group.tasks:
                position += 1
                if parsed_task.withdrawn:  # a row of our own export marked 【撤销】 stays withdrawn
                    continue
                seen_codes.add(parsed_task.code)
                existing = existing_tasks.get(parsed_task.code)
                _load_task(plan, group, parsed_task, position, existing, report, corrected)
    return in_file, seen_codes


def _load_group(section, group, parsed_group, report):
    """Return the section's group for ``parsed_group``, added or with its title brought up to date."""
    if group is None:
        group = TaskGroup(number=parsed_group.number, title=parsed_group.title)
        section.groups.append(group)
    elif _assign(group, title=parsed_group.title):
        report.note(f"group {section.number}.{group.number}: title changed")
    return group


def _remove_emptied(plan, in_file, report):
    """Remove the groups and sections the file no longer has, unless they hold withdrawn tasks."""
    holding = {task.group for task in plan.tasks if task.is_withdrawn}
    for section in list(plan.sections):
        for group in list(section.groups):
            if group not in in_file and group not in holding:
                section.groups.remove(group)
        if section not in in_file and not section.groups:
            plan.sections.remove(section)
            report.note(f"section {section.number}: removed")


def _remove_tasks(plan, tasks, report):
    """Remove ``tasks`` (left out of the file) from the plan, or withdraw those that forms report on.

    An empty line in a form still being filled in is only a place to write: it goes with its
    task. Any other line (something written in it, or its form submitted or accepted) is
    reported work: it stays, and its task stays too, withdrawn. The lines that hold something
    are listed in ``report.affected_forms``.
    """
    tasks = [task for task in tasks if not task.is_withdrawn]
    if not tasks:
        return
    kept = _keep_reported_lines(tasks)
    now = now_utc()
    written = {}
    for task in tasks:
        if task.id not in kept:
            plan.tasks.remove(task)
            report.removed += 1
            report.note(f"task {task.code}: removed")
            continue
        task.withdrawn_at = now
        report.withdrawn.append(task.code)
        report.note(f"task {task.code}: withdrawn, kept in {len(kept[task.id])} form(s)")
        for line in kept[task.id]:
            if line.has_content:
                written.setdefault(line.report, []).append(task.code)
    report.affected_forms = _affected_forms(written)


def _keep_reported_lines(tasks):
    """Delete the empty lines of editable forms on ``tasks``; return the other lines by task id."""
    lines = (
        ReturnLine.query.filter(ReturnLine.task_id.in_([task.id for task in tasks]))
        .options(
            db.joinedload(ReturnLine.report).joinedload(QuarterlyReturn.period),
            db.joinedload(ReturnLine.report).joinedload(QuarterlyReturn.department),
            db.selectinload(ReturnLine.evidence),
        )
        .all()
    )
    kept = {}
    for line in lines:
        if line.report.is_editable and not line.has_content:
            db.session.delete(line)
            db.session.expire(line.report, ["lines"])
        else:
            kept.setdefault(line.task_id, []).append(line)
    db.session.flush()  # the lines go before their tasks: the database refuses a task that lines report on
    return kept


def _affected_forms(written):
    """Return an :class:`AffectedForm` for each form in ``written`` (form → task codes), by period and department."""
    return [
        AffectedForm(
            department=form.department.name,
            period=f"{form.period.year} {form.period.short_label}",
            state=form.state,
            task_codes=tuple(codes),
            form_id=form.id,
            period_zh=form.period.label,
        )
        for form, codes in sorted(written.items(), key=lambda item: (item[0].period.starts_on, item[0].department_id))
    ]


def _load_task(plan, group, parsed, position, task, report, corrected=()):
    """Add the file's task ``parsed``, or bring the plan's ``task`` up to date with it; note what changed."""
    is_new = task is None
    if is_new:
        task = _new_task(plan, group, parsed, position)
    is_back = task.is_withdrawn
    if is_back:
        task.withdrawn_at = None
    changed = _assign(task, group=group, position=position)
    # A group that is itself the task takes its title from the group heading, not from its text.
    if is_new or task.text != parsed.text or task.title != parsed.title or parsed.code in corrected:
        changed += _take_wording(task, parsed, report)
    fields = ", ".join(sorted(set(changed) - {"position"}))  # shifting behind an inserted task is no change
    _count_task(report, parsed.code, fields, is_new=is_new, is_back=is_back)


def _new_task(plan, group, parsed, position):
    """Add a task for ``parsed`` to the plan and group."""
    # Both parents are set before anything is flushed: a task never exists without them.
    with db.session.no_autoflush:
        task = Task(code=parsed.code, text=parsed.text, title=parsed.title, position=position)
        db.session.add(task)
        task.plan, task.group = plan, group
    return task


def _take_wording(task, parsed, report):
    """Give ``task`` the file's title, text, deadline, flags and departments; return the names of those changed."""
    changed = _assign(
        task,
        title=parsed.title,
        details=parsed.details,
        text=parsed.text,
        deadline=parsed.deadline or task.deadline or "",
        is_all_departments=parsed.all_departments,
        all_wording=(parsed.all_wording or "")[:100] if parsed.all_departments else "",
        is_and_related=parsed.and_related,
    )
    if _take_departments(task, parsed, report):
        changed.append("departments")
    return changed


def _take_departments(task, parsed, report):
    """Give ``task`` the file's lead and responsible departments; tell whether they changed."""
    # Two names may be one department (an alias, a merge): once each, and leading wins.
    lead = list(dict.fromkeys(_department(name, report) for name in parsed.lead))
    responsible = [d for d in dict.fromkeys(_department(n, report) for n in parsed.responsible) if d not in lead]
    return _set_assignments(task, lead, responsible)


def _count_task(report, code, fields, *, is_new, is_back):
    """Count the task as added, back in the plan, updated or unchanged, and note it."""
    if is_new:
        report.created += 1
        report.note(f"task {code}: added")
    elif is_back:
        report.restored.append(code)
        report.note(f"task {code}: back in the plan (was withdrawn)" + (f"; {fields} changed" if fields else ""))
    elif fields:
        report.updated += 1
        report.note(f"task {code}: {fields} changed")
    else:
        report.unchanged += 1


def plan_as_dict(plan):
    """Return the plan in the ``plan show --format json`` form (a documented contract); withdrawn tasks are left out."""
    tasks = (
        Task.query.filter_by(plan_id=plan.id, withdrawn_at=None)
        .options(
            db.joinedload(Task.group).joinedload(TaskGroup.section),
            db.selectinload(Task.assignments).joinedload(TaskDepartment.department),
        )
        .order_by(Task.position)
        .all()
    )
    return {
        "year": plan.year,
        "title": plan.title,
        "issued_on": plan.issued_on.isoformat() if plan.issued_on else None,
        "issuing_office": plan.issuing_office,
        "source": {"name": plan.source_name, "sha256": plan.source_sha256},
        "departments": [d.name for d in plan_departments(plan)],
        "tasks": [
            {
                "code": t.code,
                "title": t.title,
                "section": t.group.section.title,
                "group": t.group.title,
                "lead": [d.name for d in t.lead_departments],
                "responsible": [d.name for d in t.responsible_departments],
                "all_departments": t.is_all_departments,
                "and_related": t.is_and_related,
                "deadline": t.deadline,
            }
            for t in tasks
        ],
    }


def update_task(task, lead, responsible, is_all_departments, is_and_related, deadline):
    """Correct a task's departments (lists of Department), flags and deadline; audited."""
    overlap = set(lead) & set(responsible)
    if overlap:
        raise DepartmentConflict(f"{', '.join(d.name for d in overlap)} cannot both lead and carry out the task")
    with committed():
        changed = _assign(
            task,
            is_all_departments=bool(is_all_departments),
            is_and_related=bool(is_and_related),
            deadline=(deadline or "").strip(),
        )
        if _set_assignments(task, lead, responsible):
            changed.append("departments")
    return changed


def update_department(department, name, short_name, aliases, head_name=None, head_email=None):
    """Rename a department and set its short name, aliases, head and the head's e-mail; audited.

    Names and aliases are compared with brackets of either width and no white space, and must
    not belong to another department.
    """
    name = normalize_department_name(name)
    if not name:
        raise PlanError("a department needs a name")
    wanted = _alias_names(aliases, name)
    _refuse_taken(department, [name, *wanted])
    with committed():
        changed = _assign(
            department,
            name=name,
            short_name=_stripped(short_name) or name,
            head_name=_stripped(head_name) or None,
            head_email=_stripped(head_email) or None,
        )
        if _set_aliases(department, wanted):
            changed.append("aliases")
    return changed


def _alias_names(aliases, name):
    """Return the typed aliases normalised, once each, leaving out blanks and the name itself."""
    wanted = list(dict.fromkeys(normalize_department_name(a) for a in aliases if a.strip()))
    return [a for a in wanted if a != name]


def _stripped(value):
    """Return ``value`` without surrounding white space, ``""`` for None."""
    return (value or "").strip()


def _refuse_taken(department, names):
    """Raise :class:`NameTaken` for the first of ``names`` that is the name or an alias of another department."""
    for candidate in names:
        other = Department.lookup(candidate)
        if other is not None and other.id != department.id:
            raise NameTaken(candidate, other.name)


def _set_aliases(department, wanted):
    """Make ``wanted`` the department's aliases; tell whether they changed (the caller commits)."""
    current = {a.alias: a for a in department.aliases}
    if set(current) == set(wanted):
        return False
    for alias, row in current.items():
        if alias not in wanted:
            department.aliases.remove(row)
    db.session.flush()  # the removed names are free before the same names come back in another form
    for alias in wanted:
        if alias not in current:
            department.aliases.append(DepartmentAlias(alias=alias))
    return True


def plan_info(plan):
    """Return the plan's heading details (title, year, issuer, date) as plain values."""
    return {"year": plan.year, "title": plan.title, "issuing_office": plan.issuing_office, "issued_on": plan.issued_on}


def plan_outline(plan, department=None, role=None):
    """Return the plan as sections → groups → tasks of plain values, optionally filtered.

    ``department`` keeps the tasks that department leads or carries out (tasks for all
    departments included); ``role`` (``lead`` or ``responsible``) narrows that to one role.
    Withdrawn tasks are in it, marked ``withdrawn``. The plan page and the breakdown spreadsheet
    both read this outline.
    """
    tasks = (
        Task.query.filter_by(plan_id=plan.id)
        .options(db.selectinload(Task.assignments).joinedload(TaskDepartment.department))
        .order_by(Task.position)
        .all()
    )
    by_group = {}
    for task in tasks:
        lead = task.lead_departments
        responsible = task.responsible_departments
        if department is None or _takes_part(task, lead, responsible, department, role):
            by_group.setdefault(task.group_id, []).append(_outline_task(task, lead, responsible))
    sections = (
        Section.query.filter_by(plan_id=plan.id).options(db.selectinload(Section.groups)).order_by(Section.number).all()
    )
    outline = []
    for section in sections:
        groups = [_outline_group(g, by_group[g.id]) for g in section.groups if g.id in by_group]
        if groups:
            outline.append({"numeral": section.numeral, "title": section.title, "groups": groups})
    return outline


def _takes_part(task, lead, responsible, department, role):
    """Tell whether ``department`` leads or carries out ``task`` (in ``role``, if one is given)."""
    leads = department in lead
    carries = department in responsible or (task.is_all_departments and not leads)
    if role == Role.LEAD:
        return leads
    if role == Role.RESPONSIBLE:
        return carries
    return leads or carries


def _outline_task(task, lead, responsible):
    """Return a task of the outline as plain values."""
    return {
        "id": task.id,
        "code": task.code,
        "title": task.title,
        "details": task.details,
        "lead": [d.name for d in lead],
        "responsible": [d.name for d in responsible],
        "all_departments": task.is_all_departments,
        "all_wording": task.all_wording or "各部门",
        "and_related": task.is_and_related,
        "deadline": task.deadline,
        "withdrawn": task.is_withdrawn,
    }


def _outline_group(group, tasks):
    """Return an outline group holding ``tasks``; a group whose task has a two-part code (``1.2``) is that task."""
    return {
        "numeral": group.numeral,
        "title": group.title,
        "tasks": tasks,
        "is_task": tasks[0]["code"].count(".") == 1,
    }
