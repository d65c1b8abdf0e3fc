"""The look shared by every workbook: fonts, borders, print set-up, and safe text cells."""

import math
import re

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

FONT_NAME = "宋体"
TITLE_FONT = Font(name="黑体", size=16, bold=True)
SUBTITLE_FONT = Font(name=FONT_NAME, size=10)
HEADER_FONT = Font(name=FONT_NAME, size=11, bold=True)
BODY_FONT = Font(name=FONT_NAME, size=10.5)
HEADING_FONT = Font(name=FONT_NAME, size=11, bold=True)
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
SECTION_FILL = PatternFill("solid", fgColor="F2F2F2")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(horizontal="left", vertical="top", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)

#: Characters that make a spreadsheet program read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


#: Characters XML 1.0 cannot carry, and text that already looks like Excel's escape for one.
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


def excel_text(value):
    """Return ``value`` with the characters XML cannot carry in Excel's ``_xHHHH_`` form (read back as they were)."""
    return _UNWRITABLE.sub(lambda m: f"_x{ord(m.group()):04X}_", value)


def set_text(cell, value):
    """Put user-written ``value`` in ``cell`` as text: never a formula, no character removed."""
    cell.value = excel_text(value) if isinstance(value, str) else value
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"
    return cell


def display_width(text):
    """Return the width of ``text`` in column units: a CJK character takes two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text or "")


def row_height(texts_and_widths, line_height=15):
    """Estimate the height a row needs so that its wrapped texts are printed whole."""
    lines = 1
    for text, width in texts_and_widths:
        for paragraph in (text or "").split("\n"):
            # A column of width w holds about 0.6·w CJK characters at 10.5 pt (measured in print).
            lines_here = max(1, math.ceil(display_width(paragraph) / max(width * 1.2, 1)))
            lines = max(lines, lines_here)
    return lines * line_height + 4


def title_rows(sheet, title, subtitle, columns):
    """Write a merged title row and a merged, right-aligned subtitle row across ``columns``."""
    last = get_column_letter(columns)
    sheet.merge_cells(f"A1:{last}1")
    set_text(sheet["A1"], title).font = TITLE_FONT
    sheet["A1"].alignment = CENTER
    sheet.row_dimensions[1].height = 36
    sheet.merge_cells(f"A2:{last}2")
    set_text(sheet["A2"], subtitle).font = SUBTITLE_FONT
    sheet["A2"].alignment = Alignment(horizontal="right", vertical="center")
    sheet.row_dimensions[2].height = 20


def header_row(sheet, row, headers, widths):
    """Write a bordered, shaded header row and set the column widths."""
    for index, (header, width) in enumerate(zip(headers, widths, strict=True), 1):
        cell = sheet.cell(row=row, column=index, value=header)
        cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTER
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.row_dimensions[row].height = 24


def heading_row(sheet, row, text, columns, fill=None):
    """Write a heading (a section or group) merged across the table."""
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
    cell = set_text(sheet.cell(row=row, column=1), text)
    cell.font, cell.alignment = HEADING_FONT, LEFT
    for column in range(1, columns + 1):
        sheet.cell(row=row, column=column).border = BORDER
        if fill:
            sheet.cell(row=row, column=column).fill = fill
    sheet.row_dimensions[row].height = 20


def print_setup(sheet, header_rows):
    """A4 landscape, fitted to the page width, header rows repeated on every printed page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = header_rows
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
