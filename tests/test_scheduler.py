"""The scheduler: one process runs the jobs, a second waits and takes over; missed runs are made up once."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracker.extensions import db
from tracker.jobs import JOBS, job_by_id, run_job
from tracker.models import JobRun, SchedulerState
from tracker.scheduler import FileLock, PostgresLock, missed_jobs, next_run_times
from tracker.timeutil import system_now

ROOT = Path(__file__).resolve().parent.parent
UTC = datetime.UTC


def test_a_file_lock_has_one_holder_at_a_time(tmp_path):
    first, second = FileLock(tmp_path / "scheduler.lock"), FileLock(tmp_path / "scheduler.lock")

    assert first.acquire() is True
    assert second.acquire() is False
    first.release()
    assert second.acquire() is True
    second.release()


@pytest.mark.postgres  # advisory locks are PostgreSQL's
def test_an_advisory_lock_has_one_holder_at_a_time(app):
    first, second = PostgresLock(db.engine), PostgresLock(db.engine)

    assert first.acquire() is True
    assert second.acquire() is False
    assert first.is_held()
    first.connection.invalidate()  # the holder's connection dies, as with a killed process
    first.connection = None
    assert second.acquire() is True
    second.release()


@pytest.mark.dates
def test_jobs_are_scheduled_in_shanghai_time(app):
    now = datetime.datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai

    runs = next_run_times(app, now)

    assert runs["chase"].astimezone(UTC) == datetime.datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 08:30
    assert runs["archive"].astimezone(UTC) == datetime.datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # 07:00 next day
    assert runs["housekeeping"].astimezone(UTC) == datetime.datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 02:30
    assert runs["digest"].astimezone(UTC) == datetime.datetime(2026, 11, 23, 0, 5, tzinfo=UTC)  # every hour at :05


@pytest.mark.dates
def test_the_nightly_backup_is_scheduled_only_once_backup_dir_is_set(app, tmp_path):
    now = datetime.datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert "backup" not in next_run_times(app, now)
    assert "backup" not in [job.id for job in missed_jobs(app, now)]

    app.config["BACKUP_DIR"] = str(tmp_path)

    assert next_run_times(app, now)["backup"].astimezone(UTC) == datetime.datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert "backup" in [job.id for job in missed_jobs(app, now)]


@pytest.mark.dates
def test_a_run_missed_while_down_is_made_up_once(app):
    now = datetime.datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, after the chase's 08:30
    app.config["TRACKER_NOW"] = now
    assert [job.id for job in missed_jobs(app, now)] == ["chase", "archive", "housekeeping", "briefs", "digest"]

    # The chase last ran yesterday: today's 08:30 was missed. The others ran after their times.
    for job_id, started in (
        ("chase", datetime.datetime(2026, 11, 22, 0, 31, tzinfo=UTC)),
        ("archive", datetime.datetime(2026, 11, 22, 23, 1, tzinfo=UTC)),
        ("housekeeping", datetime.datetime(2026, 11, 22, 18, 31, tzinfo=UTC)),
        ("briefs", datetime.datetime(2026, 11, 23, 0, 1, tzinfo=UTC)),
        ("digest", datetime.datetime(2026, 11, 23, 0, 6, tzinfo=UTC)),
    ):
        db.session.add(JobRun(job_id=job_id, trigger="schedule", started_at=started, finished_at=started, status="ok"))
    db.session.commit()
    assert [job.id for job in missed_jobs(app, now)] == ["chase"]

    made_up = run_job(job_by_id("chase"), "catch_up")
    started = made_up.started_at
    assert (started.replace(tzinfo=UTC) if started.tzinfo is None else started) == now  # SQLite gives back naive UTC
    assert missed_jobs(app, now) == []
    # An hour later only the hourly digest is due again; a day later every job is.
    assert [job.id for job in missed_jobs(app, now + datetime.timedelta(hours=1))] == ["digest"]
    next_day = now + datetime.timedelta(days=1)
    assert [job.id for job in missed_jobs(app, next_day)] == ["chase", "archive", "housekeeping", "briefs", "digest"]


def _scheduler(env, log):
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "tracker", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _holder():
    db.session.expire_all()
    state = db.session.get(SchedulerState, 1)
    db.session.rollback()
    return state.holder if state else None


def _times_away_from(moment):
    """Return job times (in any zone) half an hour away from ``moment``, so none falls due in a short test."""
    later = moment + datetime.timedelta(minutes=30)
    daily = f"{later.hour:02d}:{later.minute:02d}"
    return {
        "CHASE_TIME": daily,
        "ARCHIVE_TIME": daily,
        "HOUSEKEEPING_TIME": daily,
        "BACKUP_TIME": daily,
        "DIGEST_TIME": f"*:{later.minute:02d}",
    }


def _wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_second_scheduler_waits_and_takes_over_when_the_first_dies(app, database_url, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TRACKER_INSTANCE_DIR": str(tmp_path / "instance"),  # the file lock (SQLite) lives here, shared
        "SECRET_KEY": "scheduler-test",
        "SCHEDULER_POLL_SECONDS": "0.5",
        "SCHEDULER_HEARTBEAT_SECONDS": "0.5",
        "TRACKER_SCHEDULER": "",
        # No job falls due while the test runs (it checks that each ran once, to make up for the past).
        **_times_away_from(system_now()),
    }
    first_log, second_log = (tmp_path / "first.log").open("w+"), (tmp_path / "second.log").open("w+")
    first = _scheduler(env, first_log)
    second = None
    try:
        assert _wait_for(lambda: (_holder() or "").endswith(f":{first.pid}"), 30), Path(first_log.name).read_text()
        # The first made up each job's missed run once: nothing had ever run.
        scheduled = sum(1 for job in JOBS if job.is_enabled(env))  # the backup waits for BACKUP_DIR
        assert _wait_for(lambda: JobRun.query.filter_by(status="ok").count() == scheduled, 30)

        second = _scheduler(env, second_log)
        # However long the second takes to start, it waits while the first holds the lock.
        assert _wait_for(lambda: "another scheduler holds the lock" in Path(second_log.name).read_text(), 60)
        assert (_holder() or "").endswith(f":{first.pid}")
        assert second.poll() is None

        first.send_signal(signal.SIGKILL)
        first.wait(10)

        assert _wait_for(lambda: (_holder() or "").endswith(f":{second.pid}"), 30), Path(second_log.name).read_text()
        time.sleep(1)
        # The second did not run again what the first had just run.
        db.session.expire_all()
        assert sorted(run.job_id for run in JobRun.query) == sorted(job.id for job in JOBS if job.is_enabled(env))
        assert {run.trigger for run in JobRun.query} == {"catch_up"}

        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
        assert "scheduler stopped" in Path(second_log.name).read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
        first_log.close()
        second_log.close()


@pytest.mark.dates
def test_a_run_cut_short_by_a_dead_scheduler_is_made_up(app):
    now = datetime.datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    started = datetime.datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    for job in JOBS:
        finished = None if job.id == "chase" else started  # the chase never finished: its scheduler died
        db.session.add(
            JobRun(job_id=job.id, trigger="schedule", started_at=started, finished_at=finished, status="running")
        )
    db.session.commit()

    assert [job.id for job in missed_jobs(app, now)] == ["chase"]
