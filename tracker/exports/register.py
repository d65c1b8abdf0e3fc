"""The disclosure register (依申请公开台账) as a workbook, with the columns its import reads back."""

import datetime

from openpyxl import Workbook

from ..disclosure.operations import REGISTER_COLUMNS
from ..models import Application
from ..models.disclosure import outcome_label
from .styles import FORMULA_START, excel_text


def export_applications():
    """Return the register as a workbook with the import's columns (so it can be imported back)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "依申请公开台账"
    sheet.append(REGISTER_COLUMNS)
    for a in Application.query.order_by(Application.received_on, Application.number):
        # Whatever the database holds is written: characters XML cannot carry in Excel's _xHHHH_ form.
        sheet.append([excel_text(v) if isinstance(v, str) else v for v in _register_values(a)])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            _format_register_cell(cell)
    for letter, width in zip("ABCDEFGH", (12, 12, 10, 14, 40, 18, 12, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    return workbook


def _register_values(a):
    """Return an application's values in the order of REGISTER_COLUMNS."""
    return [
        a.number,
        a.received_on,
        a.channel.label,
        a.applicant_type.label,
        a.request,
        a.department.name if a.department else "",
        a.answered_on,
        outcome_label(a.outcome),
    ]


def _format_register_cell(cell):
    """Show a date as a date; keep text that looks like a formula as text."""
    if isinstance(cell.value, datetime.date):
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
        cell.data_type = "s"
