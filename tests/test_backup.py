"""Backup → wipe → restore, and moving an office from SQLite to PostgreSQL: every row and file comes back.

Each test builds its own office (plan, demo accounts and forms, an evidence file, a summary document,
the archive) in its own database, through the real commands, and compares row counts and the
SHA-256 of every stored file before and after.
"""

import datetime
import hashlib
import io
import os

import docx
import pytest
from conftest import ON_POSTGRESQL, _config, _fresh_postgres
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tracker import create_app
from tracker.backup import row_counts
from tracker.extensions import db
from tracker.jobs import job_by_id, run_job
from tracker.models import AuditEntry, HalfYearSummary, QuarterlyReturn, ReturnState, StoredFile, User
from tracker.returns.files import add_evidence
from tracker.summaries.operations import attach_document

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _postgres_url(name):
    base = make_url(os.environ["TEST_DATABASE_URL"])
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = base.set(database=f"{base.database}_{name}_{worker}").render_as_string(hide_password=False)
    _fresh_postgres(url)
    return url


def _app(backend, tmp_path, name="office", url=None):
    """Return an app on a new, empty database of its own (or on ``url``, as it is)."""
    if url is None:
        url = _postgres_url(name) if backend == "postgresql" else f"sqlite:///{tmp_path / (name + '.sqlite3')}"
    return create_app(_config(url, tmp_path / name))


def _close():
    """Give back this app context's connection and close the app's pool (each test has its own database)."""
    db.session.remove()
    db.engine.dispose()


def _cli(app, *args, ok=True):
    with app.app_context():  # as ``flask`` gives every command
        result = app.test_cli_runner().invoke(args=list(args), input="a-long-password-9\n", catch_exceptions=False)
        _close()
    if ok:
        assert result.exit_code == 0, result.output
    return result


def _docx():
    document = docx.Document()
    document.add_paragraph("发改局2018年下半年政务公开工作总结")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _an_office_with_files(app):
    """Build an office the way one is built, with files of each kind stored."""
    _cli(app, "db", "upgrade")
    _cli(app, "plan", "load", "tracker/data/2018_teda_arrangement.txt")
    _cli(app, "demo")
    with app.app_context():
        form = QuarterlyReturn.query.filter_by(state=ReturnState.DRAFT).order_by(QuarterlyReturn.id).first()
        user = User.query.filter_by(department_id=form.department_id).first()
        add_evidence(form.lines[0], "会议纪要.pdf", PDF, user)
        summary = HalfYearSummary.query.filter_by(state=ReturnState.DRAFT).first()
        writer = User.query.filter_by(department_id=summary.department_id).first()
        attach_document(summary, "半年总结.docx", _docx(), writer)
        assert run_job(job_by_id("archive"), "manual").status == "ok"  # every 2018 period is past its due date
        _close()


def _inventory(app):
    """Return every table's row count and each stored file's name with the SHA-256 of its bytes."""
    with app.app_context():
        counts = row_counts()
        files = sorted(
            (name, hashlib.sha256(data).hexdigest())
            for name, data in db.session.execute(select(StoredFile.name, StoredFile.data))
        )
        _close()
    return counts, files


@pytest.fixture(params=BACKENDS)
def office(request, tmp_path):
    """An office with files of each kind, on SQLite (in the SQLite run) or on PostgreSQL."""
    if request.param == "sqlite" and ON_POSTGRESQL:
        pytest.skip("runs in the SQLite run")
    app = _app(request.param, tmp_path)
    _an_office_with_files(app)
    return app


def test_backup_wipe_restore_gives_back_every_row_and_file(office, tmp_path):
    app = office
    before = _inventory(app)
    assert len(before[1]) >= 6, "an evidence file, a summary document and the archived workbooks"
    out = tmp_path / "backups" / "tracker.backup"

    assert "Backed up to" in _cli(app, "backup", "--out", str(out)).output
    assert out.stat().st_mode & 0o077 == 0, "a backup holds password hashes and files: its owner's only"

    # Wipe: a new, empty database where the old one was.
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "postgresql":
        _fresh_postgres(app.config["SQLALCHEMY_DATABASE_URI"])
    else:
        os.remove(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
    _cli(app, "db", "upgrade")  # an empty schema is still an empty database
    result = _cli(app, "restore", str(out))

    assert "Restored" in result.output
    assert _inventory(app) == before
    with app.app_context():
        # The restored site goes on: new rows get new ids.
        _cli(app, "user", "add", "after-restore", "--role", "leader", "--password-stdin")
        assert User.query.filter_by(username="after-restore").count() == 1
        _close()


def test_restore_refuses_a_full_database_unless_forced_and_a_file_that_is_no_backup(office, tmp_path):
    app = office
    out = tmp_path / "tracker.backup"
    _cli(app, "backup", "--out", str(out))
    _cli(app, "user", "add", "added-later", "--role", "leader", "--password-stdin")
    before = _inventory(app)

    refused = _cli(app, "restore", str(out), ok=False)
    assert refused.exit_code == 1
    assert "the database is not empty; restore into an empty one, or pass --force" in refused.output
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    refused = _cli(app, "restore", str(junk), ok=False)
    assert refused.exit_code == 1 and "is not a backup made by 'backup'" in refused.output
    assert _inventory(app) == before

    _cli(app, "restore", str(out), "--force")
    counts, files = _inventory(app)
    assert counts["users"] == before[0]["users"] - 1 and files == before[1]


@pytest.mark.postgres
def test_a_sqlite_backup_is_refused_by_postgresql_with_the_way_to_move(tmp_path):
    app = _app("sqlite", tmp_path)
    _cli(app, "db", "upgrade")
    out = tmp_path / "tracker.backup"
    _cli(app, "backup", "--out", str(out))
    other = _app("postgresql", tmp_path, "target")
    _cli(other, "db", "upgrade")

    refused = _cli(other, "restore", str(out), ok=False)

    assert refused.exit_code == 1
    assert "is a sqlite backup and this database is postgresql" in refused.output
    assert "db copy --to URL" in refused.output


def _times(app):
    with app.app_context():
        stamps = db.session.scalars(select(AuditEntry.at).order_by(AuditEntry.id)).all()
        _close()
    return [t.replace(tzinfo=datetime.UTC) if t.tzinfo is None else t.astimezone(datetime.UTC) for t in stamps]


@pytest.mark.postgres
def test_db_copy_moves_a_sqlite_office_to_postgresql_with_every_row_and_file(tmp_path):
    source = _app("sqlite", tmp_path)
    _an_office_with_files(source)
    before = _inventory(source)
    target_url = _postgres_url("copy")

    result = _cli(source, "db", "copy", "--to", target_url)

    assert f"{len(before[1])} files match" in result.output
    target = _app("postgresql", tmp_path, "copy", url=target_url)
    assert _inventory(target) == before
    # Times are the same moments (SQLite keeps UTC without a zone), and new rows take new ids.
    assert _times(target) == _times(source)
    _cli(target, "user", "add", "after-copy", "--role", "leader", "--password-stdin")
    with target.app_context():
        assert User.query.filter_by(username="after-copy").count() == 1
        _close()

    again = _cli(source, "db", "copy", "--to", target_url, ok=False)
    assert again.exit_code == 1 and "the target database is not empty; pass --force" in again.output


def test_the_nightly_backup_is_off_until_backup_dir_is_set_then_keeps_the_newest_copies(tmp_path):
    app = _app("sqlite", tmp_path)
    _cli(app, "db", "upgrade")
    with app.app_context():
        job = job_by_id("backup")
        run = run_job(job, "manual")
        assert (run.status, run.summary) == ("ok", "未配置备份目录（BACKUP_DIR），未备份")

        app.config.update(BACKUP_DIR=str(tmp_path / "nightly"), BACKUP_KEEP=2)
        (tmp_path / "nightly").mkdir()
        # Someone else's file in the folder, and an older run's backup dated later by a moved clock.
        (tmp_path / "nightly" / "tracker-notes.sqlite3").write_text("keep me")
        (tmp_path / "nightly" / "tracker-20991231-235959-000000.sqlite3").write_text("older run")
        summaries = [run_job(job, "manual").summary for _ in range(3)]
        _close()

    kept = sorted(p.name for p in (tmp_path / "nightly").iterdir())
    ours = [name for name in kept if name != "tracker-notes.sqlite3"]
    assert "tracker-notes.sqlite3" in kept and "tracker-20991231-235959-000000.sqlite3" not in kept
    assert len(ours) == 2 and all(name.endswith(".sqlite3") for name in ours)
    assert summaries[0].startswith(f"已备份到{tmp_path / 'nightly'}")
    assert summaries[0].endswith("删除旧备份0份，保留2份")
    assert summaries[2].endswith("删除旧备份1份，保留2份")
    assert not any(name.endswith(".partial") for name in kept)


def test_db_copy_between_sqlite_files_and_a_copy_that_does_not_verify_leaves_the_target_empty(tmp_path, monkeypatch):
    from tracker import backup

    source = _app("sqlite", tmp_path)
    _an_office_with_files(source)
    before = _inventory(source)
    target_url = f"sqlite:///{tmp_path / 'moved.sqlite3'}"

    def mismatch(read, write):
        raise backup.BackupError("row counts differ: users 5 → 4")

    monkeypatch.setattr(backup, "verify_copy", mismatch)
    refused = _cli(source, "db", "copy", "--to", target_url, ok=False)

    assert refused.exit_code == 1
    assert "row counts differ: users 5 → 4; nothing was copied" in refused.output
    target = _app("sqlite", tmp_path, "moved", url=target_url)
    counts, files = _inventory(target)
    assert not any(counts.values()) and files == []  # the schema is there, not one row

    monkeypatch.undo()
    copied = _cli(source, "db", "copy", "--to", target_url)

    assert f"{len(before[1])} files match their SHA-256" in copied.output
    assert _inventory(target) == before
