"""The schema comes only from the migrations, and they match the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

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
