"""Backup, restore, and moving an office's database (with its files) to another one.

- :func:`backup` writes the whole database to one file: ``pg_dump`` custom format on PostgreSQL,
  SQLite's online backup API on SQLite (a consistent copy while the site keeps running).
- :func:`restore` puts such a file back into an empty database (or, when told, over a full one),
  in one transaction: a failed restore leaves the database as it was.
- :func:`copy_to` moves every row and file to another database (typically from the SQLite file of
  ``make run`` to PostgreSQL): the target gets the schema from the migrations, the rows in one
  transaction, and the copy is verified by row counts and each file's SHA-256.
- :func:`backup_job` is the nightly backup (off unless ``BACKUP_DIR`` is set), keeping ``BACKUP_KEEP`` copies.

Files live in the database (:mod:`tracker.storage`), so each of these carries them too.
"""

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import DateTime, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from .errors import TrackerError
from .extensions import db
from .models import StoredFile
from .timeutil import as_utc, local_time, now_utc

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(TrackerError):
    """A backup, restore or copy that cannot be done; ``str()`` says why in English."""


@dataclass
class TableCount:
    """One table's rows in the source and the target of a copy or restore."""

    table: str
    source: int
    target: int


def _url(engine=None):
    return (engine or db.engine).url


def _libpq(url):
    """Return a libpq connection string for a SQLAlchemy PostgreSQL URL (pg_dump does not know
    ``+psycopg``) and the environment to run the tool in: the password goes in ``PGPASSWORD``,
    never on the command line, where every user of the machine could read it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _sqlite_path(url):
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _tool(name):
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed; install the PostgreSQL client tools (postgresql-client)")
    return path


def _run(args, env=None):
    # umask 077: a backup holds password hashes and every uploaded file; only its owner may read it.
    result = subprocess.run(args, capture_output=True, text=True, env=env, umask=0o077)
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}")


def backup(out):
    """Write the whole database, files included, to ``out``; return its size in bytes.

    The file is written beside ``out`` and renamed into place, so a failed backup leaves no half file.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    url = _url()
    try:
        if url.get_backend_name() == "postgresql":
            dsn, env = _libpq(url)
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), dsn], env)
        elif url.get_backend_name() == "sqlite":
            source = sqlite3.connect(_sqlite_path(url))
            os.close(os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))  # owner only, from the start
            target = sqlite3.connect(partial)
            try:
                with target:
                    source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            raise BackupError(f"cannot back up a {url.get_backend_name()} database")
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return out.stat().st_size


def backup_kind(path):
    """Return ``postgresql`` or ``sqlite`` for a backup file, or refuse a file that is neither."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    if head == SQLITE_MAGIC:
        return "sqlite"
    raise BackupError(f"{path} is not a backup made by 'backup' (neither a pg_dump custom file nor SQLite)")


def _counts_on(conn):
    present = set(inspect(conn).get_table_names())
    return {
        t.name: conn.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables if t.name in present
    }


def row_counts(engine=None):
    """Return ``{table: rows}`` for every table of the schema that exists in the database."""
    with (engine or db.engine).connect() as conn:
        return _counts_on(conn)


def _is_empty(engine):
    return not any(row_counts(engine).values())


def restore(path, force=False):
    """Restore a backup file into this database; return ``{table: rows}`` after it.

    Refuses a database that holds any row unless ``force``; then what it held is replaced.
    """
    kind = backup_kind(path)
    url = _url()
    if kind != url.get_backend_name():
        raise BackupError(
            f"{path} is a {kind} backup and this database is {url.get_backend_name()}; "
            "restore it into the same kind, or restore it there and use 'db copy --to URL'"
        )
    if not force and not _is_empty(db.engine):
        raise BackupError("the database is not empty; restore into an empty one, or pass --force to replace it")
    db.session.remove()
    db.engine.dispose()
    if kind == "postgresql":
        dsn, env = _libpq(url)
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                dsn,
                str(path),
            ],
            env,
        )
    else:
        source = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(url))
        try:
            check = source.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"{path} is damaged: {check}")
            source.backup(target)  # replaces the whole file's content at once
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} cannot be read: {exc}") from None
        finally:
            target.close()
            source.close()
    db.engine.dispose()
    return row_counts()


def _upgrade(url):
    """Build the schema on the database at ``url`` from the migrations."""
    from flask_migrate import upgrade

    from . import create_app

    class Target:
        pass

    for key, value in current_app.config.items():
        if key.isupper():
            setattr(Target, key, value)
    Target.SQLALCHEMY_DATABASE_URI = url
    Target.INSTANCE_DIR = current_app.instance_path
    Target.TRACKER_SCHEDULER = ""
    other = create_app(Target)
    with other.app_context():
        upgrade()
        db.engine.dispose()


def copy_to(url, force=False, batch=500):
    """Copy every row and stored file of this database to the database at ``url``; return the counts.

    The target gets the schema from the migrations, then every table's rows in one transaction
    (on any error it keeps none of them), its id sequences set past the copied ids; then each
    table's rows are counted on both sides and every file's SHA-256 is computed again from the
    target's bytes. Refuses a target that holds any row unless ``force`` (its rows are then replaced).
    """
    url = make_url(url)
    source = db.engine
    if url.render_as_string(hide_password=False) == source.url.render_as_string(hide_password=False):
        raise BackupError("the target is this database")
    current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    target = create_engine(url)
    try:
        _prepare_target(target, url, current, force)
        db.session.remove()
        with source.connect() as read, target.begin() as write:
            # One snapshot of the source for every table, so a site still taking writes copies consistently.
            if source.dialect.name == "postgresql":
                read = read.execution_options(isolation_level="REPEATABLE READ")
            with read.begin():
                if source.dialect.name == "sqlite":
                    read.exec_driver_sql("BEGIN")  # pysqlite begins only before a write; a read needs it said
                _copy_rows(read, write, batch)
                if target.dialect.name == "postgresql":
                    _reset_sequences(write)
                # Checked before the commit: a copy that does not match is rolled back, not left behind.
                return verify_copy(read, write)
    finally:
        target.dispose()


def _prepare_target(target, url, current, force):
    """Check that the target can be reached and may be written, and build its schema up to revision ``current``."""
    try:
        with target.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - any reason the target cannot be reached
        raise BackupError(f"cannot connect to the target: {exc}") from None
    if not force and not _is_empty(target):
        raise BackupError("the target database is not empty; pass --force to replace what it holds")
    _upgrade(url.render_as_string(hide_password=False))
    with target.connect() as conn:
        if conn.scalar(text("SELECT version_num FROM alembic_version")) != current:
            raise BackupError("this database's schema is not the code's; run 'flask db upgrade' here first")


def _copy_rows(read, write, batch):
    """Replace every table's rows on ``write`` with those on ``read``, ``batch`` rows at a time."""
    for table in reversed(db.metadata.sorted_tables):
        write.execute(table.delete())
    for table in db.metadata.sorted_tables:
        _copy_table(read, write, table, batch)


def _copy_table(read, write, table, batch):
    """Copy one table's rows, their timestamps as UTC; stored files 20 at a time (each holds a file's bytes)."""
    times = [c.name for c in table.columns if isinstance(c.type, DateTime)]
    size = 20 if table.name == StoredFile.__tablename__ else batch
    rows = read.execution_options(stream_results=True, yield_per=size).execute(select(table))
    for chunk in rows.partitions(size):
        values = [dict(row._mapping) for row in chunk]
        for value in values:
            for name in times:
                value[name] = as_utc(value[name])
        write.execute(table.insert(), values)


def _reset_sequences(conn):
    """Set each id sequence past the highest copied id (the rows came with their ids)."""
    for table in db.metadata.sorted_tables:
        if "id" in table.columns and table.columns["id"].autoincrement in (True, "auto"):
            sequence = conn.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
            if sequence:
                conn.execute(
                    text(f"SELECT setval(:s, COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"),
                    {"s": sequence},
                )


def verify_copy(source, target):
    """Compare row counts table by table and every stored file's SHA-256 (``source``, ``target``:
    connections); refuse on any difference."""
    before, after = _counts_on(source), _counts_on(target)
    counts = [TableCount(name, before[name], after.get(name, 0)) for name in before]
    differ = [c for c in counts if c.source != c.target]
    if differ:
        raise BackupError("row counts differ: " + ", ".join(f"{c.table} {c.source} → {c.target}" for c in differ))
    files = StoredFile.__table__.c
    bad = []
    for name in target.scalars(select(files.name)).all():  # one file's bytes in memory at a time
        row = target.execute(select(files.sha256, files.data).where(files.name == name)).one()
        if hashlib.sha256(row.data).hexdigest() != row.sha256:
            bad.append(name)
    if bad:
        raise BackupError(f"{len(bad)} file(s) differ from their SHA-256 in the target: {', '.join(bad[:10])}")
    return counts


def backup_job(run):
    """Back up the database to BACKUP_DIR (when set) as tracker-YYYYmmdd-HHMMSS-RUN.<ext>, keeping
    the newest BACKUP_KEEP of the files named so (by their run, not their name's date: the office
    clock may be set back); nothing else in the folder is touched."""
    folder = current_app.config.get("BACKUP_DIR")
    if not folder:
        return "未配置备份目录（BACKUP_DIR），未备份"
    folder = Path(folder)
    suffix = ".dump" if db.engine.dialect.name == "postgresql" else ".sqlite3"
    name = f"tracker-{local_time(now_utc(), '%Y%m%d-%H%M%S')}-{run.id:06d}{suffix}"
    size = backup(folder / name)
    keep = max(1, int(current_app.config["BACKUP_KEEP"]))
    ours = re.compile(r"tracker-\d{8}-\d{6}-(\d{6,})" + re.escape(suffix))
    made = sorted(
        (p for p in folder.iterdir() if ours.fullmatch(p.name)), key=lambda p: int(ours.fullmatch(p.name).group(1))
    )
    removed = made[:-keep] if len(made) > keep else []
    for old in removed:
        old.unlink(missing_ok=True)
    kept = min(len(made), keep)
    return f"已备份到{folder / name}（{size / 1024 / 1024:.1f} MB），删除旧备份{len(removed)}份，保留{kept}份"
