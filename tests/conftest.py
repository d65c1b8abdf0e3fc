"""Fixtures: an app on a migrated database (SQLite, or PostgreSQL with TEST_DATABASE_URL),
a client, a CLI runner, and factories for plans and users.

The schema is built once per run (per xdist worker) by the real migrations; each test then starts
from empty tables.

``--clock WHEN`` (or ``TEST_CLOCK``) runs the suite as if the machine's clock read WHEN: every
read of the system clock in this process (``datetime.now``, ``date.today``, ``time.time``) is
moved there, and the clock keeps running. A test that pins its dates passes under any clock; a
test that mixes the real clock with pinned dates fails under some. WHEN is ``YYYY-MM-DD``,
``YYYY-MM-DDTHH:MM[:SS]`` (Asia/Shanghai) or ``+Ny`` / ``+Nd`` from today.

``--clocks WHEN,WHEN,…`` runs each test marked ``dates`` once under each of those clocks instead (a
parametrisation; each test starts at that moment and its clock runs). ``make test`` uses it.

Tests marked ``postgres`` run only on PostgreSQL, ``browser`` only where Chromium is installed. What
did not run for want of either is said at the end of the run, and appended to ``TEST_OUTCOME_LOG``
when set, so that ``make test`` can say it once more after all its runs (``tests/not_run.py``).
"""

import datetime
import json
import os
import re
import shutil
import socket
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from config import TestingConfig
from tracker import create_app
from tracker.extensions import db

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tracker" / "data" / "2018_teda_arrangement.txt"
PASSWORD = "correct-horse-9"


def _clock_destination(when):
    """Return the moment ``--clock`` names (see the module docstring)."""
    shanghai = ZoneInfo("Asia/Shanghai")
    relative = re.fullmatch(r"\+(\d+)([yd])", when)
    if relative:
        count, unit = int(relative.group(1)), relative.group(2)
        now = datetime.datetime.now(shanghai)  # clock-ok: the shift is relative to the real day
        if unit == "d":
            return now + datetime.timedelta(days=count)
        day = now.date()
        return now.replace(year=day.year + count, day=28 if (day.month, day.day) == (2, 29) else day.day)
    moment = datetime.datetime.fromisoformat(when)
    return moment if moment.tzinfo else moment.replace(tzinfo=shanghai)


def pytest_addoption(parser):
    """Add ``--clock`` and ``--clocks``."""
    parser.addoption(
        "--clock",
        default=os.environ.get("TEST_CLOCK") or None,
        help="run as if the system clock read this moment: YYYY-MM-DD[THH:MM[:SS]] (Asia/Shanghai) or +Ny/+Nd",
    )
    parser.addoption(
        "--clocks",
        default=None,
        help="comma-separated moments (as --clock): run each test marked 'dates' once under each",
    )


def pytest_generate_tests(metafunc):
    """Under ``--clocks``, run each test marked ``dates`` once per clock."""
    clocks = metafunc.config.getoption("clocks")
    if clocks and metafunc.definition.get_closest_marker("dates"):
        moments = [when.strip() for when in clocks.split(",") if when.strip()]
        metafunc.parametrize("moved_clock", moments, indirect=True, ids=[f"clock={when}" for when in moments])


#: The ``--clocks`` moment the running test is under (None: the real clock, or ``--clock``'s).
MOVED = {"clock": None}


@pytest.fixture(autouse=True)
def moved_clock(request):
    """Under ``--clocks``, move the system clock to this test's moment before anything else is set up.

    Yields the moment the clock was moved to, or None.
    """
    when = getattr(request, "param", None)
    if when is None:
        yield None
        return
    MOVED["clock"] = when
    destination = _clock_destination(when)
    try:
        with time_machine.travel(destination, tick=True):
            yield destination
    finally:
        MOVED["clock"] = None


CLOCK = pytest.StashKey()


def _unpreload_faketime():
    """Keep libfaketime (``faketime +1y make test``) to this process: its children run on the real clock.

    libfaketime 0.9.10 breaks what the children do with time (Python's ``time.sleep`` fails with
    EINVAL, Playwright's driver and Chromium fail to start), so the scheduler processes and the
    browser could not run at all under it. The tests' own process, where the product's code runs, is
    faked as asked; so are pytest-xdist's workers, which unload it for their own children.
    """
    preload = os.environ.get("LD_PRELOAD", "")
    if "faketime" not in preload:
        return
    kept = [lib for lib in preload.split(":") if lib and "faketime" not in lib]
    if kept:
        os.environ["LD_PRELOAD"] = ":".join(kept)
    else:
        os.environ.pop("LD_PRELOAD")
    for name in [name for name in os.environ if name.startswith("FAKETIME")]:
        os.environ.pop(name)


def pytest_configure(config):
    """Move the system clock where ``--clock`` says, for the whole run (each xdist worker does its own)."""
    if os.environ.get("PYTEST_XDIST_WORKER") or not config.getoption("numprocesses", None):
        _unpreload_faketime()
    when = config.getoption("clock")
    if when:
        destination = _clock_destination(when)
        traveller = time_machine.travel(destination, tick=True)
        traveller.start()
        config.stash[CLOCK] = (destination, traveller)


def pytest_report_header(config):
    """Say which clock the run uses."""
    if CLOCK in config.stash:
        return f"clock: moved to {config.stash[CLOCK][0].isoformat()} (--clock {config.getoption('clock')})"
    return None


def pytest_unconfigure(config):
    """Put the clock back."""
    if CLOCK in config.stash:
        config.stash[CLOCK][1].stop()


ON_POSTGRESQL = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Why a test of each kind may not run, and how to get it run.
NEEDS = {
    "postgres": "needs PostgreSQL: start it on 127.0.0.1:5432 (make test then runs these) or set TEST_DATABASE_URL",
    "browser": "needs Chromium: apt-get install chromium (Debian's package; .ci/run installs it)",
}


def pytest_collection_modifyitems(config, items):
    """Skip what this machine cannot run, saying what it needs."""
    missing = {"postgres": not ON_POSTGRESQL, "browser": CHROMIUM is None}
    for item in items:
        for kind, reason in NEEDS.items():
            if missing[kind] and kind in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


def _outcomes(terminalreporter):
    """Return {nodeid: (kind, "ran" | "skipped")} for the tests marked postgres or browser."""
    outcomes = {}
    for status in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(status, []):
            kind = next((kind for kind in NEEDS if kind in getattr(report, "keywords", {})), None)
            if kind is None or not getattr(report, "nodeid", None):
                continue
            # A test has setup, call and teardown reports; it ran if any of them is not a skip.
            ran = status != "skipped" or outcomes.get(report.nodeid, (kind, ""))[1] == "ran"
            outcomes[report.nodeid] = (kind, "ran" if ran else "skipped")
    return outcomes


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say loudly which tests did not run for want of PostgreSQL or Chromium, and log every such outcome."""
    outcomes = _outcomes(terminalreporter)
    skipped = sorted(node for node, (_, result) in outcomes.items() if result == "skipped")
    if skipped:
        terminalreporter.section("skipped in this run for want of PostgreSQL or Chromium", sep="=", yellow=True)
        for kind, reason in NEEDS.items():
            mine = [node for node in skipped if outcomes[node][0] == kind]
            if mine:
                terminalreporter.write_line(f"{len(mine)} test(s) {reason}:", yellow=True)
                for node in mine:
                    terminalreporter.write_line(f"  {node}")
    log = os.environ.get("TEST_OUTCOME_LOG")
    if log:
        run = "postgresql" if ON_POSTGRESQL else "sqlite"
        with open(log, "a", encoding="utf-8") as out:
            for node, (kind, result) in sorted(outcomes.items()):
                out.write(json.dumps({"run": run, "test": node, "kind": kind, "result": result}) + "\n")


def _worker_database(url):
    """Give each xdist worker its own PostgreSQL database (``tracker_test_gw0`` …)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


def _fresh_postgres(url):
    """Create the test database if needed and empty it, so the migrations run from nothing."""
    url = make_url(url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        # A throw-away database need not wait for the disk at every commit; every other guarantee stays.
        conn.execute(text(f'ALTER DATABASE "{url.database}" SET synchronous_commit = off'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """Return the URL of the test database, with the schema built by the migrations."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = _worker_database(url)
        _fresh_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    app = create_app(_config(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _config(url, instance_dir):
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    config.INSTANCE_DIR = instance_dir
    return config


#: The names of every sequence in the schema (the id columns' counters).
SEQUENCES = "SELECT relname FROM pg_class WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"


def _empty_tables():
    """Delete every row, children first; on PostgreSQL also start every id sequence again at 1.

    Deleting the few rows a test wrote is much quicker than TRUNCATE, which costs PostgreSQL a new
    file per table (over 100 ms for the whole schema, every test).
    """
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"SELECT setval(relname::regclass, 1, false) FROM ({SEQUENCES}) AS s"))
    db.session.commit()


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The ``app`` fixture keeps an app context open for the test's own database work; without
    this, requests would share its ``g`` (Flask-Login's cached user, Flask-WTF's token) and its
    session. After each request the test's session is expired, so the test reads what the
    request wrote.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def app(database_url, tmp_path):
    """Return an app on the test database; its tables are emptied after the test."""
    app = create_app(_config(database_url, tmp_path / "instance"))
    app.test_client_class = FreshContextClient
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        yield app
        db.session.rollback()
        _empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """Return a test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Return a CLI runner."""
    return app.test_cli_runner()


class Snapshots:
    """Database states built once per worker by the real operations, then restored for each test that asks.

    A fixture that builds an expensive state (the 2018 plan loaded through the CLI, a reporting
    season played out) calls :meth:`use`. The first time, in an empty database, it builds the state
    for real; the rows of every table, the files under the instance folder and what the builder
    returned are then kept. The next test that asks, again in an empty database, gets exactly those
    back by bulk insert (same rows, ids and audit trail) in a fraction of the time. A test that has
    written anything before asking gets a real build, as does any other clock setting.
    """

    def __init__(self):
        self.kept = {}

    def use(self, app, key, build):
        """Return what ``build()`` returns, building the state for real or restoring the kept one."""
        clocks = (MOVED["clock"], app.config.get("TRACKER_NOW"), app.config.get("TRACKER_TODAY"))
        key = (key, *map(str, clocks))
        if not _is_empty():
            return build()
        if key in self.kept:
            rows, files, result = self.kept[key]
            _restore(rows)
            instance = Path(app.instance_path)
            for name, data in files.items():
                (instance / name).parent.mkdir(parents=True, exist_ok=True)
                (instance / name).write_bytes(data)
            return result
        result = build()
        db.session.commit()
        instance = Path(app.instance_path)
        files = {str(p.relative_to(instance)): p.read_bytes() for p in instance.rglob("*") if p.is_file()}
        self.kept[key] = (_dump(), files, result)
        return result


def _is_empty():
    """Tell whether every table is empty (one statement)."""
    tables = db.metadata.sorted_tables
    query = " OR ".join(f'EXISTS (SELECT 1 FROM "{t.name}")' for t in tables)
    return not db.session.execute(text(f"SELECT {query}")).scalar()


def _dump():
    """Return every table's rows (parents first, each in primary-key order) and PostgreSQL's sequences."""
    rows = [
        (t, [dict(r) for r in db.session.execute(t.select().order_by(*t.primary_key.columns)).mappings()])
        for t in db.metadata.sorted_tables
    ]
    sequences = []
    if db.engine.dialect.name == "postgresql":
        for name in db.session.execute(text(SEQUENCES)).scalars():
            value, called = db.session.execute(text(f'SELECT last_value, is_called FROM "{name}"')).one()
            sequences.append((name, value, called))
    return rows, sequences


def _restore(dumped):
    """Insert the dumped rows, parents first, and set PostgreSQL's sequences where the build left them."""
    rows, sequences = dumped
    for table, values in rows:
        if values:
            db.session.execute(table.insert(), values)
    if sequences:
        names, values, called = (list(column) for column in zip(*sequences, strict=True))
        db.session.execute(
            text(
                "SELECT setval(n::regclass, v, c) FROM unnest(CAST(:names AS text[]), CAST(:values AS bigint[]),"
                " CAST(:called AS boolean[])) AS s(n, v, c)"
            ),
            {"names": names, "values": values, "called": called},
        )
    db.session.commit()
    db.session.expire_all()


@pytest.fixture(scope="session")
def snapshots():
    """Return this worker's :class:`Snapshots`."""
    return Snapshots()


@pytest.fixture
def load_seed(app, runner, snapshots):
    """Load the 2018 TEDA plan (or another file) through the CLI and return the Plan."""
    from tracker.models import Plan

    def load(path=SEED, *args):
        def build():
            result = runner.invoke(args=["plan", "load", str(path), *args])
            assert result.exit_code == 0, result.output

        snapshots.use(app, ("plan load", str(path), args), build)
        return Plan.query.order_by(Plan.id.desc()).first()

    return load


@pytest.fixture
def create_user(app):
    """Return a factory that creates a user with the password :data:`PASSWORD`."""
    from tracker.auth.operations import create_user as create
    from tracker.models import Department

    def factory(username, role="office", department=None, **kwargs):
        if isinstance(department, str):
            department = Department.lookup(department)
        return create(username, role, PASSWORD, department, **kwargs)

    return factory


def task(code):
    """Return the task with ``code`` (the test database holds one plan unless a test loads more)."""
    from tracker.models import Task

    return Task.query.filter_by(code=code).one()


def period(kind, number):
    """Return the reporting period of ``kind`` numbered ``number`` (of the one plan the test database holds)."""
    from tracker.models import ReportingPeriod

    return ReportingPeriod.query.filter_by(kind=kind, number=number).one()


def department(name):
    """Return the department called ``name`` (name or alias); fail the test if there is none."""
    from tracker.models import Department

    found = Department.lookup(name)
    assert found is not None, name
    return found


def csrf_token(html):
    """Return the CSRF token of the first form in ``html``."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def soup(response, status=200):
    """Return the page ``response`` holds, parsed; first check its status is ``status`` (``None``: any status)."""
    from bs4 import BeautifulSoup

    if status is not None:
        assert response.status_code == status, response.status_code
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def page_of(client, url, status=200):
    """Open ``url`` on ``client`` and return the page, parsed; first check its status is ``status``."""
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return soup(response, status=None)


def flashes(page):
    """Return the texts of the flashed messages on a page."""
    return [alert.get_text(" ", strip=True) for alert in page.select("main .alert-dismissible")]


def state_text(page):
    """Return the state badge of a form or summary page (e.g. 已报送)."""
    return page.select_one("h1 + div .badge").get_text(strip=True)


def upload_files(app):
    """Return the names of the files stored in the database; nothing is ever written to a folder."""
    from sqlalchemy import select

    from tracker.models import StoredFile

    assert not (Path(app.instance_path) / "uploads").exists()
    return sorted(db.session.scalars(select(StoredFile.name)))


def upload_plan(client, data, name):
    """Upload an arrangement on 工作安排 → 导入 as the office would; return the response."""
    import io

    page = client.get("/plans/import")
    return client.post(
        "/plans/import",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def preview_form(page):
    """Return an import preview's fields (a BeautifulSoup page) as the browser would send them."""
    form = {
        i["name"]: i.get("value", "") for i in page.find_all("input") if i.get("type") not in ("checkbox", "submit")
    }
    form.update({i["name"]: i["value"] for i in page.find_all("input", {"type": "checkbox"}) if i.has_attr("checked")})
    return form


class Auth:
    """Sign in and out through the real sign-in form."""

    def __init__(self, client):
        self.client = client

    def login(self, username, password=PASSWORD):
        """Sign in; return the response after redirects."""
        page = self.client.get("/login")
        token = csrf_token(page.get_data(as_text=True))
        return self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token},
            follow_redirects=True,
        )

    def logout(self):
        """Sign out."""
        page = self.client.get("/", follow_redirects=True)
        token = csrf_token(page.get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token}, follow_redirects=True)


@pytest.fixture
def auth(client):
    """Return the sign-in helper for ``client``."""
    return Auth(client)


#: Who signs in through :func:`account` and :func:`login`: role and department.
ACCOUNTS = {
    "office1": ("office", None),
    "leader1": ("leader", None),
    "fgj1": ("department", "发改局"),
    "fgj2": ("department", "发改局"),
    "czj1": ("department", "财政局"),
}


@pytest.fixture
def account(create_user):
    """Return a function that returns the user called ``username`` (see ACCOUNTS), creating it on first use.

    A department user's department must exist by then: a module whose tests sign in to a loaded plan
    overrides this fixture with one that asks for its ``plan`` first.
    """
    from tracker.models import User

    def get(username):
        user = User.query.filter_by(username=username).one_or_none()
        if user is None:
            user = create_user(username, *ACCOUNTS[username])
        return user

    return get


@pytest.fixture
def login(app, account):
    """Return a function that signs ``username`` in on a client of its own and returns the client."""

    def sign_in(username):
        account(username)
        client = app.test_client()
        response = Auth(client).login(username)
        assert response.status_code == 200
        assert response.request.path != "/login", f"{username} could not sign in"
        return client

    return sign_in


# --- e-mail over SMTP, on loopback ---------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps every message, and refuses the addresses in ``refuse``."""

    def __init__(self, refuse=()):
        self.messages = []
        self.refuse = set(refuse)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address in self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        import email
        from email import policy

        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted"

    def to(self, address):
        return [message for rcpt, message in self.messages if address in rcpt]


def counted(call):
    """Run ``call()``; return what it returned and the SQL statements it sent to the database, in order.

    The tests that hold a page's or an operation's queries constant whatever the data's size use it.
    """
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = call()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return result, statements


def at_once(app, call, times=2):
    """Run ``call()`` in ``times`` threads released together, each in its own app context (two schedulers, say).

    Waits for them; returns the exceptions they raised (a test asserts there were none).
    """
    import threading

    barrier = threading.Barrier(times)
    errors = []

    def run():
        try:
            with app.app_context():
                barrier.wait()
                call()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def start_flask(database_url, tmp_path, *args, times=2, **env):
    """Start ``times`` processes of ``flask --app tracker ARGS`` on the test database (output piped); return them."""
    import subprocess
    import sys

    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TRACKER_INSTANCE_DIR": str(tmp_path / "instance"),
        "SECRET_KEY": "test-processes",
        "TRACKER_SCHEDULER": "",
        "MAIL_SERVER": "",
        **env,
    }
    command = [sys.executable, "-m", "flask", "--app", "tracker", *args]
    root = Path(__file__).resolve().parent.parent
    return [
        subprocess.Popen(command, cwd=root, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(times)
    ]


def free_port():
    """Return a TCP port on loopback that nothing listens on just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app):
    """Start an SMTP server on loopback and point the app at it; yields (inbox, start, stop)."""
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
    state = {}

    def start(inbox=None):
        state["inbox"] = inbox or Inbox()
        state["controller"] = Controller(state["inbox"], hostname="127.0.0.1", port=port)
        state["controller"].start()
        return state["inbox"]

    def stop():
        if "controller" in state:
            state.pop("controller").stop()

    yield start, stop
    stop()


# --- forms, as the tests of the working day use them ---------------------------------------------

#: A form's header as a department fills it in.
FORM_HEADER = {"filled_by_name": "王晓明", "filled_by_phone": "022-25201234", "approved_by": "李建国"}


def quarterly_form(name, quarter=3, year=2018):
    """Return a department's quarterly form (name or alias), fresh from the database."""
    from tracker.models import PeriodKind, QuarterlyReturn

    return _department_record(QuarterlyReturn, PeriodKind.QUARTER, quarter, name, year)


def half_year_summary(name, half=2, year=2018):
    """Return a department's half-year summary (name or alias), fresh from the database."""
    from tracker.models import HalfYearSummary, PeriodKind

    return _department_record(HalfYearSummary, PeriodKind.HALF, half, name, year)


def _department_record(model, kind, number, name, year):
    """Return the department's form or summary (``model``) of the period ``kind`` ``number`` of ``year``."""
    from tracker.models import Plan, ReportingPeriod

    return (
        model.query.join(ReportingPeriod)
        .join(Plan)
        .filter(
            Plan.year == year,
            ReportingPeriod.kind == kind,
            ReportingPeriod.number == number,
            model.department_id == department(name).id,
        )
        .one()
    )


def submit_form(name, user, quarter=3):
    """Fill in every line of a department's form as done and submit it, through the operations; return it."""
    from tracker.returns.operations import save_return, submit_return

    report = quarterly_form(name, quarter)
    lines = [{"task_code": line.task.code, "status": "done", "done": "已完成。"} for line in report.lines]
    save_return(report, {**FORM_HEADER, "lines": lines}, report.version)
    submit_return(report, user)
    return report


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free loopback port in a thread; yield its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def page():
    """Yield a Chromium page; the test fails if the Content-Security-Policy refused anything on it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(locale="zh-CN")
        # The user answers 确定 to every confirmation (保存并报送, 审核通过 …), as one who means it.
        page.on("dialog", lambda dialog: dialog.accept())
        refused = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        yield page
        browser.close()
    assert refused == [], refused


def sign_in(page, base, username):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()
