"""Transactions at the edge: operations flush, and each request or command commits once.

Test pages stand in for views: each calls "operations" that add a department through
:func:`tracker.transaction.committed`, as the real ones write.
"""

import pytest
from sqlalchemy import event, text

from tracker.errors import TrackerError
from tracker.extensions import db
from tracker.models import Department
from tracker.transaction import committed, independently


def add_department(name):
    """An operation: one change, written through the one helper."""
    with committed():
        db.session.add(Department(name=name, short_name=name))


def stored_names():
    """Return the departments' names as another connection sees them: only what was committed."""
    with db.engine.connect() as other:
        return sorted(other.execute(text("SELECT name FROM departments WHERE name LIKE '测试%'")).scalars())


@pytest.fixture
def commits(app):
    """Count the commits the database is asked for."""
    seen = []
    listener = lambda conn: seen.append(1)  # noqa: E731
    event.listen(db.engine, "commit", listener)
    yield seen
    event.remove(db.engine, "commit", listener)


@pytest.fixture
def pages(app):
    """An app with test pages that write in different ways."""

    def two_changes():
        add_department("测试一局")
        add_department("测试二局")
        return "ok"

    def refused_after_a_change():
        add_department("测试一局")
        try:
            raise TrackerError("refused", "不能这样做。")
        except TrackerError:
            return "shown again with the reason", 200

    def failed_answer():
        add_department("测试一局")
        return "bad request", 400

    def kept_whatever_follows():
        with independently():
            add_department("测试一局")
        add_department("测试二局")
        raise TrackerError("refused", "不能这样做。")

    def reads_only():
        return Department.query.filter(Department.name.like("测试%")).first().name

    for view in (two_changes, refused_after_a_change, failed_answer, kept_whatever_follows, reads_only):
        app.add_url_rule(f"/test/{view.__name__}", view.__name__, view)
    return app.test_client()


def test_a_request_with_two_changes_commits_once_and_keeps_both(pages, commits):
    assert pages.get("/test/two_changes").status_code == 200
    assert len(commits) == 1
    assert stored_names() == ["测试一局", "测试二局"]


def test_a_refusal_the_view_caught_keeps_nothing_of_the_request(pages, commits):
    assert pages.get("/test/refused_after_a_change").status_code == 200
    assert commits == []
    assert stored_names() == []


def test_an_answer_of_400_or_more_keeps_nothing(pages):
    assert pages.get("/test/failed_answer").status_code == 400
    assert stored_names() == []


def test_what_runs_independently_is_kept_whatever_follows(pages):
    assert pages.get("/test/kept_whatever_follows").status_code == 400
    assert stored_names() == ["测试一局"]


def test_a_request_that_changes_nothing_commits_nothing(pages, commits):
    add_department("测试三局")  # on its own, outside a request: its own edge, committed at once
    assert len(commits) == 1 and stored_names() == ["测试三局"]
    assert pages.get("/test/reads_only").get_data(as_text=True) == "测试三局"
    assert len(commits) == 1


def test_a_command_commits_once_and_a_refused_one_not_at_all(app, runner, commits, load_seed):
    load_seed()
    before = len(commits)
    result = runner.invoke(
        args=["user", "add", "clerk", "--role", "office", "--password-stdin"], input="长而好记的口令2018\n"
    )
    assert result.exit_code == 0, result.output
    assert len(commits) - before == 1
    refused = runner.invoke(
        args=["user", "add", "clerk", "--role", "office", "--password-stdin"], input="长而好记的口令2018\n"
    )
    assert refused.exit_code == 1 and refused.output.startswith("Error: ")
    assert len(commits) - before == 1


@pytest.mark.parametrize(("path", "json"), [("/test/saved", False), ("/test/saved/autosave", True)])
def test_a_commit_that_loses_a_lock_race_answers_409_takes_back_the_success_and_keeps_nothing(app, path, json):
    from flask import flash
    from sqlalchemy.exc import OperationalError

    def saved():
        add_department("测试一局")
        flash("已保存。", "success")
        return "saved"

    app.add_url_rule(path, "saved", saved)

    def locked(session):
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    client = app.test_client()
    event.listen(db.session, "before_commit", locked)
    try:
        response = client.get(path)
    finally:
        event.remove(db.session, "before_commit", locked)
    assert response.status_code == 409 and response.headers["Retry-After"] == "1"
    if json:
        assert response.get_json()["error"] == "conflict"
    else:
        page = response.get_data(as_text=True)
        assert "有其他人同时在修改同一内容" in page and "已保存。" not in page
        assert "已保存。" not in client.get("/login").get_data(as_text=True)
    assert stored_names() == []
