"""The download page for the report workbooks (报表下载), for the office and leaders."""

from flask import Blueprint

bp = Blueprint("downloads", __name__)

from . import routes  # noqa: E402, F401 - registers the views
