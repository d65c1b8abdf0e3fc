"""Quarterly completion forms (季度完成情况报送表): filling, review, dashboard."""

from flask import Blueprint

bp = Blueprint("returns", __name__)

from . import routes  # noqa: E402, F401 - routes attach themselves to bp
