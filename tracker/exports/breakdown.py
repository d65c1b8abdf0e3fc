"""The task breakdown table (任务分解表)."""

from ..models.plan import marked_title
from .book import Book, merged, print_setup, set_widths, title_rows, write
from .styles import row_height

HEADERS = ("序号", "工作任务", "具体要求", "牵头部门", "责任部门", "完成时限")
WIDTHS = (8, 24, 62, 18, 28, 12)


def responsible_text(task):
    """Write the responsible departments as the notice does: ``X、Y等相关部门``, ``各部门``."""
    text = "、".join(task["responsible"])
    if task["and_related"]:
        text += "等相关部门"
    if task["all_departments"]:
        text = f"{text}、各部门" if text else "各部门"
    return text


def progress_text(lines, done):
    """Write a task's progress in a quarter: 已完成 3/5（60%）, or 未报送 when no department reported."""
    if not lines:
        return "未报送"
    return f"已完成 {done}/{lines}（{round(100 * done / lines)}%）"


def _subtitle(info, produced):
    """Return the subtitle: issuing office, date issued and time produced, whichever are known."""
    issued = info.get("issued_on")
    return "    ".join(
        part
        for part in (
            f"印发单位：{info['issuing_office']}" if info.get("issuing_office") else "",
            f"印发日期：{issued.year}年{issued.month}月{issued.day}日" if issued else "",
            f"制表时间：{produced:%Y-%m-%d %H:%M}" if produced else "",
        )
        if part
    )


def _task_values(task, progress):
    """Return a task's row: code, title, details, departments, deadline (and its progress, if shown)."""
    values = (
        task["code"],
        marked_title(task["title"], task["withdrawn"]),
        task["details"],
        "、".join(task["lead"]),
        responsible_text(task),
        task["deadline"],
    )
    if progress is not None:
        values = (*values, progress_text(*progress.get(task["code"], (0, 0))))
    return values


#: The columns written centred (from 0): 序号, the departments, 完成时限 and the quarter's progress.
CENTRED = (0, 3, 4, 5, 6)


def _task_row(book, sheet, row, values, widths):
    """Write a task's values in ``row`` (from 0): numbers and departments centred, text wrapped."""
    sheet.set_row(row, row_height(zip(values, widths, strict=True)))
    center, text = book.formats["center"], book.formats["text"]
    for column, value in enumerate(values):
        write(sheet, row, column, value, center if column in CENTRED else text)


def build_breakdown(info, outline, progress=None, period_label=None, produced=None):
    """Build the breakdown workbook from :func:`plan_info` and :func:`plan_outline` data.

    With ``progress`` (task code → (lines reported, lines 已完成) in ``period_label``), a last
    column shows each task's progress that quarter. ``produced`` is the time it is made.
    """
    headers, widths = HEADERS, WIDTHS
    if progress is not None:
        headers, widths = (*HEADERS, f"{period_label}进展"), (*WIDTHS, 16)
    title = f"{info['title']}任务分解表" + (f"（{period_label}进展）" if period_label else "")
    with Book() as book:
        sheet = book.add_sheet("任务分解表")
        set_widths(sheet, widths)
        sheet.freeze_panes(3, 0)
        title_rows(book, sheet, title, _subtitle(info, produced), len(headers), "title_wrap")
        sheet.set_row(2, 24)
        for column, header in enumerate(headers):
            write(sheet, 2, column, header, book.formats["header"])
        _task_rows(book, sheet, outline, progress, widths)
        print_setup(sheet, 2)
    return book


def _task_rows(book, sheet, outline, progress, widths):
    """Write each section's heading, its groups' headings and its tasks, from row 4."""
    last, row = len(widths) - 1, 3
    for section in outline:
        sheet.set_row(row, 20)
        merged(book, sheet, row, 0, last, f"{section['numeral']}、{section['title']}", "heading")
        row += 1
        for group in section["groups"]:
            if not group["is_task"]:
                sheet.set_row(row, 20)
                merged(book, sheet, row, 0, last, f"({group['numeral']}){group['title']}", "group")
                row += 1
            for task in group["tasks"]:
                _task_row(book, sheet, row, _task_values(task, progress), widths)
                row += 1
