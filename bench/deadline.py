"""Benchmark: deadline day at city scale, against the production server (gunicorn), with an optional chaos run.

Builds the scale demo (300 departments × 400 tasks × 3 years; sizes adjustable) in BENCH_DATABASE_URL
(an empty PostgreSQL database; default: a throw-away SQLite file), opens the newest plan's fourth
quarter again for every department, and serves it with gunicorn (``gunicorn.conf.py``) on loopback.

1. **Ratios**, one client, medians of ``--runs`` on the same server: a 47-line form read and saved
   through the API and read on the web, and the office dashboard on its first view after a change,
   each against the bare ``/healthz``. Targets: GET ≤ 5×, PUT ≤ 15×, dashboard ≤ 10×.
2. **Deadline day**, ``--clients`` concurrent clients (16): each department reads its form, saves
   twice and submits; two office clients poll the progress. Prints requests/s, p50, p95 and errors.
   Target: at least 90 requests/s with p95 ≤ 300 ms and no errors.
3. ``--chaos``: two web servers on two ports and two schedulers on the one database. Departments
   also upload an evidence file on the web. Midway one web server is killed with SIGKILL, and so is
   the scheduler holding the lock; the clients carry on against the other. Afterwards it checks that
   every form was submitted exactly once, every version is whole, no reminder went out twice and
   no file is missing, and says so (exit status 1 if not).

Every run is bounded: ``--seconds`` (default 300) and one round of the departments.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/tracker_bench \\
        .venv/bin/python bench/deadline.py [--departments 300 --tasks 400 --years 3] [--workers 5] [--chaos]
"""

import argparse
import contextlib
import http.client
import json
import os
import queue
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "deadline-day-9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HEADER = {"filled_by_name": "王伟", "filled_by_phone": "25201234", "approved_by": "赵主任"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the database -------------------------------------------------------------------------------


def build(args, env):
    """Build the city (unless ``--reuse``), open the newest plan's Q4 again, make the accounts.

    Returns ``(year, [(department user, token, form id)], office token, a 47-line form id)``.
    """
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import update

    from config import Config
    from tracker import create_app
    from tracker.auth.operations import create_token
    from tracker.demo import build_city
    from tracker.extensions import db
    from tracker.models import (
        ApiToken,
        Department,
        JobRun,
        Plan,
        QuarterlyReturn,
        ReportingPeriod,
        ReturnLine,
        ReturnState,
        User,
        UserRole,
    )
    from tracker.timeutil import now_utc

    app = create_app(Config)
    with app.app_context():
        upgrade()
        if not args.reuse or Plan.query.count() == 0:
            started = time.perf_counter()
            build_city(args.departments, args.tasks, args.years)
            print(f"built the city in {time.perf_counter() - started:.0f} s ({db.engine.dialect.name})")
        plan = Plan.query.order_by(Plan.year.desc()).first()
        period = ReportingPeriod.query.filter_by(plan_id=plan.id, kind="quarter", number=4).one()
        # Deadline day again: every department's Q4 form is a draft to fill and submit.
        db.session.execute(
            update(QuarterlyReturn)
            .where(QuarterlyReturn.period_id == period.id)
            .values(state=ReturnState.DRAFT, first_submitted_at=None, last_submitted_at=None, is_first_late=None)
        )
        template = User(username="bench-template", role=UserRole.OFFICE)
        template.set_password(PASSWORD)  # hashed once: 300 accounts need not cost 300 hashes
        accounts = []
        forms = {r.department_id: r.id for r in QuarterlyReturn.query.filter_by(period_id=period.id).order_by("id")}
        ApiToken.query.delete()
        for department in Department.query.filter(Department.id.in_(forms)).order_by(Department.id):
            name = f"bench-{department.id}"
            user = User.query.filter_by(username=name).one_or_none()
            if user is None:
                user = User(username=name, role=UserRole.DEPARTMENT, department=department)
                db.session.add(user)
            user.password_hash = template.password_hash
            accounts.append((user, forms[department.id]))
        office = User.query.filter_by(username="bench-office").one_or_none()
        if office is None:
            office = User(username="bench-office", role=UserRole.OFFICE)
            db.session.add(office)
        office.password_hash = template.password_hash
        # The schedulers of the chaos run make up only the chase: the other jobs (the archive would
        # write 3 years of city-sized workbooks) count as just run.
        for job_id in ("archive", "housekeeping", "digest", "backup"):
            db.session.add(JobRun(job_id=job_id, trigger="cli", status="ok", finished_at=now_utc()))
        db.session.commit()
        result = [(user.username, create_token(user), form_id) for user, form_id in accounts]
        office_token = create_token(office)
        sizes = dict(
            db.session.query(ReturnLine.return_id, db.func.count())
            .filter(ReturnLine.return_id.in_(forms.values()))
            .group_by(ReturnLine.return_id)
            .all()
        )
        probe = min(sizes, key=lambda form_id: (abs(sizes[form_id] - 47), form_id))
        print(f"{len(result)} departments' Q4 {plan.year} forms are open; the probe form has {sizes[probe]} lines")
        db.session.remove()
        db.engine.dispose()
    return plan.year, result, office_token, probe


def snapshot_marks(env):
    """Return the highest event id now (events after it belong to the run)."""
    from tracker.extensions import db
    from tracker.models import ReturnEvent

    with _app(env).app_context():
        mark = db.session.query(db.func.coalesce(db.func.max(ReturnEvent.id), 0)).scalar()
        db.engine.dispose()
    return mark


def _app(env):
    os.environ.update(env)
    from config import Config
    from tracker import create_app

    return create_app(Config)


# --- the servers --------------------------------------------------------------------------------


def start_web(env, port, workers, log):
    """Start gunicorn with the repository's config on ``port``; return the process (its own group)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tracker:create_app()"],
        cwd=ROOT,
        env={**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers), "ACCESS_LOG": ""},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the web server on port {port} did not start; see {log.name}")


def start_scheduler(env, log):
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "tracker", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill(process):
    """SIGKILL the process and every worker it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


# --- the clients ----------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP connection that fails over to the next server when its server dies."""

    def __init__(self, ports, token=None, stats=None):
        self.ports = list(ports)
        self.token = token
        self.stats = stats
        self.conn = None
        self.cookies = {}

    def _connect(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.ports[0], timeout=30)

    def request(self, method, path, body=None, headers=None, kind=None):
        """Send a request; on a dead connection try the other servers (the request may be re-sent)."""
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2 * len(self.ports) + 2):
            if self.conn is None:
                self._connect()
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if self.stats is not None:
                    self.stats.failover()
                self.ports.append(self.ports.pop(0))  # the next server
                time.sleep(0.1 * attempt)
                continue
            took = time.perf_counter() - started
            for value in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
            if self.stats is not None:
                self.stats.add(kind or method, took, response.status)
            return response.status, data, response
        raise ConnectionError(f"no server answered {method} {path}")


class Stats:
    """Latencies and outcomes of every request, from all client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times = []
        self.errors = []
        self.failovers = 0
        self.notes = []

    def add(self, kind, took, status):
        with self.lock:
            self.times.append(took)
            if status >= 500:
                self.errors.append((kind, status))

    def failover(self):
        with self.lock:
            self.failovers += 1

    def note(self, text):
        with self.lock:
            self.notes.append(text)


def complete(form):
    """A save body completing every line of the form as read."""
    lines = [
        {"task_code": line["task_code"], "status": "done", "done": f"{line['task_code']}：本季度已按计划推进并公开。"}
        for line in form["lines"]
    ]
    return {"version": form["version"], **HEADER, "lines": lines, "counts": form["counts"]}


def upload_evidence(client, form_id):
    """Sign in on the web and upload one evidence file to the form (the chaos run's files)."""
    status, page, _ = client.request("GET", f"/returns/{form_id}", kind="web form")
    text = page.decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
    line = re.search(r'<select[^>]*id="line_id"[^>]*>\s*<option value="(\d+)"', text)
    if status != 200 or not token or not line:
        raise RuntimeError(f"the form page {form_id} has no upload form ({status})")
    boundary = "----deadline" + str(form_id)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token.group(1)}\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="line_id"\r\n\r\n{line.group(1)}\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="evidence.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n",
    ]
    body = "".join(parts).encode() + PDF + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": "http://127.0.0.1/"}
    status, _, _ = client.request("POST", f"/returns/{form_id}/evidence", body, headers, kind="upload")
    if status not in (302, 303):
        raise RuntimeError(f"the upload to form {form_id} answered {status}")


def sign_in(client, username, tries=3):
    """Sign in on the web as a person would: read the form, send it; try again if it comes back."""
    for _ in range(tries):
        status, page, _ = client.request("GET", "/login", kind="web login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.decode()).group(1)
        body = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrf_token": token}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        status, page, _ = client.request("POST", "/login", body, headers, kind="web login")
        if status in (302, 303):
            return
        said = re.findall(r'class="[^"]*(?:alert|invalid-feedback)[^"]*"[^>]*>([^<]+)<', page.decode())
        client.stats.note(f"{username} sign-in came back ({status}): {' / '.join(s.strip() for s in said) or '?'}")
    raise RuntimeError(f"{username} could not sign in ({status})")


def department_day(ports, username, token, form_id, stats, upload):
    """One department's deadline day: read, save twice, submit (retrying what a dead server cut off)."""
    client = Client(ports, token, stats)
    if upload:
        web = Client(ports[::-1], None, stats)  # the web session on the other server first
        sign_in(web, username)
        upload_evidence(web, form_id)
    for _attempt in range(5):
        status, body, _ = client.request("GET", f"/api/v1/returns/{form_id}", kind="GET form")
        form = json.loads(body)
        if form["state"] == "submitted":
            return  # a submit whose answer was lost did go through
        save = complete(form)
        status, body, _ = client.request("PUT", f"/api/v1/returns/{form_id}", save, kind="PUT form")
        if status == 409:
            continue  # a save whose answer was lost moved the version on: read again
        save["version"] = json.loads(body)["version"]
        save["lines"][0]["done"] += "（已补充）"
        status, body, _ = client.request("PUT", f"/api/v1/returns/{form_id}", save, kind="PUT form")
        if status == 409:
            continue
        status, body, _ = client.request("POST", f"/api/v1/returns/{form_id}/submit", kind="submit")
        if status == 200 or (status == 409 and b"submitted" in body):
            return
    raise RuntimeError(f"form {form_id} could not be submitted")


def office_poll(ports, token, year, stats, stop):
    client = Client(ports, token, stats)
    while not stop.is_set():
        client.request("GET", f"/api/v1/progress?year={year}&quarter=4", kind="progress")


def deadline_day(ports, accounts, office_token, year, clients, seconds, upload=False, midway=None):
    """Run the day with ``clients`` threads (two of them the office polling); return the stats and time."""
    stats = Stats()
    work = queue.Queue()
    for account in accounts:
        work.put(account)
    stop = threading.Event()
    failures = []
    done = [0]
    deadline = time.monotonic() + seconds

    def worker():
        while time.monotonic() < deadline:
            try:
                username, token, form_id = work.get_nowait()
            except queue.Empty:
                return
            try:
                department_day(ports, username, token, form_id, stats, upload)
            except Exception as exc:  # noqa: BLE001 - counted and printed, the day goes on
                failures.append(f"{username}: {exc}")
            with stats.lock:
                done[0] += 1
                now_done = done[0]
            if midway and now_done == len(accounts) // 2:
                midway()

    pollers = [threading.Thread(target=office_poll, args=(ports, office_token, year, stats, stop)) for _ in range(2)]
    workers = [threading.Thread(target=worker) for _ in range(max(1, clients - 2))]
    started = time.perf_counter()
    for thread in pollers + workers:
        thread.start()
    for thread in workers:
        thread.join()
    stop.set()
    for thread in pollers:
        thread.join()
    return stats, time.perf_counter() - started, failures, done[0]


def report_day(stats, took, failures, done, total):
    times = sorted(stats.times)
    p50 = statistics.median(times) * 1000
    p95 = times[int(len(times) * 0.95) - 1] * 1000
    print(
        f"deadline day: {done}/{total} departments in {took:.1f} s, {len(times)} requests, "
        f"{len(times) / took:.1f} requests/s, p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
        f"{len(stats.errors)} server errors, {len(failures)} departments failed, {stats.failovers} fail-overs"
    )
    for failure in failures[:10]:
        print("  failed:", failure)
    for note in stats.notes[:10]:
        print("  note:", note)
    return len(times) / took, p95


# --- the ratios -----------------------------------------------------------------------------------


def ratios(port, token, office_username, form_id, year, runs):
    """Print the medians and ratios to /healthz of the form GET/PUT (as the form's department, ``token``),
    the web form and the dashboard after a change (as the office)."""
    bare = Client([port])
    api = Client([port], token)
    web = Client([port], None, Stats())
    sign_in(web, office_username)

    def check(status, what):
        if status != 200:
            raise SystemExit(f"{what} answered {status}")

    def healthz():
        check(bare.request("GET", "/healthz")[0], "/healthz")

    def read():
        status, body, _ = api.request("GET", f"/api/v1/returns/{form_id}")
        check(status, "GET form")
        return json.loads(body)

    form = read()
    save = complete(form)

    def put():
        status, body, _ = api.request("PUT", f"/api/v1/returns/{form_id}", save)
        check(status, "PUT form")
        save["version"] = json.loads(body)["version"]

    def web_form():
        check(web.request("GET", f"/returns/{form_id}")[0], "web form")

    def dashboard_after_change():
        put()  # not timed: the change the dashboard must show
        started = time.perf_counter()
        check(web.request("GET", f"/dashboard?year={year}&quarter=4")[0], "dashboard")
        return time.perf_counter() - started

    for call in (healthz, read, put, web_form):  # warm up
        call()
    dashboard_after_change()
    # Interleaved, so the machine's ups and downs fall on the bare endpoint and the pages alike.
    samples = {"bare": [], "get": [], "put": [], "web": [], "dashboard": []}
    for _ in range(runs):
        for name, call in (("bare", healthz), ("get", read), ("put", put), ("web", web_form)):
            started = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - started)
        samples["dashboard"].append(dashboard_after_change())
    median = {name: statistics.median(times) * 1000 for name, times in samples.items()}
    base = median["bare"]
    figures = {
        "GET /api/v1/returns/ID": (median["get"], 5),
        "PUT /api/v1/returns/ID": (median["put"], 15),
        "GET /returns/ID (web)": (median["web"], 5),
        "dashboard, first view after a change": (median["dashboard"], 10),
    }
    print(f"bare /healthz: {base:.1f} ms (median of {runs})")
    lines = len(form["lines"])
    for name, (ms, target) in figures.items():
        mark = "ok" if ms / base <= target else "OVER"
        print(f"{name:<40} {ms:7.1f} ms  {ms / base:5.1f}× bare  (target ≤ {target}×, {mark}; form of {lines} lines)")
    return figures, base


# --- the chaos checks -------------------------------------------------------------------------------


def verify(env, accounts, mark):
    """Check what the chaos run must not have broken; return the problems found."""
    from sqlalchemy import func, select

    from tracker.extensions import db
    from tracker.models import (
        Evidence,
        OutgoingMail,
        QuarterlyReturn,
        ReturnEvent,
        ReturnVersion,
        StoredFile,
    )

    problems = []
    forms = [form_id for _, _, form_id in accounts]
    with _app(env).app_context():
        states = dict(
            db.session.execute(
                select(QuarterlyReturn.id, QuarterlyReturn.state).where(QuarterlyReturn.id.in_(forms))
            ).all()
        )
        submits = dict(
            db.session.execute(
                select(ReturnEvent.return_id, func.count())
                .where(
                    ReturnEvent.id > mark,
                    ReturnEvent.action.in_(["submit", "resubmit"]),
                    ReturnEvent.return_id.in_(forms),
                )
                .group_by(ReturnEvent.return_id)
            ).all()
        )
        for form_id in forms:
            if states.get(form_id).value != "submitted":
                problems.append(f"form {form_id} is {states.get(form_id)}")
            if submits.get(form_id, 0) != 1:
                problems.append(f"form {form_id} was submitted {submits.get(form_id, 0)} times")
        versions = db.session.execute(
            select(ReturnVersion.return_id, func.count(), func.max(ReturnVersion.number))
            .where(ReturnVersion.return_id.in_(forms))
            .group_by(ReturnVersion.return_id)
        ).all()
        for form_id, count, highest in versions:
            if count != highest:
                problems.append(f"form {form_id} has {count} versions numbered up to {highest}")
        twice = db.session.execute(
            select(OutgoingMail.entry_id, OutgoingMail.to_address, func.count())
            .where(OutgoingMail.entry_id.is_not(None))
            .group_by(OutgoingMail.entry_id, OutgoingMail.to_address)
            .having(func.count() > 1)
        ).all()
        problems += [f"reminder {entry} to {to} was queued {n} times" for entry, to, n in twice]
        missing = db.session.scalars(
            select(Evidence.stored_name).where(
                Evidence.line.has(), ~select(StoredFile.name).where(StoredFile.name == Evidence.stored_name).exists()
            )
        ).all()
        problems += [f"file {name} is missing" for name in missing]
        uploaded = db.session.scalar(
            select(func.count(func.distinct(Evidence.line_id))).where(Evidence.original_name == "evidence.pdf")
        )
        print(f"checked: {len(forms)} forms, {sum(submits.values())} submissions, {uploaded} evidence files")
        db.engine.dispose()
    return problems


# --- main ---------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--workers", type=int, default=5, help="gunicorn worker processes per server")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--runs", type=int, default=21, help="requests per median in the ratios")
    parser.add_argument("--seconds", type=int, default=300, help="the longest the day may run")
    parser.add_argument("--chaos", action="store_true", help="two servers and two schedulers; kill one of each")
    parser.add_argument("--reuse", action="store_true", help="keep a city already built in the database")
    parser.add_argument("--skip-ratios", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tracker-deadline-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TRACKER_INSTANCE_DIR": str(workdir),
        "SECRET_KEY": "deadline-day-benchmark",
        "WEB_THREADS": str(args.threads),
        "SLOW_REQUEST_MS": "100000",
        "SCHEDULER_POLL_SECONDS": "1",
        "SCHEDULER_HEARTBEAT_SECONDS": "1",
        "MAIL_SERVER": "",
    }
    env.pop("TRACKER_SCHEDULER", None)
    year, accounts, office_token, probe = build(args, env)
    logs = [(workdir / f"{name}.log").open("w") for name in ("web1", "web2", "scheduler1", "scheduler2")]
    ports = [free_port(), free_port()]
    webs = [start_web(env, ports[0], args.workers, logs[0])]
    schedulers = []
    try:
        if not args.skip_ratios:
            owner = next(token for _, token, form_id in accounts if form_id == probe)
            ratios(ports[0], owner, "bench-office", probe, year, args.runs)
        if args.chaos:
            webs.append(start_web(env, ports[1], args.workers, logs[1]))
            schedulers = [start_scheduler(env, logs[2])]
            time.sleep(2)
            schedulers.append(start_scheduler(env, logs[3]))
        mark = snapshot_marks(env)

        def midway():
            print(f"midway: SIGKILL the web server on port {ports[0]} and the first scheduler")
            kill(webs[0])
            kill(schedulers[0])

        stats, took, failures, done = deadline_day(
            ports[: len(webs)],
            accounts,
            office_token,
            year,
            args.clients,
            args.seconds,
            upload=args.chaos,
            midway=midway if args.chaos else None,
        )
        rate, p95 = report_day(stats, took, failures, done, len(accounts))
        if args.chaos:
            time.sleep(3)  # the second scheduler takes the lock and makes up the killed run
            problems = verify(env, accounts, mark)
            for problem in problems[:20]:
                print("  PROBLEM:", problem)
            print(
                "chaos: "
                + (
                    "every form submitted once, versions whole, no reminder twice, no file missing"
                    if not problems
                    else f"{len(problems)} problems"
                )
            )
            if problems or failures:
                return 1
        else:
            print(f"target: ≥ 90 requests/s and p95 ≤ 300 ms: {'met' if rate >= 90 and p95 <= 300 else 'NOT met'}")
        return 1 if stats.errors else 0
    finally:
        for process in webs + schedulers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    kill(process)
        for log in logs:
            log.close()
        print(f"logs in {workdir}")


if __name__ == "__main__":
    sys.exit(main())
