"""Checks every request passes before a view sees it: input no database can store, numbers past
any database integer. Each answers with a clear page instead of a server error."""

from flask import abort, request

#: Query arguments the views read as integers.
INT_ARGS = ("department", "half", "page", "period", "quarter", "step", "year")
INT_MAX = 2**31 - 1


def _has_nul(values):
    return any("\x00" in value for value in values)


def check_request():
    """Answer 404 for an integer argument past the database's range, 400 for NUL characters."""
    from .errors import _render

    for name in INT_ARGS:
        value = request.args.get(name, "")
        if value.lstrip("-").isdecimal() and abs(int(value)) > INT_MAX:
            abort(404)
    files = request.files.values() if request.method == "POST" and request.files else ()
    if (
        # The API answers for its own arguments (an unknown name is not found there).
        (_has_nul(request.args.values()) and not request.path.startswith("/api/"))
        or (request.method == "POST" and request.form and _has_nul(request.form.values()))
        or any("\x00" in (f.filename or "") for f in files)
    ):
        return _render(400, "提交的内容中有无法处理的控制字符（NUL），请删除后重新提交。")
    return None
