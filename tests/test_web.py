"""The pages: health check, plan, task, department and audit pages, offline assets, error pages."""

import re
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import csrf_token, department, soup, task

from tracker.models import AuditEntry

PLAN_TITLE = "2018年天津开发区政务公开重点工作安排"

SECTIONS = [
    "一、切实加强公开解读回应工作",
    "二、切实提升政务服务工作实效",
    "三、切实推进政务公开平台建设",
    "四、切实推进政务公开制度化规范化",
    "五、切实提高公开质量和实效",
]

GROUPS = [
    "（一）围绕建设法治政府全面推进政务公开",
    "（二）围绕重点领域加大主动公开力度",
    "（三）围绕扩大开放推进公共信息资源数据开放",
    "（四）围绕稳定市场预期加强政策解读",
    "（五）围绕社会重大关切加强舆情回应",
    "（一）推进网上办事服务公开",
    "（二）优化审批办事服务",
    "（三）提升实体政务大厅服务能力",
]

CODES = [
    *("1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5"),
    *("1.2.1", "1.2.2", "1.2.3", "1.2.4", "1.2.5"),
    *("1.3.1", "1.3.2", "1.3.3", "1.4.1", "1.4.2", "1.5.1", "1.5.2"),
    *("2.1.1", "2.1.2", "2.2.1", "2.2.2", "2.3.1", "2.3.2"),
    *("3.1", "3.2", "3.3", "4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3"),
]

#: The tasks 发改局 leads, and those it carries out (named, or as one of 各部门), in document order.
FGJ_LEADS = ["1.1.4", "1.3.1", "1.3.2", "1.3.3"]
FGJ_CARRIES = ["1.1.1", "1.2.4", "1.2.5", "1.4.1", "1.4.2", "1.5.1", "1.5.2", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3"]

RESPONSIBLE_122 = ["行政审批局", "规国局", "建交局", "科工局", "安监局", "财政局", "环保局"]


@pytest.fixture
def office(load_seed, create_user, auth):
    """Load the 2018 plan and sign in as the office."""
    load_seed()
    create_user("office1")
    response = auth.login("office1")
    assert response.request.path == "/"


def codes(page):
    return [row["data-code"] for row in page.select(".task-row")]


# --- health check ---------------------------------------------------------------------------------


def test_healthz_answers_ok_without_sign_in(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok", "database": "ok"}


# --- the plan page ------------------------------------------------------------------------------------


def test_the_plan_page_lists_sections_groups_and_all_tasks(office, client):
    page = soup(client.get("/plans/2018"))

    assert page.find("h1").get_text(strip=True) == PLAN_TITLE
    assert [h.get_text(strip=True) for h in page.select("h2.section-title")] == SECTIONS
    assert [h.get_text(strip=True) for h in page.select("main .card-header")] == GROUPS
    assert len(page.select(".task-row")) == 33
    assert codes(page) == CODES
    assert page.select_one("#task-count").get_text(strip=True) == "共 33 项任务"
    row = page.select_one('.task-row[data-code="1.2.2"]')
    assert "推进重大建设项目批准和实施领域政府信息公开" in row.get_text()
    assert [b.get_text(strip=True) for b in row.select(".badge.text-bg-secondary")] == RESPONSIBLE_122
    assert "等相关部门" in row.get_text()
    assert "印发" in page.select_one("h1").find_next("div").get_text()


#: The tasks 发改局 leads or carries out, or that fall to every department, in document order.
FGJ_CODES = [
    *("1.1.1", "1.1.4", "1.2.4", "1.2.5", "1.3.1", "1.3.2", "1.3.3", "1.4.1", "1.4.2", "1.5.1", "1.5.2"),
    *("4.1", "4.2", "4.3", "5.1", "5.2", "5.3"),
]


def test_a_department_opens_the_plan_on_its_own_tasks_and_can_see_all(load_seed, create_user, auth, client):
    load_seed()
    create_user("dept1", role="department", department="发改局")
    auth.login("dept1")

    own = soup(client.get("/plans/2018"))
    everything = soup(client.get("/plans/2018?department="))

    assert codes(own) == FGJ_CODES
    assert codes(everything) == CODES


def test_filter_by_department_as_lead(office, client):
    fgj = department("发改局")

    page = soup(client.get("/plans/2018", query_string={"department": fgj.id, "role": "lead"}))

    assert codes(page) == FGJ_LEADS
    assert page.select_one("#task-count").get_text(strip=True) == "共 4 项任务"
    assert page.select_one("#department option[selected]").get_text(strip=True) == "发改局"
    assert page.select_one("#role option[selected]")["value"] == "lead"
    for row in page.select(".task-row"):
        assert "发改局" in [b.get_text(strip=True) for b in row.select(".badge.text-bg-danger")]


def test_filter_by_department_as_responsible(office, client):
    fgj = department("发改局")

    page = soup(client.get("/plans/2018", query_string={"department": fgj.id, "role": "responsible"}))

    assert codes(page) == FGJ_CARRIES
    assert {"1.1.1", "1.2.4", "5.1"} <= set(codes(page))
    assert not set(FGJ_LEADS) & set(codes(page))
    assert page.select_one("#task-count").get_text(strip=True) == f"共 {len(FGJ_CARRIES)} 项任务"


def test_filter_by_department_in_any_role(office, client):
    fgj = department("发改局")

    page = soup(client.get("/plans/2018", query_string={"department": fgj.id}))

    assert codes(page) == [code for code in CODES if code in FGJ_LEADS + FGJ_CARRIES]


def test_a_filter_that_matches_nothing_says_so(office, client):
    # 党建工作部 leads one task and carries out only the tasks for all departments.
    page = soup(client.get("/plans/2018", query_string={"department": department("党建工作部").id, "role": "lead"}))
    assert codes(page) == ["1.1.2"]

    page = soup(client.get("/plans/2018", query_string={"department": department("人社局").id, "role": "lead"}))
    assert codes(page) == []
    assert "没有符合条件的任务。" in page.get_text()


def test_an_unknown_plan_year_is_not_found(office, client):
    response = client.get("/plans/1999")

    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


# --- the task and department pages ------------------------------------------------------------------


def test_the_task_page_shows_the_full_text_and_departments(office, client):
    target = task("1.2.2")

    page = soup(client.get(f"/tasks/{target.id}"))

    text = page.find("div", string="任务原文").find_next_sibling("div").get_text(strip=True)
    assert text.startswith("推进重大建设项目批准和实施领域政府信息公开。按照《天津市人民政府办公厅")
    assert "重点公开批准服务信息、批准结果信息、招标投标信息" in text
    assert text.endswith("(行政审批局、规国局、建交局、科工局、安监局、财政局、环保局等相关部门负责落实)")
    responsible = page.find("div", string="负责落实部门").parent
    assert [a.get_text(strip=True) for a in responsible.select("a.badge")] == RESPONSIBLE_122
    assert "等相关部门" in responsible.get_text()
    lead = page.find("div", string="牵头部门").parent
    assert lead.select("a.badge") == []
    assert "—" in lead.get_text()
    crumbs = [li.get_text(strip=True) for li in page.select(".breadcrumb-item")]
    assert crumbs == [PLAN_TITLE, SECTIONS[0], GROUPS[1], "1.2.2"]
    # Each department links to its page.
    link = responsible.find("a", string="财政局")
    assert urlsplit(link["href"]).path == f"/departments/{department('财政局').id}"


def test_an_unknown_task_is_not_found(office, client):
    response = client.get("/tasks/99999")

    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_the_department_page_lists_lead_and_responsible_tasks(office, client):
    fgj = department("发改局")

    page = soup(client.get(f"/departments/{fgj.id}"))

    assert page.find("h1").get_text(strip=True) == "发改局"
    lead = [s.get_text(strip=True) for s in page.select("#lead-tasks .task-code")]
    responsible = [s.get_text(strip=True) for s in page.select("#responsible-tasks .task-code")]
    assert lead == FGJ_LEADS
    assert responsible == FGJ_CARRIES
    # Tasks it carries out only as one of 各部门 are marked so; named ones are not.
    marked = {
        li.select_one(".task-code").get_text(strip=True)
        for li in page.select("#responsible-tasks li")
        if li.select_one(".badge")
    }
    assert marked == {"1.1.1", "1.4.2", "1.5.1", "1.5.2", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3"}
    link = page.select_one("#lead-tasks a")
    assert link.get_text(strip=True) == "落实市场准入负面清单信息公开要求"
    assert link["href"] == f"/tasks/{task('1.1.4').id}"


def test_the_department_list_shows_every_department(office, client):
    page = soup(client.get("/departments"))

    names = [row.select_one("th a").get_text(strip=True) for row in page.select("tbody tr")]
    assert len(names) == 21
    assert names[:4] == ["工委(管委会)办公室", "党建工作部", "发改局", "经济运行局"]
    assert "行政审批局" in names


# --- the audit page -----------------------------------------------------------------------------------


def test_the_office_reads_the_audit_trail(office, client):
    fgj = department("发改局")
    page = client.get(f"/departments/{fgj.id}/edit")
    token = csrf_token(page.get_data(as_text=True))
    client.post(
        f"/departments/{fgj.id}/edit",
        data={"csrf_token": token, "name": "发改局", "short_name": "发改局", "head_name": "张三", "aliases": ""},
    )
    assert AuditEntry.query.filter_by(actor="office1", entity="departments").count() == 1

    page = soup(client.get("/audit"))

    assert page.find("h1").get_text(strip=True) == "操作日志"
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in page.select("#audit tbody tr")]
    assert len(rows) == 50  # loading the plan left far more than a page of entries
    newest = rows[0]
    assert newest[1:] == ["办公室 office1", "修改了部门“发改局”", "负责人从“空”改为“张三”"]
    assert "第 1 /" in page.select_one(".pagination").get_text()

    older = soup(client.get("/audit", query_string={"page": 2}))
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in older.select("#audit tbody tr")]
    assert rows
    assert all(row[1].startswith("命令行（") and row[2].startswith("新增了") for row in rows)


def test_the_audit_page_names_inserted_rows(office, client):
    page = soup(client.get("/audit", query_string={"entity": "plans"}))

    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in page.select("#audit tbody tr")]
    assert len(rows) == 1
    assert rows[0][2] == f"新增了工作安排“{PLAN_TITLE}”"
    assert f"标题：{PLAN_TITLE}"[:30] in rows[0][3]


def test_the_audit_trail_filters_by_kind_person_department_and_day(office, client):
    page = soup(client.get("/audit", query_string={"entity": "departments"}))
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in page.select("#audit tbody tr")]
    assert len(rows) == 21
    assert all(row[2].startswith("新增了部门“") for row in rows)

    page = soup(client.get("/audit", query_string={"actor": "nobody"}))
    assert page.select_one("#audit tbody").get_text(strip=True) == "暂无记录"
    page = soup(client.get("/audit", query_string={"department": department("发改局").id}))
    assert page.select_one("#audit tbody").get_text(strip=True) == "暂无记录"  # nobody of 发改局 has acted
    page = soup(client.get("/audit", query_string={"until": "2000-01-01"}))
    assert page.select_one("#audit tbody").get_text(strip=True) == "暂无记录"
    page = soup(client.get("/audit", query_string={"since": "not a day", "entity": "plans"}))
    assert len(page.select("#audit tbody tr")) == 1  # what does not parse is left out


def test_sign_ins_have_their_own_list(office, client):
    page = soup(client.get("/audit", query_string={"view": "signins"}))

    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in page.select("#signins tbody tr")]
    assert rows and rows[0][1:] == ["office1", "127.0.0.1", "成功"]


def test_a_leader_reads_the_audit_trail(load_seed, create_user, auth, client):
    load_seed()
    create_user("leader1", role="leader")
    auth.login("leader1")

    assert "操作日志" in client.get("/plans/2018").get_data(as_text=True)
    response = client.get("/audit")

    assert response.status_code == 200
    assert "操作日志" in response.get_data(as_text=True)


def test_a_department_user_cannot_read_the_audit_trail(load_seed, create_user, auth, client):
    load_seed()
    create_user("dept1", role="department", department="发改局")
    auth.login("dept1")

    assert "操作日志" not in client.get("/plans/2018").get_data(as_text=True)
    response = client.get("/audit")

    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "没有权限" in html
    assert "修改前" not in html


# --- offline: no external URLs, local assets served -----------------------------------------------------

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)

#: Pages to check, by who looks at them; the path is formatted with the ids of 1.2.2 and 发改局.
PAGES = [
    ("anonymous", "/login"),
    ("anonymous", "/no-such-page"),
    ("office", "/plans/2018"),
    ("office", "/plans/2018?department={department}&role=lead"),
    ("office", "/tasks/{task}"),
    ("office", "/tasks/{task}/edit"),
    ("office", "/departments"),
    ("office", "/departments/{department}"),
    ("office", "/departments/{department}/edit"),
    ("office", "/audit"),
    ("office", "/tasks/99999"),
    ("department", "/plans/2018"),
    ("department", "/tasks/{task}/edit"),
    ("empty", "/"),
]


def sign_in_as(who, load_seed, create_user, auth):
    if who != "empty":
        load_seed()
    if who == "anonymous":
        return
    if who == "department":
        create_user("dept1", role="department", department="发改局")
        auth.login("dept1")
    else:
        create_user("office1")
        auth.login("office1")


@pytest.mark.parametrize(("who", "path"), PAGES, ids=[f"{who}:{path}" for who, path in PAGES])
def test_pages_reference_no_external_urls(load_seed, create_user, auth, client, who, path):
    sign_in_as(who, load_seed, create_user, auth)
    if "{" in path:
        path = path.format(task=task("1.2.2").id, department=department("发改局").id)

    response = client.get(path)

    assert response.status_code in (200, 403, 404)
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert not EXTERNAL.findall(html)
    page = BeautifulSoup(html, "html.parser")
    references = [tag.get(attr) for attr in ("src", "href") for tag in page.find_all(attrs={attr: True})]
    assert references, "the page links nothing, so the check proves nothing"
    for reference in references:
        assert urlsplit(reference).netloc == "", reference
        assert urlsplit(reference).scheme in ("", "mailto"), reference
    assert page.find("link", rel="stylesheet") is not None


def test_the_bootstrap_css_in_the_page_is_served(office, client):
    page = soup(client.get("/plans/2018"))
    stylesheets = [link["href"] for link in page.find_all("link", rel="stylesheet")]
    bootstrap = [href for href in stylesheets if "bootstrap.min.css" in href]
    assert len(bootstrap) == 1

    with client.get(bootstrap[0]) as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"
        assert "Bootstrap" in response.get_data(as_text=True)[:500]


def test_every_local_asset_and_icon_font_is_served(office, client):
    page = soup(client.get("/plans/2018"))
    assets = [link["href"] for link in page.find_all("link", href=True)]
    assets += [script["src"] for script in page.find_all("script", src=True)]
    assert len(assets) >= 4

    fonts = []
    for asset in assets:
        with client.get(asset) as response:
            assert response.status_code == 200, asset
            body = response.get_data(as_text=True)
        if asset.endswith(".css"):
            fonts += [urljoin(asset, url) for url in re.findall(r"""url\(["']?([^"')]+)""", body)]
            assert not re.search(r"""url\(["']?(?:https?:)?//""", body), asset
    assert any("bootstrap-icons.woff2" in font for font in fonts)
    for font in fonts:
        if font.startswith("data:"):
            continue
        with client.get(font) as response:
            assert response.status_code == 200, font


# --- error pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_the_404_page_is_in_chinese(load_seed, create_user, auth, client, signed_in):
    load_seed()
    if signed_in:
        create_user("office1")
        auth.login("office1")

    response = client.get("/no-such-page")

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    page = BeautifulSoup(html, "html.parser")
    assert page.find("h1").get_text(strip=True) == "页面不存在"
    assert "您要找的页面不存在，或您无权查看。" in page.get_text()
    assert page.find("a", string="返回首页")["href"] == "/"
    assert "Not Found" not in html


def test_a_wrong_method_is_answered_in_chinese(client):
    response = client.get("/logout")

    assert response.status_code == 405
    assert "不支持的操作" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "saved", "message"),
    [("head@teda.example", "head@teda.example", None), ("not an address", None, "请填写有效的邮箱地址")],
)
def test_the_office_sets_the_department_heads_email_for_escalated_reminders(office, client, email, saved, message):
    fgj = department("发改局")
    page = client.get(f"/departments/{fgj.id}/edit")
    assert "负责人邮箱（逾期催办时抄送）" in page.get_data(as_text=True)
    data = {"name": "发改局", "short_name": "发改局", "head_name": "张三", "head_email": email, "aliases": ""}

    response = client.post(
        f"/departments/{fgj.id}/edit", data={"csrf_token": csrf_token(page.get_data(as_text=True)), **data}
    )

    assert department("发改局").head_email == saved
    if message:
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    else:
        assert response.status_code == 302


def test_readyz_answers_ok_when_the_schema_is_current_and_503_when_not(app, client):
    from tracker.extensions import db

    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ok"

    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    try:
        stale = client.get("/readyz")
    finally:
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                f"UPDATE alembic_version SET version_num = '{ready.get_json()['migrations'][0]}'"
            )

    assert stale.status_code == 503
    assert stale.get_json()["migrations"]["database"] == ["0001"]


def test_every_request_is_logged_once_with_its_id_user_status_and_time(app, client, caplog):
    import json
    import logging

    app.config["LOG_FORMAT"] = "json"
    with caplog.at_level(logging.INFO, logger="tracker.requests"):
        response = client.get("/login", headers={"X-Request-Id": "proxy-42"})
        forged = client.get("/login", headers={"X-Request-Id": "<script>"})

    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tracker.requests"]
    assert response.headers["X-Request-Id"] == "proxy-42"
    assert lines[0]["request_id"] == "proxy-42" and lines[0]["path"] == "/login" and lines[0]["status"] == 200
    assert lines[0]["user_id"] is None and lines[0]["ms"] >= 0 and lines[0]["slow"] is False
    assert forged.headers["X-Request-Id"] != "<script>" and len(forged.headers["X-Request-Id"]) == 16


def test_a_slow_request_is_a_warning(app, client, caplog):
    import logging

    app.config["SLOW_REQUEST_MS"] = 0
    with caplog.at_level(logging.INFO, logger="tracker.requests"):
        client.get("/healthz")

    (record,) = [r for r in caplog.records if r.name == "tracker.requests"]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("slow request: request_id=")
