"""The plan: sections, groups and tasks (工作安排)."""

from flask import Blueprint

bp = Blueprint("plans", __name__)

from . import import_routes, routes  # noqa: E402, F401
