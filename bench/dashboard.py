"""Benchmark: the office dashboard against a bare endpoint on a synthetic city.

Builds 300 departments × 400 tasks × 3 years (sizes adjustable), serves the app on a loopback
port, signs in as the office, and prints the median time of the dashboard, of a form page and
of /healthz on the same server, with their ratios. Target: dashboard under 10× the bare endpoint.

    .venv/bin/python bench/dashboard.py [--departments 300 --tasks 400 --years 3 --runs 21]

Uses a throw-away SQLite file unless BENCH_DATABASE_URL names another (empty) database.
"""

import argparse
import http.cookiejar
import logging
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    """Build the city, serve it, time the pages, print the medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    os.environ.setdefault("TRACKER_INSTANCE_DIR", str(workdir))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = url

    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from config import Config
    from tracker import create_app
    from tracker.auth.operations import create_user
    from tracker.demo import build_city
    from tracker.extensions import db
    from tracker.models import QuarterlyReturn, ReportingPeriod

    app = create_app(Config)
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        plans = build_city(args.departments, args.tasks, args.years)
        print(
            f"built {len(plans)} plans of {args.departments} departments × {args.tasks} tasks "
            f"in {time.perf_counter() - started:.0f} s ({db.engine.dialect.name})"
        )
        create_user("bench-office", "office", "bench-password")
        year = plans[-1].year
        form = (
            QuarterlyReturn.query.join(ReportingPeriod)
            .filter(ReportingPeriod.plan_id == plans[-1].id)
            .order_by(QuarterlyReturn.id)
            .first()
        )
        form_id, lines = form.id, len(form.lines)

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"username": "bench-office", "password": "bench-password", "csrf_token": token})
    opener.open(f"{base}/login", body.encode()).read()

    def median(path):
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            with opener.open(base + path) as response:
                response.read()
                assert response.status == 200, (path, response.status)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    bare = median("/healthz")
    board = median(f"/dashboard?year={year}")
    form_time = median(f"/returns/{form_id}")
    # The first view after any change computes everything afresh (the cache is keyed on the audit trail).
    cache = app.extensions["tracker_dashboard_cache"]
    fresh = []
    for _ in range(args.runs):
        cache.clear()
        started = time.perf_counter()
        opener.open(f"{base}/dashboard?year={year}").read()
        fresh.append(time.perf_counter() - started)
    first = statistics.median(fresh)
    server.shutdown()
    print(f"bare endpoint /healthz      {bare * 1000:8.1f} ms")
    print(f"office dashboard            {board * 1000:8.1f} ms  ({board / bare:5.1f}× bare; target < 10×)")
    print(f"  first view after a change {first * 1000:8.1f} ms  ({first / bare:5.1f}× bare)")
    print(f"form page ({lines} lines)      {form_time * 1000:8.1f} ms  ({form_time / bare:5.1f}× bare)")
    return 0 if board / bare < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
