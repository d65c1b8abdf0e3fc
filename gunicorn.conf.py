"""Gunicorn settings for `make run` and production (README, "Production"); environment variables override.

Threads, not processes, by default: one process keeps `make run`'s inline scheduler single, and
SQLite gains nothing from several writers. Production sets WEB_CONCURRENCY to several workers.
"""

import os

bind = os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", 1))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", 8))
timeout = int(os.environ.get("WEB_TIMEOUT", 120))
graceful_timeout = 30
# Werkzeug's ProxyFix (TRUSTED_PROXY_COUNT) is the one place forwarded headers are believed.
forwarded_allow_ips = ""
secure_scheme_headers = {}
# Requests cut short by the server before the application sees them.
limit_request_line = 8190
limit_request_fields = 100
accesslog = os.environ.get("ACCESS_LOG", "-") or None
errorlog = "-"
