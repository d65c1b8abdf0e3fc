"""Refusals and error pages: the product's one error type, and how pages, the API and the CLI show it."""

import functools

import click
from flask import render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError


class TrackerError(Exception):
    """An operation refused what it was asked and changed nothing.

    Every refusal the product makes is one of these: ``code`` is stable for the API (``invalid``,
    ``conflict``, ``not_editable``, ``forbidden``, ``not_found``, ``too_large``, ``refused``),
    ``message`` is English (the CLI and the API), ``zh`` is what a person reads on a page, and
    ``fields`` maps the fields at fault to what is wrong with each. One handler (see
    :func:`register_error_handlers`) answers one that a view did not catch; the CLI prints the
    message of one that a command did not catch (see :mod:`tracker.cli`).
    """

    code = "refused"
    #: The HTTP status each code is answered with (400 for any other).
    STATUS = {
        "invalid": 422,
        "conflict": 409,
        "not_editable": 409,
        "forbidden": 403,
        "not_found": 404,
        "too_large": 413,
    }

    def __init__(self, message, zh=None, *, code=None, fields=None):
        from .transaction import note_refusal  # the request keeps nothing of a refused change

        note_refusal()
        super().__init__(message)
        self.message = message
        self.zh = zh or message
        if code is not None:
            self.code = code
        self.fields = dict(fields or {})

    @property
    def status(self):
        """Return the HTTP status this refusal is answered with."""
        return self.STATUS.get(self.code, 400)


MESSAGES = {
    400: ("请求有误", "提交的内容无法处理，请返回后重试。"),
    403: ("没有权限", "您没有执行此操作的权限。"),
    404: ("页面不存在", "您要找的页面不存在，或您无权查看。"),
    405: ("不支持的操作", "该页面不支持此操作。"),
    409: ("请稍后重试", "有其他人同时在修改同一内容，您的操作未生效。请刷新页面后重试。"),
    413: ("文件过大", "上传的文件超过了大小限制。"),
    500: ("系统错误", "系统出现错误，请稍后重试；如问题持续，请联系办公室。"),
}


API_ERRORS = {
    400: ("bad_request", "the request cannot be handled"),
    403: ("forbidden", "not allowed"),
    404: ("not_found", "no such resource"),
    405: ("method_not_allowed", "this method is not allowed here"),
    409: ("conflict", "someone else was changing the same thing; nothing was changed, reload and retry"),
    413: ("too_large", "the upload is too large"),
    500: ("server_error", "the server failed; the office has been told"),
}


def _render(code, message=None):
    title, default = MESSAGES[code]
    if request.path.startswith("/api/"):
        name, text = API_ERRORS[code]
        return {"error": name, "message": text}, code
    return render_template("errors/error.html", code=code, title=title, message=message or default), code


def _server_error(exc):
    """Roll back first: on PostgreSQL a failed statement leaves the transaction unusable, and the
    error page itself (the user's name in the navbar) would fail too."""
    from .extensions import db

    db.session.rollback()
    return _render(500)


def _database_error(exc):
    """Answer 409 with a retry hint when another writer got in the way (deadlock, serialization,
    a busy SQLite file); any other database error is a server error."""
    from .extensions import db
    from .models.base import is_lock_conflict

    db.session.rollback()
    if is_lock_conflict(exc):
        body, code = _render(409)
        return body, code, {"Retry-After": "1"}
    return _render(500)


def commit_failure_response(exc):
    """Return the answer of a request whose commit failed: 409 if it lost a race for a lock, else 500.

    The page's own message of success, flashed before the commit, is taken back. The API and the
    pages' autosave are answered in JSON, as their scripts expect.
    """
    from flask import current_app, session

    from .models.base import is_lock_conflict

    session.pop("_flashes", None)
    code = 409 if isinstance(exc, OperationalError) and is_lock_conflict(exc) else 500
    if code == 500:
        current_app.logger.exception("the request's commit failed", exc_info=exc)
    if request.path.endswith("/autosave"):
        body = {"error": API_ERRORS[code][0], "message": MESSAGES[code][1]}
        response = current_app.make_response((body, code))
    else:
        response = current_app.make_response(_render(code))
    if code == 409:
        response.headers["Retry-After"] = "1"
    return response


def _method_not_allowed(exc):
    """Answer 405 with the Allow header naming the methods the URL takes."""
    body, code = _render(405)
    return body, code, {"Allow": ", ".join(sorted(exc.valid_methods or []))}


def _refused(exc):
    """Answer a refusal no view caught: JSON with its code, message and fields on the API, else a page in Chinese."""
    from .extensions import db

    db.session.rollback()
    if request.path.startswith("/api/"):
        body = {"error": exc.code, "message": exc.message}
        if exc.fields:
            body["fields"] = exc.fields
        return body, exc.status
    code = exc.status if exc.status in MESSAGES else 400
    return render_template("errors/error.html", code=code, title=MESSAGES[code][0], message=exc.zh), exc.status


def register_error_handlers(app):
    """Show every error as a page in Chinese."""
    for code in MESSAGES.keys() - {405, 409, 413, 500}:  # those have their own handlers below
        app.register_error_handler(code, lambda exc, code=code: _render(code))
    app.register_error_handler(500, _server_error)
    app.register_error_handler(409, lambda exc: _render(409))
    app.register_error_handler(OperationalError, _database_error)
    app.register_error_handler(TrackerError, _refused)
    app.register_error_handler(405, _method_not_allowed)
    app.register_error_handler(
        CSRFError, lambda exc: _render(400, "页面已过期或请求来源无法验证，请刷新页面后重新提交。")
    )
    app.register_error_handler(
        413, lambda exc: _render(413, f"上传的文件超过了{app.config['MAX_CONTENT_LENGTH'] / 1024 / 1024:g} MB 的限制。")
    )


def as_cli_command(command, batch=()):
    """Make ``command``, and every command under it, one change that answers a refusal as the CLI does.

    The command is an edge (see :mod:`tracker.transaction`): what it writes is committed once, at
    its end, unless it is one of ``batch`` (commands that commit as they go, like the chase). A
    refusal it did not catch rolls everything back and prints its English message as ``Error: …``
    with exit status 1 (a :class:`click.ClickException`), never a traceback. Commands that add
    context to the message (``…; nothing was loaded``) still catch their own.
    """
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            as_cli_command(sub, batch)
        return
    callback = command.callback
    if callback is None or getattr(callback, "refusals_handled", False):
        return

    whole = command not in batch

    @functools.wraps(callback)
    def answered(*args, **kwargs):
        from .extensions import db
        from .transaction import edge

        try:
            if not whole:
                return callback(*args, **kwargs)
            with edge():
                return callback(*args, **kwargs)
        except TrackerError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
        except SQLAlchemyError as exc:  # the edge's commit failed; it rolled back
            raise click.ClickException(
                f"the database refused the change, nothing was kept: {exc.orig or exc}"
            ) from None

    answered.refusals_handled = True
    command.callback = answered
