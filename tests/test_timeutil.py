"""One clock for the whole product (tracker/timeutil.py), and the suite's own guards around it."""

import datetime
import json
import subprocess
import sys

import pytest
import time_machine
from conftest import ROOT, _clock_destination

from config import Config
from tracker.extensions import db
from tracker.models import User
from tracker.timeutil import now_utc, system_now, today

UTC = datetime.UTC
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


@pytest.mark.dates
def test_a_fixed_moment_fixes_now_and_today_in_shanghai(app):
    app.config["TRACKER_NOW"] = datetime.datetime(2018, 12, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 January there

    assert now_utc() == datetime.datetime(2018, 12, 31, 16, 30, tzinfo=UTC)
    assert today() == datetime.date(2019, 1, 1)


@pytest.mark.dates
def test_a_fixed_day_keeps_the_clock_running_on_that_day_from_noon(app):
    app.config["TRACKER_TODAY"] = "2019-01-16"
    with time_machine.travel(datetime.datetime(2026, 12, 31, 23, 59, 59, tzinfo=SHANGHAI), tick=False) as clock:
        assert today() == datetime.date(2019, 1, 16)
        assert now_utc() == datetime.datetime(2019, 1, 16, 12, 0, tzinfo=SHANGHAI)
        assert system_now() == datetime.datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)  # timers keep real time
        clock.shift(datetime.timedelta(seconds=2))  # the real clock turns the year: this one goes on
        assert now_utc() == datetime.datetime(2019, 1, 16, 12, 0, 2, tzinfo=SHANGHAI)
        assert today() == datetime.date(2019, 1, 16)


@pytest.mark.dates
def test_rows_are_stamped_by_the_products_clock(app, create_user):
    app.config["TRACKER_NOW"] = datetime.datetime(2019, 1, 16, 2, 0, tzinfo=UTC)

    user = create_user("office1")

    stored = db.session.get(User, user.id).created_at
    assert (stored if stored.tzinfo else stored.replace(tzinfo=UTC)) == app.config["TRACKER_NOW"]


@pytest.mark.dates
def test_the_product_reads_the_clock_the_guard_moved(app, moved_clock):
    """Under ``--clocks`` (make test) today is the moved day: a guard that moved nothing would fail here."""
    moment = moved_clock or datetime.datetime.now(SHANGHAI)  # clock-ok: without --clocks, the real clock
    assert today() in {moment.date(), (moment + datetime.timedelta(seconds=30)).date()}
    assert abs(now_utc() - moment) < datetime.timedelta(seconds=30)


@pytest.mark.dates
def test_outside_an_application_the_clock_is_the_systems():
    with time_machine.travel(datetime.datetime(2030, 5, 1, 8, 0, tzinfo=UTC), tick=False):
        assert now_utc() == datetime.datetime(2030, 5, 1, 8, 0, tzinfo=UTC)


def test_moments_for_the_clock_option():
    with time_machine.travel(datetime.datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI), tick=False):
        assert _clock_destination("+3y") == datetime.datetime(2029, 11, 30, 10, 0, tzinfo=SHANGHAI)
        assert _clock_destination("+10d") == datetime.datetime(2026, 12, 10, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(datetime.datetime(2028, 2, 29, 10, 0, tzinfo=SHANGHAI), tick=False):
        assert _clock_destination("+1y").date() == datetime.date(2029, 2, 28)
    assert _clock_destination("2027-12-31T23:59:59") == datetime.datetime(2027, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)


def test_production_hashes_passwords_with_scrypt_and_the_tests_cheaply(app, create_user):
    assert Config.PASSWORD_HASH_METHOD == "scrypt"
    user = create_user("office1")
    assert user.password_hash.startswith("pbkdf2:sha256:1$")
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    user.set_password("another-password-9")
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("another-password-9")


# --- what did not run --------------------------------------------------------------------------------


def _not_run(tmp_path, entries, ci):
    log = tmp_path / "outcomes.jsonl"
    log.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    env = {"PATH": "/usr/bin:/bin", "CI": "true" if ci else ""}
    return subprocess.run(
        [sys.executable, "tests/not_run.py", str(log)], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_a_postgresql_test_skipped_on_sqlite_but_run_on_postgresql_ran(tmp_path):
    entries = [
        {"run": "sqlite", "test": "t::pg", "kind": "postgres", "result": "skipped"},
        {"run": "postgresql", "test": "t::pg", "kind": "postgres", "result": "ran"},
        {"run": "sqlite", "test": "t::browser", "kind": "browser", "result": "ran"},
    ]
    result = _not_run(tmp_path, entries, ci=True)

    assert result.returncode == 0
    assert result.stdout.strip() == "Every PostgreSQL and browser test ran."


def test_what_never_ran_is_listed_with_how_to_run_it_and_fails_under_ci(tmp_path):
    entries = [
        {"run": "sqlite", "test": "t::pg", "kind": "postgres", "result": "skipped"},
        {"run": "PostgreSQL", "absent": "no server on 127.0.0.1:5432 and no TEST_DATABASE_URL"},
        {"run": "sqlite", "test": "t::browser", "kind": "browser", "result": "skipped"},
    ]
    here, ci = _not_run(tmp_path, entries, ci=False), _not_run(tmp_path, entries, ci=True)

    assert here.returncode == 0
    assert ci.returncode == 1
    lines = here.stdout.splitlines()
    assert "The PostgreSQL run did not happen: no server on 127.0.0.1:5432 and no TEST_DATABASE_URL." in lines
    assert "1 browser test(s) did not run; to run them: apt-get install chromium" in lines
    assert "  t::browser" in lines
    assert any(line.startswith("1 postgres test(s) did not run; to run them: start PostgreSQL") for line in lines)
    assert ci.stdout.splitlines()[-1] == "CI=true: every PostgreSQL and browser test must run here; failing."


def test_a_stored_moment_is_read_back_in_utc_from_either_database():
    import datetime as dt

    from tracker.timeutil import as_utc

    shanghai = dt.datetime(2026, 12, 6, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # a server set to +08:00
    naive = dt.datetime(2026, 12, 6, 10, 30)  # SQLite: UTC without a zone

    assert as_utc(shanghai).isoformat() == "2026-12-06T10:30:00+00:00"
    assert as_utc(naive).isoformat() == "2026-12-06T10:30:00+00:00"
    assert as_utc(None) is None
