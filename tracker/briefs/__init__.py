"""The leaders' briefs (领导简报): the web brief, subscriptions, and who got which brief."""

from flask import Blueprint

bp = Blueprint("briefs", __name__, url_prefix="/briefs")

from . import routes  # noqa: E402, F401 - registers the views
