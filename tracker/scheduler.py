"""The scheduler: runs :data:`tracker.jobs.JOBS` at their times, in one process at a time.

``flask scheduler`` runs it in its own process; with ``TRACKER_SCHEDULER=inline`` the web
process runs it in a thread (``make run``). Whichever starts first takes a lock and runs the
jobs; any other waits, trying the lock every SCHEDULER_POLL_SECONDS, and takes over once the
holder dies. On PostgreSQL the lock is a session advisory lock, released by the server when the
holder's connection closes, on any host; on SQLite it is an exclusive lock on a file next to
the database, released by the operating system when the process ends.

When it starts, each job whose latest scheduled time passed while nothing ran (since its last
recorded run) is run once to make up for it, however many times it was missed.
"""

import contextlib
import datetime
import fcntl
import logging
import os
import threading
from pathlib import Path

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask.helpers import get_debug_flag
from flask.logging import default_handler
from sqlalchemy import text

from .audit import set_actor
from .extensions import db
from .jobs import JOBS, run_job, runner_name
from .models import JobRun, SchedulerState
from .timeutil import now_utc, system_now, zone
from .transaction import commit

log = logging.getLogger("tracker.scheduler")

#: The advisory lock's key: any number the rest of the database does not use ("trkr").
LOCK_KEY = 0x74726B72


class PostgresLock:
    """A session-level advisory lock held on a connection of its own."""

    def __init__(self, engine):
        self.engine = engine
        self.connection = None

    def acquire(self):
        """Take the lock if nobody holds it; return whether it was taken."""
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar():
            self.connection = connection
            return True
        connection.close()
        return False

    def is_held(self):
        """Tell whether the lock's connection still answers (the lock goes with it)."""
        try:
            self.connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means the connection, and the lock, are gone
            return False
        return True

    def release(self):
        """Give the lock back."""
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                self.connection.close()
            except Exception:  # noqa: BLE001 - closing a dead connection; the server freed the lock
                self.connection.invalidate()
            self.connection = None


class FileLock:
    """An exclusive lock on a file (SQLite: every process shares the machine and the file)."""

    def __init__(self, path):
        self.path = Path(path)
        self.handle = None

    def acquire(self):
        """Take the lock if nobody holds it; return whether it was taken."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self.handle = handle
        return True

    def is_held(self):
        """A file lock lasts as long as the process."""
        return self.handle is not None

    def release(self):
        """Give the lock back."""
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def make_lock(app):
    """Return the lock for the app's database."""
    if db.engine.dialect.name == "postgresql":
        return PostgresLock(db.engine)
    return FileLock(Path(app.instance_path) / "scheduler.lock")


def triggers(app):
    """Return each scheduled job's cron trigger, by job id, in the office's time zone (a job whose
    setting is missing, such as the backup without BACKUP_DIR, has none)."""
    with app.app_context():
        tz = zone()
    return {
        job.id: CronTrigger(hour=job.at(app)[0], minute=job.at(app)[1], timezone=tz)
        for job in JOBS
        if job.is_enabled(app.config)
    }


def next_run_times(app, now):
    """Return when each job runs next after ``now``, by job id."""
    return {job_id: trigger.get_next_fire_time(None, now) for job_id, trigger in triggers(app).items()}


def previous_fire_time(trigger, now):
    """Return the latest time at or before ``now`` the trigger fired (daily triggers: within two days)."""
    moment = trigger.get_next_fire_time(None, now - datetime.timedelta(days=2))
    previous = None
    while moment is not None and moment <= now:
        previous = moment
        moment = trigger.get_next_fire_time(moment, moment + datetime.timedelta(seconds=1))
    return previous


def missed_jobs(app, now):
    """Return the jobs whose latest scheduled time passed after their latest finished run.

    A run cut short (its scheduler died) does not count: the job is run again.
    """
    missed = []
    scheduled = triggers(app)
    for job in JOBS:
        if job.id not in scheduled:
            continue
        due = previous_fire_time(scheduled[job.id], now)
        if due is None:
            continue
        finished = JobRun.finished_at.isnot(None) & (JobRun.status != "interrupted")
        last = db.session.query(db.func.max(JobRun.started_at)).filter(JobRun.job_id == job.id, finished).scalar()
        if last is not None and last.tzinfo is None:  # SQLite gives back naive UTC
            last = last.replace(tzinfo=datetime.UTC)
        if last is None or last < due:
            missed.append(job)
    return missed


class Scheduler:
    """Waits for the lock, then runs the jobs until it loses the lock or is told to stop."""

    def __init__(self, app):
        self.app = app
        self.poll = app.config["SCHEDULER_POLL_SECONDS"]
        self.heartbeat_seconds = app.config["SCHEDULER_HEARTBEAT_SECONDS"]
        self.started_at = None

    def run_forever(self, stop):
        """Run until ``stop`` (a threading.Event) is set; survive the database going away meanwhile."""
        self.waiting_said = False
        while not stop.is_set():
            try:
                self._take_turn(stop)
            except Exception:  # e.g. the database restarting: log, wait, try again
                log.exception("scheduler %s: error; retrying in %ss", runner_name(), self.poll)
                stop.wait(self.poll)

    def _take_turn(self, stop):
        with self.app.app_context():
            lock = make_lock(self.app)
            taken = lock.acquire()
        if not taken:
            if not self.waiting_said:
                log.info("another scheduler holds the lock; %s waits, retrying every %ss", runner_name(), self.poll)
                self.waiting_said = True
            stop.wait(self.poll)
            return
        self.waiting_said = False
        log.info("scheduler %s holds the lock and runs the jobs", runner_name())
        try:
            self._run_holding(lock, stop)
        finally:
            with self.app.app_context(), contextlib.suppress(Exception):
                lock.release()

    def _run_holding(self, lock, stop):
        with self.app.app_context():
            self.started_at = now_utc()
            # Runs a scheduler that died left unfinished: none of them is running now.
            JobRun.query.filter(JobRun.status == "running", JobRun.trigger.in_(["schedule", "catch_up"])).update(
                {"status": "interrupted", "finished_at": self.started_at}, synchronize_session=False
            )
            commit()
            self.catching_up = {job.id for job in missed_jobs(self.app, self.started_at)}
        scheduler = BackgroundScheduler(timezone=str(self.app.config["TIMEZONE"]))
        for job in JOBS:
            if not job.is_enabled(self.app.config):
                continue
            # A missed run is made up by the job itself running now, so the two can never overlap.
            extra = {"next_run_time": system_now()} if job.id in self.catching_up else {}
            scheduler.add_job(
                self._run,
                triggers(self.app)[job.id],
                args=[job],
                id=job.id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=3600,
                **extra,
            )
        scheduler.add_job(self._heartbeat, IntervalTrigger(seconds=self.heartbeat_seconds), id="heartbeat")
        self._heartbeat()
        scheduler.start()
        try:
            while not stop.wait(self.poll):
                with self.app.app_context():
                    if not lock.is_held():
                        log.warning("scheduler %s lost the lock; stopping its jobs", runner_name())
                        return
        finally:
            scheduler.shutdown(wait=True)

    def _run(self, job):
        trigger = "catch_up" if job.id in self.catching_up else "schedule"
        self.catching_up.discard(job.id)
        if trigger == "catch_up":
            log.info("making up the missed run of %s", job.id)
        with self.app.app_context():
            set_actor(f"scheduler:{job.id}")
            run = run_job(job, trigger)
            log.info("job %s (%s): %s, %s", job.id, trigger, run.status, run.summary)

    def _heartbeat(self):
        with self.app.app_context():
            state = db.session.get(SchedulerState, 1)
            if state is None:
                state = SchedulerState(id=1, holder=runner_name(), started_at=self.started_at)
                db.session.add(state)
            state.holder = runner_name()
            state.started_at = self.started_at
            state.heartbeat_at = now_utc()
            commit()


def scheduler_state():
    """Return the scheduler's last heartbeat row, or None if no scheduler ever ran."""
    return db.session.get(SchedulerState, 1)


def serves_requests():
    """Tell whether this process is about to serve requests: under a WSGI server, or ``flask run``.

    Not another CLI command, and not the file watcher ``flask run --reload`` starts the server from.
    """
    context = click.get_current_context(silent=True)
    if context is None:
        return True
    if context.info_name != "run":
        return False
    reloading = context.params.get("reload")
    if reloading is None:
        reloading = get_debug_flag()
    return not reloading or os.environ.get("WERKZEUG_RUN_MAIN") == "true"


_inline = {"started": False, "lock": threading.Lock()}


def start_inline(app):
    """Start the scheduler in a daemon thread of this (web) process, once (TRACKER_SCHEDULER=inline)."""
    with _inline["lock"]:
        if _inline["started"]:
            return
        _inline["started"] = True
    if not log.handlers:  # say what the jobs do in the server's log
        log.addHandler(default_handler)
        log.setLevel(logging.INFO)
    thread = threading.Thread(
        target=Scheduler(app).run_forever, args=(threading.Event(),), name="tracker-scheduler", daemon=True
    )
    thread.start()
