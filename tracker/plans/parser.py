"""Read a work arrangement (工作安排) into a :class:`ParsedPlan`.

Two kinds of source are understood:

* the notice itself (.txt, .html or .docx): sections ``一、``, groups ``(一)``, numbered items
  ``1.``, each task ending with a bracket naming its departments;
* a task breakdown table (任务分解表, .xlsx or a .docx table) with the columns 序号, 工作任务,
  具体要求, 牵头部门, 责任部门, 完成时限 (or their variants).

Parsing is pure: nothing here touches the database, so a file that cannot be read is rejected
before anything is written. Errors are :class:`PlanFormatError` with the place (line, paragraph
or row) they were found at.
"""

import datetime
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..models.departments import normalize_department_name
from ..models.plan import parse_chinese_numeral

OPEN = "(（"
CLOSE = ")）"
CN_NUM = "一二三四五六七八九十"

SECTION_RE = re.compile(rf"^([{CN_NUM}]+)\s*[、.．]\s*(\S.*)$")
GROUP_RE = re.compile(rf"^[(（]\s*([{CN_NUM}]+)\s*[)）]\s*(\S.*)$")
ITEM_RE = re.compile(r"^(\d{1,2})\s*[.．、]\s*(?!\d)(\S.*)$")
TITLE_RE = re.compile(r"^(\d{4})\s*年.{2,80}(工作安排|工作要点|工作方案|工作任务)$")
DATE_RE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")
NOTICE_TITLE_RE = re.compile(r"^(.{4,100}?)关于印发.+的通知$")
#: Lines after which the arrangement is over: attachments, web page footers, distribution lists.
TRAILER_RE = re.compile(r"^(附件|扫一扫|抄送|分送|主题分类|责任编辑|[(（]此件)")

ROLE_RE = re.compile(r"(分别牵头落实|共同牵头落实|牵头落实|牵头负责|牵头|负责落实|配合落实|配合|协助|负责|落实)")
ALL_RE = re.compile(r"^(工委、?)?(管委会)?各(部门|科室|单位)$")
RELATED_RE = re.compile(r"等(相关|有关)?(部门|单位|科室)$")
NAME_SEPARATORS = "、，,；; "

BREAKDOWN_COLUMNS = {
    "number": ("序号", "编号"),
    "title": ("工作任务", "任务名称", "主要任务", "重点任务"),
    "details": ("具体要求", "工作要求", "主要内容", "工作内容", "任务内容"),
    "lead": ("牵头单位", "牵头部门", "牵头科室", "牵头"),
    "responsible": ("责任单位", "责任部门", "责任科室", "配合部门", "配合单位"),
    "deadline": ("完成时限", "时限要求", "完成时间", "时限"),
}


class PlanFormatError(ValueError):
    """The file cannot be read as a work arrangement; the message names where."""

    def __init__(self, message, where=None):
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.reason = message


@dataclass
class ParsedTask:
    """A task as read from the source."""

    code: str
    title: str
    details: str
    text: str
    lead: list[str] = field(default_factory=list)
    responsible: list[str] = field(default_factory=list)
    all_departments: bool = False
    and_related: bool = False
    deadline: str = ""
    where: str = ""


@dataclass
class ParsedGroup:
    """A group ``(一)`` of a section."""

    number: int
    title: str
    tasks: list[ParsedTask] = field(default_factory=list)
    where: str = ""


@dataclass
class ParsedSection:
    """A section ``一、`` of the arrangement."""

    number: int
    title: str
    groups: list[ParsedGroup] = field(default_factory=list)
    where: str = ""


@dataclass
class ParsedPlan:
    """A whole arrangement as read from one file."""

    title: str
    year: int | None
    issuing_office: str | None = None
    issued_on: datetime.date | None = None
    sections: list[ParsedSection] = field(default_factory=list)
    source_name: str = ""
    source_sha256: str = ""

    def tasks(self):
        """Return every task in the document's order."""
        return [t for s in self.sections for g in s.groups for t in g.tasks]

    def departments(self):
        """Return every department named, in order of first appearance."""
        seen = {}
        for task in self.tasks():
            for name in task.lead + task.responsible:
                seen.setdefault(name, None)
        return list(seen)


# --- text helpers -------------------------------------------------------------------------


def clean_line(line):
    """Return ``line`` with every kind of white space folded to one space and trimmed."""
    line = line.replace("\xa0", " ").replace("\u3000", " ").replace("&nbsp;", " ")
    return re.sub(r"\s+", " ", line).strip()


def split_trailing_bracket(text):
    """Split ``text`` into ``(body, inner)`` when it ends with a bracket; ``inner`` is None otherwise.

    Brackets may nest and be half- or full-width: ``…(工委(管委会)办公室牵头落实)``.
    Raises ValueError when the closing bracket has no opening one.
    """
    stripped = text.rstrip("。. ")
    if not stripped or stripped[-1] not in CLOSE:
        return text, None
    depth = 0
    for i in range(len(stripped) - 1, -1, -1):
        ch = stripped[i]
        if ch in CLOSE:
            depth += 1
        elif ch in OPEN:
            depth -= 1
            if depth == 0:
                return stripped[:i].rstrip(), stripped[i + 1 : -1].strip()
    raise ValueError("a closing bracket at the end has no opening bracket")


def _check_brackets(text):
    """Raise ValueError unless the round brackets of ``text`` are balanced."""
    depth = 0
    for ch in text:
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth -= 1
            if depth < 0:
                raise ValueError("a closing bracket has no opening bracket")
    if depth:
        raise ValueError("a bracket is opened and never closed (is the file cut short?)")


def _split_names(segment):
    """Split a run of department names on 、 and commas, keeping brackets inside names whole."""
    names, current, depth = [], "", 0
    for ch in segment:
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth -= 1
        if depth == 0 and ch in NAME_SEPARATORS:
            if current.strip():
                names.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        names.append(current.strip())
    return names


@dataclass
class Departments:
    """Who does a task, as read from its bracket or the breakdown table's columns."""

    lead: list[str] = field(default_factory=list)
    responsible: list[str] = field(default_factory=list)
    all_departments: bool = False
    and_related: bool = False

    def add(self, segment, role):
        """Add the names of ``segment`` (e.g. ``X、Y等相关部门``) under ``role``."""
        segment = segment.strip(NAME_SEPARATORS)
        match = RELATED_RE.search(segment)
        if match:
            self.and_related = True
            segment = segment[: match.start()]
        for name in _split_names(segment):
            name = normalize_department_name(name)
            if ALL_RE.match(name):
                self.all_departments = True
                continue
            if len(name) > 30 or "。" in name:
                raise ValueError(f"'{name}' does not look like a department name")
            target = self.lead if role == "lead" else self.responsible
            if name not in target:
                target.append(name)


def is_department_phrase(inner):
    """Tell whether a bracket's text names departments rather than, say, a document number."""
    return bool(ROLE_RE.search(inner)) or bool(ALL_RE.match(normalize_department_name(inner)))


def parse_department_phrase(inner):
    """Read a bracket such as ``工委(管委会)办公室牵头、管委会各部门负责落实``.

    ``X牵头`` names leads; ``负责落实``, ``配合`` and the like name the departments carrying it
    out. ``管委会各部门``/``各部门``/``各科室`` stand for every department; ``…等相关部门`` makes the
    list open-ended.
    """
    result = Departments()
    position = 0
    for match in ROLE_RE.finditer(inner):
        segment = inner[position : match.start()]
        role = "lead" if "牵头" in match.group(1) else "responsible"
        if segment.strip(NAME_SEPARATORS):
            result.add(segment, role)
        position = match.end()
    rest = inner[position:].strip(NAME_SEPARATORS)
    if rest:
        if position == 0 and ALL_RE.match(normalize_department_name(rest)):
            result.all_departments = True
        else:
            raise ValueError(f"cannot tell the role of '{rest}' in '({inner})'")
    if not (result.lead or result.responsible):
        result.all_departments = True
    return result


def split_title(text):
    """Split a task's text into its title (up to the first 。) and the rest."""
    title, sep, rest = text.partition("。")
    if not sep:
        return text.strip(), ""
    return title.strip(), rest.strip()


# --- the notice ---------------------------------------------------------------------------


@dataclass
class _Line:
    text: str
    where: str


def _numbered_lines(lines, unit):
    return [_Line(clean_line(t), f"{unit} {i}") for i, t in enumerate(lines, 1) if clean_line(t)]


def _expect(number, expected, kind, line):
    if number != expected:
        raise PlanFormatError(f"{kind} {number} follows {kind} {expected - 1}; expected {expected}", line.where)


def _finish_task(task, lines_where):
    """Fill a task's title, details and departments from its collected text."""
    text = task.text
    try:
        _check_brackets(text)
        body, inner = split_trailing_bracket(text)
    except ValueError as exc:
        raise PlanFormatError(f"task {task.code}: {exc}", lines_where) from None
    if inner is not None and not is_department_phrase(inner):
        body, inner = text, None
    # A task ends a sentence; a semicolon means more was to follow, as in a file cut short.
    if not body.endswith(("。", "！", "）", ")", "”")):
        raise PlanFormatError(
            f"task {task.code} ends in the middle of a sentence (is the file cut short?)", lines_where
        )
    if inner is None:
        departments = Departments(all_departments=True)
    else:
        try:
            departments = parse_department_phrase(inner)
        except ValueError as exc:
            raise PlanFormatError(f"task {task.code}: {exc}", lines_where) from None
    if task.title:  # a group that is itself the task: the group heading is its title
        task.details = body.strip()
    else:
        task.title, task.details = split_title(body)
    task.lead, task.responsible = departments.lead, departments.responsible
    task.all_departments, task.and_related = departments.all_departments, departments.and_related


def parse_notice_lines(lines, unit="line"):
    """Parse the notice's lines (plain text, or paragraphs of an HTML page or .docx)."""
    items = _numbered_lines(lines, unit)
    title_at = next((i for i, line in enumerate(items) if TITLE_RE.match(line.text)), None)
    if title_at is None:
        raise PlanFormatError("no title line such as '2018年…工作安排' was found")
    title = items[title_at].text
    year = int(TITLE_RE.match(title).group(1))

    issuing_office = issued_on = None
    for line in items[:title_at]:
        notice = NOTICE_TITLE_RE.match(line.text)
        if notice and issuing_office is None:
            issuing_office = notice.group(1).strip()
        date = DATE_RE.match(line.text)
        if date:
            try:
                issued_on = datetime.date(*map(int, date.groups()))
            except ValueError:
                raise PlanFormatError(f"'{line.text}' is not a valid date", line.where) from None

    plan = ParsedPlan(title=title, year=year, issuing_office=issuing_office, issued_on=issued_on)
    section = group = task = None
    task_where = None

    def close_task():
        nonlocal task
        if task is not None:
            _finish_task(task, task_where)
            task = None

    for line in items[title_at + 1 :]:
        text = line.text
        if TRAILER_RE.match(text):
            break
        if m := SECTION_RE.match(text):
            close_task()
            number = _numeral(m.group(1), line)
            _expect(number, len(plan.sections) + 1, "section", line)
            section = ParsedSection(number, m.group(2).rstrip("。"), where=line.where)
            plan.sections.append(section)
            group = None
        elif m := GROUP_RE.match(text):
            if section is None:
                raise PlanFormatError(f"group '{text[:20]}' comes before any section", line.where)
            close_task()
            number = _numeral(m.group(1), line)
            _expect(number, len(section.groups) + 1, "group", line)
            heading, rest = split_title(m.group(2))
            group = ParsedGroup(number, heading, where=line.where)
            section.groups.append(group)
            if rest:  # heading and its text in one paragraph: the group is itself the task
                task = ParsedTask(f"{section.number}.{number}", heading, "", rest, where=line.where)
                task_where = line.where
                group.tasks.append(task)
        elif (m := ITEM_RE.match(text)) and group is not None and not (task and task.code.count(".") == 1):
            close_task()
            number = int(m.group(1))
            _expect(number, len(group.tasks) + 1, "item", line)
            task = ParsedTask(f"{section.number}.{group.number}.{number}", "", "", m.group(2), where=line.where)
            task_where = line.where
            group.tasks.append(task)
        elif section is None:
            continue  # the preamble (总体要求) before the first section
        elif group is None:
            raise PlanFormatError(f"text '{text[:20]}…' in section {section.number} is outside any group", line.where)
        elif task is not None:  # a further paragraph, or a hard-wrapped line, of the same task
            task.text += text
            task_where = line.where
        else:  # a group without numbered items is itself the task
            task = ParsedTask(f"{section.number}.{group.number}", group.title, "", text, where=line.where)
            task_where = line.where
            group.tasks.append(task)
    close_task()
    _check_plan(plan)
    return plan


def _numeral(text, line):
    try:
        return parse_chinese_numeral(text)
    except ValueError:
        raise PlanFormatError(f"'{text}' is not a Chinese numeral", line.where) from None


def _check_plan(plan):
    if not plan.sections:
        raise PlanFormatError("no section heading such as '一、…' was found after the title")
    for section in plan.sections:
        if not section.groups:
            raise PlanFormatError(f"section {section.number} has no groups or tasks", section.where)
        for group in section.groups:
            if not group.tasks:
                raise PlanFormatError(f"group {section.number}.{group.number} has no tasks", group.where)


# --- the breakdown table ------------------------------------------------------------------

CODE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})(?:\.(\d{1,2}))?$")
ISSUED_RE = re.compile(r"印发单位[:：]\s*(.+?)\s+印发日期[:：]\s*(\d{4})年(\d{1,2})月(\d{1,2})日")


def departments_phrase(lead, responsible, all_departments=False, and_related=False):
    """Write departments the way a notice's bracket does: ``X牵头、Y、Z等相关部门负责落实``."""
    parts = []
    if lead:
        parts.append("、".join(lead) + "牵头" + ("" if responsible or all_departments else "落实"))
    carried = "、".join(responsible)
    if and_related:
        carried += "等相关部门"
    if all_departments:
        carried = (carried + "、" if carried else "") + "各部门"
    if carried:
        parts.append(carried + "负责落实")
    return "、".join(parts)


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_line(str(value))


def _match_columns(row):
    """Map the breakdown table's column kinds to indexes, or return None if ``row`` is no header."""
    columns = {}
    for index, cell in enumerate(row):
        label = re.sub(r"\s+", "", cell).split("/")[0]
        for kind, names in BREAKDOWN_COLUMNS.items():
            if kind not in columns and any(label.startswith(name) for name in names):
                columns[kind] = index
                break
    if ("title" in columns or "details" in columns) and ("lead" in columns or "responsible" in columns):
        return columns
    return None


def parse_breakdown_rows(rows, unit="row"):
    """Parse a task breakdown table (任务分解表) given as rows of cell values."""
    rows = [[_cell_text(c) for c in row] for row in rows]
    header_at = columns = None
    for index, row in enumerate(rows):
        columns = _match_columns(row)
        if columns:
            header_at = index
            break
    if header_at is None:
        raise PlanFormatError("no header row with 工作任务/具体要求 and 牵头部门/责任部门 columns was found")

    title, issuing_office, issued_on = "", None, None
    for row in rows[:header_at]:
        text = " ".join(c for c in dict.fromkeys(row) if c)
        if m := ISSUED_RE.search(text):
            issuing_office = m.group(1)
            issued_on = datetime.date(*map(int, m.group(2, 3, 4)))
        elif text and not title and not re.fullmatch(r"附件\s*\d*", text):
            title = re.sub(r"^附件\s*\d*[:：]?\s*", "", text)
    title = re.sub(r"(重点)?(工作)?任务分解表$", "", title).strip() or title
    year_match = re.match(r"^(\d{4})\s*年", title)
    plan = ParsedPlan(
        title=title,
        year=int(year_match.group(1)) if year_match else None,
        issuing_office=issuing_office,
        issued_on=issued_on,
    )

    def cell(row, kind):
        index = columns.get(kind)
        return row[index] if index is not None and index < len(row) else ""

    section = group = None
    for number, row in enumerate(rows[header_at + 1 :], header_at + 2):
        where = f"{unit} {number}"
        values = [c for c in dict.fromkeys(row) if c]
        if not values:
            continue
        if len(values) == 1:  # a merged heading row: one text, perhaps repeated in every cell
            heading = values[0]
            if m := SECTION_RE.match(heading):
                n = _numeral(m.group(1), _Line(heading, where))
                _expect(n, len(plan.sections) + 1, "section", _Line(heading, where))
                section = ParsedSection(n, m.group(2).rstrip("。"), where=where)
                plan.sections.append(section)
                group = None
                continue
            if m := GROUP_RE.match(heading):
                if section is None:
                    raise PlanFormatError(f"group '{heading[:20]}' comes before any section", where)
                n = _numeral(m.group(1), _Line(heading, where))
                _expect(n, len(section.groups) + 1, "group", _Line(heading, where))
                group = ParsedGroup(n, split_title(m.group(2))[0], where=where)
                section.groups.append(group)
                continue
        if section is None:
            section = ParsedSection(1, "工作任务", where=where)
            plan.sections.append(section)
        task = _breakdown_task(row, cell, section, group, where)
        if task.code.count(".") == 1:  # a group that is itself the task
            if group is None or group.number != int(task.code.split(".")[1]) or group.tasks:
                group = ParsedGroup(len(section.groups) + 1, task.title, where=where)
                _expect(int(task.code.split(".")[1]), group.number, "group", _Line("", where))
                section.groups.append(group)
            group.tasks.append(task)
            group = None
        else:
            _expect(int(task.code.split(".")[2]), len(group.tasks) + 1, "item", _Line("", where))
            group.tasks.append(task)
    _check_plan(plan)
    return plan


def _breakdown_task(row, cell, section, group, where):
    """Read one task row of a breakdown table."""
    raw_code = cell(row, "number")
    if m := CODE_RE.match(raw_code):
        s, g, i = m.groups()
        if int(s) != section.number:
            raise PlanFormatError(f"task {raw_code} is listed under section {section.number}", where)
        if i is not None and (group is None or int(g) != group.number):
            raise PlanFormatError(f"task {raw_code} has no group heading ({g}) above it", where)
        code = raw_code
    elif raw_code and not raw_code.isdigit():
        raise PlanFormatError(f"'{raw_code}' is not a task number", where)
    elif group is not None:
        code = f"{section.number}.{group.number}.{len(group.tasks) + 1}"
    else:
        code = f"{section.number}.{len(section.groups) + 1}"

    title, details = cell(row, "title"), cell(row, "details")
    if not title:
        title, details = split_title(details)
    elif "title" in row and not details:
        title, details = split_title(title)
    if not title:
        raise PlanFormatError("the task has no text in 工作任务", where)
    departments = Departments()
    try:
        departments.add(re.sub(r"(牵头|牵头落实)$", "", cell(row, "lead")), "lead")
        departments.add(re.sub(r"(负责落实|负责|配合)$", "", cell(row, "responsible")), "responsible")
    except ValueError as exc:
        raise PlanFormatError(str(exc), where) from None
    if not (departments.lead or departments.responsible):
        departments.all_departments = True
    phrase = departments_phrase(
        departments.lead, departments.responsible, departments.all_departments, departments.and_related
    )
    text = title + "。" + details + (f"({phrase})" if phrase else "")
    return ParsedTask(
        code=code,
        title=title,
        details=details,
        text=text,
        lead=departments.lead,
        responsible=departments.responsible,
        all_departments=departments.all_departments,
        and_related=departments.and_related,
        deadline=cell(row, "deadline"),
        where=where,
    )


# --- files --------------------------------------------------------------------------------

SUFFIXES = (".txt", ".html", ".htm", ".docx", ".xlsx")


def _decode(data):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PlanFormatError("the file is neither UTF-8 nor GB18030 text")


BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "td", "th")


def _html_lines(data):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    for tag in soup(["script", "style", "head"]):
        tag.decompose()
    for tag in soup.find_all(BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return soup.get_text().splitlines()


def _docx_parse(data):
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise PlanFormatError(f"not a readable .docx file ({exc.__class__.__name__})") from None
    for table in document.tables:
        rows = [[c.text for c in row.cells] for row in table.rows]
        if any(_match_columns([_cell_text(c) for c in row]) for row in rows[:5]):
            # The title usually stands in the paragraphs above the table.
            heading = [[p.text] for p in document.paragraphs if p.text.strip()][:3]
            return parse_breakdown_rows(heading + rows, unit="table row")
    return parse_notice_lines([p.text for p in document.paragraphs], unit="paragraph")


def _xlsx_parse(data):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise PlanFormatError(f"not a readable .xlsx file ({exc.__class__.__name__})") from None
    try:
        sheet = workbook.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    return parse_breakdown_rows(rows, unit="row")


def parse_plan_bytes(data, filename):
    """Parse a notice or breakdown table given as bytes; the file name's suffix says which format."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise PlanFormatError(f"unsupported file type '{suffix}'; use .txt, .html, .docx or .xlsx")
    if not data.strip():
        raise PlanFormatError("the file is empty")
    if suffix == ".txt":
        plan = parse_notice_lines(_decode(data).splitlines(), unit="line")
    elif suffix in (".html", ".htm"):
        plan = parse_notice_lines(_html_lines(data), unit="paragraph")
    elif suffix == ".docx":
        plan = _docx_parse(data)
    else:
        plan = _xlsx_parse(data)
    plan.source_name = Path(filename).name
    plan.source_sha256 = hashlib.sha256(data).hexdigest()
    return plan


def parse_plan_file(path):
    """Parse the notice or breakdown table at ``path``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanFormatError(f"cannot read {path}: {exc.strerror}") from None
    return parse_plan_bytes(data, path.name)
