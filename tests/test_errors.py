"""One error type, one handler: a refusal no view or command caught is shown, never a server error."""

import pytest

from tracker.errors import TrackerError
from tracker.models import User
from tracker.workflow import WorkflowError


@pytest.fixture
def refusing(app):
    """An app with two pages that refuse without catching: one for a person, one under the API."""

    def refuse():
        raise WorkflowError("conflict", "it was changed by someone else", "该报送表已被他人修改。", {"lines": "stale"})

    app.add_url_rule("/refuse", "refuse", refuse)
    app.add_url_rule("/api/v1/refuse", "api_refuse", refuse)
    return app


def test_a_page_shows_an_uncaught_refusal_in_chinese_with_its_status(refusing):
    response = refusing.test_client().get("/refuse")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "该报送表已被他人修改。" in page and "changed by someone else" not in page


def test_the_api_answers_an_uncaught_refusal_in_json_with_its_code_and_fields(refusing):
    response = refusing.test_client().get("/api/v1/refuse")
    assert response.status_code == 409
    assert response.get_json() == {
        "error": "conflict",
        "message": "it was changed by someone else",
        "fields": {"lines": "stale"},
    }


def test_each_code_has_its_status_and_an_unknown_one_is_a_bad_request():
    assert TrackerError("x", code="invalid").status == 422
    assert TrackerError("x", code="forbidden").status == 403
    assert TrackerError("x").status == 400
    assert TrackerError("only English").zh == "only English"


def test_a_command_prints_an_uncaught_refusal_in_english_and_changes_nothing(app, runner, load_seed):
    load_seed()
    result = runner.invoke(
        args=["user", "add", "clerk", "--role", "department", "--department", "不存在的局", "--password-stdin"],
        input="a long enough passphrase 2018\n",
    )
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no department called '不存在的局'"
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert User.query.filter_by(username="clerk").count() == 0
