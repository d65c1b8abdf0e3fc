"""Dates and times: stored in UTC, reckoned and shown in the office's time zone."""

import datetime
from zoneinfo import ZoneInfo

from flask import current_app


def zone():
    """Return the office's time zone (Asia/Shanghai unless configured)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def now_utc():
    """Return the current time in UTC, or the moment TRACKER_NOW fixes (demo data, tests)."""
    fixed = current_app.config.get("TRACKER_NOW")
    if fixed:
        return fixed if isinstance(fixed, datetime.datetime) else datetime.datetime.fromisoformat(str(fixed))
    return datetime.datetime.now(datetime.UTC)


def local_date(moment):
    """Return the office's calendar date of a stored moment (naive values are UTC, as SQLite returns them)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(zone()).date()


def today():
    """Return today's date in the office's time zone; tests and the chase may fix it with TRACKER_TODAY."""
    fixed = current_app.config.get("TRACKER_TODAY")
    if fixed:
        return datetime.date.fromisoformat(str(fixed))
    return local_date(now_utc())
