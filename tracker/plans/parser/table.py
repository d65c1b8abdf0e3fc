"""Task tables: 任务分解表, 重点任务清单, an implementation plan's table, as rows of cells.

Columns come in any order under many names (:mod:`.columns` tells which is which). Sections
stand in rows of their own (``一、…`` across the table) or in a column of their own (类别, 领域,
目标); merged or blank cells of such a column, and of the department columns, carry down from
the row above.
"""

import datetime
import re

from .columns import (
    MULTI,
    cell_text,
    match_columns,
    merge_subheader,
    settle_columns,
)
from .departments import DEPARTMENT_END_RE, Departments, _add_cell, departments_phrase, is_collective
from .model import ParsedGroup, ParsedPlan, ParsedSection, ParsedTask, PlanFormatError
from .notice import check_plan, split_title
from .text import (
    GROUP_RE,
    ISSUED_LABEL_RE,
    ISSUER_LABEL_RE,
    ISSUER_LINE_RE,
    SECTION_RE,
    WRAPPER_RE,
    clean_line,
    compact,
    date_line,
    is_furniture,
    numeral,
    title_match,
    valid_date,
)

#: 1.2, 1.2.3, and 1.2.3.4 (a paragraph of several tasks, as this system numbers them).
CODE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})(?:\.(\d{1,2})(?:\.(\d{1,2}))?)?$")
ISSUED_RE = re.compile(r"印发单位[:：]\s*(.+?)\s+印发日期[:：]\s*(\d{4})年(\d{1,2})月(\d{1,2})日")
#: How this system's exports mark a withdrawn task's title.
WITHDRAWN_MARK = "【撤销】"
CN_NUMBER_RE = re.compile(r"^([一二三四五六七八九十]+)[、.．]?$")


def _code_key(code):
    return tuple(int(part) for part in code.split("."))


def parse_table_rows(rows, unit="row", heading_lines=()):
    """Parse a task table given as rows of cell values; ``heading_lines`` stood above the table."""
    rows = [[cell_text(c) for c in row] for row in rows]
    header_at, columns = _find_header(rows)
    first_row = header_at + 1
    if first_row < len(rows) and merge_subheader(columns, rows[first_row]):
        first_row += 1
    plan = _plan_heading(_lines_above(heading_lines, rows[:header_at]))
    settle_columns(columns, rows[first_row:])
    reader = _TableReader(plan, columns, unit)
    for number in range(first_row, len(rows)):
        reader.row(rows[number], f"{unit} {number + 1}")
    _check_last_row(reader, rows, header_at, first_row, unit)
    check_plan(plan)
    return plan


def _find_header(rows):
    """Return the index of the table's header row and the columns it names."""
    for index, row in enumerate(rows):
        if columns := match_columns(row):
            return index, columns
    raise PlanFormatError("no header row with 工作任务/具体要求 and 牵头部门/责任部门 columns was found")


def _lines_above(heading_lines, rows):
    """Return the non-blank lines that stood above the table, then the rows above its header, as text."""
    above = [clean_line(t) for t in heading_lines if clean_line(t)]
    above += [" ".join(c for c in dict.fromkeys(row) if c) for row in rows]
    return [t for t in above if t]


ENDS = ("。", "；", ";", "！", "？", "”", "）", ")")


def _check_last_row(reader, rows, header_at, first_row, unit):
    """Refuse a table whose last row is cut short: fewer cells than the header, or its text
    stopping mid-sentence before the columns every other row fills."""
    task_rows = [
        (i, r)
        for i, r in enumerate(rows[first_row:], first_row)
        if reader.task_text(r) and len({c for c in r if c}) > 1  # not a heading row across the table
    ]
    if not task_rows:
        return
    index, last = task_rows[-1]
    earlier = [r for _, r in task_rows[:-1]]
    if _shorter_than_the_rest(reader, last, earlier, len(rows[header_at])) or _dangling_department(reader, last):
        message = "the last task's row stops in the middle (is the file cut short?)"
        raise PlanFormatError(message, f"{unit} {index + 1}", partial=reader.plan)


def _rightmost(row):
    return max((i for i, c in enumerate(row) if c), default=-1)


def _shorter_than_the_rest(reader, last, earlier, width):
    """Tell whether the last row has fewer cells than the header while others have them all, or stops
    mid-sentence before the columns every other row fills."""
    if len(last) < width and any(len(r) >= width for r in earlier):
        return True
    others = [_rightmost(r) for r in earlier]
    return bool(others and _rightmost(last) < min(others) and not reader.task_text(last).endswith(ENDS))


def _dangling_department(reader, last):
    """Tell whether the last row's department cell stops on a word of a character or two after a comma (…工作,有)."""
    cells = [last[i] for kind in MULTI for i in reader.columns.get(kind, []) if i < len(last) and last[i]]
    dangling = cells and re.search(r"[，,、；;]\s*(\S{1,2})$", cells[-1])
    return bool(dangling and not (is_collective(dangling.group(1)) or DEPARTMENT_END_RE.search(dangling.group(1))))


def _plan_heading(lines):
    """Read the title, issuer and date from the lines above a table."""
    texts = [re.sub(r"^附件\s*\d*[:：]?\s*", "", t) for t in lines]
    found = _heading_lines(texts)
    title = _table_title(found, texts)
    issued_on = found["issued_on"]
    year_match = re.search(r"((?:19|20)\d{2})\s*年", title)
    year = int(year_match.group(1)) if year_match else (issued_on.year if issued_on else None)
    plan = ParsedPlan(title=title, year=year, issuing_office=found["issuing_office"], issued_on=issued_on)
    if not title:
        plan.warn(
            "",
            "no title such as '2018年…工作安排' stands above the table; give the plan's title and year",
            "表格上方没有“2018年…工作安排”这样的标题，请填写计划的标题和年度",
        )
    return plan


def _heading_lines(texts):
    """Sort the lines above a table into titles, a fallback title, the wrapper's title, the issuer and the date."""
    found = {"titles": [], "fallback": "", "issuing_office": None, "issued_on": None, "wrapper_title": None}
    for index, text in enumerate(texts):
        bare = compact(text)
        following = compact(texts[index + 1]) if index + 1 < len(texts) else ""
        if m := ISSUED_RE.search(text):
            found["issuing_office"] = m.group(1)
            found["issued_on"] = datetime.date(*map(int, m.group(2, 3, 4)))
        elif m := WRAPPER_RE.match(bare):
            found["issuing_office"] = found["issuing_office"] or m.group("issuer")
            found["wrapper_title"] = found["wrapper_title"] or m.group("title").strip("《》 ")
        elif title := title_match(text):
            found["titles"].append(title)
        elif following and (title := title_match(text + texts[index + 1])):
            found["titles"].append(title)  # a title broken over two lines
        else:
            _heading_line(found, text, bare, following)
    return found


def _heading_line(found, text, bare, following):
    """Read a line above a table that is not a title: a date or issuer label, a date, a signature, or a fallback."""
    if named := _date_or_issuer(bare, following):
        key, value = named
        found[key] = found[key] or value  # the first date or issuer named stands
    elif text and not found["fallback"] and _plain_line(text, bare):
        found["fallback"] = text


def _date_or_issuer(bare, following):
    """Return ``("issued_on", date)`` or ``("issuing_office", name)`` for a line that gives one (a
    label, a date alone, a signature above a date), else None."""
    if m := ISSUED_LABEL_RE.search(bare):
        return "issued_on", valid_date(m.groups()[1:4])
    if m := ISSUER_LABEL_RE.search(bare):
        return "issuing_office", m.group(2)
    if dated := date_line(bare):
        return "issued_on", valid_date(dated)
    if ISSUER_LINE_RE.match(bare) and date_line(following):
        return "issuing_office", bare
    return None


def _plain_line(text, bare):
    """Tell whether a line may stand for the title: not page furniture, 附件 or a label ending in a colon."""
    return not is_furniture(bare) and not re.fullmatch(r"附件\s*\d*|.*[:：]", text)


def _table_title(found, texts):
    """Return the plan's title: the last title line, else the wrapper's, else the first plain line."""
    title = found["titles"][-1] if found["titles"] else found["wrapper_title"] or found["fallback"]
    # The page's 名称/标题 field may name the issuer the title line leaves out.
    for text in texts:
        m = re.match(r"^(信息名称|名称|标题)[:：](.+)$", compact(text))
        if m and title and compact(m.group(2)).endswith(compact(title).replace(" ", "")[4:]):
            title = compact(m.group(2))
    return re.sub(r"(重点)?(工作)?任务分解表$", "", title).strip() or title


class _TableReader:
    def __init__(self, plan, columns, unit):
        self.plan = plan
        self.columns = columns
        self.unit = unit
        self.section = None
        self.group = None
        self.carried = {}
        self.section_value = None

    def cell(self, row, kind):
        index = self.columns.get(kind)
        return row[index] if index is not None and index < len(row) else ""

    def task_text(self, row):
        """Return the row's own task text (its details, or its title)."""
        return self.cell(row, "details") or self.cell(row, "title")

    def cells(self, row, kind):
        return [row[i] for i in self.columns.get(kind, []) if i < len(row) and row[i]]

    def row(self, row, where):
        """Read one row of the table's body: a heading across the table, a numbered section, or a task."""
        values = [c for c in dict.fromkeys(row) if c]
        if not values:
            return
        if len(values) == 1 and self._heading(values[0], where):
            return
        number = self.cell(row, "number")
        if self._numbered_section(number, values, where):
            return
        if "section" in self.columns:
            self._section_column(row, where)
        title, details = self._title_and_details(row, where)
        if not (title or details):
            return  # a row of departments or dates only: nothing to do
        self._task(row, number, title, details, where)

    def _numbered_section(self, number, values, where):
        """Start a section at a row numbered 一、 that holds little else (its title); tell whether it was one."""
        m = CN_NUMBER_RE.match(number)
        if not m or len(values) > 3:
            return False
        title = next((v for v in values if v != number), "")
        self._new_section(numeral(m.group(1), where), title, where)
        return True

    def _title_and_details(self, row, where):
        """Return the row's title and details cells; a title 一、… heads a section instead (once)."""
        title, details = self.cell(row, "title"), self.cell(row, "details")
        if title and (m := SECTION_RE.match(title)) and details:  # 一、… in the task column heads it
            if title != self.section_value:
                self.section_value = title
                self._new_section(len(self.plan.sections) + 1, m.group(2).rstrip("。"), where)
            title = ""
        return title, details

    def _section_column(self, row, where):
        """Start a section when the section column names a new one (a merged cell carries the last)."""
        value = self.cell(row, "section") or self.section_value
        if value and value != self.section_value:
            self.section_value = value
            m = SECTION_RE.match(value)
            title = m.group(2) if m else value
            self._new_section(len(self.plan.sections) + 1, title.rstrip("。"), where)

    def _heading(self, heading, where):
        if m := SECTION_RE.match(heading):
            self._new_section(numeral(m.group(1), where), m.group(2).rstrip("。"), where, expect=True)
            return True
        if m := GROUP_RE.match(heading):
            section = self._ensure_section(where)
            n = numeral(m.group(1), where)
            previous = section.groups[-1].number if section.groups else 0
            if n <= previous:
                raise PlanFormatError(f"group {n} follows group {previous}; expected a later number", where)
            self.group = ParsedGroup(n, split_title(m.group(2))[0], where=where)
            section.groups.append(self.group)
            return True
        return False

    def _new_section(self, number, title, where, expect=False):
        """Open a section; a numbered heading keeps its number (a table may leave sections out,
        as an export of a plan whose tasks were removed does), but never goes back."""
        previous = self.plan.sections[-1].number if self.plan.sections else 0
        if expect and number <= previous:
            raise PlanFormatError(f"section {number} follows section {previous}; expected a later number", where)
        self.section = ParsedSection(number if expect else previous + 1, title, where=where)
        self.plan.sections.append(self.section)
        self.group = None

    def _ensure_section(self, where):
        if self.section is None:
            self._new_section(1, "工作任务", where)
        return self.section

    def _code(self, raw, where):
        section = self._ensure_section(where)
        if m := CODE_RE.match(raw):
            s, g, i, _ = m.groups()
            if int(s) != section.number:
                raise PlanFormatError(f"task {raw} is listed under section {section.number}", where)
            if i is not None and (self.group is None or int(g) != self.group.number):
                raise PlanFormatError(f"task {raw} has no group heading ({g}) above it", where)
            if i is not None and self.group.tasks:
                # A table's codes name the tasks: gaps are tasks removed, but never out of order.
                previous = self.group.tasks[-1].code
                if _code_key(raw) <= _code_key(previous):
                    raise PlanFormatError(f"item {raw} follows item {previous}; expected a later number", where)
            return raw
        if self.group is not None:
            return f"{section.number}.{self.group.number}.{len(self.group.tasks) + 1}"
        return f"{section.number}.{len(section.groups) + 1}"

    def _departments(self, row, where):
        """Read the row's department cells; a cell that cannot be read is left for the office to
        fill in, with a warning, rather than refusing the whole table."""
        departments = Departments()
        for kind in MULTI:
            for value in self.cells(row, kind):
                try:
                    _add_cell(departments, re.sub(r"(牵头|牵头落实|负责落实|负责|配合)$", "", value) or value, kind)
                except ValueError as exc:
                    self.plan.warn(
                        where,
                        f"{exc}; the cell was not read",
                        f"部门单元格“{value[:40]}”读不出部门，请在预览中指定",
                    )
        return departments

    def _carry(self, row, kind):
        """A blank or merged department cell takes the value above it."""
        for index in self.columns.get(kind, []) if kind in MULTI else [self.columns.get(kind)]:
            if index is None or index >= len(row):
                continue
            if row[index]:
                self.carried[index] = row[index]
            elif index in self.carried:
                row[index] = self.carried[index]

    def _task(self, row, raw_code, title, details, where):
        """Read a task row into the plan, under its group (or as a group of its own)."""
        row = list(row)
        title, details, withdrawn = _task_title(title, details)
        self._carry_departments(row)
        code = self._code(raw_code, where)
        departments = self._departments(row, where)
        if departments.empty:
            self.plan.warn(
                where,
                f"task {code}: no department is named; choose them in the preview or on the task page",
                f"第{code}项：没有写明责任部门，请在预览或任务页中指定",
            )
        deadline = self.cell(row, "deadline") or departments.deadline
        self._place(_parsed_task(code, title, details, departments, deadline, where, withdrawn), where)

    def _carry_departments(self, row):
        """Fill the row's blank department and deadline cells from the rows above; a row that
        names departments starts afresh, so what it leaves blank is blank."""
        if any(row[i] for kind in MULTI for i in self.columns.get(kind, []) if i < len(row)):
            self.carried = {}
        for kind in (*MULTI, "deadline"):
            self._carry(row, kind)

    def _place(self, task, where):
        """Add ``task`` to the current group; a task coded 1.2 is a group of its own (or its group heading's task)."""
        if task.code.count(".") != 1:
            self.group.tasks.append(task)
            return
        section = self.section
        number = int(task.code.split(".")[1])
        group = self.group
        if group is None or group.number != number or group.tasks:
            if number != len(section.groups) + 1:
                raise PlanFormatError(f"group {number} follows group {len(section.groups)}", where)
            group = ParsedGroup(number, task.title, where=where)
            section.groups.append(group)
        group.tasks.append(task)
        self.group = None


def _task_title(title, details):
    """Return a task's title (its number and withdrawn mark taken off), its details, and whether it is withdrawn."""
    if title and not details:
        title, details = split_title(title)
    elif not title:
        title, details = split_title(details)
    title = re.sub(r"^(\d{1,2}[.．、]|[(（]\d{1,2}[)）])\s*", "", title)
    withdrawn = title.startswith(WITHDRAWN_MARK)
    return title.removeprefix(WITHDRAWN_MARK), details, withdrawn


def _parsed_task(code, title, details, departments, deadline, where, withdrawn):
    """Return the task read from a row, its text written out with its departments as a notice would."""
    phrase = departments_phrase(
        departments.lead,
        departments.responsible,
        departments.all_departments,
        departments.and_related,
        departments.all_wording,
    )
    return ParsedTask(
        code=code,
        title=title,
        details=details,
        text=title + "。" + details + (f"({phrase})" if phrase else ""),
        lead=departments.lead,
        responsible=departments.responsible,
        all_departments=departments.all_departments,
        and_related=departments.and_related,
        deadline=deadline,
        where=where,
        all_wording=departments.all_wording,
        withdrawn=withdrawn,
    )
