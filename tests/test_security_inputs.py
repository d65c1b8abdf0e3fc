"""Issue 12, item 6 (in part): input no database can store, and numbers past any database
integer, get a clear page, never a server error; the error page works after a failed statement."""

import pytest
from bs4 import BeautifulSoup
from conftest import csrf_token, department


@pytest.fixture
def office(load_seed, create_user, auth):
    load_seed()
    create_user("office1")
    auth.login("office1")


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard?year=2018&department=99999999999999999999",
        "/plans/2018?department=3000000000",
        "/dashboard?year=2018&page=99999999999999999999",
        "/downloads?year=-99999999999",
    ],
)
def test_an_integer_past_the_database_range_is_not_found(client, office, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_a_nul_in_a_sign_in_name_is_refused_in_chinese(client, create_user):
    create_user("office1")
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": "office\x001", "password": "x", "csrf_token": csrf_token(page.get_data(as_text=True))},
    )
    assert response.status_code == 400
    assert "提交的内容中有无法处理的不可见控制字符（如 NUL" in response.get_data(as_text=True)


def test_a_department_saved_without_its_aliases_field_keeps_its_aliases(client, office):
    from tracker.extensions import db
    from tracker.models import DepartmentAlias

    target = department("发改局")
    target.aliases.append(DepartmentAlias(alias="发展改革局"))
    db.session.commit()
    page = client.get(f"/departments/{target.id}/edit").get_data(as_text=True)
    forms = BeautifulSoup(page, "html.parser").find_all("form")
    form = next(f for f in forms if f.find("input", {"name": "name"}))  # the department's, not the menu's search
    data = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
    data.pop("aliases", None)
    response = client.post(f"/departments/{target.id}/edit", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert department("发改局").name == "发改局"
    assert department("发改局").alias_names == ["发展改革局"]


def test_the_error_page_shows_after_a_failed_statement(app, client, create_user, auth):
    from sqlalchemy import text

    from tracker.extensions import db

    @app.get("/test-failing-statement")
    def failing():
        db.session.execute(text("SELECT * FROM no_such_table"))

    app.config["PROPAGATE_EXCEPTIONS"] = False
    create_user("office1")
    auth.login("office1")  # the error page names the signed-in user: it needs the database
    response = client.get("/test-failing-statement")
    assert response.status_code == 500
    assert "系统出现错误，请稍后重试" in response.get_data(as_text=True)


def test_sheet_titles_take_any_section_title(runner, load_seed, tmp_path):
    import openpyxl

    from tracker.extensions import db
    from tracker.models import Section

    load_seed()
    section = Section.query.filter_by(number=1).one()
    section.title = "公开:解读/回应?[重点]*"
    db.session.commit()
    out = tmp_path / "brief.xlsx"
    result = runner.invoke(args=["export", "summary", "--year", "2018", "--out", str(out)])
    assert result.exit_code == 0, result.output
    titles = openpyxl.load_workbook(out).sheetnames
    assert any(title.startswith("一") and "－" in title for title in titles), titles


def test_a_soft_line_break_in_a_summary_does_not_break_the_annual_report(app):
    """Issue 12, item 5: Word's soft line break (\\x0b) pasted into a half-year summary."""
    import io

    import docx

    from tracker.disclosure.tables import annual_tables
    from tracker.exports.report_draft import build_report_draft

    summaries = [("发改局", "一是完善制度\x0b二是加强培训。存在的问题：公开不够及时\x0c下一步改进。\x00")]
    document = build_report_draft("天津开发区管委会", annual_tables(2018), summaries)
    buffer = io.BytesIO()
    document.save(buffer)
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(buffer.getvalue())).paragraphs)
    assert "【发改局】一是完善制度" in text and "二是加强培训" in text and "\x00" not in text


class _Deadlock(Exception):
    sqlstate = "40P01"


@pytest.mark.parametrize(("path", "json"), [("/boom", False), ("/api/v1/boom", True)])
def test_a_deadlock_anywhere_is_a_409_with_a_retry_hint_not_a_server_error(app, path, json):
    """What the form lock cannot prevent (another writer, a busy SQLite file) is answered 409."""
    from sqlalchemy.exc import OperationalError

    def boom():
        raise OperationalError("UPDATE return_lines …", {}, _Deadlock("deadlock detected"))

    app.add_url_rule(path, "boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    response = app.test_client().get(path)

    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    if json:
        assert response.get_json()["error"] == "conflict"
    else:
        assert "有其他人同时在修改同一内容" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/applications/new", "number"),
        ("/cases", "number"),
        ("/calendar", "note"),
        ("/departments", "name"),
        ("/plans/2018/tasks/1/edit", "deadline"),
        ("/login", "username"),
    ],
)
def test_a_nul_in_any_posted_field_is_a_clear_400_and_writes_nothing(app, client, office, url, field):
    """On PostgreSQL text cannot hold NUL: every form refuses it in one place instead of failing with 500."""
    from tracker.models import AuditEntry

    before = AuditEntry.query.count()
    token = csrf_token(client.get("/plans/2018").get_data(as_text=True))

    response = client.post(url, data={field: "编号\x00", "csrf_token": token})

    assert response.status_code == 400
    assert "不可见控制字符" in BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text()
    assert AuditEntry.query.count() == before


@pytest.mark.parametrize(
    ("url", "field"),
    [("/plans/2018/periods", "period_id"), ("/returns/1/evidence", "line_id")],
)
def test_a_row_id_in_a_form_past_the_database_range_is_not_found(client, office, url, field):
    token = csrf_token(client.get("/plans/2018").get_data(as_text=True))

    response = client.post(url, data={field: "99999999999", "due_on": "2018-10-10", "csrf_token": token})

    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "status"),
    [("page=--1", 200), ("page=+-3", 200), ("page=" + "9" * 5000, 404), ("year=%2B99999999999", 404)],
)
def test_odd_integer_arguments_never_break_a_page(client, query, status):
    response = client.get(f"/login?{query}")

    assert response.status_code == status


def test_a_second_value_of_a_field_is_checked_too(client, office):
    token = csrf_token(client.get("/plans/2018").get_data(as_text=True))

    response = client.post("/departments", data={"name": ["正常", "藏\x00在第二个"], "csrf_token": token})

    assert response.status_code == 400


def test_a_row_id_that_is_not_a_number_is_no_server_error(client, office):
    token = csrf_token(client.get("/plans/2018").get_data(as_text=True))

    response = client.post(
        "/plans/2018/periods", data={"period_id": "--1", "due_on": "2018-10-10", "csrf_token": token}
    )

    assert response.status_code < 500


def test_a_lone_surrogate_in_json_is_refused_naming_the_field(app, load_seed, create_user, runner):
    from tracker.models import QuarterlyReturn

    load_seed()
    create_user("fgj1", "department", "发改局")
    token = runner.invoke(args=["user", "token", "fgj1"]).output.strip()
    report = next(r for r in QuarterlyReturn.query if r.department.name == "发改局" and r.is_editable)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = '{"version": VERSION, "filled_by_name": "\\ud800abc"}'.replace("VERSION", str(report.version))

    response = app.test_client().put(f"/api/v1/returns/{report.id}", data=body, headers=headers)

    assert response.status_code == 422
    assert "filled_by_name" in response.get_json()["fields"]


def test_over_https_browsers_are_told_to_stay_on_https(app):
    plain = app.test_client().get("/login")
    secure = app.test_client().get("/login", base_url="https://tracker.example.org")

    assert "Strict-Transport-Security" not in plain.headers
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
