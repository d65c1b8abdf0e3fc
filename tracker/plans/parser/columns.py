"""Task tables' columns: which column of a table holds what, read from its header row.

Columns come in any order under many names (工作任务 / 主要内容 / 具体要求 / 重点工作 /
责任单位 / 牵头单位 / 配合单位 / 责任科室 / 完成时限 …). A header cell may span several
columns, a second header row may name the columns under one, and a column headed 工作任务
may turn out to head sections rather than tasks once the table's rows are seen.
"""

import datetime
import re

from .departments import LABELS
from .text import SECTION_RE, clean_line

COLUMNS = {
    "number": ("序号", "编号", "序"),
    "section": (
        "类别",
        "分类",
        "领域",
        "板块",
        "重点领域",
        "公开类别",
        "工作类别",
        "任务类别",
        "一级指标",
        "项目",
        "目标",
    ),
    "title": (
        "工作任务",
        "任务名称",
        "主要任务",
        "重点任务",
        "重点工作",
        "任务",
        "工作事项",
        "事项",
        "工作项目",
        "二级指标",
        "公开事项",
        "工作目标",
    ),
    "details": (
        "具体要求",
        "工作要求",
        "主要内容",
        "工作内容",
        "任务内容",
        "具体内容",
        "具体措施",
        "工作措施",
        "具体任务",
        "任务要求",
        "公开内容",
        "工作举措",
        "细化分工",
        "具体分工",
        "分工",
        "内容",
        "要求",
        "措施",
    ),
    # The labels a notice writes (牵头单位：…) head a table's columns too, with a table's own words.
    "lead": (*LABELS["lead"], "牵头"),
    "responsible": (*LABELS["responsible"], "责任股室", "责任股", "责任主体"),
    "deadline": (*LABELS["deadline"], "时限", "进度安排", "完成期限"),
}
#: Kinds a table may hold more than one column of.
MULTI = ("lead", "responsible")


def cell_text(value):
    """Return a cell's value as cleaned text (dates as 2018年8月13日)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_line(str(value))


def _kind_of(label):
    label = re.sub(r"\s+", "", label)
    label = re.split(r"[/（(]", label)[0]
    best = None
    for kind, names in COLUMNS.items():
        for name in names:
            if label == name or (label.startswith(name) and len(label) <= len(name) + 4):
                score = (label == name, len(name))
                if best is None or score > best[0]:
                    best = (score, kind)
    return best[1] if best else None


def match_columns(row):
    """Map column kinds to indexes (lists for departments), or return None if ``row`` is no header."""
    columns = {}
    for index, cell in enumerate(row):
        kind = _header_kind(cell)
        if kind is None:
            continue
        if index and row[index - 1] == cell:  # a header cell spanning columns (colspan)
            columns.setdefault("spans", {}).setdefault(kind, []).append(index)
        else:
            _name_column(columns, kind, index)
    return columns if _is_header(columns) else None


def _header_kind(cell):
    """Return the kind of column a header cell names, or None (blank, or too long for a header)."""
    if not cell or len(cell) > 12:
        return None
    return _kind_of(cell)


def _name_column(columns, kind, index):
    """Record column ``index`` as ``kind``: departments may have several columns, a second title
    column holds the details, and otherwise the first column of a kind is read."""
    if kind in MULTI:
        columns.setdefault(kind, []).append(index)
    elif kind not in columns:
        columns[kind] = index
    elif kind == "title" and "details" not in columns:
        columns["details"] = index


def _is_header(columns):
    """Tell whether the columns found make a task table's header: a task column and a department column."""
    has_task = "title" in columns or "details" in columns
    has_department = "lead" in columns or "responsible" in columns
    return has_task and has_department


def merge_subheader(columns, row):
    """A second header row (责任单位 over 牵头单位 | 配合单位) names the columns below it."""
    labels = [(i, _kind_of(c)) for i, c in enumerate(row) if c]
    if not labels or any(kind is None for _, kind in labels):
        return False
    for index, kind in labels:
        _rename_column(columns, index, kind)
    for key in MULTI:
        if key in columns and not columns[key]:
            del columns[key]  # every column under it was named anew
    return True


def _rename_column(columns, index, kind):
    """Name column ``index`` as ``kind`` instead of the department kind the header above gave it."""
    for key in MULTI:
        if index in columns.get(key, []):
            columns[key].remove(index)
    if kind in MULTI:
        columns.setdefault(kind, []).append(index)
    else:
        columns[kind] = index


def settle_columns(columns, body):
    """Settle which column is which once the table's ``body`` rows are seen: one of several
    spanned columns, a section column that names tasks, a task column that heads sections."""
    _choose_spanned_columns(columns, body)
    _check_section_column(columns, body)
    if "section" not in columns and _is_heading_column(body, columns):
        columns["section"] = columns.pop("title")


def _choose_spanned_columns(columns, body):
    """Under a header spanning several columns (具体要求 over 序号 | 要求), read the one whose
    cells hold the most text, not a column of numbers."""

    def text_in(index):
        return sum(len(r[index]) for r in body if index < len(r) and not r[index].isdigit())

    for kind, extra in columns.pop("spans", {}).items():
        current = columns.get(kind)
        candidates = (current if kind in MULTI else [current]) + extra if current is not None else extra
        best = max(candidates, key=text_in)
        columns[kind] = [best] if kind in MULTI else best


def _column(rows, index):
    """Return the cells of column ``index``, blank where a short row has none."""
    return [r[index] if index < len(r) else "" for r in rows]


def _check_section_column(columns, rows):
    """A 类别/项目 column heads several rows; one whose every row differs names each row's task."""
    index = columns.get("section")
    if index is None or not _names_each_row(_column(rows, index)):
        return
    del columns["section"]
    if "title" not in columns:
        columns["title"] = index


def _names_each_row(cells):
    """Tell whether a column's cells all differ (five or more, hardly any blank): each names its own row."""
    values = [c for c in cells if c]
    blanks = len(cells) - len(values)
    return len(values) >= 5 and len(set(values)) == len(values) and blanks * 5 < len(cells)


def _is_heading_column(rows, columns):
    """Tell whether the 工作任务 column heads several rows (merged, blank below, or 一、…) while
    the details column holds each row's own task."""
    title, details = columns.get("title"), columns.get("details")
    if title is None or details is None:
        return False
    titles = [t for t, d in zip(_column(rows, title), _column(rows, details), strict=True) if d]
    if len(titles) < 2:
        return any(SECTION_RE.match(t) for t in titles)
    return _heads_several(titles)


def _heads_several(titles):
    """Tell whether a third of the titles are blank or repeat the one above, or half are numbered 一、…"""
    blank_or_same = sum(1 for t, prev in zip(titles[1:], titles, strict=False) if not t or t == prev)
    numbered = sum(1 for t in titles if SECTION_RE.match(t))
    return blank_or_same * 3 >= len(titles) or numbered * 2 >= len(titles)
