"""A streamed, formatted table sheet: the building block of the report workbooks.

Sheets are written with openpyxl's write-only mode, row by row, so a sheet of any size costs
little memory. Formatting is kept nearly as cheap as writing bare values: each cell style is
registered once per workbook, and rows go to the sheet's XML stream through a small writer of
our own that knows the few kinds of value a report holds (text, numbers, dates), instead of
openpyxl's general one. The writer plugs into openpyxl internals of the pinned version (3.1.5):
the export tests and ``bench/export.py`` would show a change.

Text is always written as text (an inline string), so a value such as ``=HYPERLINK(...)`` or
``+1`` is never a formula; characters XML cannot carry are written in Excel's ``_xHHHH_`` form,
which Excel reads back as the character: nothing is removed.
"""

import datetime
import re

from lxml.etree import Element, SubElement
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.worksheet import Worksheet

from .styles import (
    BODY_FONT,
    BORDER,
    CENTER,
    HEADER_FILL,
    HEADER_FONT,
    HEADING_FONT,
    LEFT,
    SECTION_FILL,
    SUBTITLE_FONT,
    TITLE_FONT,
    WRAP,
    display_width,
    excel_text,
)

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0%"


def sheet_title(name):
    """Return ``name`` as Excel allows a sheet title: no : \\ / ? * [ ], no quote at either end,
    at most 31 characters, never empty (a section titled 一、公开/解读：重点 is still a sheet)."""
    title = re.sub(r"[:\\/?*\[\]]", "－", name or "").strip("'")
    return title[:31] or "Sheet"


class Styles:
    """The workbook's cell styles, each registered once: name → the style's index in the workbook."""

    def __init__(self, sheet):
        def style(font, alignment=None, border=None, fill=None, number_format=None):
            cell = WriteOnlyCell(sheet)
            cell.font = font
            if alignment is not None:
                cell.alignment = alignment
            if border is not None:
                cell.border = border
            if fill is not None:
                cell.fill = fill
            if number_format is not None:
                cell.number_format = number_format
            return str(cell.style_id)

        self.by_name = {
            "title": style(TITLE_FONT, Alignment(horizontal="center", vertical="center")),
            "subtitle": style(SUBTITLE_FONT, Alignment(horizontal="right", vertical="center")),
            "header": style(HEADER_FONT, CENTER, BORDER, HEADER_FILL),
            "heading": style(HEADING_FONT, LEFT, BORDER, SECTION_FILL),
            "text": style(BODY_FONT, WRAP, BORDER),
            "center": style(BODY_FONT, CENTER, BORDER),
            "number": style(BODY_FONT, CENTER, BORDER),
            "percent": style(BODY_FONT, CENTER, BORDER, number_format=PERCENT_FORMAT),
            "date": style(BODY_FONT, CENTER, BORDER, number_format=DATE_FORMAT),
            "datetime": style(BODY_FONT, CENTER, BORDER, number_format=DATETIME_FORMAT),
            "total": style(HEADER_FONT, CENTER, BORDER, HEADER_FILL),
            "total_percent": style(HEADER_FONT, CENTER, BORDER, HEADER_FILL, PERCENT_FORMAT),
        }


class Column:
    """A column of a table sheet: its header, width and the kind of its values."""

    def __init__(self, header, width, kind="text"):
        self.header = header
        self.width = width
        #: text, center, number, percent, date or datetime.
        self.kind = kind


class TableSheet:
    """Write one titled table into a write-only worksheet, row by row.

    Call :meth:`title`, then :meth:`header`, then :meth:`row` (and :meth:`heading`) as often as
    needed, then :meth:`finish`. Text is always stored as text: a value that would read as a
    formula is marked as a string, with no character removed.
    """

    #: Two title rows, then the header.
    HEADER_ROW = 3

    def __init__(self, workbook, name, columns, styles=None):
        self.sheet = workbook.create_sheet(sheet_title(name))
        self.columns = columns
        self.styles = styles or Styles(self.sheet)
        self.row_number = 0
        self.letters = [get_column_letter(i) for i in range(1, len(columns) + 1)]
        self.no_kinds = [None] * len(columns)
        self.epoch = workbook.epoch
        # A streamed sheet writes its top part first: widths, frozen rows and fit-to-page now.
        for letter, column in zip(self.letters, columns, strict=True):
            self.sheet.column_dimensions[letter].width = column.width
        self.sheet.freeze_panes = f"A{self.HEADER_ROW + 1}"
        self.sheet.sheet_properties.pageSetUpPr.fitToPage = True
        self.sheet._get_writer()
        # Rows arrive as (value, style index) pairs and are written by _write_row.
        self.sheet._values_to_row = lambda cells, row_number: cells
        self.sheet._writer.write_row = self._write_row

    def _write_row(self, xf, cells, row_number):
        """Write one row's XML: ``cells`` are (value, style index) pairs."""
        attributes = {"r": str(row_number)}
        attributes.update(self.sheet.row_dimensions.get(row_number, {}))
        row = Element("row", attributes)
        for letter, (value, style) in zip(self.letters, cells, strict=True):
            reference = f"{letter}{row_number}"
            if value is None or value == "":
                SubElement(row, "c", {"r": reference, "s": style})
            elif isinstance(value, str):
                cell = SubElement(row, "c", {"r": reference, "s": style, "t": "inlineStr"})
                text = SubElement(SubElement(cell, "is"), "t")
                text.text = excel_text(value)
                if value[0].isspace() or value[-1].isspace():
                    text.set(XML_SPACE, "preserve")
            else:
                if isinstance(value, datetime.date):
                    value = to_excel(value, self.epoch)
                elif isinstance(value, bool):
                    value = int(value)
                cell = SubElement(row, "c", {"r": reference, "s": style, "t": "n"})
                SubElement(cell, "v").text = repr(value) if isinstance(value, float) else str(value)
        xf.write(row)

    def _cell(self, value, style):
        return value, self.styles.by_name[style]

    def _append(self, cells, height=None):
        self.row_number += 1
        if height is not None:
            self.sheet.row_dimensions[self.row_number].height = height
        self.sheet.append(cells)

    def _merge(self, first=1, last=None):
        last = last or len(self.columns)
        if last > first:
            # Straight into the set: each row is merged once, so openpyxl's overlap check (which
            # walks every range merged so far) has nothing to find.
            self.sheet.merged_cells.ranges.add(
                CellRange(min_col=first, min_row=self.row_number, max_col=last, max_row=self.row_number)
            )

    def title(self, title, subtitle):
        """Write the merged title row and the right-aligned subtitle row (plan, period, time produced)."""
        blank = [self._cell(None, "title") for _ in self.columns[1:]]
        self._append([self._cell(title, "title"), *blank], 36)
        self._merge()
        blank = [self._cell(None, "subtitle") for _ in self.columns[1:]]
        self._append([self._cell(subtitle, "subtitle"), *blank], 20)
        self._merge()

    def header(self):
        """Write the header row (row 3); it is frozen and repeated on every printed page."""
        self._append([self._cell(c.header, "header") for c in self.columns], 24)
        assert self.row_number == self.HEADER_ROW, "the header comes right after the title"

    def heading(self, text):
        """Write a heading (a section, a task) merged across the table."""
        cells = [self._cell(text, "heading")] + [self._cell(None, "heading") for _ in self.columns[1:]]
        self._append(cells, 20)
        self._merge()

    def row(self, values, style=None, merge=None, kinds=None):
        """Write a row of values, styled by the columns' kinds (or all in ``style``, or per cell in ``kinds``).

        ``merge`` is an optional ``(first, last)`` pair of columns to merge in this row.
        """
        cells = []
        lines = 1
        by_name = self.styles.by_name
        kinds = kinds or self.no_kinds
        for value, column, own in zip(values, self.columns, kinds, strict=True):
            kind = own or style or column.kind
            if value is None or value == "":
                cells.append((None, by_name[kind]))
                continue
            value, needed = _fitted(value, column.width)
            lines = max(lines, needed)
            cells.append((value, by_name[kind]))
        self._append(cells, lines * 15 + 4 if lines > 1 else None)
        if merge:
            self._merge(*merge)

    def finish(self):
        """Set up printing: A4 landscape, fitted to the width, the header repeated on every page."""
        sheet = self.sheet
        sheet.print_title_rows = f"{self.HEADER_ROW}:{self.HEADER_ROW}"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.print_options.horizontalCentered = True
        sheet.page_margins.left = sheet.page_margins.right = 0.5
        sheet.page_margins.top = sheet.page_margins.bottom = 0.6
        sheet.oddFooter.center.text = "第 &P 页，共 &N 页"


#: Excel's limit on the characters in a cell.
MAX_TEXT = 32767

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def _fitted(value, width):
    """Return ``(value as written, printed lines it takes)`` for a cell of a column of ``width``.

    Text is cut to Excel's limit; a datetime with a time zone loses it.
    """
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            value = value[:MAX_TEXT]
        if len(value) * 2 > width * 1.2 or "\n" in value:
            return value, _lines(value, width)
        return value, 1
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None), 1  # Excel has no time zones; callers pass local time
    return value, 1


def _lines(text, width):
    """Estimate how many printed lines ``text`` takes in a column of ``width``."""
    total = 0
    for paragraph in text.split("\n"):
        total += max(1, -(-display_width(paragraph) // max(int(width * 1.2), 1)))
    return total
