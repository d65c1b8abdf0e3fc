"""Chasing (催办): notices and the bell, the jobs page, the chase ladder and ledger, the archive, the overdue list."""

from flask import Blueprint

bp = Blueprint("chase", __name__)

from . import routes  # noqa: E402, F401 - registers the views
