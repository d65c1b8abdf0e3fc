"""Checks every request passes before a view sees it: input no database can store, numbers past
any database integer. Each answers with a clear page instead of a server error."""

import re

from flask import abort, current_app, request
from werkzeug.datastructures import ImmutableMultiDict

from .textinput import SOFT_BREAKS, has_forbidden, normalise

#: Query arguments the views read as integers.
INT_ARGS = ("department", "half", "page", "period", "quarter", "step", "year")
INT_MAX = 2**31 - 1
#: What a view would read as an integer: a sign and digits (past 20 digits, surely out of range).
INTEGER = re.compile(r"\s*([+-]?)(\d+)\s*")


def _out_of_range(value):
    """Tell whether ``value`` reads as an integer no database column can hold."""
    match = INTEGER.fullmatch(value)
    return bool(match) and (len(match.group(2)) > 20 or int(match.group(2)) > INT_MAX)


def _all_values(multidict):
    """Every value of a form or query, repeated names included (``a=ok&a=bad``)."""
    return [value for _, value in multidict.items(multi=True)]


def _warn_about_an_untrusted_proxy():
    """Say once, in the log, that a proxy's X-Forwarded-For is being ignored (TRUSTED_PROXY_COUNT unset)."""
    if (
        not current_app.config.get("TRUSTED_PROXY_COUNT")
        and "X-Forwarded-For" in request.headers
        and not current_app.extensions.get("tracker_proxy_warned")
    ):
        current_app.extensions["tracker_proxy_warned"] = True
        current_app.logger.warning(
            "X-Forwarded-For arrives but TRUSTED_PROXY_COUNT is 0: every client looks like the proxy "
            "to the sign-in throttle; set TRUSTED_PROXY_COUNT to the number of proxies in front"
        )


def check_request():
    """Answer 404 for an integer argument past the database's range, 400 for control characters."""
    from .errors import _render

    _warn_about_an_untrusted_proxy()
    posted = request.method == "POST"
    form = request.form if posted else None
    if _names_no_row(form):
        abort(404)
    files = request.files.values() if posted and request.files else ()
    if _has_forbidden_characters(form, files):
        return _render(
            400,
            "提交的内容中有无法处理的不可见控制字符（如 NUL，常在从其他软件复制时带入），请删除后重新提交。",
        )
    if form and any(SOFT_BREAKS.search(v) for v in _all_values(form)):
        # Word's soft line break and its kin are line breaks to the reader; store them as such.
        request.form = ImmutableMultiDict([(k, normalise(v)) for k, v in form.items(multi=True)])
    return None


def _names_no_row(form):
    """Tell whether an id in the address or the form is past any database integer (so names no row)."""
    if any(_out_of_range(request.args.get(name, "")) for name in INT_ARGS):
        return True
    # A row chosen in a form (period_id, line_id, …) past any database integer names no row.
    return bool(form) and any(name.endswith("_id") and _out_of_range(value) for name, value in form.items(multi=True))


def _has_forbidden_characters(form, files):
    """Tell whether the address, the form or an upload's name holds characters no field may (NUL and the like)."""
    # The API answers for its own arguments (an unknown name is not found there).
    if any("\x00" in v for v in _all_values(request.args)) and not request.path.startswith("/api/"):
        return True
    if form and any(has_forbidden(v) for v in _all_values(form)):
        return True
    return any(has_forbidden(f.filename or "") for f in files)


#: Scripts, styles, fonts and images come only from this site; nothing may frame a page (review
#: and accept buttons cannot be clickjacked). Inline style attributes are allowed for bar widths;
#: inline script is not.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
#: Endpoints whose responses may be cached: files that are the same for everyone.
STATIC_ENDPOINTS = frozenset({"static", "bootstrap.static"})


def add_security_headers(response):
    """Send the security headers on every response; pages and downloads are never kept in a cache."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint not in STATIC_ENDPOINTS:
        # Signed-in pages, downloads and the API hold what only their user may see.
        headers["Cache-Control"] = "no-store"
    return response
