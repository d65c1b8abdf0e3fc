"""Loading an arrangement through the web: upload, preview and correct, then confirm.

:func:`start_import` reads the file and keeps what was read (nothing of the plan changes);
:func:`import_preview` says what loading it would do (departments new or matched, tasks added,
changed or withdrawn); :func:`confirm_import` applies the office's corrections (a task's
departments, a name matched to an existing department) and loads exactly that, in one
transaction. The corrections stay with the import, and the import is audited.
"""

import difflib
import hashlib
import re
from dataclasses import dataclass, field

from sqlalchemy import update

from ..extensions import db
from ..models import Department, DepartmentAlias, PlanImport, normalize_department_name
from ..timeutil import now_utc
from ..transaction import committed
from .operations import PlanError, load_plan
from .parser import ParsedPlan, parse_plan_bytes
from .parser.departments import Departments, split_names

#: The largest file the office may upload (a year's notice is some 50 KB; a table a few hundred).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class IntakeRefused(PlanError):
    """The import cannot go on (already loaded, an unknown department chosen); ``zh`` says why
    in Chinese, for the page."""

    def __init__(self, message, zh):
        super().__init__(message)
        self.zh = zh


#: The longest department name the preview accepts (the parser reads none longer).
MAX_NAME = 40
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class NameMatch:
    """A department name the file uses, and what it is in the system."""

    name: str
    department: Department | None
    #: Existing departments with similar names, best first: offered, never chosen unasked.
    suggestions: list = field(default_factory=list)

    @property
    def is_new(self):
        """Tell whether loading would create a department."""
        return self.department is None


def start_import(data, filename, user=None):
    """Read an uploaded file and keep it for the preview; raises PlanFormatError if unreadable."""
    if len(data) > MAX_UPLOAD_BYTES:
        limit = MAX_UPLOAD_BYTES // (1024 * 1024)
        raise IntakeRefused(f"the file is larger than {limit} MB", f"文件过大，请上传{limit} MB以内的文件。")
    parsed = parse_plan_bytes(data, filename)
    record = PlanImport(
        filename=parsed.source_name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        parsed=parsed.to_dict(),
        corrections={},
        created_by=user,
    )
    with committed():
        db.session.add(record)
    return record


def parsed_plan(record):
    """Return the import's plan as read (with corrections applied so far)."""
    return ParsedPlan.from_dict(record.parsed)


def name_matches(parsed):
    """Return a :class:`NameMatch` for every department the plan names, in order.

    Two queries whatever the plan's size: every department, and every alias.
    """
    departments = {d.id: d for d in Department.query.all()}
    by_name = {d.name: d.id for d in departments.values()}
    for department_id, alias in db.session.query(DepartmentAlias.department_id, DepartmentAlias.alias):
        by_name.setdefault(alias, department_id)
    result = []
    for name in parsed.departments():
        key = normalize_department_name(name)
        department = departments.get(by_name.get(key))
        suggestions = [departments[i] for i in _similar(key, by_name)] if department is None else []
        result.append(NameMatch(name, department, suggestions))
    return result


def _similar(key, by_name):
    """Return the ids of up to three departments whose name or alias (``by_name``: name → id) is like ``key``."""
    names = list(by_name)
    # Names holding one another (办公室, 工委(管委会)办公室) first, then similar ones.
    holding = sorted((n for n in names if key in n or n in key), key=lambda n: abs(len(n) - len(key)))
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
    return list(dict.fromkeys(by_name[c] for c in holding + close))[:3]


def _rename(parsed, old, new):
    for task in parsed.tasks():
        task.lead = list(dict.fromkeys(new if n == old else n for n in task.lead))
        task.responsible = list(dict.fromkeys(new if n == old else n for n in task.responsible))


#: The most departments one field of the preview may name.
MAX_NAMES = 60


def _typed(text, role, code):
    """Read what the office typed for task ``code``, by the rules the notice's brackets follow:
    names split on 、 and commas, 各部门 and the like for every department, 等相关部门 open-ended.
    Refuse what cannot be a name."""
    typed = Departments()
    text = text or ""
    bad = next((n for n in split_names(text) if len(n) > MAX_NAME or CONTROL_RE.search(n) or "。" in n), None)
    if bad is not None or len(split_names(text)) > MAX_NAMES:
        shown = CONTROL_RE.sub("", bad or text)[:40]
        raise IntakeRefused(
            f"task {code}: '{shown}' does not look like department names",
            f"第{code}项：“{shown}”不像部门名称（部门名称不超过{MAX_NAME}个字，每栏不超过{MAX_NAMES}个部门，"
            "多个部门用“、”分隔）。",
        )
    try:
        typed.add(text, role)
    except ValueError:
        raise IntakeRefused(
            f"task {code}: '{text[:40]}' does not look like department names",
            f"第{code}项：“{CONTROL_RE.sub('', text)[:40]}”不像部门名称。",
        ) from None
    return typed


def confirm_import(record, *, year=None, title=None, tasks=None, matches=None, confirm_withdrawal=False, dry_run=False):
    """Load the import as the year's plan, with the office's corrections; return the LoadReport.

    ``tasks`` maps a task code to ``{"lead": "X、Y", "responsible": "…", "all_departments": bool}``
    as corrected in the preview; ``matches`` maps a name the file uses to the id of the existing
    department it means (the name becomes that department's alias). With ``dry_run`` nothing
    is written and the report says what loading would do.
    """
    if record.loaded_at is not None and not dry_run:
        raise IntakeRefused("this file has already been loaded", "该文件已经导入。")
    parsed = parsed_plan(record)
    corrections = {"tasks": {}, "matches": {}}
    _correct_title(parsed, title, corrections)
    for task in parsed.tasks():
        wanted = (tasks or {}).get(task.code)
        if wanted is not None:
            _correct_task(task, wanted, corrections)
    aliases, corrected_codes = _match_departments(parsed, matches or {}, corrections)
    with committed():
        if not dry_run:
            _claim_import(record, aliases, corrections, parsed)
        report = load_plan(
            parsed, year=year, dry_run=dry_run, confirm_withdrawal=confirm_withdrawal, corrected=corrected_codes
        )
        if not dry_run:
            record.plan_id = report.plan.id
    return report


def _correct_title(parsed, title, corrections):
    """Take the office's title for the plan (refused with control characters or past 200 characters)."""
    if title and CONTROL_RE.search(title):
        raise IntakeRefused("the title holds control characters", "标题中有无法显示的控制字符，请删除后再导入。")
    if title and len(title.strip()) > 200:
        raise IntakeRefused(
            f"the title may have at most 200 characters (it has {len(title.strip())})",
            f"标题不超过200字（现有{len(title.strip())}字）。",
        )
    if title and title.strip() and title.strip() != parsed.title:
        corrections["title"] = [parsed.title, title.strip()]
        parsed.title = title.strip()


def _correct_task(task, wanted, corrections):
    """Take the office's departments for one task, noting the change in ``corrections``."""
    typed_lead = _typed(wanted.get("lead"), "lead", task.code)
    typed_responsible = _typed(wanted.get("responsible"), "responsible", task.code)
    lead = typed_lead.lead
    responsible = [n for n in typed_responsible.responsible if n not in lead]
    everyone = bool(wanted.get("all_departments")) or typed_lead.all_departments or typed_responsible.all_departments
    before = (task.lead, task.responsible, task.all_departments)
    if (lead, responsible, everyone) == before:
        return
    corrections["tasks"][task.code] = {
        "before": {"lead": before[0], "responsible": before[1], "all_departments": before[2]},
        "after": {"lead": lead, "responsible": responsible, "all_departments": everyone},
    }
    task.lead, task.responsible, task.all_departments = lead, responsible, everyone
    wording = "、".join(filter(None, [typed_lead.all_wording, typed_responsible.all_wording]))
    task.all_wording = (wording or task.all_wording or "各部门") if everyone else ""
    task.and_related = task.and_related or typed_responsible.and_related


def _match_departments(parsed, matches, corrections):
    """Rename the file's names the office matched to existing departments; return ``(aliases to add, codes)``."""
    aliases, corrected_codes = [], set(corrections["tasks"])
    for name, department_id in matches.items():
        if not department_id:
            continue
        department = db.session.get(Department, int(department_id))
        if department is None:
            raise IntakeRefused(f"no department with id {department_id}", "所选的部门不存在，请重新选择。")
        if Department.lookup(name) is None:
            aliases.append((department, normalize_department_name(name)))
        corrections["matches"][name] = department.name
        corrected_codes.update(t.code for t in parsed.tasks() if name in t.lead or name in t.responsible)
        _rename(parsed, name, department.name)
    return aliases, corrected_codes


def _claim_import(record, aliases, corrections, parsed):
    """Mark the import loaded, add the matched names as aliases and keep the corrections (the caller commits).

    The import is claimed first: of two confirmations sent at once, the second finds it taken.
    """
    claimed = db.session.execute(
        update(PlanImport)
        .where(PlanImport.id == record.id, PlanImport.loaded_at.is_(None))
        .values(loaded_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise IntakeRefused("this file has already been loaded", "该文件已经导入。")
    for department, alias in aliases:
        department.aliases.append(DepartmentAlias(alias=alias))
    record.corrections = corrections
    record.parsed = parsed.to_dict()
    record.loaded_at = now_utc()
