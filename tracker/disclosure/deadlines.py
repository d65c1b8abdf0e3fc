"""Statutory deadlines of applications, in working days on the official calendar.

Art. 33 of the Regulations on Open Government Information: answer within 20 working days of
receipt, plus one extension of at most 20 working days; days spent consulting third parties do
not count. Art. 30: a correction notice (补正) stops the clock, which starts again on the day the
corrected application arrives. Counting starts the day after receipt.

Working days come from ``chinese_calendar`` (holidays and make-up working weekends, 调休), with
the office's own exceptions taking precedence. For a year the library does not know yet, days
are counted as Monday to Friday and the result is flagged as provisional, never passed off as
certain: the office can then enter that year's holidays and make-up days as exceptions, after
which the year counts as known.
"""

import datetime
from dataclasses import dataclass, field

import chinese_calendar

from ..models import CalendarException

#: Working days to answer (Art. 33), the most an extension adds, and to send a correction notice (Art. 30).
ANSWER_DAYS = 20
EXTENSION_DAYS = 20
CORRECTION_NOTICE_DAYS = 7


def calendar_exceptions():
    """Return the office's calendar exceptions: day → whether it is a working day."""
    return {e.day: e.is_workday for e in CalendarException.query}


def covered_years():
    """Return the first and last year the calendar library knows."""
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


def is_workday(day, exceptions, uncovered):
    """Tell whether ``day`` is a working day; add its year to ``uncovered`` if only guessed from the weekday.

    A year the library does not know but for which the office entered exceptions (its holidays and
    make-up days, once announced) counts as known: Monday to Friday with the office's exceptions.
    """
    if day in exceptions:
        return exceptions[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if not any(known.year == day.year for known in exceptions):
            uncovered.add(day.year)
        return day.weekday() < 5


def add_working_days(start, count, exceptions, uncovered):
    """Return the ``count``-th working day after ``start``."""
    day, counted = start, 0
    while counted < count:
        day += datetime.timedelta(days=1)
        if is_workday(day, exceptions, uncovered):
            counted += 1
    return day


@dataclass
class Deadline:
    """Where an application's statutory clock stands."""

    #: The day the answer is due; None while the clock is stopped for a correction.
    due_on: datetime.date | None
    #: ``running``, ``awaiting_correction`` or ``answered``.
    state: str
    #: Years whose holidays the calendar does not know: the date counts Monday to Friday only.
    uncovered: set = field(default_factory=set)
    #: The last day to send a correction notice (Art. 30).
    correction_notice_by: datetime.date | None = None
    #: The working days the answer is due in: 20, with the extension's and the third parties' days.
    working_days: int | None = None
    #: The working days the extension added (0 without one).
    extension_days: int = 0

    @property
    def is_provisional(self):
        """Tell whether the date rests on a year the calendar does not cover."""
        return bool(self.uncovered)

    def days_left(self, today):
        """Return calendar days until the due date (negative once overdue), or None."""
        return None if self.due_on is None else (self.due_on - today).days


def deadline(application, exceptions=None):
    """Return the :class:`Deadline` of an application (``exceptions`` from :func:`calendar_exceptions`)."""
    exceptions = calendar_exceptions() if exceptions is None else exceptions
    uncovered = set()
    notice_by = add_working_days(application.received_on, CORRECTION_NOTICE_DAYS, exceptions, uncovered)
    if application.correction_sent_on and not application.correction_answered_on and application.answered_on is None:
        return Deadline(None, "awaiting_correction", uncovered, notice_by)
    start = application.correction_answered_on or application.received_on
    extension = EXTENSION_DAYS if application.extended_on else 0
    days = ANSWER_DAYS + extension + (application.third_party_days or 0)
    due = add_working_days(start, days, exceptions, uncovered)
    state = "answered" if application.answered_on else "running"
    return Deadline(due, state, uncovered, notice_by, working_days=days, extension_days=extension)
