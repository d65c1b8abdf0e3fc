"""A plain titled table workbook: the status workbooks the scheduler archives, and the chase ledger."""

from openpyxl import Workbook

from .styles import BODY_FONT, BORDER, CENTER, WRAP, header_row, print_setup, row_height, set_text, title_rows


def build_table(sheet_title, title, subtitle, columns, rows):
    """Build a one-sheet workbook: a merged title and subtitle, a header, one bordered row per item.

    ``columns`` is a list of ``(header, width, centred)``; ``rows`` holds one tuple of values per
    row. Text is always written as text (never a formula); numbers stay numbers.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title[:31]
    title_rows(sheet, title, subtitle, len(columns))
    widths = [width for _, width, _ in columns]
    header_row(sheet, 3, [header for header, _, _ in columns], widths)
    for row_number, values in enumerate(rows, 4):
        texts = []
        for column, (value, (_, width, centred)) in enumerate(zip(values, columns, strict=True), 1):
            cell = sheet.cell(row=row_number, column=column)
            if isinstance(value, int | float) and not isinstance(value, bool):
                cell.value = value
            else:
                set_text(cell, "" if value is None else str(value))
            cell.font, cell.border = BODY_FONT, BORDER
            cell.alignment = CENTER if centred else WRAP
            texts.append((str(value if value is not None else ""), width))
        sheet.row_dimensions[row_number].height = row_height(texts)
    sheet.freeze_panes = "A4"
    print_setup(sheet, "3:3")
    return workbook
