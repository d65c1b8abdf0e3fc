"""The office's monitoring pages: jobs and the chase ladder, the chase ledger, the archive, the overdue list."""

from flask import Blueprint

bp = Blueprint("monitor", __name__)

from . import routes  # noqa: E402, F401 - registers the views
