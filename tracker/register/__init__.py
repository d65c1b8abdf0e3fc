"""Pages of the disclosure register (依申请公开台账), cases, the calendar and the annual report."""

from flask import Blueprint

bp = Blueprint("register", __name__)

from . import routes  # noqa: E402, F401 - registers the views
