"""The JSON API under /api/v1: authentication, who sees and changes which form, the form workflow,
validation, the progress report and the OpenAPI description, as a client of the API sees them.

Tokens come from the real CLI (``flask --app tracker user token USERNAME``). "Today" is fixed at
:data:`TODAY`, after the 2018 plan's due dates (Q3: 2018-10-10, Q4: 2019-01-10), so a first
submission today is late; tests of an on-time submission move the period's due date into the future.
"""

import datetime
import json
from types import SimpleNamespace

import pytest
from conftest import counted, csrf_token

from tracker.extensions import db
from tracker.models import PeriodKind, ReportingPeriod
from tracker.returns.periods import set_period_due
from tracker.timeutil import local_date

PLAN_TITLE = "2018年天津开发区政务公开重点工作安排"
CODES = [
    *("1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5"),
    *("1.2.1", "1.2.2", "1.2.3", "1.2.4", "1.2.5"),
    *("1.3.1", "1.3.2", "1.3.3", "1.4.1", "1.4.2", "1.5.1", "1.5.2"),
    *("2.1.1", "2.1.2", "2.2.1", "2.2.2", "2.3.1", "2.3.2"),
    *("3.1", "3.2", "3.3", "4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3"),
]
#: The tasks 发改局 reports on (leads or carries out), in document order.
FGJ_CODES = [
    *("1.1.1", "1.1.4", "1.2.4", "1.2.5", "1.3.1", "1.3.2", "1.3.3", "1.4.1", "1.4.2", "1.5.1", "1.5.2"),
    *("4.1", "4.2", "4.3", "5.1", "5.2", "5.3"),
]
DEPARTMENTS = 21
CHANNELS = ["portal", "weibo", "wechat", "app", "other"]
RETURN_KEYS = {
    "id",
    "department",
    "year",
    "quarter",
    "state",
    "version",
    "due_on",
    "submitted_at",
    "is_late",
    "lines",
    "counts",
}
LINE_KEYS = {"task_code", "status", "done", "problems", "next_steps"}
PAST = "2018-01-01"


TODAY = datetime.date(2019, 3, 1)


@pytest.fixture(autouse=True)
def _today(app):
    """Fix today at :data:`TODAY` (the clock runs on that day)."""
    app.config["TRACKER_TODAY"] = TODAY.isoformat()


def in_days(days):
    """Return the ISO date ``days`` from :data:`TODAY`."""
    return (TODAY + datetime.timedelta(days=days)).isoformat()


def cli_token(runner, username, *options):
    """Run ``flask user token USERNAME [options]`` and return its output."""
    result = runner.invoke(args=["user", "token", username, *options])
    assert result.exit_code == 0, result.output
    return result.output.strip()


class Api:
    """A client of the API that sends ``Authorization: Bearer TOKEN`` (or nothing, without a token)."""

    def __init__(self, app, token=None):
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, url, **kwargs):
        return self.client.get(url, headers=self.headers, **kwargs)

    def put(self, url, body):
        return self.client.put(url, headers=self.headers, json=body)

    def post(self, url, body=None):
        if body is None:
            return self.client.post(url, headers=self.headers)
        return self.client.post(url, headers=self.headers, json=body)

    def form(self, form_id):
        response = self.get(f"/api/v1/returns/{form_id}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def form_id(self, department, quarter=3):
        response = self.get(
            "/api/v1/returns", query_string={"year": 2018, "quarter": quarter, "department": department}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        (form,) = response.get_json()["returns"]
        return form["id"]

    def save(self, form_id, **changes):
        """Read the form, then save ``changes`` with the version read; return the response."""
        return self.put(f"/api/v1/returns/{form_id}", {"version": self.form(form_id)["version"], **changes})

    def submit(self, form_id):
        return self.post(f"/api/v1/returns/{form_id}/submit")

    def review(self, form_id, decision, **fields):
        return self.post(f"/api/v1/returns/{form_id}/review", {"decision": decision, **fields})

    def progress(self, **query):
        response = self.get("/api/v1/progress", query_string={"year": 2018, **query})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()


HEADER = {"filled_by_name": "张明", "filled_by_phone": "022-66201234", "approved_by": "李华"}


def complete(form, statuses=None):
    """Return a save body that completes ``form``: the header, and every line with a status and what was done.

    ``statuses`` maps task codes to a status (default: done); a not_started line gets no text.
    """
    statuses = statuses or {}
    lines = []
    for line in form["lines"]:
        status = statuses.get(line["task_code"], "done")
        text = "" if status == "not_started" else f"{line['task_code']}：本季度已按计划推进并公开相关信息。"
        lines.append({"task_code": line["task_code"], "status": status, "done": text})
    return {"version": form["version"], **HEADER, "lines": lines}


def fill(api, form_id, statuses=None, counts=None):
    """Complete the form (and set its counts) with one save; return the saved form."""
    body = complete(api.form(form_id), statuses)
    if counts is not None:
        body["counts"] = counts
    response = api.put(f"/api/v1/returns/{form_id}", body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def fill_and_submit(api, form_id, statuses=None, counts=None):
    fill(api, form_id, statuses, counts)
    response = api.submit(form_id)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def assert_error(response, status, code, fields=()):
    """Assert a JSON error ``{"error": code, "message": text}``, naming ``fields`` for 422."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]
    for field in fields:
        assert field in body.get("fields", {}), body
    return body


@pytest.fixture
def world(app, load_seed, create_user, runner, snapshots):
    """The 2018 plan, and API clients for the office, a leader, 发改局 and 财政局 with tokens from the CLI."""

    def build():
        load_seed()
        create_user("office1")
        create_user("leader1", "leader")
        create_user("fgj1", "department", "发改局")
        create_user("czj1", "department", "财政局")
        return {name: cli_token(runner, f"{name}1") for name in ("office", "leader", "fgj", "czj")}

    tokens = snapshots.use(app, "api world", build)
    world = SimpleNamespace(**{name: Api(app, token) for name, token in tokens.items()})
    world.fgj_q3 = world.office.form_id("发改局", 3)
    world.fgj_q4 = world.office.form_id("发改局", 4)
    world.czj_q3 = world.office.form_id("财政局", 3)
    return world


def move_due_date(quarter, days):
    """Move the 2018 quarter's due date to ``days`` from today, as the office can on its page."""
    period = ReportingPeriod.query.filter_by(kind=PeriodKind.QUARTER, number=quarter).one()
    set_period_due(period, datetime.date.fromisoformat(in_days(days)))
    db.session.expire_all()


# --- authentication ---------------------------------------------------------------------------


def endpoints(form_id):
    return [
        ("get", "/api/v1/tasks?year=2018", None),
        ("get", "/api/v1/returns?year=2018&quarter=3", None),
        ("get", f"/api/v1/returns/{form_id}", None),
        ("put", f"/api/v1/returns/{form_id}", {"version": 1}),
        ("post", f"/api/v1/returns/{form_id}/submit", None),
        ("post", f"/api/v1/returns/{form_id}/review", {"decision": "accept"}),
        ("get", "/api/v1/progress?year=2018&quarter=3", None),
    ]


def call(client, method, url, body, headers=None):
    kwargs = {"headers": headers or {}}
    if body is not None:
        kwargs["json"] = body
    return getattr(client, method)(url, **kwargs)


def test_every_endpoint_but_the_description_answers_401_without_credentials(world, client):
    for method, url, body in endpoints(world.fgj_q3):
        response = call(client, method, url, body)
        assert_error(response, 401, "unauthorized")
    assert world.office.form(world.fgj_q3)["version"] == 1


BOGUS_AUTHORIZATION = {
    "bogus": "Bearer not-a-token",
    "empty": "Bearer ",
    "long": "Bearer " + "x" * 500,
    "basic": "Basic b2ZmaWNlMTpjb3JyZWN0LWhvcnNlLTk=",  # office1 and the right password
}


def test_every_endpoint_answers_401_to_a_bogus_token(world, client, subtests):
    for name, header in BOGUS_AUTHORIZATION.items():
        for method, url, body in endpoints(world.fgj_q3):
            with subtests.test(name, method=method, url=url):
                response = call(client, method, url, body, {"Authorization": header})
                assert_error(response, 401, "unauthorized")
    assert world.office.form(world.fgj_q3)["version"] == 1


def test_a_token_from_the_cli_authenticates_its_user(world):
    response = world.fgj.get("/api/v1/returns")

    assert response.status_code == 200
    assert {r["department"] for r in response.get_json()["returns"]} == {"发改局"}


def test_a_revoked_token_is_refused_and_a_new_one_works(world, runner, app):
    token = cli_token(runner, "fgj1")
    api = Api(app, token)
    assert api.get("/api/v1/tasks").status_code == 200

    assert cli_token(runner, "fgj1", "--revoke") == "Revoked 2 token(s) of fgj1"

    for method, url, body in endpoints(world.fgj_q3):
        assert_error(call(api.client, method, url, body, api.headers), 401, "unauthorized")
    assert_error(world.fgj.get("/api/v1/tasks"), 401, "unauthorized")
    assert cli_token(runner, "fgj1", "--revoke") == "Revoked 0 token(s) of fgj1"
    assert Api(app, cli_token(runner, "fgj1")).get("/api/v1/tasks").status_code == 200


def test_revoking_one_users_tokens_leaves_the_others_working(world, runner):
    cli_token(runner, "fgj1", "--revoke")

    assert world.czj.get("/api/v1/tasks").status_code == 200
    assert world.office.get("/api/v1/tasks").status_code == 200


def test_the_token_of_a_disabled_user_is_refused(world, runner):
    result = runner.invoke(args=["user", "disable", "fgj1"])
    assert result.exit_code == 0, result.output

    assert_error(world.fgj.get("/api/v1/tasks"), 401, "unauthorized")


def test_the_cli_refuses_a_token_for_an_unknown_user(world, runner):
    result = runner.invoke(args=["user", "token", "nobody"])

    assert result.exit_code != 0
    assert "no user called 'nobody'" in result.output


def test_each_cli_token_is_new(world, runner):
    tokens = {cli_token(runner, "fgj1") for _ in range(3)}

    assert len(tokens) == 3
    assert all(len(t) >= 32 for t in tokens)


# --- the session cookie and CSRF --------------------------------------------------------------


def page_csrf_token(client):
    return csrf_token(client.get("/", follow_redirects=True).get_data(as_text=True))


def test_cookie_reads_need_no_csrf_token(world, auth, client):
    auth.login("fgj1")

    response = client.get(f"/api/v1/returns/{world.fgj_q3}")

    assert response.status_code == 200
    assert response.get_json()["department"] == "发改局"


def test_cookie_writes_need_the_csrf_header(world, auth, client):
    auth.login("fgj1")
    form = world.fgj.form(world.fgj_q3)
    body = complete(form)

    refused = client.put(f"/api/v1/returns/{world.fgj_q3}", json=body)
    assert_error(refused, 400, "csrf")
    assert world.fgj.form(world.fgj_q3)["version"] == form["version"]
    assert_error(
        client.put(f"/api/v1/returns/{world.fgj_q3}", json=body, headers={"X-CSRFToken": "forged"}), 400, "csrf"
    )

    token = page_csrf_token(client)
    saved = client.put(f"/api/v1/returns/{world.fgj_q3}", json=body, headers={"X-CSRFToken": token})
    assert saved.status_code == 200, saved.get_data(as_text=True)

    assert_error(client.post(f"/api/v1/returns/{world.fgj_q3}/submit"), 400, "csrf")
    assert world.fgj.form(world.fgj_q3)["state"] == "draft"

    submitted = client.post(f"/api/v1/returns/{world.fgj_q3}/submit", headers={"X-CSRFToken": token})
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    assert world.office.form(world.fgj_q3)["state"] == "submitted"


def test_cookie_review_needs_the_csrf_header(world, auth, client):
    fill_and_submit(world.fgj, world.fgj_q3)
    auth.login("office1")

    assert_error(client.post(f"/api/v1/returns/{world.fgj_q3}/review", json={"decision": "accept"}), 400, "csrf")
    assert world.office.form(world.fgj_q3)["state"] == "submitted"

    response = client.post(
        f"/api/v1/returns/{world.fgj_q3}/review",
        json={"decision": "accept"},
        headers={"X-CSRFToken": page_csrf_token(client)},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["state"] == "accepted"


def test_a_bogus_bearer_header_does_not_excuse_a_cookie_request_from_csrf(world, auth, client):
    """A request signed in by the cookie is a cookie request, whatever Authorization header it also carries."""
    auth.login("fgj1")
    body = complete(world.fgj.form(world.fgj_q3))

    response = client.put(f"/api/v1/returns/{world.fgj_q3}", json=body, headers={"Authorization": "Bearer bogus"})

    assert response.status_code in (400, 401), response.get_data(as_text=True)
    assert world.fgj.form(world.fgj_q3)["version"] == 1


# --- reading ----------------------------------------------------------------------------------


def test_tasks_lists_the_plans_tasks(world):
    for api in (world.office, world.leader, world.fgj):
        response = api.get("/api/v1/tasks", query_string={"year": 2018})
        assert response.status_code == 200
        data = response.get_json()
        assert data["year"] == 2018
        assert data["title"] == PLAN_TITLE
        assert [t["code"] for t in data["tasks"]] == CODES
    task = next(t for t in data["tasks"] if t["code"] == "1.1.4")
    assert "发改局" in task["lead"]
    assert {"code", "title", "section", "group", "lead", "responsible", "all_departments", "and_related"} <= set(task)


def test_tasks_without_a_year_is_the_newest_plan(world):
    response = world.office.get("/api/v1/tasks")

    assert response.status_code == 200
    assert response.get_json()["year"] == 2018


def test_a_form_has_the_documented_shape(world):
    form = world.fgj.form(world.fgj_q3)

    assert set(form) >= RETURN_KEYS
    assert form["id"] == world.fgj_q3
    assert form["department"] == "发改局"
    assert (form["year"], form["quarter"]) == (2018, 3)
    assert form["state"] == "draft"
    assert isinstance(form["version"], int)
    assert form["due_on"] == "2018-10-10"
    assert form["submitted_at"] is None
    assert form["is_late"] is None
    assert [line["task_code"] for line in form["lines"]] == FGJ_CODES
    for line in form["lines"]:
        assert set(line) == LINE_KEYS
        assert line["status"] is None
        assert line["done"] == line["problems"] == line["next_steps"] == ""
    assert form["counts"] == {kind: dict.fromkeys(CHANNELS, 0) for kind in ("submitted", "published")}
    assert world.fgj.form(world.fgj_q4)["due_on"] == "2019-01-10"


def test_the_office_and_leaders_list_every_form(world):
    for api in (world.office, world.leader):
        forms = api.get("/api/v1/returns", query_string={"year": 2018}).get_json()["returns"]
        assert len(forms) == 2 * DEPARTMENTS
        assert sorted({f["quarter"] for f in forms}) == [3, 4]
        assert len({f["department"] for f in forms}) == DEPARTMENTS
        assert {f["state"] for f in forms} == {"draft"}
        q4 = api.get("/api/v1/returns", query_string={"year": 2018, "quarter": 4}).get_json()["returns"]
        assert len(q4) == DEPARTMENTS
        assert {f["quarter"] for f in q4} == {4}
        czj = api.get("/api/v1/returns", query_string={"year": 2018, "department": "财政局"}).get_json()["returns"]
        assert [(f["department"], f["quarter"]) for f in czj] == [("财政局", 3), ("财政局", 4)]


def test_a_department_lists_only_its_own_forms(world):
    forms = world.fgj.get("/api/v1/returns", query_string={"year": 2018}).get_json()["returns"]
    assert [(f["department"], f["quarter"]) for f in forms] == [("发改局", 3), ("发改局", 4)]
    assert [f["id"] for f in forms] == [world.fgj_q3, world.fgj_q4]

    others = world.fgj.get("/api/v1/returns", query_string={"year": 2018, "department": "财政局"})
    assert others.status_code == 200
    assert others.get_json()["returns"] == []


def test_leaders_read_any_form(world):
    for form_id in (world.fgj_q3, world.czj_q3):
        assert world.leader.form(form_id)["id"] == form_id


def test_a_department_gets_404_for_another_departments_form(world):
    before = world.office.form(world.czj_q3)

    assert_error(world.fgj.get(f"/api/v1/returns/{world.czj_q3}"), 404, "not_found")
    assert_error(world.fgj.put(f"/api/v1/returns/{world.czj_q3}", complete(before)), 404, "not_found")
    assert_error(world.fgj.submit(world.czj_q3), 404, "not_found")
    assert_error(world.fgj.review(world.czj_q3, "accept"), 404, "not_found")

    assert world.office.form(world.czj_q3) == before


def test_another_departments_form_looks_like_a_missing_one(world):
    missing = world.fgj.get("/api/v1/returns/999999")
    other = world.fgj.get(f"/api/v1/returns/{world.czj_q3}")

    assert_error(missing, 404, "not_found")
    assert other.get_json() == missing.get_json()


# --- who may change what ----------------------------------------------------------------------


def test_leaders_may_not_save_submit_or_review(world):
    fill_and_submit(world.czj, world.czj_q3)
    before = world.office.form(world.fgj_q3)

    assert_error(world.leader.put(f"/api/v1/returns/{world.fgj_q3}", complete(before)), 403, "forbidden")
    assert_error(world.leader.submit(world.fgj_q3), 403, "forbidden")
    assert_error(world.leader.review(world.czj_q3, "accept"), 403, "forbidden")
    assert_error(world.leader.review(world.czj_q3, "return", reason="请补充", due_on=in_days(7)), 403, "forbidden")

    assert world.office.form(world.fgj_q3) == before
    assert world.office.form(world.czj_q3)["state"] == "submitted"


def test_the_office_may_not_fill_in_a_departments_form(world):
    before = world.office.form(world.fgj_q3)

    assert_error(world.office.put(f"/api/v1/returns/{world.fgj_q3}", complete(before)), 403, "forbidden")
    assert_error(world.office.submit(world.fgj_q3), 403, "forbidden")

    assert world.office.form(world.fgj_q3) == before


def test_a_department_may_not_review_its_own_form(world):
    fill_and_submit(world.fgj, world.fgj_q3)

    assert_error(world.fgj.review(world.fgj_q3, "accept"), 403, "forbidden")

    assert world.fgj.form(world.fgj_q3)["state"] == "submitted"


# --- saving -----------------------------------------------------------------------------------


def test_a_save_changes_the_form_and_its_version(world):
    form = world.fgj.form(world.fgj_q3)
    body = {
        "version": form["version"],
        "filled_by_name": "张明",
        "lines": [
            {
                "task_code": "1.3.1",
                "status": "in_progress",
                "done": "完成政策解读三篇",
                "problems": "人手不足",
                "next_steps": "下季度完成",
            }
        ],
        "counts": {"submitted": {"portal": 12, "weibo": 3}, "published": {"wechat": 7}},
    }

    response = world.fgj.put(f"/api/v1/returns/{world.fgj_q3}", body)

    assert response.status_code == 200, response.get_data(as_text=True)
    saved = response.get_json()
    assert saved["version"] > form["version"]
    assert saved == world.fgj.form(world.fgj_q3)
    line = next(line for line in saved["lines"] if line["task_code"] == "1.3.1")
    assert line == body["lines"][0]
    assert all(line["status"] is None for line in saved["lines"] if line["task_code"] != "1.3.1")
    assert saved["counts"]["submitted"] == {"portal": 12, "weibo": 3, "wechat": 0, "app": 0, "other": 0}
    assert saved["counts"]["published"] == {"portal": 0, "weibo": 0, "wechat": 7, "app": 0, "other": 0}
    assert saved["state"] == "draft"
    assert world.office.form(world.fgj_q3) == saved


def test_a_save_keeps_what_it_does_not_mention(world):
    world.fgj.save(world.fgj_q3, lines=[{"task_code": "1.1.1", "status": "ongoing", "done": "持续公开"}])

    response = world.fgj.save(world.fgj_q3, lines=[{"task_code": "1.1.4", "problems": "无"}])

    assert response.status_code == 200
    lines = {line["task_code"]: line for line in response.get_json()["lines"]}
    assert (lines["1.1.1"]["status"], lines["1.1.1"]["done"]) == ("ongoing", "持续公开")
    assert (lines["1.1.4"]["status"], lines["1.1.4"]["problems"]) == (None, "无")


def test_a_stale_version_is_refused_and_the_first_save_survives(world):
    version = world.fgj.form(world.fgj_q3)["version"]
    first = {"version": version, "lines": [{"task_code": "1.1.1", "status": "done", "done": "第一个人写的"}]}
    second = {"version": version, "lines": [{"task_code": "1.1.1", "status": "in_progress", "done": "第二个人写的"}]}

    assert world.fgj.put(f"/api/v1/returns/{world.fgj_q3}", first).status_code == 200
    assert_error(world.fgj.put(f"/api/v1/returns/{world.fgj_q3}", second), 409, "conflict")

    form = world.fgj.form(world.fgj_q3)
    assert form["version"] == version + 1
    line = form["lines"][0]
    assert (line["task_code"], line["status"], line["done"]) == ("1.1.1", "done", "第一个人写的")


def test_a_version_from_the_future_is_refused(world):
    form = world.fgj.form(world.fgj_q3)

    assert_error(world.fgj.put(f"/api/v1/returns/{world.fgj_q3}", complete(form) | {"version": 99}), 409, "conflict")

    assert world.fgj.form(world.fgj_q3) == form


def good_line(code="1.1.1"):
    return {"task_code": code, "status": "done", "done": "应当不被保存"}


INVALID_SAVES = {
    "missing version": ({"lines": [good_line()]}, "version"),
    "version as text": ({"version": "1", "lines": [good_line()]}, "version"),
    "version as true": ({"version": True, "lines": [good_line()]}, "version"),
    "negative count": ({"lines": [good_line()], "counts": {"submitted": {"portal": -1}}}, "counts.submitted.portal"),
    "fractional count": ({"lines": [good_line()], "counts": {"published": {"weibo": 1.5}}}, "counts.published.weibo"),
    "count as text": ({"lines": [good_line()], "counts": {"published": {"weibo": "3"}}}, "counts.published.weibo"),
    "huge count": ({"lines": [good_line()], "counts": {"submitted": {"app": 10**7}}}, "counts.submitted.app"),
    "unknown channel": ({"lines": [good_line()], "counts": {"submitted": {"fax": 1}}}, "counts.submitted.fax"),
    "unknown count kind": ({"lines": [good_line()], "counts": {"received": {"portal": 1}}}, "counts.received"),
    "unknown task code": ({"lines": [good_line(), good_line("9.9.9")]}, "lines[1].task_code"),
    "another department's task": ({"lines": [good_line(), good_line("2.1.1")]}, "lines[1].task_code"),
    "line without task code": ({"lines": [good_line(), {"status": "done"}]}, "lines[1].task_code"),
    "unknown status": ({"lines": [good_line(), {"task_code": "1.1.4", "status": "finished"}]}, "lines[1].status"),
    "text too long": ({"lines": [good_line(), {"task_code": "1.1.4", "done": "长" * 5001}]}, "lines[1].done"),
    "done not text": ({"lines": [good_line(), {"task_code": "1.1.4", "done": 5}]}, "lines[1].done"),
    "name too long": ({"lines": [good_line()], "filled_by_name": "名" * 51}, "filled_by_name"),
    "lines not a list": ({"lines": {"task_code": "1.1.1"}}, "lines"),
    "counts not an object": ({"lines": [good_line()], "counts": [1, 2]}, "counts"),
}


def test_an_invalid_save_is_refused_with_422_and_saves_nothing(world, subtests):
    for name, (body, field) in INVALID_SAVES.items():
        with subtests.test(name):
            form = world.fgj.form(world.fgj_q3)
            if field != "version":
                body = {"version": form["version"], **body}

            assert_error(world.fgj.put(f"/api/v1/returns/{world.fgj_q3}", body), 422, "invalid", [field])

            assert world.fgj.form(world.fgj_q3) == form


WRONG_TYPES = {
    "task code a list": ({"task_code": ["1.1.1"]}, "lines[0].task_code"),
    "task code an object": ({"task_code": {"code": "1.1.1"}}, "lines[0].task_code"),
    "status a list": ({"task_code": "1.1.1", "status": ["done"]}, "lines[0].status"),
    "status an object": ({"task_code": "1.1.1", "status": {"value": "done"}}, "lines[0].status"),
}


def test_a_line_with_values_of_the_wrong_type_is_refused_with_422(world, subtests):
    for name, (line, field) in WRONG_TYPES.items():
        with subtests.test(name):
            form = world.fgj.form(world.fgj_q3)

            response = world.fgj.put(f"/api/v1/returns/{world.fgj_q3}", {"version": form["version"], "lines": [line]})

            assert_error(response, 422, "invalid", [field])
            assert world.fgj.form(world.fgj_q3) == form


def test_a_body_that_is_not_an_object_is_refused_with_422(world, subtests):
    for body in ([], "text", 3, None):
        with subtests.test(body=body):
            form = world.fgj.form(world.fgj_q3)

            response = world.fgj.client.put(
                f"/api/v1/returns/{world.fgj_q3}",
                headers=world.fgj.headers,
                data=json.dumps(body),
                content_type="application/json",
            )

            assert_error(response, 422, "invalid", ["body"])
            assert world.fgj.form(world.fgj_q3) == form


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("version=1", "text/plain"), ('{"version": 1,', "application/json"), (b"\xff\xfe{}", "application/json")],
    ids=["not-json", "broken", "not-utf8"],
)
def test_a_body_that_is_not_json_is_a_bad_request(world, data, content_type):
    form = world.fgj.form(world.fgj_q3)

    response = world.fgj.client.put(
        f"/api/v1/returns/{world.fgj_q3}", headers=world.fgj.headers, data=data, content_type=content_type
    )

    assert_error(response, 400, "bad_request")
    assert world.fgj.form(world.fgj_q3) == form


def test_a_body_nested_fifty_thousand_deep_is_a_bad_request(world):
    """Issue 12, item 6: not a server error from the JSON reader's recursion."""
    response = world.fgj.client.put(
        f"/api/v1/returns/{world.fgj_q3}",
        headers=world.fgj.headers,
        data="[" * 50000 + "]" * 50000,
        content_type="application/json",
    )

    assert_error(response, 400, "bad_request")


def test_text_with_a_nul_character_is_refused_or_kept_as_sent(world, subtests):
    """PostgreSQL cannot store NUL in text: the API must refuse it (422) or keep it, not fail with 500."""
    cases = {
        "done": ({"lines": [{"task_code": "1.1.1", "done": "前\x00后"}]}, "lines[0].done"),
        "filled_by_name": ({"filled_by_name": "张\x00明"}, "filled_by_name"),
    }
    for name, (changes, field) in cases.items():
        with subtests.test(name):
            form = world.fgj.form(world.fgj_q3)

            response = world.fgj.put(f"/api/v1/returns/{world.fgj_q3}", {"version": form["version"], **changes})

            assert response.status_code in (200, 422), response.get_data(as_text=True)
            if response.status_code == 422:
                assert_error(response, 422, "invalid", [field])
                assert world.fgj.form(world.fgj_q3) == form
            else:
                saved = world.fgj.form(world.fgj_q3)
                kept = saved["lines"][0]["done"] if name == "done" else saved["filled_by_name"]
                assert kept in ("前\x00后", "张\x00明")


def test_a_return_reason_with_a_nul_character_is_refused_or_kept_as_sent(world):
    form = fill_and_submit(world.fgj, world.fgj_q3)

    response = world.office.review(world.fgj_q3, "return", reason="请\x00补充", due_on=in_days(7))

    assert response.status_code in (200, 422), response.get_data(as_text=True)
    if response.status_code == 422:
        assert_error(response, 422, "invalid", ["reason"])
        assert world.office.form(world.fgj_q3) == form
    else:
        assert world.fgj.form(world.fgj_q3)["return_reason"] == "请\x00补充"


# --- submitting -------------------------------------------------------------------------------


def test_submitting_an_incomplete_form_is_refused_and_changes_nothing(world):
    form = world.fgj.form(world.fgj_q3)

    body = assert_error(world.fgj.submit(world.fgj_q3), 422, "invalid", ["filled_by_name", "lines[0].status"])

    assert len([f for f in body["fields"] if f.endswith(".status")]) == len(FGJ_CODES)
    assert world.fgj.form(world.fgj_q3) == form


def test_submitting_with_a_line_without_status_is_refused(world):
    filled = fill(world.fgj, world.fgj_q3)
    index = FGJ_CODES.index("1.3.2")
    world.fgj.save(world.fgj_q3, lines=[{"task_code": "1.3.2", "status": None}])
    form = world.fgj.form(world.fgj_q3)
    assert form["lines"][index]["status"] is None
    assert form["version"] > filled["version"]

    body = assert_error(world.fgj.submit(world.fgj_q3), 422, "invalid", [f"lines[{index}].status"])

    assert list(body["fields"]) == [f"lines[{index}].status"]
    after = world.fgj.form(world.fgj_q3)
    assert after == form
    assert (after["state"], after["submitted_at"], after["is_late"]) == ("draft", None, None)


@pytest.mark.parametrize("status", ["done", "in_progress", "ongoing"])
def test_submitting_with_a_line_that_says_nothing_done_is_refused(world, status):
    fill(world.fgj, world.fgj_q3)
    index = FGJ_CODES.index("4.2")
    world.fgj.save(world.fgj_q3, lines=[{"task_code": "4.2", "status": status, "done": "   "}])
    form = world.fgj.form(world.fgj_q3)

    body = assert_error(world.fgj.submit(world.fgj_q3), 422, "invalid", [f"lines[{index}].done"])

    assert list(body["fields"]) == [f"lines[{index}].done"]
    assert world.fgj.form(world.fgj_q3) == form
    assert world.office.form(world.fgj_q3)["state"] == "draft"


def test_a_not_started_line_needs_no_text(world):
    fill(world.fgj, world.fgj_q3, statuses={"5.3": "not_started"})

    response = world.fgj.submit(world.fgj_q3)

    assert response.status_code == 200, response.get_data(as_text=True)
    line = next(line for line in response.get_json()["lines"] if line["task_code"] == "5.3")
    assert (line["status"], line["done"]) == ("not_started", "")


@pytest.mark.dates
def test_a_first_submission_after_the_due_date_is_late(world):
    form = fill_and_submit(world.fgj, world.fgj_q3)

    assert form["state"] == "submitted"
    assert form["is_late"] is True
    assert form["submitted_at"]
    assert local_date(datetime.datetime.fromisoformat(form["submitted_at"])) == TODAY
    assert world.office.form(world.fgj_q3) == form


@pytest.mark.dates
def test_a_first_submission_before_the_due_date_is_on_time(world):
    move_due_date(3, 10)

    form = fill_and_submit(world.fgj, world.fgj_q3)

    assert form["due_on"] == in_days(10)
    assert form["is_late"] is False
    assert world.office.form(world.fgj_q3)["is_late"] is False


def test_a_submitted_form_cannot_be_saved_or_submitted_again(world):
    form = fill_and_submit(world.fgj, world.fgj_q3)

    assert_error(world.fgj.put(f"/api/v1/returns/{world.fgj_q3}", complete(form)), 409, "not_editable")
    assert_error(world.fgj.submit(world.fgj_q3), 409, "not_editable")

    assert world.fgj.form(world.fgj_q3) == form


# --- reviewing --------------------------------------------------------------------------------


def test_the_whole_workflow_from_draft_to_accepted(world):
    submitted = fill_and_submit(world.fgj, world.fgj_q3, statuses={"1.1.4": "in_progress"})
    assert (submitted["state"], submitted["is_late"]) == ("submitted", True)
    assert world.office.form(world.fgj_q3)["state"] == "submitted"

    due = in_days(14)
    returned = world.office.review(world.fgj_q3, "return", reason="1.1.4 请补充政策解读的链接", due_on=due)
    assert returned.status_code == 200, returned.get_data(as_text=True)
    assert returned.get_json()["state"] == "returned"

    seen = world.fgj.form(world.fgj_q3)
    assert seen["state"] == "returned"
    assert seen["return_reason"] == "1.1.4 请补充政策解读的链接"
    assert seen["due_on"] == due
    assert seen["returned_count"] == 1
    assert seen["lines"] == submitted["lines"]

    corrected = world.fgj.save(
        world.fgj_q3, lines=[{"task_code": "1.1.4", "status": "done", "done": "已补充链接：http://www.teda.gov.cn/"}]
    )
    assert corrected.status_code == 200, corrected.get_data(as_text=True)
    assert corrected.get_json()["state"] == "returned"
    resubmitted = world.fgj.submit(world.fgj_q3)
    assert resubmitted.status_code == 200, resubmitted.get_data(as_text=True)
    assert resubmitted.get_json()["state"] == "submitted"
    assert resubmitted.get_json()["is_late"] is True, "lateness is that of the first submission"

    accepted = world.office.review(world.fgj_q3, "accept")
    assert accepted.status_code == 200, accepted.get_data(as_text=True)

    final = world.fgj.form(world.fgj_q3)
    assert final["state"] == "accepted"
    line = next(line for line in final["lines"] if line["task_code"] == "1.1.4")
    assert (line["status"], line["done"]) == ("done", "已补充链接：http://www.teda.gov.cn/")
    assert_error(world.fgj.put(f"/api/v1/returns/{world.fgj_q3}", complete(final)), 409, "not_editable")
    assert_error(world.fgj.submit(world.fgj_q3), 409, "not_editable")
    assert_error(world.office.review(world.fgj_q3, "return", reason="再改", due_on=in_days(3)), 409, "not_editable")
    assert world.fgj.form(world.fgj_q3) == final


def test_reviewing_a_draft_is_refused_with_409(world):
    form = world.office.form(world.fgj_q3)

    assert_error(world.office.review(world.fgj_q3, "accept"), 409, "not_editable")
    assert_error(world.office.review(world.fgj_q3, "return", reason="缺", due_on=in_days(5)), 409, "not_editable")

    assert world.office.form(world.fgj_q3) == form


INVALID_REVIEWS = {
    "return without reason": ({"decision": "return", "due_on": "+7"}, "reason"),
    "return with a blank reason": ({"decision": "return", "reason": "  ", "due_on": "+7"}, "reason"),
    "return without due date": ({"decision": "return", "reason": "请补充"}, "due_on"),
    "return with a past due date": ({"decision": "return", "reason": "请补充", "due_on": PAST}, "due_on"),
    "return with a due date that is no date": ({"decision": "return", "reason": "请补充", "due_on": "下周"}, "due_on"),
    "return with a due date that is a number": (
        {"decision": "return", "reason": "请补充", "due_on": 20990101},
        "due_on",
    ),
    "return with a due date that is a list": ({"decision": "return", "reason": "请补充", "due_on": []}, "due_on"),
    "unknown decision": ({"decision": "reject"}, "decision"),
    "no decision": ({"reason": "请补充"}, "decision"),
}


def test_an_invalid_review_is_refused_with_422_and_changes_nothing(world, subtests):
    form = fill_and_submit(world.fgj, world.fgj_q3)
    for name, (body, field) in INVALID_REVIEWS.items():
        with subtests.test(name):
            if body.get("due_on") == "+7":
                body = body | {"due_on": in_days(7)}

            response = world.office.post(f"/api/v1/returns/{world.fgj_q3}/review", body)

            assert_error(response, 422, "invalid", [field])
            assert world.office.form(world.fgj_q3) == form


def test_a_review_body_that_is_not_an_object_is_refused_with_422(world):
    fill_and_submit(world.fgj, world.fgj_q3)

    assert_error(world.office.post(f"/api/v1/returns/{world.fgj_q3}/review", ["accept"]), 422, "invalid", ["body"])

    assert world.office.form(world.fgj_q3)["state"] == "submitted"


@pytest.mark.dates
def test_a_return_may_be_due_today_but_not_yesterday(world, app):
    fill_and_submit(world.fgj, world.fgj_q3)
    app.config["TRACKER_TODAY"] = in_days(30)

    refused = world.office.review(world.fgj_q3, "return", reason="请补充", due_on=in_days(29))
    assert_error(refused, 422, "invalid", ["due_on"])
    assert world.fgj.form(world.fgj_q3)["state"] == "submitted"

    response = world.office.review(world.fgj_q3, "return", reason="请补充", due_on=in_days(30))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert world.fgj.form(world.fgj_q3)["due_on"] == in_days(30)


@pytest.mark.dates
def test_is_late_is_that_of_the_first_submission(world, app):
    move_due_date(3, 10)
    assert fill_and_submit(world.fgj, world.fgj_q3)["is_late"] is False
    world.office.review(world.fgj_q3, "return", reason="请补充", due_on=in_days(12))
    assert world.fgj.form(world.fgj_q3)["due_on"] == in_days(12)
    app.config["TRACKER_TODAY"] = in_days(20)  # the correction comes after its due date

    resubmitted = world.fgj.submit(world.fgj_q3)

    assert resubmitted.status_code == 200, resubmitted.get_data(as_text=True)
    form = resubmitted.get_json()
    assert (form["state"], form["is_late"], form["due_on"]) == ("submitted", False, in_days(10))


# --- progress ---------------------------------------------------------------------------------


def expected_progress(forms):
    """Return {task code: (lines, done)} over the given (submitted) forms."""
    stats = {code: [0, 0] for code in CODES}
    for form in forms:
        for line in form["lines"]:
            stats[line["task_code"]][0] += 1
            stats[line["task_code"]][1] += line["status"] == "done"
    return {code: tuple(v) for code, v in stats.items()}


def rate(part, whole):
    return round(100 * part / whole) if whole else None


def test_progress_agrees_with_what_was_submitted(world):
    fgj = fill_and_submit(
        world.fgj,
        world.fgj_q3,
        statuses={"1.1.4": "in_progress", "1.3.1": "ongoing", "5.3": "not_started"},
        counts={"submitted": {"portal": 3, "weibo": 2}, "published": {"wechat": 4}},
    )
    czj = fill_and_submit(world.czj, world.czj_q3, counts={"submitted": {"portal": 1}, "published": {"other": 6}})

    for api in (world.office, world.leader):
        data = api.progress(quarter=3)
        assert (data["year"], data["quarter"]) == (2018, 3)

        quarters = {q["quarter"]: q for q in data["quarters"]}
        assert sorted(quarters) == [3, 4]
        assert quarters[3] == {
            "quarter": 3,
            "expected": DEPARTMENTS,
            "submitted": 2,
            "on_time": 0,
            "late": 2,
            "reporting_rate": rate(2, DEPARTMENTS),
            "on_time_rate": 0,
        }
        assert (quarters[4]["expected"], quarters[4]["submitted"], quarters[4]["reporting_rate"]) == (DEPARTMENTS, 0, 0)

        expected = expected_progress([fgj, czj])
        tasks = {t["code"]: t for s in data["sections"] for t in s["tasks"]}
        assert sorted(tasks, key=CODES.index) == CODES
        for code, (lines, done) in expected.items():
            assert (tasks[code]["lines"], tasks[code]["done"], tasks[code]["percent"]) == (
                lines,
                done,
                rate(done, lines),
            ), code
        assert tasks["1.1.4"]["done"] == expected["1.1.4"][1] == expected["1.1.4"][0] - 1
        for section in data["sections"]:
            assert section["lines"] == sum(t["lines"] for t in section["tasks"])
            assert section["done"] == sum(t["done"] for t in section["tasks"])
            assert section["percent"] == rate(section["done"], section["lines"])
        assert sum(s["lines"] for s in data["sections"]) == len(fgj["lines"]) + len(czj["lines"])
        assert sum(s["done"] for s in data["sections"]) == len(fgj["lines"]) - 3 + len(czj["lines"])

        assert (data["counts"]["submitted"], data["counts"]["published"]) == (6, 10)
        rows = {r["department"]: r for r in data["counts"]["departments"]}
        assert len(rows) == DEPARTMENTS
        assert (rows["发改局"]["submitted"], rows["发改局"]["published"]) == (5, 4)
        assert (rows["财政局"]["submitted"], rows["财政局"]["published"]) == (1, 6)
        assert sum(r["submitted"] for r in rows.values()) == 6


@pytest.mark.dates
def test_progress_counts_on_time_submissions(world):
    move_due_date(3, 10)
    fill_and_submit(world.fgj, world.fgj_q3)

    (q3,) = [q for q in world.office.progress(quarter=3)["quarters"] if q["quarter"] == 3]

    assert (q3["expected"], q3["submitted"], q3["on_time"], q3["late"]) == (1, 1, 1, 0)
    assert (q3["reporting_rate"], q3["on_time_rate"]) == (100, 100)


def test_progress_leaves_out_drafts(world):
    """Lines and counts of a form still being filled in are not progress: only submitted forms count."""
    fill(world.fgj, world.fgj_q3, counts={"submitted": {"portal": 9}, "published": {"weibo": 9}})

    data = world.office.progress(quarter=3)

    q3 = next(q for q in data["quarters"] if q["quarter"] == 3)
    assert q3["submitted"] == 0
    assert sum(s["lines"] for s in data["sections"]) == 0
    assert (data["counts"]["submitted"], data["counts"]["published"]) == (0, 0)


def test_progress_is_for_the_office_and_leaders_only(world):
    assert_error(world.fgj.get("/api/v1/progress", query_string={"year": 2018}), 403, "forbidden")


def test_progress_without_a_quarter_shows_the_latest_with_submissions(world):
    fill_and_submit(world.fgj, world.fgj_q4)

    data = world.office.progress()

    assert (data["year"], data["quarter"]) == (2018, 4)
    assert sum(s["lines"] for s in data["sections"]) == len(FGJ_CODES)


# --- query validation -------------------------------------------------------------------------


LISTS = ["/api/v1/tasks", "/api/v1/returns", "/api/v1/progress"]
BAD_YEARS = {"letters": "abc", "empty": "", "decimal": "2018.0", "negative": "-2018", "superscript two": "²"}


def test_a_year_that_is_not_a_number_is_refused_with_422(world, subtests):
    for path in LISTS:
        for name, year in BAD_YEARS.items():
            with subtests.test(name, path=path):
                response = world.office.get(path, query_string={"year": year})

                assert_error(response, 422, "invalid", ["year"])


def test_a_year_without_a_plan_is_not_found(world, subtests):
    for path in LISTS:
        for year in ("2017", "2019"):
            with subtests.test(year, path=path):
                assert_error(world.office.get(path, query_string={"year": year}), 404, "not_found")


def test_a_year_out_of_range_is_not_found_or_invalid(world, subtests):
    """Year 0 is not "the newest plan", and a number too large for the database is no server error."""
    for path in LISTS:
        for year in ("0", "2147483648", "99999999999999999999"):
            with subtests.test(year, path=path):
                response = world.office.get(path, query_string={"year": year})

                assert response.status_code in (404, 422), response.get_data(as_text=True)
                assert_error(response, response.status_code, "not_found" if response.status_code == 404 else "invalid")


def test_the_quarter_is_checked(world, subtests):
    for path in ("/api/v1/returns", "/api/v1/progress"):
        for quarter in ("5", "0", "-1", "q3", "", "3.0", "³"):
            with subtests.test(quarter, path=path):
                response = world.office.get(path, query_string={"year": 2018, "quarter": quarter})

                assert_error(response, 422, "invalid", ["quarter"])


def test_an_unknown_department_is_not_found(world, subtests):
    for name in ("不存在局", "发改局" * 100, "\x00", "发改局\x00"):
        with subtests.test(repr(name[:10])):
            response = world.office.get("/api/v1/returns", query_string={"year": 2018, "department": name})

            assert_error(response, 404, "not_found")


def test_a_department_is_found_with_brackets_of_either_width(world):
    response = world.office.get("/api/v1/returns", query_string={"year": 2018, "department": "工委（管委会）办公室"})

    assert response.status_code == 200
    assert {r["department"] for r in response.get_json()["returns"]} == {"工委(管委会)办公室"}


def test_a_form_id_beyond_any_form_is_not_found(world, subtests):
    """Not a server error either when the number is too large for the database's integers."""
    for form_id in ("999999", "2147483648", "9223372036854775808", "99999999999999999999999"):
        for role in ("office", "fgj"):
            api = getattr(world, role)
            with subtests.test(form_id, role=role):
                assert_error(api.get(f"/api/v1/returns/{form_id}"), 404, "not_found")
                assert_error(api.put(f"/api/v1/returns/{form_id}", {"version": 1}), 404, "not_found")
                assert_error(api.submit(form_id), 404, "not_found")
                assert_error(api.review(form_id, "accept"), 404, "not_found")


def test_an_unknown_api_path_answers_json_404(world):
    assert_error(world.office.get("/api/v1/nothing-here"), 404, "not_found")


def test_an_unsupported_method_answers_405_with_allow(world):
    response = world.office.client.delete(f"/api/v1/returns/{world.fgj_q3}", headers=world.office.headers)

    assert_error(response, 405, "method_not_allowed")
    assert {"GET", "PUT"} <= {m.strip() for m in response.headers.get("Allow", "").split(",")}
    assert world.office.form(world.fgj_q3)["state"] == "draft"


# --- the description --------------------------------------------------------------------------


def test_the_openapi_description_is_served_without_sign_in(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.is_json
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["servers"] == [{"url": "/api/v1"}]
    assert {path: sorted(ops) for path, ops in spec["paths"].items()} == {
        "/tasks": ["get"],
        "/returns": ["get"],
        "/returns/{id}": ["get", "put"],
        "/returns/{id}/submit": ["post"],
        "/returns/{id}/review": ["post"],
        "/progress": ["get"],
    }
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    schemas = spec["components"]["schemas"]
    assert set(schemas["Return"]["properties"]) >= RETURN_KEYS
    assert set(schemas["Return"]["properties"]["lines"]["items"]["properties"]) == LINE_KEYS
    assert schemas["ReturnUpdate"]["required"] == ["version"]
    assert schemas["Review"]["properties"]["decision"]["enum"] == ["accept", "return"]


# --- two saves at once ------------------------------------------------------------------------


@pytest.mark.postgres  # SQLite serialises writers; the lock order only matters with two connections at once
def test_parallel_saves_of_the_same_version_give_one_200_and_one_409_never_a_server_error(app, world):
    """Fifty trials of two PUTs with the same version at the same moment: one saves, one is told to reload."""
    import threading

    outcomes = []
    for trial in range(50):
        form = world.fgj.form(world.fgj_q3)
        barrier = threading.Barrier(2)
        statuses = []

        def save(writer, form=form, trial=trial, barrier=barrier, statuses=statuses):
            body = complete(form)
            for line in body["lines"]:
                line["done"] = f"{writer}第{trial}次：{line['task_code']}已完成。"
            # One editor sends the counts too, the other only the lines: without a lock taken first,
            # the two would write the form's rows in opposite orders and deadlock.
            if writer == "甲":
                body["counts"] = {"submitted": {"portal": trial}, "published": {"wechat": trial}}
            else:
                body = {"version": body["version"], "lines": body["lines"][::-1]}
            api = Api(app, world.fgj.headers["Authorization"][7:])
            try:
                barrier.wait(timeout=10)
                with app.app_context():
                    response = api.put(f"/api/v1/returns/{world.fgj_q3}", body)
                statuses.append((response.status_code, (response.get_json() or {}).get("error")))
            except Exception as error:  # noqa: BLE001 - reported by the assertion below, not lost in the thread
                statuses.append((0, repr(error)))

        threads = [threading.Thread(target=save, args=(writer,)) for writer in ("甲", "乙")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        outcomes.append(sorted(statuses))

    assert all(o == [(200, None), (409, "conflict")] for o in outcomes), [o for o in outcomes if o[0][0] != 200]
    assert len(outcomes) == 50
    final = world.fgj.form(world.fgj_q3)
    assert final["version"] == form["version"] + 1


def test_a_soft_line_break_in_json_is_saved_as_a_line_break_and_control_characters_are_refused(world):
    form = world.fgj.form(world.fgj_q3)
    line = {"task_code": "1.3.1", "status": "in_progress"}

    saved = world.fgj.put(
        f"/api/v1/returns/{world.fgj_q3}", {"version": form["version"], "lines": [{**line, "done": "一是\x0b二是"}]}
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    done = {item["task_code"]: item["done"] for item in saved.get_json()["lines"]}
    assert done["1.3.1"] == "一是\n二是"

    refused = world.fgj.put(
        f"/api/v1/returns/{world.fgj_q3}",
        {"version": saved.get_json()["version"], "lines": [{**line, "done": "转义\x1b[31m"}]},
    )
    assert_error(refused, 422, "invalid", ["lines[0].done"])
    assert world.fgj.form(world.fgj_q3)["version"] == saved.get_json()["version"]


# --- constant queries (issue 14, item 4) -------------------------------------------------------------


def test_reading_and_saving_a_form_take_the_same_queries_whatever_its_size(world):
    """发改局 reports on 17 tasks, 财政局 on fewer: GET and PUT must not read per line."""
    big, small = world.fgj_q3, world.czj_q3
    sizes = {}
    for name, api, form_id in (("big", world.fgj, big), ("small", world.czj, small)):
        form = api.form(form_id)
        body = complete(form)
        got, reads = counted(lambda api=api, form_id=form_id: api.get(f"/api/v1/returns/{form_id}"))
        put, writes = counted(lambda api=api, form_id=form_id, body=body: api.put(f"/api/v1/returns/{form_id}", body))
        reads, writes = len(reads), len(writes)
        assert got.status_code == 200 and put.status_code == 200, put.get_data(as_text=True)
        # The answer to the save is the form as anyone reads it now, though it is not read again.
        assert put.get_json() == api.get(f"/api/v1/returns/{form_id}").get_json()
        assert put.get_json()["version"] == form["version"] + 1
        sizes[name] = (len(form["lines"]), reads, writes)

    assert sizes["big"][0] > sizes["small"][0]
    assert sizes["big"][1] == sizes["small"][1], sizes  # the same reads for GET
    assert sizes["big"][2] == sizes["small"][2], sizes  # PUT: lines and their audit entries written in batches


def test_a_form_changed_by_someone_else_during_a_submit_is_answered_as_it_is_now(world, monkeypatch):
    """The answer comes from memory only when nobody else wrote between the read and the lock."""
    from sqlalchemy import text

    from tracker import workflow

    form = fill(world.fgj, world.fgj_q3)
    first = form["lines"][0]["task_code"]
    real_lock = workflow.lock

    def colleague_saves_first(record):
        with db.engine.begin() as other:  # a colleague's save on its own connection, just before the lock
            other.execute(
                text("UPDATE quarterly_returns SET version = version + 1 WHERE id = :id"), {"id": world.fgj_q3}
            )
            other.execute(
                text(
                    "UPDATE return_lines SET done = :done WHERE return_id = :id"
                    " AND task_id = (SELECT id FROM tasks WHERE code = :code AND plan_id ="
                    " (SELECT plan_id FROM reporting_periods p JOIN quarterly_returns r ON r.period_id = p.id"
                    " WHERE r.id = :id))"
                ),
                {"done": "同事刚补充的内容", "id": world.fgj_q3, "code": first},
            )
        monkeypatch.setattr(workflow, "lock", real_lock)
        real_lock(record)

    monkeypatch.setattr(workflow, "lock", colleague_saves_first)
    answer = world.fgj.submit(world.fgj_q3)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    shown = answer.get_json()
    assert shown["version"] == form["version"] + 2
    assert next(line["done"] for line in shown["lines"] if line["task_code"] == first) == "同事刚补充的内容"
    assert shown == world.fgj.form(world.fgj_q3)
