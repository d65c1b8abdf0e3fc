"""Prometheus metrics at ``/metrics``, through the official client (prometheus_client).

- ``tracker_http_requests_total{method,endpoint,status}`` and
  ``tracker_http_request_duration_seconds{endpoint}``: counted per request (by endpoint name, not
  path, so ids do not multiply the series);
- ``tracker_mail_unsent{state}``: e-mail waiting to go (pending, sending, failed);
- ``tracker_scheduler_heartbeat_timestamp_seconds`` and ``…_age_seconds``: when the running
  scheduler last said it was alive (absent until one ever ran).

The database figures are read at each scrape, so every web worker answers the same. Under gunicorn
with several workers, ``PROMETHEUS_MULTIPROC_DIR`` (set by ``gunicorn.conf.py``) lets any worker
answer for all of them. Only addresses in ``METRICS_ALLOW`` (default loopback) may read it; any
other gets 404, as if there were nothing there; so does a request through a proxy the app was not
told about (``X-Forwarded-For`` without ``TRUSTED_PROXY_COUNT``).
"""

import ipaddress
import os

from flask import Response, abort, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from .extensions import db

REQUESTS = Counter("tracker_http_requests", "Requests answered", ["method", "endpoint", "status"])
LATENCY = Histogram(
    "tracker_http_request_duration_seconds",
    "Time to answer a request",
    ["endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


#: Methods counted by name; any other (a client may send any word) is counted as ``other``, so
#: made-up methods cannot add series without end.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe(seconds, status):
    """Count the request being answered (called once per request by :mod:`tracker.requestlog`)."""
    endpoint = request.endpoint or "unknown"
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(method, endpoint, str(status)).inc()
    LATENCY.labels(endpoint).observe(seconds)


class DatabaseCollector:
    """The figures read from the database at each scrape: unsent mail, the scheduler's heartbeat."""

    def collect(self):
        from .models import MailState, OutgoingMail, SchedulerState
        from .timeutil import as_utc, now_utc

        unsent = GaugeMetricFamily("tracker_mail_unsent", "E-mail not yet sent, by state", labels=["state"])
        counts = dict(
            db.session.execute(
                select(OutgoingMail.state, func.count())
                .where(OutgoingMail.state != MailState.SENT)
                .group_by(OutgoingMail.state)
            ).all()
        )
        for state in (MailState.PENDING, MailState.SENDING, MailState.FAILED):
            unsent.add_metric([state.value], counts.get(state, 0))
        yield unsent
        state = db.session.get(SchedulerState, 1)
        if state is not None:
            beat = as_utc(state.heartbeat_at)
            yield GaugeMetricFamily(
                "tracker_scheduler_heartbeat_timestamp_seconds",
                "When the running scheduler last said it was alive (Unix time)",
                value=beat.timestamp(),
            )
            yield GaugeMetricFamily(
                "tracker_scheduler_heartbeat_age_seconds",
                "Seconds since the running scheduler last said it was alive",
                value=max(0.0, (now_utc() - beat).total_seconds()),
            )


def _allowed(address, allow):
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    for entry in allow.split(","):
        entry = entry.strip()
        if entry:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def metrics_view():
    """Answer the metrics in Prometheus's text format, to allowed addresses only."""
    from flask import current_app

    if not _allowed(request.remote_addr, current_app.config["METRICS_ALLOW"]):
        abort(404)
    if "X-Forwarded-For" in request.headers and not current_app.config.get("TRUSTED_PROXY_COUNT"):
        # Through a proxy the app was not told about, every request seems to come from the proxy's
        # own (allowed) address: refuse rather than show the figures to the whole network.
        abort(404)
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(DatabaseCollector())
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
