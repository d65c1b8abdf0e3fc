"""Gunicorn settings for `make run` and production (README, "Production"); environment variables override.

Threads, not processes, by default: one process keeps `make run`'s inline scheduler single, and
SQLite gains nothing from several writers. Production sets WEB_CONCURRENCY to several workers.
"""

import os
import shutil
import tempfile

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

# /metrics under several workers: each writes its figures to files here and any worker reads them all
# (prometheus_client's multiprocess mode). A fresh folder per start; a dead worker's gauges are dropped.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tracker-metrics-")
    _own_metrics_dir = True
else:
    _own_metrics_dir = False


def child_exit(server, worker):
    """Drop the live gauges of a worker that ended (its counters stay summed)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder this start made."""
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
