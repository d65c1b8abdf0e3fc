"""Each role's landing page (待办, issue 13 item 1): what a department owes, most urgent first; the
office's review queue, overdue departments and chase; the leaders' brief."""

import pytest
from bs4 import BeautifulSoup
from conftest import Auth, counted, department, quarterly_form, submit_form

from tracker.models import Notification, QuarterlyReturn
from tracker.returns.operations import save_return, submit_return
from tracker.workflow import review

ACCOUNTS = {
    "office1": ("office", None),
    "leader1": ("leader", None),
    "fgj1": ("department", "发改局"),
    "czj1": ("department", "财政局"),
}


@pytest.fixture
def accounts(app, load_seed, create_user):
    load_seed()
    return {name: create_user(name, role, dept) for name, (role, dept) in ACCOUNTS.items()}


def page(app, username, url="/"):
    client = app.test_client()
    assert Auth(client).login(username).request.path != "/login"
    response = client.get(url)
    assert response.status_code == 200, url
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def owed(soup):
    return [
        (item.select_one("a").get_text(strip=True), item.select_one("strong").get_text(strip=True))
        for item in soup.select("#owed .owed-item")
    ]


@pytest.mark.dates
def test_a_department_lands_on_what_it_owes_most_urgent_first(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-05"  # the third quarter is due on 10 October

    soup = page(app, "fgj1")

    assert soup.h1.get_text(strip=True) == "发改局 · 待办"
    assert owed(soup) == [("2018年第三季度完成情况报送表", "还有5天")]
    link = soup.select_one("#owed a")["href"]
    assert link == f"/returns/{quarterly_form('发改局').id}"  # one click from landing to the open form


@pytest.mark.dates
def test_an_overdue_and_a_returned_form_say_so_with_the_reason_and_new_due_date(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-15"
    report = submit_form("发改局", accounts["fgj1"])
    review(report, accounts["office1"], "return", "1.3.1 请补充数据开放平台的上线情况", "2018-10-19")

    soup = page(app, "fgj1")

    items = soup.select("#owed .owed-item")
    assert owed(soup) == [("2018年第三季度完成情况报送表", "还有4天")]
    assert "退回修改" in items[0].get_text()
    assert "退回原因：1.3.1 请补充数据开放平台的上线情况" in items[0].get_text()
    assert "截止 2018年10月19日" in items[0].get_text()
    recent = soup.select_one("#recent").get_text()
    assert "2018年第三季度完成情况报送表" in recent and "退回修改" in recent
    czj = page(app, "czj1")
    assert owed(czj) == [("2018年第三季度完成情况报送表", "已逾期5天")]
    assert "list-group-item-danger" in czj.select_one("#owed .owed-item")["class"]


@pytest.mark.dates
def test_the_office_lands_on_its_queue_oldest_first_with_the_count_in_the_menu(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-12"
    submit_form("财政局", accounts["czj1"])
    submit_form("发改局", accounts["fgj1"])

    soup = page(app, "office1")

    queue = [a.get_text(strip=True) for a in soup.select("#review-queue a")]
    assert queue == ["财政局 2018年第三季度完成情况报送表", "发改局 2018年第三季度完成情况报送表"]
    assert soup.select_one("#review-count").get_text() == "2"
    overdue = soup.select_one("#overdue-departments").get_text()
    assert "发改局" not in overdue and "财政局" not in overdue
    assert "人社局" in overdue and "最长逾期2天" in overdue


@pytest.mark.dates
def test_reviewing_leads_on_to_the_next_form_in_the_queue(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-12"
    first = submit_form("财政局", accounts["czj1"])
    second = submit_form("发改局", accounts["fgj1"])

    on_first = page(app, "office1", f"/returns/{first.id}")
    review(first, accounts["office1"], "accept")
    on_second = page(app, "office1", f"/returns/{second.id}")

    assert on_first.select_one("#next-review")["href"] == f"/returns/{second.id}"
    assert "发改局" in on_first.select_one("#next-review").get_text()
    assert on_second.select_one("#next-review") is None  # the queue is worked through


@pytest.mark.dates
def test_a_leader_lands_on_the_current_quarters_brief(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-15"
    submit_form("发改局", accounts["fgj1"])

    soup = page(app, "leader1")

    assert soup.h1.get_text(strip=True) == "2018年第三季度政务公开工作简报"
    figures = soup.select_one("#figures").get_text(" ", strip=True)
    departments = QuarterlyReturn.query.filter_by(period_id=quarterly_form("发改局").period_id).count()
    assert f"1 / {departments}" in figures
    assert len(soup.select("[role=progressbar]")) == 5
    assert all(bar.get("aria-label", "").endswith("完成率") for bar in soup.select("[role=progressbar]"))
    assert soup.select_one("#most-overdue") is not None
    assert soup.select_one("a[href^='/dashboard']") is not None


# --- review with care (issue 13, item 5) ------------------------------------------------------------


def return_panel(app, report, code="1.3.1"):
    """Sign the office in and open the form's return panel; return (client, panel, its hidden fields, line box)."""
    office = app.test_client()
    Auth(office).login("office1")
    form_page = BeautifulSoup(office.get(f"/returns/{report.id}").get_data(as_text=True), "html.parser")
    box = form_page.select_one(f'tr.line-row[data-code="{code}"] textarea[form="return-form"]')
    panel = form_page.select_one("#return-form")
    return office, panel, {i["name"]: i.get("value", "") for i in panel.select("input[type=hidden]")}, box


@pytest.mark.dates
def test_the_office_returns_with_a_comment_on_a_line_and_the_department_sees_it_beside_the_line(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-12"
    report = submit_form("发改局", accounts["fgj1"])
    office, panel, data, box = return_panel(app, report)

    office.post(
        panel["action"],
        data={**data, "reason": "部分任务需补充", "due_on": "2018-10-19", box["name"]: "请补充开放数据集的数量"},
    )

    page_ = page(app, "fgj1", f"/returns/{report.id}")
    assert page_.select_one('tr.line-row[data-code="1.3.1"] .line-comment').get_text(strip=True) == (
        "办公室意见：请补充开放数据集的数量"
    )
    assert len(page_.select(".line-comment")) == 1


@pytest.mark.dates
def test_the_office_accepts_several_forms_at_once_from_the_queue(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-12"
    first, second = submit_form("财政局", accounts["czj1"]), submit_form("发改局", accounts["fgj1"])
    review(second, accounts["office1"], "accept")  # a colleague was quicker with this one
    office = app.test_client()
    Auth(office).login("office1")
    queue = BeautifulSoup(office.get("/").get_data(as_text=True), "html.parser")
    token = queue.select_one("#bulk-accept input[name=csrf_token]")["value"]
    assert [box["value"] for box in queue.select("#review-queue input[name=item]")] == [f"return-{first.id}"]

    response = office.post(
        "/review/accept",
        data={"csrf_token": token, "item": [f"return-{first.id}", f"return-{second.id}"]},
        follow_redirects=True,
    )

    text = response.get_data(as_text=True)
    assert "已审核通过1份。" in text
    assert "1份已不在待审核状态，未作改动：发改局2018年第三季度完成情况报送表。" in text
    assert quarterly_form("财政局").state.value == "accepted"


@pytest.mark.dates
def test_the_buttons_that_lock_or_notify_say_what_follows_before_they_act(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-12"
    report = submit_form("发改局", accounts["fgj1"])

    department_form = page(app, "czj1", f"/returns/{quarterly_form('财政局').id}")
    office_form = page(app, "office1", f"/returns/{report.id}")
    jobs = page(app, "office1", "/jobs")

    assert "办公室将收到通知" in department_form.select_one("button[value=submit]")["data-confirm"]
    assert "发改局不能再修改" in office_form.select_one("#review-panel button.btn-success")["data-confirm"]
    assert "向各部门发送通知" in jobs.select_one('tr[data-job="chase"] form')["data-confirm"]
    assert not jobs.select_one('tr[data-job="archive"] form').has_attr("data-confirm")


# --- readable records (issue 13, item 6) -------------------------------------------------------------


@pytest.mark.dates
def test_the_audit_trail_reads_as_sentences_of_who_did_what(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-12"
    from tracker.audit import set_actor

    accounts["fgj1"].display_name = "张三"
    set_actor("fgj1", accounts["fgj1"].id)  # as the pages do for whoever is signed in
    report = submit_form("发改局", accounts["fgj1"])
    set_actor("office1", accounts["office1"].id)
    review(report, accounts["office1"], "return", "请补充数据", "2018-10-19")

    soup = page(app, "office1", "/audit?entity=quarterly_returns")

    sentences = [
        (tr.select("td")[1].get_text(strip=True), tr.select_one(".sentence").get_text())
        for tr in soup.select("#audit tbody tr")
    ]
    assert ("办公室 office1", "退回了发改局2018年第三季度完成情况报送表，原因：请补充数据") in sentences
    assert ("发改局 张三", "报送了发改局2018年第三季度完成情况报送表") in sentences
    returned = next(tr for tr in soup.select("#audit tbody tr") if "退回了" in tr.get_text())
    assert "修改截止日期从“空”改为“2018-10-19”" in returned.select_one(".details").get_text()


def test_seeding_the_default_chase_ladder_is_the_systems_act_not_the_office_users(app, accounts):
    page(app, "office1", "/jobs")  # the first visit creates the default ladder

    soup = page(app, "office1", "/audit?entity=chase_steps")

    who = {tr.select("td")[1].get_text(strip=True) for tr in soup.select("#audit tbody tr")}
    assert who == {"系统"}


# --- search (issue 13, item 7) -------------------------------------------------------------------


def hits(soup):
    return {
        ul["data-kind"]: [li.select_one("a").get_text(strip=True) for li in ul.select("li")]
        for ul in soup.select(".search-hits")
    }


@pytest.mark.dates
def test_search_finds_tasks_and_form_text_and_a_department_only_its_own(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-12"
    for name in ("发改局", "财政局"):
        report = quarterly_form(name)
        lines = [{"task_code": line.task.code, "status": "in_progress", "done": ""} for line in report.lines]
        lines[0]["done"] = f"{name}已上线数据开放平台100%"
        save_return(report, {"lines": lines}, report.version)

    office = page(app, "office1", "/search?q=数据开放平台100%")
    fgj = page(app, "fgj1", "/search?q=数据开放平台100%")
    tasks = page(app, "fgj1", "/search?q=负面清单")

    assert sorted(h.split()[0] for h in hits(office)["季度报送表"]) == ["发改局", "财政局"]
    assert [h.split()[0] for h in hits(fgj)["季度报送表"]] == ["发改局"]  # never another department's text
    assert office.select_one(".search-hits mark").get_text() == "数据开放平台100%"
    assert any("负面清单" in h for h in hits(tasks)["工作任务"])
    assert "找到" in page(app, "office1", "/search?q=%25").select_one("#search-summary").get_text()  # % is a letter


# --- the dashboard's filters (issue 13, item 7) -------------------------------------------------------


@pytest.mark.dates
def test_the_dashboard_filters_departments_by_their_state_this_quarter_and_progress_by_section(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-12"
    submit_form("发改局", accounts["fgj1"])
    accepted = submit_form("财政局", accounts["czj1"])
    review(accepted, accounts["office1"], "accept")

    def departments(soup):
        return [tr.select_one("th, td").get_text(strip=True) for tr in soup.select("#matrix tbody tr")]

    waiting = page(app, "office1", "/dashboard?year=2018&quarter=3&state=submitted")
    passed = page(app, "leader1", "/dashboard?year=2018&quarter=3&state=accepted")
    overdue = page(app, "office1", "/dashboard?year=2018&quarter=3&state=overdue")
    section = page(app, "office1", "/dashboard?year=2018&quarter=3&section=1")

    assert departments(waiting) == ["发改局"]
    assert "第三季度“待审核”的 1 个部门" in waiting.select_one("#matrix-count").get_text()
    assert departments(passed) == ["财政局"]
    assert "发改局" not in departments(overdue) and "财政局" not in departments(overdue)
    everyone = QuarterlyReturn.query.filter_by(period_id=quarterly_form("发改局").period_id).count()
    assert len(departments(overdue)) == everyone - 2  # every other department is past the 10 October due date
    assert len(section.select(".section-progress")) == 1


@pytest.mark.dates
def test_a_department_sees_an_application_it_handles_with_its_statutory_deadline(app, accounts):
    from tracker.disclosure.operations import save_application

    app.config["TRACKER_TODAY"] = "2026-03-12"
    save_application(
        None,
        {
            "number": "2026-007",
            "received_on": "2026-02-10",
            "channel": "网络",
            "applicant_type": "自然人",
            "request": "某项目环评批复",
            "department": "发改局",
        },
    )  # due 16 March 2026 (20 working days)

    soup = page(app, "fgj1")

    assert ("依申请公开申请 2026-007 的答复", "还有4天") in owed(soup)
    assert not any("2026-007" in title for title, _ in owed(page(app, "czj1")))  # not another department's


# --- the review's findings ---------------------------------------------------------------------------


@pytest.mark.dates
def test_search_matches_latin_letters_regardless_of_case_without_a_server_error(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-12"
    report = quarterly_form("发改局")
    lines = [{"task_code": line.task.code, "status": "in_progress", "done": ""} for line in report.lines]
    lines[0]["done"] = "已开通 OPEN DATA 平台"
    save_return(report, {"lines": lines}, report.version)

    soup = page(app, "office1", "/search?q=open data")

    assert hits(soup)["季度报送表"] == ["发改局 2018年第三季度 1.1.1"]
    assert soup.select_one(".search-hits mark").get_text() == "OPEN DATA"


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=0001-01-01", "since=2018-02-30"])
def test_audit_days_out_of_range_are_left_out(app, accounts, query):
    assert page(app, "office1", f"/audit?{query}").select("#audit tbody tr")


@pytest.mark.dates
def test_the_leaders_figure_counts_every_overdue_department_though_the_list_shows_ten(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-15"
    everyone = QuarterlyReturn.query.filter_by(period_id=quarterly_form("发改局").period_id).count()

    soup = page(app, "leader1")

    figure = next(c for c in soup.select("#figures .card") if "逾期部门" in c.get_text())
    assert figure.select_one(".fs-3").get_text(strip=True) == str(everyone)
    assert len(soup.select("#most-overdue li")) == 10


def test_the_office_cannot_lock_itself_out(app, accounts):
    office = app.test_client()
    Auth(office).login("office1")
    me = accounts["office1"]
    token = BeautifulSoup(office.get(f"/users/{me.id}").get_data(as_text=True), "html.parser").select_one(
        "input[name=csrf_token]"
    )["value"]

    response = office.post(f"/users/{me.id}/disable", data={"csrf_token": token}, follow_redirects=True)

    assert "不能停用自己的账号或改变自己的角色。" in response.get_data(as_text=True)
    assert accounts["office1"].is_active
    assert office.get("/users").status_code == 200


@pytest.mark.dates
def test_reopening_clears_the_last_returns_line_comments_and_says_reopened(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-12"
    report = submit_form("发改局", accounts["fgj1"])
    review(report, accounts["office1"], "return", "补充", "2018-10-19", {"1.3.1": "请补充数量"})
    submit_return(report, accounts["fgj1"])
    review(report, accounts["office1"], "accept")

    from tracker.workflow import reopen

    reopen(report, accounts["office1"], "电话号码有误", "2018-10-20")

    soup = page(app, "fgj1", f"/returns/{report.id}")
    assert soup.select(".line-comment") == []
    titles = [n.title for n in Notification.query.filter_by(user_id=accounts["fgj1"].id, event="returned")]
    assert titles[-1] == "【重新打开】已通过的2018年第三季度完成情况报送表被重新打开，请修改"


@pytest.mark.dates
def test_a_refused_return_keeps_the_reason_and_line_comments_typed(app, accounts):
    app.config["TRACKER_TODAY"] = "2018-10-12"
    report = submit_form("发改局", accounts["fgj1"])
    office, panel, data, box = return_panel(app, report)

    refused = office.post(
        panel["action"], data={**data, "reason": "部分任务需补充", "due_on": "2030-01-01", box["name"]: "请补充数量"}
    )

    soup = BeautifulSoup(refused.get_data(as_text=True), "html.parser")
    assert "修改截止日期不能晚于一年之后" in soup.get_text()
    assert soup.select_one("#reason")["value"] == "部分任务需补充"
    assert soup.select_one(f'textarea[name="{box["name"]}"]').get_text() == "请补充数量"
    assert quarterly_form("发改局").state.value == "submitted"


@pytest.mark.dates
def test_the_digest_mails_no_disabled_user_and_bulk_accept_counts_each_form_once(app, accounts):
    from tracker.auth.operations import disable_user
    from tracker.handoff import make_digests
    from tracker.models import OutgoingMail

    app.config["TRACKER_TODAY"] = "2018-10-12"
    app.config["MAIL_SERVER"] = "127.0.0.1"  # configured, so mail would be queued
    accounts["office1"].email = "office1@teda.example"
    report = submit_form("发改局", accounts["fgj1"])
    disable_user(accounts["office1"])

    assert make_digests() == 0
    assert OutgoingMail.query.count() == 0

    create = app.test_client()
    from tracker.auth.operations import create_user

    create_user("office2", "office", "correct-horse-9")
    Auth(create).login("office2")
    token = BeautifulSoup(create.get("/").get_data(as_text=True), "html.parser").select_one(
        "#bulk-accept input[name=csrf_token]"
    )["value"]
    response = create.post(
        "/review/accept",
        data={"csrf_token": token, "item": [f"return-{report.id}", f"return-{report.id}"]},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "已审核通过1份。" in text and "不在待审核状态" not in text


@pytest.mark.dates
def test_the_office_landing_needs_the_same_number_of_queries_however_many_forms_wait(app, accounts):

    app.config["TRACKER_TODAY"] = "2018-10-12"
    office = app.test_client()
    Auth(office).login("office1")

    def queries():
        response, statements = counted(lambda: office.get("/"))
        assert response.status_code == 200
        return len(statements)

    submit_form("发改局", accounts["fgj1"])
    one = queries()
    from tracker.auth.operations import create_user

    for n, name in enumerate(("财政局", "商务局", "人社局", "审计局")):
        submit_form(name, create_user(f"dept-user-{n}", "department", "correct-horse-9", department(name)))
    five = queries()

    assert five == one
