"""A workbook written with XlsxWriter, kept as the bytes of its .xlsx file once written.

Every workbook the product makes is written here: builders open a :class:`Book`, write their
sheets and return it; callers ``save`` it to a path or a file. Most report sheets are streamed
(XlsxWriter's ``constant_memory``: each row is written out when the next one starts), so a
sheet of any size costs little memory; the quarter's and the annual tables are held in memory
(see their builders). Cell formats are registered once per workbook.

Text is always written as text: XlsxWriter is told never to turn a string into a formula, a
number or a link, and text written through :func:`write` is never read as anything but text.
XlsxWriter writes the characters XML cannot carry (and CR) in Excel's ``_xHHHH_`` form, and
escapes text that already looks like that form (``_x0041_`` is written ``_x005F_x0041_``), so
Excel shows every character as it was, and the product's imports read it back
(:func:`tracker.textinput.from_excel`): nothing is removed. One exception, XlsxWriter's: text
shaped like its rich-string markup (``<r>…</r>``) is written as a rich string to stay text, and
its escapes are escaped twice (a CR in it shows as ``_x000D_``; see the xfail test).
"""

import datetime
import io
import os
import re

import xlsxwriter

from .styles import FORMATS, PADDING

#: Strings stay strings, whatever they look like.
OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}

#: Excel's limit on the characters in a cell.
MAX_TEXT = 32767


class Book:
    """An .xlsx workbook: open it with ``with``, write its sheets, then ``save`` it as often as needed.

    ``streamed`` books write each sheet top to bottom, row after row (the report sheets); the
    others may write their cells in any order (the annual report's merged headers).
    """

    def __init__(self, streamed=True):
        self._buffer = io.BytesIO()
        self.workbook = xlsxwriter.Workbook(self._buffer, {**OPTIONS, "constant_memory": streamed})
        #: Format name (see :data:`tracker.exports.styles.FORMATS`) → the workbook's format.
        self.formats = {name: self.workbook.add_format(properties) for name, properties in FORMATS.items()}
        self.data = None

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.workbook.close()
        self.data = self._buffer.getvalue()
        self._buffer = None

    def add_sheet(self, name):
        """Add a worksheet named ``name`` (made a valid sheet title, see :func:`sheet_title`)."""
        return self.workbook.add_worksheet(sheet_title(name))

    def save(self, target):
        """Write the .xlsx file to ``target``: a path, or a file open for writing bytes."""
        if isinstance(target, str | os.PathLike):
            with open(target, "wb") as file:
                file.write(self.data)
        else:
            target.write(self.data)


def sheet_title(name):
    """Return ``name`` as Excel allows a sheet title: no : \\ / ? * [ ], no quote at either end,
    at most 31 characters, never empty (a section titled 一、公开/解读：重点 is still a sheet)."""
    title = re.sub(r"[:\\/?*\[\]]", "－", name or "").strip("'")
    return title[:31] or "Sheet"


def write(sheet, row, column, value, cell_format):
    """Write ``value`` into a cell (row and column from 0): text as text, numbers, dates, or a blank."""
    # Most cells of a report are text, then blanks: those are looked at first.
    if isinstance(value, str):
        if value:
            write_text(sheet, row, column, value, cell_format)
        else:
            sheet.write_blank(row, column, None, cell_format)
    elif value is None:
        sheet.write_blank(row, column, None, cell_format)
    elif isinstance(value, datetime.date):
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            value = value.replace(tzinfo=None)  # Excel has no time zones; callers pass local time
        sheet.write_datetime(row, column, value, cell_format)
    elif isinstance(value, float):
        sheet.write_number(row, column, _Exact(value), cell_format)
    else:
        sheet.write_number(row, column, int(value) if isinstance(value, bool) else value, cell_format)


class _Exact(float):
    """A float written with all its digits.

    XlsxWriter writes a number with 16 significant digits; a float may need 17 to be read back
    as itself (5/17 would come back as 0.2941176470588235, not 0.29411764705882354). It writes
    the number through ``format``, so this float answers with its shortest exact form instead.
    """

    __slots__ = ()

    def __format__(self, spec):
        return repr(float(self))


def write_text(sheet, row, column, text, cell_format):
    """Write ``text`` as a text cell, cut to Excel's limit, never read as a formula or markup."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    if text.startswith("<r>") and text.endswith("</r>"):
        # XlsxWriter copies a string of this shape into the file as it is, taking it for the XML
        # of a rich string of its own making: text such as <r>…</c><c><f>…</f></c>…</r> would
        # become cells and formulas. Written as a rich string of three runs, it is escaped.
        sheet.write_rich_string(row, column, text[0], cell_format, text[1], cell_format, text[2:], cell_format)
    else:
        sheet.write_string(row, column, text, cell_format)


def set_widths(sheet, widths):
    """Set the columns' widths, in Excel's characters as a spreadsheet stores them."""
    for column, width in enumerate(widths):
        # XlsxWriter adds the cell's padding to a width, as Excel's dialog does; the widths here
        # are the stored ones (what the layouts were measured with), so the padding comes off.
        sheet.set_column(column, column, width - PADDING)


def title_rows(book, sheet, title, subtitle, columns, title_format="title"):
    """Write a merged title row and a merged, right-aligned subtitle row across ``columns``."""
    sheet.set_row(0, 36)
    merged(book, sheet, 0, 0, columns - 1, title, title_format)
    sheet.set_row(1, 20)
    merged(book, sheet, 1, 0, columns - 1, subtitle, "subtitle")


def merged(book, sheet, row, first, last, value, format_name, last_row=None):
    """Write ``value`` into cells ``first``..``last`` of ``row`` (to ``last_row``) merged, all in one format."""
    cell_format = book.formats[format_name]
    last_row = row if last_row is None else last_row
    if (last_row, last) != (row, first):
        sheet.merge_range(row, first, last_row, last, None, cell_format)
    write(sheet, row, first, value, cell_format)


def print_setup(sheet, first_header_row, last_header_row=None):
    """A4 landscape, fitted to the page width, the header rows (from 0) repeated on every printed page."""
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(first_header_row, last_header_row)
    sheet.center_horizontally()
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.set_header("", {"margin": 0.5})
    sheet.set_footer("&C第 &P 页，共 &N 页", {"margin": 0.5})
