"""Half-year work summaries (半年工作总结): departments hand them in, the office reviews them."""

from flask import Blueprint

bp = Blueprint("summaries", __name__)

from . import routes  # noqa: E402, F401 - registers the views
