"""One log line per request: a request id, the user, the status and how long it took.

``LOG_FORMAT=json`` writes each line as JSON (for a log collector); a request slower than
``SLOW_REQUEST_MS`` is logged as a warning. The id goes back in the ``X-Request-Id`` header (a
proxy's own id is kept when it sends one), so a user's complaint can be matched to its line.
"""

import json
import logging
import re
import time
import uuid

from flask import g, request
from flask_login import current_user

from . import metrics

log = logging.getLogger("tracker.requests")
#: An id a proxy may hand on: letters, digits and - _ . only, and not too long.
SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _start():
    g.request_started = time.perf_counter()
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if SAFE_ID.fullmatch(given) else uuid.uuid4().hex[:16]


def _finish(response):
    from flask import current_app

    started = g.get("request_started")
    if started is None:
        return response
    took = (time.perf_counter() - started) * 1000
    metrics.observe(took / 1000, response.status_code)
    response.headers["X-Request-Id"] = g.request_id
    user = current_user.get_id().split(":")[0] if current_user and current_user.is_authenticated else None
    record = {
        "request_id": g.request_id,
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "ms": round(took, 1),
        "user_id": int(user) if user else None,
    }
    slow = took > current_app.config["SLOW_REQUEST_MS"]
    level = logging.WARNING if slow else logging.INFO
    if current_app.config["LOG_FORMAT"] == "json":
        log.log(level, json.dumps({**record, "slow": slow}, ensure_ascii=False))
    else:
        text = " ".join(f"{key}={value}" for key, value in record.items())
        log.log(level, ("slow request: " if slow else "") + text)
    return response


def init_app(app):
    """Log every request of ``app`` (and stamp its id on the response)."""
    app.before_request(_start)
    app.after_request(_finish)
    if not log.handlers and not app.testing:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
