"""Dates and times: stored in UTC, reckoned and shown in the office's time zone.

Every part of the product asks this module what time it is, never the system clock directly, so
that the demo data and the tests can set the clock to any moment:

- ``TRACKER_NOW`` (config) fixes the moment; ``today()`` is then that moment's date in the office;
- ``TRACKER_TODAY`` (config) fixes the day; the clock then starts at noon of that day in the
  office's zone, the first time it is asked, and runs on from there, so that what is stamped "now"
  falls on the day the rest of the product believes it is, and never goes backwards.
"""

import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Shanghai"


def _setting(name):
    return current_app.config.get(name) if has_app_context() else None


def zone():
    """Return the office's time zone (Asia/Shanghai unless configured)."""
    return ZoneInfo(_setting("TIMEZONE") or DEFAULT_ZONE)


def _fixed_moment():
    fixed = _setting("TRACKER_NOW")
    if not fixed:
        return None
    moment = fixed if isinstance(fixed, datetime.datetime) else datetime.datetime.fromisoformat(str(fixed))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def _fixed_day():
    fixed = _setting("TRACKER_TODAY")
    if not fixed:
        return None
    return fixed if isinstance(fixed, datetime.date) else datetime.date.fromisoformat(str(fixed))


def now_utc():
    """Return the current time as an aware UTC datetime.

    ``TRACKER_NOW`` fixes it; with only ``TRACKER_TODAY`` set it is noon of that day in the office's
    zone plus the real time since this app first read that day. Outside an application (no app
    context) it is the system clock.
    """
    moment = _fixed_moment()
    if moment is not None:
        return moment
    real = system_now()
    day = _fixed_day()
    if day is None:
        return real
    started = current_app.extensions.setdefault("tracker_fixed_day_started", {}).setdefault(day, real)
    noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=zone())
    return noon.astimezone(datetime.UTC) + (real - started)


def system_now():
    """Return the machine's own clock, never fixed: for timers and file ages, which run on real time."""
    return datetime.datetime.now(datetime.UTC)


def as_utc(moment):
    """Return a stored moment as an aware UTC datetime; None stays None.

    SQLite gives back naive UTC values; PostgreSQL aware ones in its session's time zone, which a
    server set up in Asia/Shanghai makes +08:00.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def local_time(moment, fmt="%H:%M:%S"):
    """Return a stored moment as the office's clock shows it (default 14:05:09)."""
    return as_utc(moment).astimezone(zone()).strftime(fmt)


def local_date(moment):
    """Return the office's calendar date of a stored moment (naive values are UTC, as SQLite returns them)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(zone()).date()


def today():
    """Return today's date in the office's time zone (``TRACKER_TODAY`` or ``TRACKER_NOW`` may fix it)."""
    day = _fixed_day()
    if day is not None:
        return day
    return local_date(now_utc())
