"""The disclosure register (依申请公开台账) as a workbook, with the columns its import reads back."""

import datetime

from ..disclosure.operations import REGISTER_COLUMNS
from ..models import Application
from ..models.disclosure import outcome_label
from .book import Book, set_widths, write


def export_applications():
    """Return the register as a workbook with the import's columns (so it can be imported back)."""
    with Book() as book:
        sheet = book.add_sheet("依申请公开台账")
        set_widths(sheet, (12, 12, 10, 14, 40, 18, 12, 30))
        sheet.freeze_panes(1, 0)
        date = book.formats["plain_date"]
        for column, header in enumerate(REGISTER_COLUMNS):
            write(sheet, 0, column, header, None)
        applications = Application.query.order_by(Application.received_on, Application.number)
        for row, application in enumerate(applications, 1):
            # Whatever the database holds is written as text (control characters in Excel's _xHHHH_ form).
            for column, value in enumerate(_register_values(application)):
                if value is not None and value != "":
                    write(sheet, row, column, value, date if isinstance(value, datetime.date) else None)
    return book


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
