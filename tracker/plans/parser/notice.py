"""The notice itself: numbered sections, groups and items whose departments stand in brackets.

A notice numbers its parts 一、 / （一） / 1. / (1) or ①, though not every notice uses every
level: items may stand directly under a section, and a group may have no items. Each bracket
that names departments (or a labelled ``牵头单位：…``) closes a task: the sentences since the
previous one. A paragraph that names nobody is a task for nobody yet, and a warning.
"""

import re
from dataclasses import dataclass

from .departments import (
    CLOSE,
    LABEL_RE,
    OPEN,
    ROLE_RE,
    Departments,
    is_collective,
    is_department_phrase,
    parse_department_phrase,
)
from .model import ParsedGroup, ParsedPlan, ParsedSection, ParsedTask, PlanFormatError
from .text import (
    CIRCLED,
    GROUP_RE,
    ISSUER_LINE_RE,
    ITEM_RE,
    PREAMBLE_SECTION_RE,
    SECTION_RE,
    SIGNED_LINE_RE,
    SUBITEM_RE,
    TRAILER_RE,
    clean_line,
    compact,
    date_line,
    is_furniture,
    is_structure,
    numeral,
    read_heading,
)

#: A task's last sentence ends with one of these; anything else at the very end is a cut.
ENDINGS = ("。", "！", "？", "”", "」", "）", ")", "…")
#: The subject of a paragraph that names no department: 各部门要…, 各科室要….
COLLECTIVE_SUBJECT_RE = re.compile(r"^([^，。]{1,30}?)(均要|都要|要|应|须|需)")


@dataclass
class _Line:
    text: str
    where: str


@dataclass
class _Unit:
    """A numbered paragraph (with its continuation lines), or a group's own text."""

    code: str
    where: str
    text: str = ""
    #: The group heading, when the unit is a group's own text.
    heading: str = ""
    last_where: str = ""
    #: The group's heading and text stand in one paragraph.
    inline: bool = False
    #: The group made for an item or paragraph standing directly under a section.
    direct_group: object = None


def split_title(text):
    """Split a task's text into its title (up to the first 。) and the rest."""
    title, sep, rest = text.partition("。")
    if not sep:
        return text.strip(), ""
    return title.strip(), rest.strip()


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


def assignments(text):
    """Return ``(start, end, inner)`` of each top-level bracket in ``text`` that names departments,
    and of a labelled ``牵头单位：…`` tail. Raises ValueError for a bracket never closed."""
    spans = _bracket_assignments(text)
    labelled = _labelled_assignments(text)
    spans = [s for s in spans if not any(a <= s[0] < b for a, b, _ in labelled)]
    return sorted(spans + labelled)


def _top_level_brackets(text):
    """Return ``(start, end)`` of each top-level bracket in ``text`` (brackets nested in one are part of it).

    Raises ValueError for a bracket never closed; a closing bracket with no opening one is text.
    """
    brackets, depth, start = [], 0, None
    for i, ch in enumerate(text):
        if ch in OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif ch in CLOSE and depth:
            depth -= 1
            if depth == 0:
                brackets.append((start, i + 1))
    if depth:
        raise ValueError("a bracket is opened and never closed (is the file cut short?)")
    return brackets


def _bracket_assignments(text):
    """Return ``(start, end, inner)`` of each top-level bracket that names departments: with a role
    word, or standing at a sentence's end (a bracket inside a name, 工委(管委会)办公室, assigns nothing)."""
    spans = []
    for start, end in _top_level_brackets(text):
        inner = text[start + 1 : end - 1].strip()
        if is_department_phrase(inner) and (ROLE_RE.search(inner) or _ends_sentence(text, start, end)):
            spans.append((start, end, inner))
    return spans


def _labelled_assignments(text):
    """Return ``(start, end, inner)`` of each labelled tail outside any bracket that names departments.

    …。牵头单位：区政府办；责任单位：各街道。 Each runs to the next full stop; what follows it is a
    task of its own.
    """
    labelled, after = [], 0
    while (label := _label_outside_brackets(text, after)) is not None:
        stop = text.find("。", label)
        end = len(text) if stop < 0 else stop + 1
        phrase = text[label:end].strip("。")
        if is_department_phrase(phrase):
            labelled.append((label, end, phrase.strip()))
        after = end
    return labelled


def _split_at(text, spans):
    """Split ``text`` at its assignments into ``(sentences, inner)`` pairs.

    The sentences after the last bracket are a task that names nobody (``inner`` None), unless
    they are a label of the bracket's task: …（甲局负责）完成时限：年底前。
    """
    if not spans:
        return [(text, None)]
    chunks, position = [], 0
    for start, end, inner in spans:
        chunks.append((text[position:start], inner))
        position = end
    tail = text[position:].strip("。；; ")
    if tail and LABEL_RE.match(tail):
        chunks[-1] = (chunks[-1][0], f"{chunks[-1][1]}；{tail}")
    elif tail:
        chunks.append((text[position:].lstrip("。；; "), None))
    return chunks


def _merge_bare(chunks):
    """Join an assignment with no sentence of its own (…（甲局负责）完成时限：年底前。) to the
    task before it."""
    merged = []
    for body, inner in chunks:
        if merged and inner is not None and merged[-1][1] is not None and not body.strip("。；;，, "):
            merged[-1] = (merged[-1][0], f"{merged[-1][1]}；{inner}")
        else:
            merged.append((body, inner))
    return merged


def _ends_sentence(text, start, end):
    """Tell whether a bracket stands at a sentence's end (not inside a name: 工委(管委会)办公室)."""
    before = text[start - 1] if start else "。"
    after = text[end] if end < len(text) else "。"
    return before in "。；;！？" or after in "。；;！？"


def _label_outside_brackets(text, start):
    """Return the index of the first label (牵头单位：…) from ``start`` on outside any bracket, or None."""
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE and depth:
            depth -= 1
        elif depth == 0 and LABEL_RE.match(text, i):
            return i
    return None


class _Reader:
    """Walks the body's lines and builds the plan."""

    def __init__(self, plan):
        self.plan = plan
        self.section = None
        self.group = None
        self.unit = None
        self.skipping = False
        self.direct_items = 0
        self.group_items = 0
        self.item_kind = None
        self.skipped = 0
        #: The last group and item numbers read, for notices that number on across parents.
        self.last_group = 0
        self.last_item = 0
        #: The last number of a list inside the open item, if one is open.
        self.sublist = None

    # -- structure --------------------------------------------------------------------------

    def read(self, line):
        """Read one line of the body by how it is numbered."""
        text = line.text
        if m := SECTION_RE.match(text):
            self.section_line(line, m)
        elif m := GROUP_RE.match(text):
            self.group_line(line, m)
        elif (m := ITEM_RE.match(text)) and self.item_kind != "subitem":
            self.item_line(line, int(m.group(1)), m.group(2), "item")
        elif (m := SUBITEM_RE.match(text)) and self.group is not None and self.item_kind in (None, "subitem"):
            number = int(m.group(1)) if m.group(1) else CIRCLED.index(m.group(2)) + 1
            self.item_line(line, number, m.group(3), "subitem")
        else:
            self.text_line(line)

    def section_line(self, line, m):
        self.close()
        number = numeral(m.group(1), line.where)
        previous = self.plan.sections[-1].number if self.plan.sections else self.skipped
        if number != previous + 1:
            raise PlanFormatError(f"section {number} follows section {previous}; expected {previous + 1}", line.where)
        title = m.group(2).rstrip("。")
        self.group = None
        self.direct_items = 0
        self.item_kind = None
        if PREAMBLE_SECTION_RE.match(title) and not self.plan.sections:
            self.skipping, self.skipped, self.section = True, number, None
            return
        self.skipping = False
        self.section = ParsedSection(number, title, where=line.where)
        self.plan.sections.append(self.section)

    def group_line(self, line, m):
        if self.skipping:
            return
        self.close()
        section = self._ensure_section(line)
        number = numeral(m.group(1), line.where)
        expected = len(section.groups) + 1
        # Some notices number groups on across sections: (五) in 一、 then (六) in 二、.
        if number != expected and not (number == self.last_group + 1 and section.groups == []):
            raise PlanFormatError(f"group {number} follows group {expected - 1}; expected {expected}", line.where)
        self.last_group = number
        heading, rest = split_title(m.group(2))
        self.group = ParsedGroup(number, heading.rstrip("。"), where=line.where)
        self.sublist = None
        section.groups.append(self.group)
        self.group_items = 0
        self.item_kind = None
        if rest:  # heading and its text in one paragraph: the heading is the first task's title
            self.unit = _Unit(f"{section.number}.{number}", line.where, m.group(2), heading=self.group.title)
            self.unit.inline = True
            self.unit.last_where = line.where

    def _in_sublist(self, number):
        """Tell whether a numbered line is part of a list inside the open item (1., 2. under item
        3.), not an item of its own."""
        count = self.group_items if self.group is not None else self.direct_items
        if self.unit is None or count == 0:
            return False
        if number == 1 and self.sublist is None:
            self.sublist = 1
            return True
        if self.sublist is not None and number == self.sublist + 1:
            # The item's next number ends the list once the item has closed: its bracket, or a
            # full stop where the list's points end with semicolons.
            closed = self.unit.text.rstrip().endswith((*ENDINGS, "！"))
            if number == count + 1 and closed:
                return False
            self.sublist = number
            return True
        return False

    def item_line(self, line, number, text, kind):
        """Read a numbered item: a point of a list inside the open item, an item of the open
        group, or, with no group open, a task standing directly under the section."""
        if self.skipping:
            return
        if self._in_sublist(number):
            self.unit.text += line.text
            self.unit.last_where = line.where
            return
        self.sublist = None
        if self.group is None:
            self._direct_item(line, number, text)
        else:
            self._group_item(line, number, text, kind)

    def _direct_item(self, line, number, text):
        """Read an item directly under a section: a group of its own that is itself the task."""
        section = self._ensure_section(line)
        self.close()
        self.direct_items += 1
        self._check_item_number(number, self.direct_items, line.where)
        self.direct_items = self.last_item = number
        heading = split_title(text)[0]
        group = ParsedGroup(len(section.groups) + 1, heading.rstrip("。"), where=line.where)
        section.groups.append(group)
        self.unit = _Unit(f"{section.number}.{group.number}", line.where, text)
        self.unit.last_where = line.where
        self.unit.direct_group = group

    def _group_item(self, line, number, text, kind):
        """Read an item of the open group."""
        if self._only_introduces_items():
            self.unit = None
        self.close()
        if self.item_kind is None:
            self.item_kind = kind
        self.group_items += 1
        self._check_item_number(number, self.group_items, line.where)
        self.group_items = self.last_item = number
        self.unit = _Unit(f"{self.section.number}.{self.group.number}.{number}", line.where, text)
        self.unit.last_where = line.where

    def _check_item_number(self, number, expected, where):
        """Refuse an item numbered out of turn. Some notices number items on across groups (1.-3.
        in (一), then 4. in (二)), so the first item may also follow the last one read."""
        if number != expected and not (number == self.last_item + 1 and expected == 1):
            raise PlanFormatError(f"item {number} follows item {expected - 1}; expected {expected}", where)

    def _only_introduces_items(self):
        """Tell whether the open unit is the group's own text naming nobody before its first item:
        it only introduces the items, and is no task."""
        if self.unit is None or self.group_items != 0 or not self.unit.heading:
            return False
        try:
            return not assignments(self.unit.text)
        except ValueError:
            return False

    def text_line(self, line):
        if self.skipping:
            return
        if self.unit is not None:
            self.unit.text += line.text
            self.unit.last_where = line.where
        elif self.group is not None and not self.group.tasks:
            self.unit = _Unit(f"{self.section.number}.{self.group.number}", line.where, line.text)
            self.unit.heading = self.group.title
            self.unit.last_where = line.where
        elif self.section is not None:
            if self.group is not None and self.group.tasks:
                # More text after a group's items: it belongs to the last item.
                self.plan.warn(
                    line.where,
                    "a paragraph after the group's numbered items is read as part of the last item",
                    "编号事项之后的段落并入了最后一项",
                )
                self._reopen_last(line)
                return
            section = self.section
            group = ParsedGroup(len(section.groups) + 1, split_title(line.text)[0], where=line.where)
            section.groups.append(group)
            self.unit = _Unit(f"{section.number}.{group.number}", line.where, line.text)
            self.unit.last_where = line.where
            self.unit.direct_group = group
        # else: the preamble (总体要求) before the first section

    def _reopen_last(self, line):
        task = self.group.tasks[-1]
        task.text += line.text
        task.details = (task.details + line.text) if task.details else line.text

    def _ensure_section(self, line):
        if self.section is None:
            self.section = ParsedSection(1, "工作任务", where=line.where)
            self.plan.sections.append(self.section)
        return self.section

    # -- tasks ------------------------------------------------------------------------------

    def close(self, last=False):
        """Turn the open unit into tasks; ``last`` refuses a unit that stops in mid-sentence."""
        unit, self.unit = self.unit, None
        if unit is None:
            return
        group = unit.direct_group or self.group
        chunks = self._chunks(unit)
        if last:
            self._refuse_if_cut(unit, group, chunks)
        # A bracket set before the full stop (…公开（甲局负责）。推进…) leaves the 。 to the next task.
        chunks = [(body.lstrip("。；;，, "), inner) for body, inner in chunks]
        single = len(chunks) == 1
        tasks = []
        for index, (body, inner) in enumerate(chunks, 1):
            code = unit.code if single else f"{unit.code}.{index}"
            tasks.append(self._task(unit, code, body.strip(), inner, single=single))
        group.tasks.extend(tasks)

    def _chunks(self, unit):
        """Split the unit's text into ``(sentences, bracket's text or None)``, one per task."""
        try:
            spans = assignments(unit.text)
        except ValueError as exc:
            raise PlanFormatError(f"task {unit.code}: {exc}", unit.last_where, partial=self.plan) from None
        return _merge_bare(_split_at(unit.text, spans))

    def _refuse_if_cut(self, unit, group, chunks):
        """Refuse the document when the unit, its last, ends in the middle of a sentence; the tasks
        before the cut go into the partial plan the refusal carries."""
        body = chunks[-1][0].rstrip()
        if chunks[-1][1] is not None or body.endswith(ENDINGS):
            return
        for index, (before, inner) in enumerate(chunks[:-1], 1):
            group.tasks.append(self._task(unit, f"{unit.code}.{index}", before.strip(), inner, False))
        raise PlanFormatError(
            f"task {unit.code} ends in the middle of a sentence (is the file cut short?)",
            unit.last_where,
            partial=self.plan,
        )

    def _departments(self, code, inner, where):
        """Read a bracket; what cannot be told is read as carrying it out, or left out, with a
        warning for the office to check, rather than refusing a whole document over one bracket."""
        try:
            return parse_department_phrase(inner)
        except ValueError as exc:
            reason = str(exc)
        try:
            departments = parse_department_phrase(inner, default_role="responsible")
            message_zh = f"第{code}项：括号“({inner})”中有的部门看不出是牵头还是负责落实，按负责落实读取，请核对"
        except ValueError:
            departments = Departments()
            message_zh = f"第{code}项：括号“({inner})”读不出部门，请在预览中指定"
        self.plan.warn(where, f"task {code}: {reason}; please check", message_zh)
        return departments

    def _task(self, unit, code, body, inner, single):
        where = unit.where
        if inner is not None:
            departments = self._departments(code, inner, where)
            if departments.without_role_word:
                self.plan.warn(
                    where,
                    f"task {code}: the bracket '({inner})' has no role word; read as carrying it out",
                    f"第{code}项：括号“({inner})”没有“牵头”“负责”等字样，按负责落实读取",
                )
            text = f"{body}({inner})"
        else:
            departments = Departments()
            # The subject opens the text, or the sentence after a heading (加强领导。各部门要…).
            subject = COLLECTIVE_SUBJECT_RE.match(body) or COLLECTIVE_SUBJECT_RE.match(split_title(body)[1])
            if subject and all(is_collective(part) for part in subject.group(1).split("、")):
                departments.all_departments = True
                departments.all_wording = subject.group(1)
            else:
                self.plan.warn(
                    where,
                    f"task {code}: no department is named; choose them in the preview or on the task page",
                    f"第{code}项：没有写明责任部门，请在预览或任务页中指定",
                )
            text = body
        if unit.heading and single and not unit.inline:
            title, details = unit.heading, body
        else:
            title, details = split_title(body)
        return ParsedTask(
            code=code,
            title=title,
            details=details,
            text=text,
            lead=departments.lead,
            responsible=departments.responsible,
            all_departments=departments.all_departments,
            and_related=departments.and_related,
            deadline=departments.deadline,
            where=where,
            all_wording=departments.all_wording,
        )


#: A group that a copy ran into its section's line: 一、聚焦重点领域 (一)标准财政资金….
INLINE_GROUP_RE = re.compile(r"\s+(?=[(（]\s*一\s*[)）])")


def _numbered_lines(lines, unit):
    result = []
    for i, raw in enumerate(lines, 1):
        text = clean_line(raw)
        if not text:
            continue
        if SECTION_RE.match(text) and INLINE_GROUP_RE.search(text):
            head, tail = INLINE_GROUP_RE.split(text, maxsplit=1)
            result += [_Line(head, f"{unit} {i}"), _Line(tail, f"{unit} {i}")]
        else:
            result.append(_Line(text, f"{unit} {i}"))
    return result


#: Lines of a saved page's footer: 京ICP备…, 版权所有, 网站标识码, 地址：…, 联系电话.
FOOTER_RE = re.compile(
    r"(ICP备|ICP证|公网安备|版权所有|Copyright|©|网站标识码|技术支持|联系电话|地址[:：]|邮编|主办单位|承办单位|"
    r"网站地图|无障碍|适老化|返回顶部|上一篇|下一篇|浏览次数|访问次数)",
    re.IGNORECASE,
)


def _end_of_body(items, start):
    """Return the index after the body's last line: a saved page's footer, short links and dates
    after the text are left out, so a complete page is not taken for one cut short."""
    end = len(items)
    while end > start:
        text = items[end - 1].text
        if is_structure(text) or text.endswith((*ENDINGS, "；", ";")) or LABEL_RE.search(text):
            break
        if not (len(text) <= 40 or FOOTER_RE.search(text)):
            break
        end -= 1
    return end


def _is_signature(items, index):
    """Tell whether the line at ``index`` is a closing signature or its date."""
    text = compact(items[index].text)
    if is_structure(text):
        return False
    if _is_date(text):
        return True
    return bool(ISSUER_LINE_RE.match(text) and len(text) <= 40 and _dated_below(items, index))


def _is_date(text):
    """Tell whether a line is a date, alone or after the office's name (…办公厅 2020年3月1日)."""
    if date_line(text):
        return True
    m = SIGNED_LINE_RE.match(text)
    return bool(m and date_line(m.group("date")))


def _dated_below(items, index):
    """Tell whether a date follows the office's name at ``index``: on the next line, or on the one
    after when the name stands on two lines (中共…工作委员会 / (…)办公室)."""
    following = _text_at(items, index + 1)
    if date_line(following):
        return True
    return bool(ISSUER_LINE_RE.match(compact(following)) and date_line(_text_at(items, index + 2)))


def _text_at(items, index):
    return items[index].text if index < len(items) else ""


def parse_notice_lines(lines, unit="line"):
    """Parse the notice's lines (plain text, or paragraphs of an HTML page or .docx)."""
    items = _numbered_lines(lines, unit)
    heading = read_heading(items)
    plan = _new_plan(heading, items)
    end = _end_of_body(items, heading.body_at)
    reader = _Reader(plan)
    for index in range(heading.body_at, end):
        text = items[index].text
        if TRAILER_RE.match(text) or (reader.section is not None and _is_signature(items, index)):
            break
        if not is_furniture(text):
            reader.read(items[index])
    reader.close(last=True)
    check_plan(plan)
    return plan


def _new_plan(heading, items):
    """Start the plan with what its heading says, warning when it gives no title."""
    plan = ParsedPlan(
        title=heading.title,
        year=heading.year,
        issuing_office=heading.issuing_office,
        issued_on=heading.issued_on,
    )
    if not plan.title:
        plan.warn(
            items[0].where,
            "no title line such as '2018年…工作安排' was found; give the plan's title and year",
            "没有找到“2018年…工作安排”这样的标题行，请填写计划的标题和年度",
        )
    return plan


def check_plan(plan):
    """Refuse a plan with no section, or a section or group without tasks."""
    if not plan.sections:
        raise PlanFormatError("no section heading such as '一、…' was found after the title", partial=plan)
    for section in plan.sections:
        last_section = section is plan.sections[-1]
        if not section.groups:
            cut = " (is the file cut short?)" if last_section else ""
            raise PlanFormatError(f"section {section.number} has no groups or tasks{cut}", section.where, partial=plan)
        for group in section.groups:
            if not group.tasks:
                cut = " (is the file cut short?)" if last_section and group is section.groups[-1] else ""
                raise PlanFormatError(
                    f"group {section.number}.{group.number} has no tasks{cut}", group.where, partial=plan
                )
