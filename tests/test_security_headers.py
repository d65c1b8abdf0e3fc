"""Security headers on every response, no inline script anywhere, and a server that names no version."""

import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, Auth, free_port

PAGES = {
    "office": [
        "/plans/2018",
        "/dashboard",
        "/exports",
        "/departments",
        "/jobs",
        "/jobs/ledger",
        "/archive",
        "/account",
        "/overdue",
        "/summaries",
        "/applications",
        "/cases",
        "/calendar",
        "/annual-report",
        "/audit",
        "/notifications",
        "/plans/import",
    ],
    "leader": ["/plans/2018", "/dashboard", "/exports", "/annual-report", "/account"],
}


def test_the_sign_in_page_has_the_security_headers(client):
    response = client.get("/login")

    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def signed_in(app, create_user, role):
    create_user(f"{role}1", role=role)
    client = app.test_client()
    assert Auth(client).login(f"{role}1").request.path != "/login"
    return client


@pytest.mark.parametrize("role", PAGES)
def test_signed_in_pages_are_never_cached_and_carry_no_inline_script(app, load_seed, create_user, role):
    load_seed()
    client = signed_in(app, create_user, role)

    for url in PAGES[role]:
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url
        page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        inline = [str(s)[:80] for s in page.find_all("script") if not s.get("src")]
        handlers = [(t.name, a) for t in page.find_all(True) for a in t.attrs if a.startswith("on")]
        assert inline == [] and handlers == [], (url, inline, handlers)
        assert not page.select("[href^='javascript:']"), url


def test_a_download_is_not_cached(app, load_seed, create_user):
    load_seed()
    client = signed_in(app, create_user, "leader")

    response = client.get("/exports/breakdown.xlsx?year=2018")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_may_be_cached_and_are_served_from_this_site(client):
    page = BeautifulSoup(client.get("/login").get_data(as_text=True), "html.parser")
    sources = [s["src"] for s in page.find_all("script")] + [link["href"] for link in page.find_all("link")]

    assert sources and all(src.startswith("/") and not src.startswith("//") for src in sources), sources
    for src in sources:
        response = client.get(src)
        assert response.status_code == 200, src
        assert response.headers.get("Cache-Control") != "no-store", src
        response.close()


def test_the_api_is_not_cached(client):
    response = client.get("/api/v1/tasks")

    assert response.status_code == 401
    assert response.headers["Cache-Control"] == "no-store"


def test_the_web_server_names_no_version(tmp_path):
    """`make run` and production serve through gunicorn, which says only "gunicorn"."""
    port = free_port()
    env = {
        **os.environ,
        "TRACKER_INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}",
        "PORT": str(port),
        "ACCESS_LOG": "",  # no request log in the test output
    }
    env.pop("TRACKER_SCHEDULER", None)
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tracker:create_app()"]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as errors:
        server = subprocess.Popen(gunicorn, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    server_header = response.headers["Server"]
                    policy = response.headers["Content-Security-Policy"]
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer: " + log.read_text(errors="replace"))
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert server_header == "gunicorn"
    assert not re.search(r"\d", server_header)
    assert "frame-ancestors 'none'" in policy
