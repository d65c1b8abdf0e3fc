"""The annual report's tables (政府信息公开工作年度报告 二、三、四) in the national layout, and the check.

Pure builder: :func:`tracker.disclosure.tables.annual_tables` data in, workbook out. Headers are
merged as in the published reports; the check's failures are listed on their own sheet, and
the tables are never adjusted to hide them.
"""

import re

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from ..disclosure.tables import TABLE2_LAYOUTS
from ..models import ApplicantType, CaseKind, CaseResult
from ..models.disclosure import OUTCOME_GROUPS
from .styles import BODY_FONT, BORDER, CENTER, HEADER_FILL, HEADER_FONT, LEFT, print_setup, set_text, title_rows

NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def _cell(sheet, row, column, value, header=False, left=False):
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        set_text(cell, value)
    else:
        cell.value = value
    cell.font = HEADER_FONT if header else BODY_FONT
    cell.border = BORDER
    cell.alignment = LEFT if left else CENTER
    if header:
        cell.fill = HEADER_FILL
    return cell


def _merge(sheet, first_row, first_column, last_row, last_column, value, header=False, left=False):
    for r in range(first_row, last_row + 1):
        for c in range(first_column, last_column + 1):
            _cell(sheet, r, c, None, header, left)
    _cell(sheet, first_row, first_column, value, header, left)
    if (first_row, first_column) != (last_row, last_column):
        sheet.merge_cells(start_row=first_row, start_column=first_column, end_row=last_row, end_column=last_column)


def _number(value):
    """Write a figure as a number when it is one (1, 284.26), else as the text entered (增6, 减15)."""
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


def _table2(workbook, tables, heading):
    sheet = workbook.create_sheet("二、主动公开")
    sections = TABLE2_LAYOUTS[tables["layout"]]
    width = 1 + max(len(columns) for _, columns, _ in sections)
    title_rows(sheet, "二、主动公开政府信息情况", heading, width)
    row = 3
    for title, columns, rows in sections:
        _merge(sheet, row, 1, row, width, title, header=True)
        row += 1
        _cell(sheet, row, 1, "信息内容", header=True)
        for index, column in enumerate(columns):
            last = width if index == len(columns) - 1 else 2 + index
            _merge(sheet, row, 2 + index, row, last, column, header=True)
        row += 1
        for label, keys in rows:
            _cell(sheet, row, 1, label)
            for index, key in enumerate(keys):
                last = width if index == len(keys) - 1 else 2 + index
                _merge(sheet, row, 2 + index, row, last, _number(tables["table2"].get(key, "")))
            row += 1
    sheet.column_dimensions["A"].width = 26
    for column in range(2, width + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 18
    print_setup(sheet, "3:3")
    return sheet


def _table3(workbook, tables, heading):
    sheet = workbook.create_sheet("三、依申请公开")
    t3 = tables["table3"]
    columns = [*ApplicantType, "total"]
    title_rows(sheet, "三、收到和处理政府信息公开申请情况", heading, 10)
    # Header: three label columns merged over three rows, then 申请人情况 over the seven counts.
    _merge(sheet, 3, 1, 5, 3, NOTE, header=True)
    _merge(sheet, 3, 4, 3, 10, "申请人情况", header=True)
    _merge(sheet, 4, 4, 5, 4, "自然人", header=True)
    _merge(sheet, 4, 5, 4, 9, "法人或其他组织", header=True)
    _merge(sheet, 4, 10, 5, 10, "总计", header=True)
    for index, kind in enumerate(list(ApplicantType)[1:]):
        _cell(sheet, 5, 5 + index, kind.label, header=True)

    def counts(row_number, key):
        for index, column in enumerate(columns):
            _cell(sheet, row_number, 4 + index, t3[key][column])

    row = 6
    _merge(sheet, row, 1, row, 3, "一、本年新收政府信息公开申请数量", left=True)
    counts(row, "new")
    row += 1
    _merge(sheet, row, 1, row, 3, "二、上年结转政府信息公开申请数量", left=True)
    counts(row, "carried_in")
    row += 1
    first_result = row
    for group, (title, reasons) in OUTCOME_GROUPS.items():
        if reasons:
            _merge(sheet, row, 2, row + len(reasons) - 1, 2, title, left=True)
            for number, reason in enumerate(reasons, 1):
                _cell(sheet, row, 3, f"{number}.{reason}", left=True)
                counts(row, f"{group}:{number}")
                row += 1
        else:
            _merge(sheet, row, 2, row, 3, title, left=True)
            counts(row, group)
            row += 1
    _merge(sheet, row, 2, row, 3, "（七）总计", left=True)
    counts(row, "answered_total")
    _merge(sheet, first_result, 1, row, 1, "三、本年度办理结果", left=True)
    row += 1
    _merge(sheet, row, 1, row, 3, "四、结转下年度继续办理", left=True)
    counts(row, "carried_out")
    for letter, width in zip("ABCDEFGHIJ", (12, 22, 30, 9, 9, 9, 11, 11, 9, 9), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.row_dimensions[3].height = 48
    for r in range(6, row + 1):
        sheet.cell(row=r, column=1).alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
    print_setup(sheet, "3:5")
    return sheet


def _table4(workbook, tables, heading):
    sheet = workbook.create_sheet("四、复议诉讼")
    t4 = tables["table4"]
    title_rows(sheet, "四、政府信息公开行政复议、行政诉讼情况", heading, 15)
    _merge(sheet, 3, 1, 3, 5, "行政复议", header=True)
    _merge(sheet, 3, 6, 3, 15, "行政诉讼", header=True)
    _merge(sheet, 4, 6, 4, 10, "未经复议直接起诉", header=True)
    _merge(sheet, 4, 11, 4, 15, "复议后起诉", header=True)
    names = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    for block, kind in enumerate(CaseKind):
        for index, name in enumerate(names):
            if block == 0:  # 行政复议's results span both header rows below it, as in the national table
                _merge(sheet, 4, 1 + index, 5, 1 + index, name, header=True)
            else:
                _cell(sheet, 5, 1 + 5 * block + index, name, header=True)
            key = [*CaseResult, "total"][index]
            _cell(sheet, 6, 1 + 5 * block + index, t4[kind][key] if kind in t4 else t4[str(kind)][str(key)])
    for column in range(1, 16):
        sheet.column_dimensions[get_column_letter(column)].width = 9
    print_setup(sheet, "3:5")
    return sheet


def build_annual_report(organisation, tables, produced):
    """Build the workbook: Tables 2, 3 and 4 in the national layout, then the check (校验)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    layout = "现行格式（2021年起）" if tables["layout"] == "2021" else "2019—2020年格式"
    heading = f"{organisation}{tables['year']}年政府信息公开工作年度报告　{layout}　制表时间：{produced:%Y-%m-%d %H:%M}"
    _table2(workbook, tables, heading)
    _table3(workbook, tables, heading)
    _table4(workbook, tables, heading)
    sheet = workbook.create_sheet("校验")
    title_rows(sheet, "勾稽关系校验", heading, 2)
    _cell(sheet, 3, 1, "序号", header=True)
    _cell(sheet, 3, 2, "结果", header=True)
    if tables["failures"]:
        for number, failure in enumerate(tables["failures"], 1):
            _cell(sheet, 3 + number, 1, number)
            _cell(sheet, 3 + number, 2, failure, left=True)
    else:
        _cell(sheet, 4, 1, "—")
        _cell(sheet, 4, 2, "各表勾稽关系均已核对无误。", left=True)
    for offset, note in enumerate(tables.get("notes", []), 1):
        row = 4 + max(len(tables["failures"]), 1) + offset
        _cell(sheet, row, 1, "提示")
        _cell(sheet, row, 2, note, left=True)
    sheet.column_dimensions["A"].width = 8
    sheet.column_dimensions["B"].width = 100
    print_setup(sheet, "3:3")
    return workbook
