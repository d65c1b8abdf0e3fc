"""Benchmark: the daily chase at city scale, a normal day and a backlog day, against the floor of a bare INSERT.

Builds the scale demo (300 departments × 400 tasks × 3 years; sizes adjustable) in BENCH_DATABASE_URL
(an empty PostgreSQL database; default: a throw-away SQLite file), gives every department a user
with an e-mail address, and runs an SMTP server on loopback in a process of its own (aiosmtpd's
Sink, which accepts everything), so the run sends its e-mail for real. The chase runs in this
process: start-up is not counted.

Each day runs twice: with in-app notices only (``MAIL_SERVER`` unset), and with e-mail.

1. **Backlog day**: the ledger empty (a scheduler that never ran), the chase as of ten days after
   the newest plan's fourth-quarter due date: every open form and summary of three years gets its
   latest step, the rest are recorded as skipped. Target: under 5 s.
2. **Normal day**: the ledger as the day before left it (that run is not timed), then the chase of
   the day: one new step for every open item of the quarter. Target: under 1 s.

For each, it prints the steps taken (sent and skipped), the e-mail sent, the seconds (median of
``--runs``) and steps per second; and the **floor**: the same rows (ledger rows, notices, e-mail)
inserted by a bare ``INSERT`` in one transaction, and the run's ratio to it.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/tracker_bench \\
        .venv/bin/python bench/chase.py [--departments 300 --tasks 400 --years 3] [--runs 3] [--reuse]
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_smtp(port):
    """Start an SMTP server on loopback in its own process (aiosmtpd's Sink: accepts and drops every message)."""
    import socket
    import subprocess

    command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"]
    server = subprocess.Popen(command)
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.1)
    server.kill()
    raise SystemExit("the SMTP server did not start")


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(args):
    """Build the city (unless ``--reuse`` finds one), give each department a user; return the day to chase as of."""
    from flask_migrate import upgrade

    from tracker.demo import build_city
    from tracker.extensions import db
    from tracker.models import Department, PeriodKind, Plan, ReportingPeriod, User, UserRole

    upgrade()
    if not args.reuse or Plan.query.count() == 0:
        started = time.perf_counter()
        build_city(args.departments, args.tasks, args.years)
        print(f"built the city in {time.perf_counter() - started:.0f} s ({db.engine.dialect.name})")
    template = User(username="bench-template", role=UserRole.OFFICE)
    template.set_password("chase-bench-1")  # hashed once, not once per account
    have = {u.department_id for u in User.query.filter(User.username.like("chase-%"))}
    for department in Department.query.order_by(Department.id):
        if department.id not in have:
            db.session.add(
                User(
                    username=f"chase-{department.id}",
                    role=UserRole.DEPARTMENT,
                    department=department,
                    email=f"chase-{department.id}@bench.example",
                    password_hash=template.password_hash,
                )
            )
    db.session.commit()
    plan = Plan.query.order_by(Plan.year.desc()).first()
    q4 = ReportingPeriod.query.filter_by(plan_id=plan.id, kind=PeriodKind.QUARTER, number=4).one()
    return q4.due_on + datetime.timedelta(days=10)


def reset():
    """Empty the ledger, the notices and the e-mail queue."""
    from tracker.extensions import db
    from tracker.models import ChaseEntry, Notification, OutgoingMail

    for model in (OutgoingMail, Notification, ChaseEntry):
        db.session.query(model).delete(synchronize_session=False)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # as the nightly autovacuum would leave them
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE outgoing_mail, notifications, chase_entries")


def marks():
    """Return the highest id of the ledger, the notices and the e-mail (rows after it belong to the run)."""
    from tracker.extensions import db
    from tracker.models import ChaseEntry, Notification, OutgoingMail

    return [
        db.session.query(db.func.coalesce(db.func.max(m.id), 0)).scalar()
        for m in (ChaseEntry, Notification, OutgoingMail)
    ]


def floor(after):
    """Time a bare INSERT of the rows the run wrote (ids above ``after``), in one transaction; leave nothing changed."""
    from sqlalchemy import delete, insert, select

    from tracker.extensions import db
    from tracker.models import ChaseEntry, Notification, OutgoingMail

    tables = [m.__table__ for m in (ChaseEntry, Notification, OutgoingMail)]
    rows = [
        [dict(r) for r in db.session.execute(select(t).where(t.c.id > mark)).mappings()]
        for t, mark in zip(tables, after, strict=True)
    ]
    for t, mark in reversed(list(zip(tables, after, strict=True))):
        db.session.execute(delete(t).where(t.c.id > mark))
    started = time.perf_counter()
    for t, values in zip(tables, rows, strict=True):
        if values:
            db.session.execute(insert(t), values)
    db.session.flush()
    took = time.perf_counter() - started
    db.session.rollback()
    return took, sum(len(r) for r in rows)


def timed(day, before=None):
    """Reset, run the day before (untimed) if asked, then time the chase of ``day``; return (seconds, report, marks)."""
    from tracker.chase.operations import run_chase
    from tracker.extensions import db

    reset()
    if before is not None:
        run_chase(before)
    db.session.expire_all()
    after = marks()
    started = time.perf_counter()
    report = run_chase(day)
    return time.perf_counter() - started, report, after


def measure(name, day, before, runs, target):
    results = []
    for _ in range(runs):
        took, report, after = timed(day, before)
        bare, rows = floor(after)
        results.append((took, bare, report, rows, report.mail_sent))
    took = statistics.median(r[0] for r in results)
    bare = statistics.median(r[1] for r in results)
    _, _, report, rows, mails = results[-1]
    steps = len(report.sent) + len(report.skipped)
    print(
        f"{name} ({day}): {len(report.sent)} steps sent, {len(report.skipped)} skipped, {mails} e-mails, "
        f"{rows} rows; {took:.2f} s ({steps / took:.0f} steps/s); floor {bare:.3f} s, "
        f"ratio {took / bare:.1f}x; target < {target} s: {'met' if took < target else 'NOT met'}"
    )
    return took < target


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3, help="runs per median")
    parser.add_argument("--reuse", action="store_true", help="keep a city already built in the database")
    args = parser.parse_args()

    port = free_port()
    smtp = start_smtp(port)
    workdir = Path(tempfile.mkdtemp(prefix="tracker-chase-"))
    os.environ.update(
        {
            "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}",
            "TRACKER_INSTANCE_DIR": str(workdir),
            "SECRET_KEY": "chase-benchmark",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(port),
        }
    )
    os.environ.pop("TRACKER_SCHEDULER", None)
    from flask import current_app

    from config import Config
    from tracker import create_app
    from tracker.extensions import db

    try:
        with create_app(Config).app_context():
            app = current_app
            day = prepare(args)
            print(f"database: {db.engine.dialect.name}")
            ok = True
            for mail in (False, True):
                app.config["MAIL_SERVER"] = "127.0.0.1" if mail else None
                print("with e-mail to the loopback SMTP server:" if mail else "in-app notices only (no MAIL_SERVER):")
                ok &= measure("  backlog day", day, None, args.runs, 5)
                ok &= measure("  normal day", day, day - datetime.timedelta(days=1), args.runs, 1)
            reset()
    finally:
        smtp.terminate()
        smtp.wait(10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
