"""Fixtures: an app on a migrated database (SQLite, or PostgreSQL with TEST_DATABASE_URL),
a client, a CLI runner, and factories for plans and users.

The schema is built once per run by the real migrations; each test then starts from empty tables.
"""

import os
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import TestingConfig
from tracker import create_app
from tracker.extensions import db

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tracker" / "data" / "2018_teda_arrangement.txt"
PASSWORD = "correct-horse-9"


def _fresh_postgres(url):
    """Create the test database if needed and empty it, so the migrations run from nothing."""
    url = make_url(url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
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


def _empty_tables():
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
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


@pytest.fixture
def load_seed(runner):
    """Load the 2018 TEDA plan (or another file) through the CLI and return the Plan."""

    def load(path=SEED, *args):
        result = runner.invoke(args=["plan", "load", str(path), *args])
        assert result.exit_code == 0, result.output
        from tracker.models import Plan

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
