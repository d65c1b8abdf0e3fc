"""JSON API under /api/v1: the same operations and permission rules as the web pages."""

from flask import Blueprint, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import HTTPException
from wtforms import ValidationError

from ..auth.operations import user_for_token
from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# A bearer token is not sent by browsers on their own, so token requests need no CSRF token;
# requests made with the session cookie still do (header X-CSRFToken), see below.
csrf.exempt(bp)


def error(status, code, message, fields=None):
    """Return a JSON error ``{"error": code, "message": text}`` (with ``fields`` for 422)."""
    body = {"error": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify(body), status


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        # A bearer token alone decides who is asking: a bad one is refused even beside a session
        # cookie, so it can never be used to skip the cookie's CSRF check.
        user = user_for_token(header[7:].strip())
        if user is None:
            return error(401, "unauthorized", "the bearer token is not valid (revoked, unknown or its user disabled)")
        g._login_user = user  # Flask-Login's per-request user
        return None
    if not current_user.is_authenticated:
        return error(401, "unauthorized", "sign in, or send Authorization: Bearer TOKEN")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError:
            return error(400, "csrf", "requests made with the session cookie need the X-CSRFToken header")
    return None


@bp.errorhandler(HTTPException)
def _http_error(exc):
    names = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        415: "unsupported_media_type",
        422: "invalid",
    }
    response, status = error(exc.code, names.get(exc.code, "error"), exc.description or exc.name)
    if getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response, status


from . import routes  # noqa: E402, F401 - routes attach themselves to bp
