"""Helpers available in every template."""

from datetime import UTC
from zoneinfo import ZoneInfo

from flask_login import current_user

from . import permissions, workflow
from .chase.operations import unread_count
from .returns.presenters import count_rows, matrix_row, progress_rows
from .timeutil import today
from .todo import next_in_queue, review_count
from .workflow import CELL_LABELS, STATE_COLORS, cell_state


def register_template_helpers(app):
    """Expose the permission predicates and a local-time filter to the templates."""
    zone = ZoneInfo(app.config["TIMEZONE"])

    @app.template_filter("local")
    def local_time(value, fmt=None):
        """Show a stored UTC time in the office's time zone: 2019年1月10日 08:30 (or in ``fmt``)."""
        if value is None:
            return ""
        if value.tzinfo is None:  # SQLite hands back naive values; they were stored as UTC
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(zone)
        if fmt is None:  # one way of writing dates throughout, the Chinese one
            return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
        return value.strftime(fmt)

    @app.template_filter("kb")
    def kilobytes(size):
        """Write a size in bytes as kilobytes with one decimal: 12.3."""
        return round((size or 0) / 1024, 1)

    @app.template_filter("cndate")
    def cn_date(value):
        """Write a date the Chinese way: 2018年8月13日."""
        return f"{value.year}年{value.month}月{value.day}日" if value else ""

    app.jinja_env.globals["perm"] = permissions
    app.jinja_env.globals["workflow"] = workflow
    app.jinja_env.globals["state_labels"] = CELL_LABELS
    app.jinja_env.globals["state_colors"] = STATE_COLORS
    app.jinja_env.globals["matrix_row"] = matrix_row
    app.jinja_env.globals["progress_rows"] = progress_rows
    app.jinja_env.globals["count_rows"] = count_rows
    app.jinja_env.globals["cell_state"] = lambda report: cell_state(report, today())
    app.jinja_env.globals["unread_notifications"] = lambda: unread_count(current_user)
    app.jinja_env.globals["review_count"] = review_count
    app.jinja_env.globals["next_in_queue"] = next_in_queue
