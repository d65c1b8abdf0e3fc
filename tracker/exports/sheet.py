"""A formatted table sheet: the building block of the report workbooks.

A table sheet is written top to bottom, row by row (so it can go into a streamed
:class:`~.book.Book`): two merged title rows, the header (frozen, and repeated on every printed
page), then the rows. Each row is styled by its columns' kinds, with formats the book registered
once.
"""

from .book import MAX_TEXT, merged, print_setup, set_widths, title_rows, write
from .styles import text_lines


class Column:
    """A column of a table sheet: its header, width and the kind of its values."""

    def __init__(self, header, width, kind="text"):
        self.header = header
        self.width = width
        #: text, center, number, percent, date or datetime (a format of :data:`~.styles.FORMATS`).
        self.kind = kind


class TableSheet:
    """Write one titled table into a sheet of ``book``, row by row.

    Call :meth:`title`, then :meth:`header`, then :meth:`row` (and :meth:`heading`) as often as
    needed, then :meth:`finish`. Text is always stored as text (see :func:`~.book.write`).
    """

    #: Two title rows, then the header.
    HEADER_ROW = 3

    def __init__(self, book, name, columns):
        self.book = book
        self.sheet = book.add_sheet(name)
        self.columns = columns
        #: The number (from 1) of the last row written.
        self.row_number = 0
        self.no_kinds = [None] * len(columns)
        #: The formats of a row styled by its columns' kinds (most rows), worked out once.
        self.column_formats = [book.formats[column.kind] for column in columns]
        set_widths(self.sheet, [column.width for column in columns])
        self.sheet.freeze_panes(self.HEADER_ROW, 0)

    def title(self, title, subtitle):
        """Write the merged title row and the right-aligned subtitle row (plan, period, time produced)."""
        title_rows(self.book, self.sheet, title, subtitle, len(self.columns))
        self.row_number = 2

    def header(self):
        """Write the header row (row 3); it is frozen and repeated on every printed page."""
        self._next_row(24)
        assert self.row_number == self.HEADER_ROW, "the header comes right after the title"
        header = self.book.formats["header"]
        for index, column in enumerate(self.columns):
            write(self.sheet, self.HEADER_ROW - 1, index, column.header, header)

    def heading(self, text):
        """Write a heading (a section, a task) merged across the table."""
        self._next_row(20)
        merged(self.book, self.sheet, self.row_number - 1, 0, len(self.columns) - 1, text, "heading")

    def row(self, values, style=None, merge=None, kinds=None):
        """Write a row of values, styled by the columns' kinds (or all in ``style``, or per cell in ``kinds``).

        ``merge`` is an optional ``(first, last)`` pair of columns (from 1) to merge in this row.
        """
        if style is None and kinds is None:
            cell_formats = self.column_formats
        else:
            formats, kinds = self.book.formats, kinds or self.no_kinds
            cell_formats = [
                formats[own or style or column.kind] for column, own in zip(self.columns, kinds, strict=True)
            ]
        lines = _lines_needed(values, self.columns)
        self._next_row(lines * 15 + 4 if lines > 1 else None)
        row, sheet = self.row_number - 1, self.sheet
        if merge:
            sheet.merge_range(row, merge[0] - 1, row, merge[1] - 1, None, cell_formats[merge[0] - 1])
        for index, (value, cell_format) in enumerate(zip(values, cell_formats, strict=True)):
            write(sheet, row, index, value, cell_format)

    def _next_row(self, height=None):
        self.row_number += 1
        if height is not None:
            self.sheet.set_row(self.row_number - 1, height)

    def finish(self):
        """Set up printing: A4 landscape, fitted to the width, the header repeated on every page."""
        print_setup(self.sheet, self.HEADER_ROW - 1)


def _lines_needed(values, columns):
    """Return how many printed lines the tallest of a row's texts takes."""
    lines = 1
    for value, column in zip(values, columns, strict=True):
        if isinstance(value, str) and (len(value) * 2 > column.width * 1.2 or "\n" in value):
            lines = max(lines, text_lines(value[:MAX_TEXT], column.width))
    return lines
