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
        if not cell or len(cell) > 12:
            continue
        kind = _kind_of(cell)
        if kind is None:
            continue
        if index and row[index - 1] == cell:  # a header cell spanning columns (colspan)
            columns.setdefault("spans", {}).setdefault(kind, []).append(index)
            continue
        if kind in MULTI:
            columns.setdefault(kind, []).append(index)
        elif kind not in columns:
            columns[kind] = index
        elif kind == "title" and "details" not in columns:
            columns["details"] = index
    if ("title" in columns or "details" in columns) and ("lead" in columns or "responsible" in columns):
        return columns
    return None


def merge_subheader(columns, row):
    """A second header row (责任单位 over 牵头单位 | 配合单位) names the columns below it."""
    labels = [(i, _kind_of(c)) for i, c in enumerate(row) if c]
    if not labels or any(kind is None for _, kind in labels):
        return False
    for index, kind in labels:
        for key in MULTI:
            if index in columns.get(key, []):
                columns[key].remove(index)
        if kind in MULTI:
            columns.setdefault(kind, []).append(index)
        else:
            columns[kind] = index
    for key in MULTI:
        if key in columns and not columns[key]:
            del columns[key]
    return True


def settle_columns(columns, body):
    """Settle which column is which once the table's ``body`` rows are seen: one of several
    spanned columns, a section column that names tasks, a task column that heads sections."""
    choose_spanned_columns(columns, body)
    check_section_column(columns, body)
    if "section" not in columns and is_heading_column(body, columns):
        columns["section"] = columns.pop("title")


def choose_spanned_columns(columns, body):
    """Under a header spanning several columns (具体要求 over 序号 | 要求), read the one whose
    cells hold the most text, not a column of numbers."""

    def text_in(index):
        return sum(len(r[index]) for r in body if index < len(r) and not r[index].isdigit())

    for kind, extra in columns.pop("spans", {}).items():
        current = columns.get(kind)
        candidates = (current if kind in MULTI else [current]) + extra if current is not None else extra
        best = max(candidates, key=text_in)
        columns[kind] = [best] if kind in MULTI else best


def check_section_column(columns, rows):
    """A 类别/项目 column heads several rows; one whose every row differs names each row's task."""
    index = columns.get("section")
    if index is None:
        return
    values = [r[index] for r in rows if index < len(r) and r[index]]
    blanks = sum(1 for r in rows if index >= len(r) or not r[index])
    if len(values) >= 5 and len(set(values)) == len(values) and blanks * 5 < len(rows):
        del columns["section"]
        if "title" not in columns:
            columns["title"] = index


def is_heading_column(rows, columns):
    """Tell whether the 工作任务 column heads several rows (merged, blank below, or 一、…) while
    the details column holds each row's own task."""
    title, details = columns.get("title"), columns.get("details")
    if title is None or details is None:
        return False
    pairs = [(r[title] if title < len(r) else "", r[details] if details < len(r) else "") for r in rows]
    pairs = [(t, d) for t, d in pairs if d]
    if len(pairs) < 2:
        return any(SECTION_RE.match(t) for t, _ in pairs)
    blank_or_same = sum(1 for (t, _), (prev, _) in zip(pairs[1:], pairs, strict=False) if not t or t == prev)
    numbered = sum(1 for t, _ in pairs if SECTION_RE.match(t))
    return blank_or_same * 3 >= len(pairs) or numbered * 2 >= len(pairs)
