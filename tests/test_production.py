"""Issue 14's acceptance: the README's production commands (those that need no root), run as written
against a fresh PostgreSQL database, serve the site under gunicorn with a separate scheduler."""

import os
import re
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar, DefaultCookiePolicy

import pytest
from conftest import ROOT, _fresh_postgres, free_port
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.postgres

FLASK = [sys.executable, "-m", "flask", "--app", "tracker"]


class BehindTheProxy(DefaultCookiePolicy):
    """Send Secure cookies over the loopback's plain HTTP, as nginx does after ending TLS."""

    def return_ok_secure(self, cookie, request):
        return True


def _wait(url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            time.sleep(0.2)
    return None


def test_the_readme_production_commands_serve_the_site_with_a_separate_scheduler(tmp_path):
    base = make_url(os.environ["TEST_DATABASE_URL"])
    url = base.set(database=f"{base.database}_production_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    url = url.render_as_string(hide_password=False)
    _fresh_postgres(url)
    port = free_port()
    env = {
        **os.environ,
        "TRACKER_ENV": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": "a-production-secret-key-for-the-test",
        "TRUSTED_PROXY_COUNT": "1",
        "WEB_CONCURRENCY": "2",
        "PORT": str(port),
        "ACCESS_LOG": "",
        "TRACKER_INSTANCE_DIR": str(tmp_path),
        "SCHEDULER_POLL_SECONDS": "0.5",
        "SCHEDULER_HEARTBEAT_SECONDS": "0.5",
    }
    env.pop("TRACKER_SCHEDULER", None)
    for command, stdin in (
        (["db", "upgrade"], None),
        (["plan", "load", "tracker/data/2018_teda_arrangement.txt"], None),
        (["user", "add", "office", "--role", "office", "--password-stdin"], "production-pass-9\n"),
    ):
        done = subprocess.run([*FLASK, *command], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr

    web_log, scheduler_log = (tmp_path / "web.log").open("w"), (tmp_path / "scheduler.log").open("w")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tracker:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    scheduler = subprocess.Popen(
        [*FLASK, "scheduler"], cwd=ROOT, env=env, stdout=scheduler_log, stderr=subprocess.STDOUT
    )
    try:
        assert _wait(f"http://127.0.0.1:{port}/readyz") == 200, (tmp_path / "web.log").read_text()
        # Signing in over the proxy (https): the session cookie is Secure, the office lands on its page.
        jar = CookieJar(policy=BehindTheProxy())
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        proxied = {"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Proto": "https"}
        page = opener.open(urllib.request.Request(f"http://127.0.0.1:{port}/login", headers=proxied)).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = f"username=office&password=production-pass-9&csrf_token={token}".encode()
        # Over HTTPS, Flask-WTF checks that a form came from this site's own page, as a browser says.
        came_from = {**proxied, "Referer": f"https://127.0.0.1:{port}/login"}
        request = urllib.request.Request(f"http://127.0.0.1:{port}/login", data=form, headers=came_from)
        try:
            landed = opener.open(request)
        except urllib.error.HTTPError as error:
            pytest.fail(f"{error.code}: {error.read().decode()[-600:]} cookies={[c.name for c in jar]}")
        assert "办公室 · 今日待办" in landed.read().decode()
        assert all(cookie.secure for cookie in jar)  # TRACKER_ENV=production: the cookies are Secure
        # /metrics sums both workers (prometheus_client's multiprocess mode, set up by gunicorn.conf.py).
        for _ in range(20):
            assert _wait(f"http://127.0.0.1:{port}/healthz") == 200
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(metrics)
            for sample in family.samples
        }
        healthz = (("endpoint", "main.healthz"), ("method", "GET"), ("status", "200"))
        assert samples[("tracker_http_requests_total", healthz)] == 20, metrics[:2000]
        assert samples[("tracker_mail_unsent", (("state", "pending"),))] == 0
        # From any other address it is not there at all.
        try:
            opener.open(urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=proxied))
            pytest.fail("/metrics answered an address not in METRICS_ALLOW")
        except urllib.error.HTTPError as error:
            assert error.code == 404
        deadline = time.monotonic() + 30
        while "holds the lock and runs the jobs" not in (tmp_path / "scheduler.log").read_text():
            assert time.monotonic() < deadline, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.2)
    finally:
        web.terminate()
        scheduler.terminate()
        web.wait(timeout=30)
        scheduler.wait(timeout=30)
        web_log.close()
        scheduler_log.close()
    assert scheduler.returncode == 0
