"""The annual report's tables (政府信息公开工作年度报告 二、三、四) in the national layout, and the check.

Pure builder: :func:`tracker.disclosure.tables.annual_tables` data in, workbook out. Headers are
merged as in the published reports; the check's failures are listed on their own sheet, and
the tables are never adjusted to hide them.
"""

import re

from ..disclosure.tables import TABLE2_LAYOUTS
from ..models import ApplicantType, CaseKind, CaseResult
from ..models.disclosure import OUTCOME_GROUPS
from .book import Book, merged, print_setup, set_widths, title_rows, write

NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


class _Sheet:
    """A sheet of the annual report's workbook, its cells addressed from 1 as in the national tables."""

    def __init__(self, book, name):
        self.book = book
        self.sheet = book.add_sheet(name)

    @staticmethod
    def _format(header, left):
        return "header" if header else "left" if left else "center"

    def cell(self, row, column, value, header=False, left=False):
        """Write ``value`` bordered, in a header's look or the body's, centred or left."""
        write(self.sheet, row - 1, column - 1, value, self.book.formats[self._format(header, left)])

    def merge(self, first_row, first_column, last_row, last_column, value, header=False, left=False):
        """Write ``value`` into the cells from ``(first_row, first_column)`` to ``(last_row, last_column)`` merged."""
        name = self._format(header, left)
        merged(self.book, self.sheet, first_row - 1, first_column - 1, last_column - 1, value, name, last_row - 1)


def _number(value):
    """Write a figure as a number when it is one (1, 284.26), else as the text entered (增6, 减15)."""
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


def _table2(book, tables, heading):
    sheet = _Sheet(book, "二、主动公开")
    sections = TABLE2_LAYOUTS[tables["layout"]]
    width = 1 + max(len(columns) for _, columns, _ in sections)
    title_rows(book, sheet.sheet, "二、主动公开政府信息情况", heading, width, "title_wrap")
    row = 3
    for title, columns, rows in sections:
        sheet.merge(row, 1, row, width, title, header=True)
        row += 1
        sheet.cell(row, 1, "信息内容", header=True)
        for index, column in enumerate(columns):
            last = width if index == len(columns) - 1 else 2 + index
            sheet.merge(row, 2 + index, row, last, column, header=True)
        row += 1
        for label, keys in rows:
            sheet.cell(row, 1, label)
            for index, key in enumerate(keys):
                last = width if index == len(keys) - 1 else 2 + index
                sheet.merge(row, 2 + index, row, last, _number(tables["table2"].get(key, "")))
            row += 1
    set_widths(sheet.sheet, [26] + [18] * (width - 1))
    print_setup(sheet.sheet, 2)


def _table3(book, tables, heading):
    sheet = _Sheet(book, "三、依申请公开")
    t3 = tables["table3"]
    columns = [*ApplicantType, "total"]
    title_rows(book, sheet.sheet, "三、收到和处理政府信息公开申请情况", heading, 10, "title_wrap")
    # Header: three label columns merged over three rows, then 申请人情况 over the seven counts.
    sheet.merge(3, 1, 5, 3, NOTE, header=True)
    sheet.merge(3, 4, 3, 10, "申请人情况", header=True)
    sheet.merge(4, 4, 5, 4, "自然人", header=True)
    sheet.merge(4, 5, 4, 9, "法人或其他组织", header=True)
    sheet.merge(4, 10, 5, 10, "总计", header=True)
    for index, kind in enumerate(list(ApplicantType)[1:]):
        sheet.cell(5, 5 + index, kind.label, header=True)

    def counts(row_number, key):
        for index, column in enumerate(columns):
            sheet.cell(row_number, 4 + index, t3[key][column])

    row = 6
    sheet.merge(row, 1, row, 3, "一、本年新收政府信息公开申请数量", left=True)
    counts(row, "new")
    row += 1
    sheet.merge(row, 1, row, 3, "二、上年结转政府信息公开申请数量", left=True)
    counts(row, "carried_in")
    row += 1
    first_result = row
    for group, (title, reasons) in OUTCOME_GROUPS.items():
        if reasons:
            sheet.merge(row, 2, row + len(reasons) - 1, 2, title, left=True)
            for number, reason in enumerate(reasons, 1):
                sheet.cell(row, 3, f"{number}.{reason}", left=True)
                counts(row, f"{group}:{number}")
                row += 1
        else:
            sheet.merge(row, 2, row, 3, title, left=True)
            counts(row, group)
            row += 1
    sheet.merge(row, 2, row, 3, "（七）总计", left=True)
    counts(row, "answered_total")
    sheet.merge(first_result, 1, row, 1, "三、本年度办理结果", left=True)
    row += 1
    sheet.merge(row, 1, row, 3, "四、结转下年度继续办理", left=True)
    counts(row, "carried_out")
    set_widths(sheet.sheet, (12, 22, 30, 9, 9, 9, 11, 11, 9, 9))
    sheet.sheet.set_row(2, 48)
    print_setup(sheet.sheet, 2, 4)


def _table4(book, tables, heading):
    sheet = _Sheet(book, "四、复议诉讼")
    t4 = tables["table4"]
    title_rows(book, sheet.sheet, "四、政府信息公开行政复议、行政诉讼情况", heading, 15, "title_wrap")
    sheet.merge(3, 1, 3, 5, "行政复议", header=True)
    sheet.merge(3, 6, 3, 15, "行政诉讼", header=True)
    sheet.merge(4, 6, 4, 10, "未经复议直接起诉", header=True)
    sheet.merge(4, 11, 4, 15, "复议后起诉", header=True)
    names = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    for block, kind in enumerate(CaseKind):
        for index, name in enumerate(names):
            if block == 0:  # 行政复议's results span both header rows below it, as in the national table
                sheet.merge(4, 1 + index, 5, 1 + index, name, header=True)
            else:
                sheet.cell(5, 1 + 5 * block + index, name, header=True)
            key = [*CaseResult, "total"][index]
            sheet.cell(6, 1 + 5 * block + index, t4[kind][key] if kind in t4 else t4[str(kind)][str(key)])
    set_widths(sheet.sheet, [9] * 15)
    print_setup(sheet.sheet, 2, 4)


def build_annual_report(organisation, tables, produced):
    """Build the workbook: Tables 2, 3 and 4 in the national layout, then the check (校验)."""
    layout = "现行格式（2021年起）" if tables["layout"] == "2021" else "2019—2020年格式"
    heading = f"{organisation}{tables['year']}年政府信息公开工作年度报告　{layout}　制表时间：{produced:%Y-%m-%d %H:%M}"
    with Book(streamed=False) as book:
        _table2(book, tables, heading)
        _table3(book, tables, heading)
        _table4(book, tables, heading)
        _check(book, tables, heading)
    return book


def _check(book, tables, heading):
    """Add 校验: every identity that fails (or that all hold), then the notes."""
    sheet = _Sheet(book, "校验")
    title_rows(book, sheet.sheet, "勾稽关系校验", heading, 2, "title_wrap")
    sheet.cell(3, 1, "序号", header=True)
    sheet.cell(3, 2, "结果", header=True)
    if tables["failures"]:
        for number, failure in enumerate(tables["failures"], 1):
            sheet.cell(3 + number, 1, number)
            sheet.cell(3 + number, 2, failure, left=True)
    else:
        sheet.cell(4, 1, "—")
        sheet.cell(4, 2, "各表勾稽关系均已核对无误。", left=True)
    for offset, note in enumerate(tables.get("notes", []), 1):
        row = 4 + max(len(tables["failures"]), 1) + offset
        sheet.cell(row, 1, "提示")
        sheet.cell(row, 2, note, left=True)
    set_widths(sheet.sheet, (8, 100))
    print_setup(sheet.sheet, 2)
