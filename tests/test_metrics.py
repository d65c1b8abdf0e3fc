"""Prometheus metrics at /metrics: requests and latency, unsent mail, the scheduler's heartbeat;
readable only from the addresses METRICS_ALLOW names."""

import datetime

from prometheus_client.parser import text_string_to_metric_families

from tracker.extensions import db
from tracker.models import MailState, OutgoingMail, SchedulerState
from tracker.timeutil import now_utc


def scrape(client, address="127.0.0.1"):
    """Return ``{(sample name, labels as a sorted tuple): value}`` of what /metrics answers."""
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def _mail(state):
    return OutgoingMail(to_address="fgj@example.gov.cn", subject="催办", body_text="请报送", body_html="", state=state)


def test_metrics_count_requests_by_endpoint_and_status(client):
    before = scrape(client).get(
        ("tracker_http_requests_total", (("endpoint", "main.healthz"), ("method", "GET"), ("status", "200"))), 0
    )
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/returns").status_code == 302  # anonymous: sent to sign in

    figures = scrape(client)

    key = ("tracker_http_requests_total", (("endpoint", "main.healthz"), ("method", "GET"), ("status", "200")))
    assert figures[key] == before + 3
    assert figures[("tracker_http_request_duration_seconds_count", (("endpoint", "main.healthz"),))] >= 3
    assert any(name == "tracker_http_requests_total" and ("status", "302") in labels for name, labels in figures)


def test_metrics_show_unsent_mail_and_the_scheduler_heartbeat(app, client):
    db.session.add_all([_mail(MailState.PENDING), _mail(MailState.PENDING), _mail(MailState.FAILED)])
    db.session.add(_mail(MailState.SENT))
    figures = scrape(client)
    assert ("tracker_scheduler_heartbeat_age_seconds", ()) not in figures  # no scheduler has ever run
    beat = now_utc() - datetime.timedelta(seconds=90)
    db.session.add(SchedulerState(id=1, holder="host:1", started_at=beat, heartbeat_at=beat))
    db.session.commit()

    figures = scrape(client)

    assert figures[("tracker_mail_unsent", (("state", "pending"),))] == 2
    assert figures[("tracker_mail_unsent", (("state", "failed"),))] == 1
    assert figures[("tracker_mail_unsent", (("state", "sending"),))] == 0
    assert figures[("tracker_scheduler_heartbeat_timestamp_seconds", ())] == beat.timestamp()
    assert 89 <= figures[("tracker_scheduler_heartbeat_age_seconds", ())] < 150


def test_metrics_are_only_for_the_configured_addresses(app, client):
    refused = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert refused.status_code == 404
    assert "tracker_http_requests" not in refused.get_data(as_text=True)

    app.config["METRICS_ALLOW"] = "192.168.0.0/16, 10.0.0.0/8"

    assert scrape(client, "10.1.2.3")
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "not-an-address"}).status_code == 404


def test_a_made_up_method_is_counted_as_other_and_adds_no_series(client):
    for word in ("FOOBAR", "BREW", "PROPFIND"):
        client.open("/healthz", method=word)

    figures = scrape(client)

    methods = {dict(labels).get("method") for name, labels in figures if name == "tracker_http_requests_total"}
    assert "FOOBAR" not in methods and "BREW" not in methods and "other" in methods


def test_metrics_through_a_proxy_the_app_was_not_told_about_are_refused(app, client):
    # nginx in front, TRUSTED_PROXY_COUNT unset: every request seems to come from 127.0.0.1.
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    assert client.get("/metrics", headers=forwarded, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
