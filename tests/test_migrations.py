"""The schema comes only from the migrations, and they match the models."""

import hashlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import ROOT
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from config import TestingConfig
from tracker import create_app
from tracker.extensions import db


def test_upgrade_builds_an_empty_sqlite_file(tmp_path):
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    config.INSTANCE_DIR = tmp_path
    app = create_app(config)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {"plans", "tasks", "task_departments", "departments", "users", "audit_entries"} <= tables
        assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(db.text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()


def test_models_match_the_migrations(app):
    # The test database was built by the migrations (see conftest); nothing may be missing.
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_upgrading_a_database_with_forms_gives_each_department_its_half_year_summaries(tmp_path):
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    config.INSTANCE_DIR = tmp_path
    app = create_app(config)
    cli = app.test_cli_runner()
    assert cli.invoke(args=["db", "upgrade", "0002"]).exit_code == 0
    now = "2018-09-01 00:00:00"
    with app.app_context():
        for statement in (
            f"INSERT INTO plans (id, year, title, created_at, updated_at) VALUES (1, 2018, '要点', '{now}', '{now}')",
            "INSERT INTO departments (id, name, short_name) VALUES (1, '发改局', '发改局'), (2, '财政局', '财政局')",
            "INSERT INTO reporting_periods (id, plan_id, kind, number, starts_on, ends_on, due_on) VALUES "
            "(1, 1, 'quarter', 3, '2018-07-01', '2018-09-30', '2018-10-10'), "
            "(2, 1, 'half', 2, '2018-07-01', '2018-12-31', '2019-01-15')",
            "INSERT INTO quarterly_returns (period_id, department_id, state, version, filled_by_name, filled_by_phone,"
            " approved_by, returned_count, created_at, updated_at) VALUES "
            f"(1, 1, 'draft', 1, '', '', '', 0, '{now}', '{now}'), "
            f"(1, 2, 'accepted', 3, '', '', '', 0, '{now}', '{now}')",
        ):
            db.session.execute(db.text(statement))
        db.session.commit()
        db.engine.dispose()

    result = cli.invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output
    with app.app_context():
        from tracker.models import HalfYearSummary

        summaries = HalfYearSummary.query.order_by(HalfYearSummary.department_id).all()
        assert [(s.period_id, s.department.name, s.state.value, s.text) for s in summaries] == [
            (2, "发改局", "draft", ""),
            (2, "财政局", "draft", ""),
        ]
        db.engine.dispose()


EVIDENCE = b"%PDF-1.4\n% \xe6\xb8\x85\xe5\x8d\x95\n%%EOF\n"
EVIDENCE_NAME = "0123456789abcdef0123456789abcdef.pdf"


def _upgraded_with_an_accepted_line(tmp_path):
    """Return an app on a SQLite file upgraded to 0004 holding one accepted form line with an evidence file
    (in the uploads folder, where files were kept before 0010)."""
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / EVIDENCE_NAME).write_bytes(EVIDENCE)
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'forms.sqlite3'}"
    config.INSTANCE_DIR = tmp_path
    app = create_app(config)
    assert app.test_cli_runner().invoke(args=["db", "upgrade", "0004"]).exit_code == 0
    now = "2018-09-01 00:00:00"
    with app.app_context():
        for statement in (
            f"INSERT INTO plans (id, year, title, created_at, updated_at) VALUES (1, 2018, '要点', '{now}', '{now}')",
            "INSERT INTO sections (id, plan_id, number, title) VALUES (1, 1, 1, '公开解读')",
            "INSERT INTO task_groups (id, section_id, number, title) VALUES (1, 1, 1, '法治政府')",
            "INSERT INTO tasks (id, plan_id, group_id, code, position, title, details, text, deadline,"
            " is_all_departments, is_and_related) VALUES (1, 1, 1, '1.1.1', 1, '清单', '', '清单。', '', 0, 0)",
            "INSERT INTO departments (id, name, short_name) VALUES (1, '发改局', '发改局')",
            "INSERT INTO reporting_periods (id, plan_id, kind, number, starts_on, ends_on, due_on) VALUES "
            "(1, 1, 'quarter', 3, '2018-07-01', '2018-09-30', '2018-10-10')",
            "INSERT INTO quarterly_returns (id, period_id, department_id, state, version, filled_by_name,"
            " filled_by_phone, approved_by, returned_count, created_at, updated_at) VALUES "
            f"(1, 1, 1, 'accepted', 3, '', '', '', 0, '{now}', '{now}')",
            "INSERT INTO return_lines (id, return_id, task_id, position, status, done, problems, next_steps)"
            " VALUES (1, 1, 1, 1, 'done', '已公开清单', '', '')",
            "INSERT INTO evidence (line_id, original_name, stored_name, content_type, size, sha256, uploaded_at)"
            f" VALUES (1, '清单.pdf', '{EVIDENCE_NAME}', 'application/pdf', {len(EVIDENCE)},"
            f" '{hashlib.sha256(EVIDENCE).hexdigest()}', '{now}')",
        ):
            db.session.execute(db.text(statement))
        db.session.commit()
        db.engine.dispose()
    return app


def test_upgrading_keeps_every_form_line_and_evidence_file_and_the_database_then_keeps_lines_from_losing_their_task(
    tmp_path,
):
    app = _upgraded_with_an_accepted_line(tmp_path)

    result = app.test_cli_runner().invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output
    with app.app_context():
        rows = db.session.execute(
            db.text(
                "SELECT t.code, t.withdrawn_at, l.done, e.original_name FROM return_lines l"
                " JOIN tasks t ON t.id = l.task_id JOIN evidence e ON e.line_id = l.id"
            )
        ).all()
        assert [tuple(r) for r in rows] == [("1.1.1", None, "已公开清单", "清单.pdf")]
        assert db.session.execute(db.text("PRAGMA foreign_keys")).scalar() == 1
        with pytest.raises(IntegrityError):
            db.session.execute(db.text("DELETE FROM tasks WHERE id = 1"))
        db.session.rollback()
        assert db.session.execute(db.text("SELECT count(*) FROM return_lines")).scalar() == 1
        db.engine.dispose()


def test_downgrading_from_0005_keeps_the_lines_too(tmp_path):
    app = _upgraded_with_an_accepted_line(tmp_path)
    cli = app.test_cli_runner()
    assert cli.invoke(args=["db", "upgrade"]).exit_code == 0

    result = cli.invoke(args=["db", "downgrade", "0004"])

    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(db.text("SELECT count(*) FROM evidence")).scalar() == 1
        assert "withdrawn_at" not in {c["name"] for c in inspect(db.engine).get_columns("tasks")}
        db.engine.dispose()


# --- 0010: files move into the database ------------------------------------------------------------


HEAD = ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def _stored(app):
    with app.app_context():
        rows = db.session.execute(db.text("SELECT name, size, sha256, data FROM stored_files")).all()
        db.engine.dispose()
    return [tuple(r) for r in rows]


def _revision(app):
    with app.app_context():
        revision = db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar()
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    return revision, "stored_files" in tables


def test_upgrading_moves_each_file_into_the_database_checked_by_its_sha256(tmp_path):
    app = _upgraded_with_an_accepted_line(tmp_path)

    result = app.test_cli_runner().invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output
    sha = hashlib.sha256(EVIDENCE).hexdigest()
    assert _stored(app) == [(EVIDENCE_NAME, len(EVIDENCE), sha, EVIDENCE)]
    with app.app_context():
        from tracker import storage

        assert storage.read(EVIDENCE_NAME) == EVIDENCE
        db.engine.dispose()
    assert (tmp_path / "uploads" / EVIDENCE_NAME).read_bytes() == EVIDENCE, "the folder is left for the office"


@pytest.mark.parametrize("damage", ["missing", "changed"])
def test_a_missing_or_changed_file_stops_the_upgrade_and_changes_nothing(tmp_path, damage, monkeypatch):
    monkeypatch.delenv("MIGRATE_MISSING_FILES", raising=False)
    app = _upgraded_with_an_accepted_line(tmp_path)
    cli = app.test_cli_runner()
    assert cli.invoke(args=["db", "upgrade", "0009"]).exit_code == 0
    path = tmp_path / "uploads" / EVIDENCE_NAME
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(EVIDENCE + b"x")

    result = cli.invoke(args=["db", "upgrade"])

    assert result.exit_code != 0
    assert "1 stored file(s) could not be moved into the database" in result.output
    assert f"{EVIDENCE_NAME}: {damage if damage == 'missing' else 'SHA-256'}" in result.output
    assert _revision(app) == ("0009", False)

    monkeypatch.setenv("MIGRATE_MISSING_FILES", "skip")
    assert cli.invoke(args=["db", "upgrade"]).exit_code == 0
    assert _revision(app) == (HEAD, True)
    assert _stored(app) == []


def test_downgrading_from_0010_writes_the_files_back_to_their_folder(tmp_path):
    app = _upgraded_with_an_accepted_line(tmp_path)
    cli = app.test_cli_runner()
    assert cli.invoke(args=["db", "upgrade"]).exit_code == 0
    (tmp_path / "uploads" / EVIDENCE_NAME).unlink()

    result = cli.invoke(args=["db", "downgrade", "0009"])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "uploads" / EVIDENCE_NAME).read_bytes() == EVIDENCE
    assert _revision(app) == ("0009", False)


def test_a_file_that_fails_while_being_moved_leaves_the_database_as_it_was(tmp_path, monkeypatch):
    """The checks pass, then reading a file fails midway: on SQLite the new table must go again."""
    import pathlib

    app = _upgraded_with_an_accepted_line(tmp_path)
    cli = app.test_cli_runner()
    assert cli.invoke(args=["db", "upgrade", "0009"]).exit_code == 0
    real = pathlib.Path.read_bytes

    def disk_error(path):
        if path.name == EVIDENCE_NAME:
            raise OSError(5, "Input/output error", str(path))
        return real(path)

    monkeypatch.setattr(pathlib.Path, "read_bytes", disk_error)
    failed = cli.invoke(args=["db", "upgrade"])
    monkeypatch.undo()

    assert failed.exit_code != 0
    assert _revision(app) == ("0009", False)
    assert cli.invoke(args=["db", "upgrade"]).exit_code == 0
    assert [name for name, *_ in _stored(app)] == [EVIDENCE_NAME]
