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
