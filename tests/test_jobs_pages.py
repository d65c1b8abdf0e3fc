"""Scheduled jobs and chasing (催办) through the pages people use: the jobs page and 立即运行, the chase
ladder, the chase ledger and its download, notices and the bell, the leaders' overdue list, the archive
of periodic spreadsheets, and the nightly clean-up.

The 2018 plan is due: Q3 on 2018-10-10, Q4 on 2019-01-10, the second half on 2019-01-15. A chase as of
2019-01-20 takes the 10-day step for both quarters and the 5-day step for the half-year, and records
the steps it overtook as skipped: for each of the 21 departments, 3 steps sent and 4 + 4 + 3 skipped.
"""

import datetime
import io
from urllib.parse import quote
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from conftest import department, flashes, page_of, period, quarterly_form, soup
from sqlalchemy import select

from tracker.chase.operations import run_chase
from tracker.extensions import db
from tracker.jobs import job_by_id, run_job
from tracker.models import (
    ArchiveFile,
    ChaseEntry,
    ChaseStep,
    HalfYearSummary,
    JobRun,
    Notification,
    PeriodKind,
    SchedulerState,
    StoredFile,
    User,
)
from tracker.returns.operations import save_return, submit_return
from tracker.workflow import review

CHASE_DAY = datetime.date(2019, 1, 20)
SHANGHAI = ZoneInfo("Asia/Shanghai")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FLAGS = ("notify_department", "notify_head", "notify_office", "notify_leaders", "is_active")
DEPARTMENT_ONLY = ("notify_department", "is_active")
DEFAULT_LADDER = [
    (-3, "截止前提醒", DEPARTMENT_ONLY),
    (0, "截止当天提醒", DEPARTMENT_ONLY),
    (1, "逾期通知", DEPARTMENT_ONLY),
    (5, "逾期催办（抄送部门负责人）", ("notify_department", "notify_head", "is_active")),
    (10, "严重逾期（列入领导逾期名单）", FLAGS),
]
SAVED = "催办规则已保存。"


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def plan(app, load_seed):
    """Load the 2018 plan, with today fixed at 2019-01-20."""
    app.config["TRACKER_TODAY"] = CHASE_DAY.isoformat()
    return load_seed()


@pytest.fixture
def chased(plan, account):
    """Sign up office1, fgj1 and fgj2, then chase as of 2019-01-20."""
    for username in ("office1", "fgj1", "fgj2"):
        account(username)
    run_chase(CHASE_DAY)


def text(element):
    return element.get_text(" ", strip=True) if element is not None else None


def token(client):
    """Return a CSRF token from the page the user lands on."""
    page = soup(client.get("/", follow_redirects=True))
    return page.select_one('input[name="csrf_token"]')["value"]


def local(moment):
    """Return a stored moment in Shanghai time (SQLite gives back naive UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)).astimezone(SHANGHAI)


def download(client, url, filename):
    """Download a spreadsheet as ``filename``; return its first sheet."""
    with client.get(url) as response:
        assert response.status_code == 200, response.status_code
        assert response.mimetype == XLSX_MIME
        assert quote(filename) in response.headers["Content-Disposition"]
        return openpyxl.load_workbook(io.BytesIO(response.data)).active


def body_rows(sheet):
    return list(sheet.iter_rows(min_row=4, values_only=True))


def submit(name, quarter, user):
    """Fill in every line of a department's quarterly form and submit it (as the API would)."""
    report = quarterly_form(name, quarter)
    lines = [{"task_code": ln.task.code, "status": "in_progress", "done": "已推进。"} for ln in report.lines]
    header = {"filled_by_name": "王晓明", "filled_by_phone": "022-25201234", "approved_by": "李建国"}
    save_return(report, {**header, "lines": lines}, report.version)
    submit_return(report, user)
    return report


def ladder_rows(page):
    """Return the chase ladder as the jobs page shows it: (offset, name, ticked flags) per step."""
    return [
        (
            int(row.select_one('input[name="offset_days"]')["value"]),
            row.select_one('input[name="name"]')["value"],
            tuple(f for f in FLAGS if row.select_one(f'input[name="{f}"]').has_attr("checked")),
        )
        for row in page.select("#steps tbody tr[data-offset]")
    ]


def ladder_in_db():
    return [
        (s.offset_days, s.name, tuple(f for f in FLAGS if getattr(s, f)))
        for s in ChaseStep.query.order_by(ChaseStep.offset_days)
    ]


def step_form(page, form_id):
    """Return what a browser submits for one row of the ladder (inputs name their form)."""
    form = page.select_one(f"form#{form_id}")
    data = {field["name"]: field["value"] for field in form.select("input")}
    for field in page.select(f'input[form="{form_id}"]'):
        if field.get("type") != "checkbox":
            data[field["name"]] = field.get("value", "")
        elif field.has_attr("checked"):
            data[field["name"]] = field["value"]
    return data


def ledger_rows(page):
    """Return the ledger's rows: (department, period, item, step, result)."""
    rows = []
    for row in page.select("#ledger tr.entry"):
        cells = row.find_all("td", recursive=False)
        item, step = cells[3].contents[0].strip(), cells[4].contents[0].strip()
        rows.append((text(cells[1]), text(cells[2]), item, step, text(cells[8].select_one(".badge"))))
    return rows


def unread_count(page):
    return text(page.select_one("#unread-count"))


def notices_of(username):
    return Notification.query.join(User).filter(User.username == username).order_by(Notification.id).all()


# --- the jobs page --------------------------------------------------------------------------------


@pytest.mark.dates
def test_the_jobs_page_lists_the_jobs_with_their_next_run_in_shanghai_time(app, login):
    office = login("office1")
    # 22:00 UTC on the 19th is 06:00 on the 20th in Shanghai: the chase and the archive run later that
    # day, the clean-up (02:30) the next night.
    app.config["TRACKER_NOW"] = datetime.datetime(2019, 1, 19, 22, 0, tzinfo=datetime.UTC)
    page = page_of(office, "/jobs")

    shown = {
        row["data-job"]: (text(row.strong), text(row.select("td")[1]), text(row.select_one(".next-run")))
        for row in page.select("#jobs tbody tr")
    }
    assert shown == {
        "chase": ("每日催办", "每天 08:30", "2019年1月20日 08:30"),
        "archive": ("定期报表归档", "每天 07:00", "2019年1月20日 07:00"),
        "housekeeping": ("夜间清理", "每天 02:30", "2019年1月21日 02:30"),
        "digest": ("报送动态邮件", "每小时第05分", "2019年1月20日 06:05"),
        "briefs": ("领导简报推送", "每天 08:00", "2019年1月20日 08:00"),
        "backup": ("夜间备份", "每天 02:00", "未启用"),  # until BACKUP_DIR is set
    }
    assert [text(cell) for cell in page.select("#jobs .last-run")] == ["—"] * len(shown)


def test_run_now_runs_the_chase_and_the_page_shows_when_and_how_it_went(plan, login):
    office = login("office1")
    response = office.post("/jobs/chase/run", data={"csrf_token": token(office)}, follow_redirects=True)
    page = soup(response)

    run = JobRun.query.one()
    assert (run.job_id, run.trigger, run.status, run.user.username) == ("chase", "manual", "ok", "office1")
    assert run.summary == "截至2019-01-20：发出催办63项，跳过231项；邮件发送成功0封，失败0封"
    assert ChaseEntry.query.count() == 63 + 231
    assert flashes(page) == [f"“每日催办”已运行：{run.summary}"]
    row = page.select_one('#jobs tr[data-job="chase"]')
    started = local(run.started_at)
    assert (
        text(row.select_one(".last-run"))
        == f"{started.year}年{started.month}月{started.day}日 {started:%H:%M} 手动 · office1"
    )
    assert text(row.select_one(".result")) == f"成功 {run.summary}"
    assert text(page.select_one('#jobs tr[data-job="archive"] .last-run')) == "—"


def test_the_backup_is_not_run_inside_a_web_request(app, login, tmp_path):
    app.config["BACKUP_DIR"] = str(tmp_path)
    office = login("office1")
    page = soup(office.get("/jobs"))
    assert page.select_one('#jobs tr[data-job="backup"] form') is None
    assert "在服务器上运行" in text(page.select_one('#jobs tr[data-job="backup"]'))

    response = office.post("/jobs/backup/run", data={"csrf_token": token(office)}, follow_redirects=True)

    assert flashes(soup(response)) == [
        "“夜间备份”不能在网页上运行，请在服务器上运行 flask --app tracker backup --out 文件名。"
    ]
    assert JobRun.query.count() == 0 and list(tmp_path.iterdir()) == []


def test_an_unknown_job_is_404_and_a_post_without_the_token_runs_nothing(login):
    office = login("office1")
    assert office.post("/jobs/nosuchjob/run", data={"csrf_token": token(office)}).status_code == 404
    refused = soup(office.post("/jobs/housekeeping/run", data={}), status=400)
    assert "页面已过期或请求来源无法验证" in refused.get_text()
    assert JobRun.query.count() == 0


@pytest.mark.parametrize("username", ["leader1", "fgj1"])
def test_leaders_and_departments_may_not_see_or_run_the_jobs(plan, login, username):
    client = login(username)
    csrf = token(client)
    for url in ("/jobs", "/jobs/ledger", "/jobs/ledger.xlsx"):
        assert client.get(url).status_code == 403, url
    assert client.post("/jobs/chase/run", data={"csrf_token": csrf}).status_code == 403
    assert client.post("/jobs/ladder", data={"csrf_token": csrf, "offset_days": "20", "name": "新"}).status_code == 403
    assert (JobRun.query.count(), ChaseEntry.query.count(), ChaseStep.query.count()) == (0, 0, 0)


@pytest.mark.dates
@pytest.mark.parametrize(
    ("beat_ago", "style", "says"),
    [
        (None, "alert-warning", "尚未运行过调度进程。定时任务不会自动执行"),
        (datetime.timedelta(hours=2), "alert-warning", "调度进程未在运行"),
        (datetime.timedelta(seconds=5), "alert-success", "调度进程运行中：worker-1:42"),
    ],
)
def test_the_banner_says_whether_a_scheduler_is_running(app, login, beat_ago, style, says):
    now = datetime.datetime(2019, 1, 16, 2, 0, tzinfo=datetime.UTC)
    app.config["TRACKER_NOW"] = now
    if beat_ago is not None:
        moment = now - beat_ago
        db.session.add(SchedulerState(id=1, holder="worker-1:42", started_at=moment, heartbeat_at=moment))
        db.session.commit()
    banner = page_of(login("office1"), "/jobs").select_one("#scheduler-state")
    assert style in banner["class"]
    assert says in text(banner)


# --- the chase ladder -----------------------------------------------------------------------------


def test_the_default_ladder_of_five_steps_is_created_the_first_time_it_is_shown(login):
    office = login("office1")
    assert ChaseStep.query.count() == 0
    assert ladder_rows(page_of(office, "/jobs")) == DEFAULT_LADDER
    assert ladder_rows(page_of(office, "/jobs")) == DEFAULT_LADDER
    assert ladder_in_db() == DEFAULT_LADDER


def test_the_office_changes_a_step_and_adds_one(login):
    office = login("office1")
    page = page_of(office, "/jobs")
    step = ChaseStep.query.filter_by(offset_days=5).one()
    data = step_form(page, f"step-{step.id}")
    data.update(offset_days="6", name="逾期六天催办", notify_office="1")
    del data["notify_head"]
    page = soup(office.post("/jobs/ladder", data=data, follow_redirects=True))
    assert flashes(page) == [SAVED]

    data = step_form(page, "step-new")
    assert data.keys() == {"csrf_token", "offset_days", "name", *DEPARTMENT_ONLY}
    data.update(offset_days="-7", name="截止前一周提醒")
    del data["is_active"]
    page = soup(office.post("/jobs/ladder", data=data, follow_redirects=True))
    assert flashes(page) == [SAVED]

    expected = [
        (-7, "截止前一周提醒", ("notify_department",)),
        *DEFAULT_LADDER[:3],
        (6, "逾期六天催办", ("notify_department", "notify_office", "is_active")),
        DEFAULT_LADDER[4],
    ]
    assert ladder_rows(page) == expected
    assert ladder_in_db() == expected
    assert ChaseStep.query.filter_by(offset_days=6).one().id == step.id


@pytest.mark.parametrize("row", ["edit", "new"])
@pytest.mark.parametrize(
    ("offset", "name", "message"),
    [
        ("三天", "提醒", "天数须为整数（截止前为负数）。"),
        ("200", "提醒", "天数须在 -30（截止前30天）到 90（逾期90天）之间。"),
        ("2", "  ", "请填写步骤名称（不超过50字）。"),
        ("2", "催" * 51, "请填写步骤名称（不超过50字）。"),
        ("5", "提醒", "已有相同天数的催办步骤。"),
    ],
)
def test_a_bad_step_is_refused_with_a_message_and_nothing_changes(login, row, offset, name, message):
    office = login("office1")
    page = page_of(office, "/jobs")
    form_id = "step-new" if row == "new" else f"step-{ChaseStep.query.filter_by(offset_days=1).one().id}"
    data = {**step_form(page, form_id), "offset_days": offset, "name": name}
    response = office.post("/jobs/ladder", data=data, follow_redirects=True)
    page = soup(response)
    assert response.request.path == "/jobs"
    assert flashes(page) == [message]
    assert ladder_rows(page) == DEFAULT_LADDER
    assert ladder_in_db() == DEFAULT_LADDER


# --- the chase ledger -----------------------------------------------------------------------------


def test_the_ledger_lists_what_the_chase_did_and_its_filters_narrow_the_rows(plan, account, login, runner):
    account("fgj1")
    result = runner.invoke(args=["chase", "--today", "2019-01-20"])
    assert result.exit_code == 0, result.output
    assert "sent 63 step(s), skipped 231" in result.output
    office = login("office1")

    page = page_of(office, "/jobs/ledger")
    assert "共 294 条。" in page.get_text()
    assert len(ledger_rows(page)) == 100  # a page of the ledger

    fgj, q3 = department("发改局"), period(PeriodKind.QUARTER, 3)
    page = page_of(office, f"/jobs/ledger?department={fgj.id}")
    rows = ledger_rows(page)
    assert len(rows) == 14 and {r[0] for r in rows} == {"发改局"}
    assert text(page.select_one('select[name="department"] option[selected]')) == "发改局"

    page = page_of(office, f"/jobs/ledger?department={fgj.id}&period={q3.id}")
    assert sorted(ledger_rows(page)) == sorted(
        ("发改局", "2018年第三季度", "季度完成情况报送表", name, "已发送" if offset == 10 else "已跳过")
        for offset, name, _ in DEFAULT_LADDER
    )

    top = ChaseStep.query.filter_by(offset_days=10).one()
    rows = ledger_rows(page_of(office, f"/jobs/ledger?step={top.id}"))
    assert len(rows) == 42 and {(r[1], r[3], r[4]) for r in rows} == {
        ("2018年第三季度", "严重逾期（列入领导逾期名单）", "已发送"),
        ("2018年第四季度", "严重逾期（列入领导逾期名单）", "已发送"),
    }

    # Departments nobody signed up for: the half-year's 5-day step reached no one.
    rows = ledger_rows(page_of(office, "/jobs/ledger?result=no_recipients"))
    assert len(rows) == 20 and "发改局" not in {r[0] for r in rows}
    assert {r[1:] for r in rows} == {("2018年下半年", "半年工作总结", "逾期催办（抄送部门负责人）", "无接收人")}

    rows = ledger_rows(page_of(office, f"/jobs/ledger?department={fgj.id}&result=skipped"))
    assert len(rows) == 11 and {r[4] for r in rows} == {"已跳过"}


@pytest.mark.parametrize("result", ["sent", "skipped"])
def test_the_ledger_download_holds_the_rows_of_the_filtered_page(chased, login, result):
    office = login("office1")
    page = page_of(office, f"/jobs/ledger?department={department('发改局').id}&result={result}")
    sheet = download(office, page.select_one("#download")["href"], "催办台账_2019-01-20.xlsx")

    assert (sheet["A1"].value, sheet["A2"].value) == ("政务公开工作催办台账", "导出日期：2019-01-20")
    assert [c.value for c in sheet[3]] == [
        *("序号", "催办日期", "部门", "报送期", "事项", "催办步骤"),
        *("截止日期", "接收人", "方式", "结果", "说明"),
    ]
    rows = body_rows(sheet)
    assert [(r[2], r[3], r[4], r[5], r[9]) for r in rows] == ledger_rows(page)
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert len(rows) == {"sent": 3, "skipped": 11}[result]
    entries = ChaseEntry.query.filter_by(department_id=department("发改局").id, result=result)
    assert {r[1] for r in rows} == {local(e.at).date().isoformat() for e in entries}
    if result == "sent":
        q3 = next(r for r in rows if r[3] == "2018年第三季度")
        assert q3[6:9] == (
            "2018-10-10",
            "发改局（站内通知）；发改局（站内通知）；office1（站内通知）；领导逾期名单（名单）",
            "站内通知、逾期名单",
        )
    else:
        assert all(r[10].startswith("该步骤到期时未执行，已由“") for r in rows)


def test_a_department_name_that_looks_like_a_formula_is_downloaded_as_text(plan, login):
    office = login("office1")
    czj = department("财政局")
    edit = page_of(office, f"/departments/{czj.id}/edit")
    data = {"csrf_token": edit.select_one('input[name="csrf_token"]')["value"], "name": "=SUM(1,2)", "aliases": ""}
    assert office.post(f"/departments/{czj.id}/edit", data=data).status_code == 302
    run_chase(CHASE_DAY)

    sheet = download(office, f"/jobs/ledger.xlsx?department={czj.id}", "催办台账_2019-01-20.xlsx")
    assert len(body_rows(sheet)) == 14
    assert {(sheet.cell(row, 3).value, sheet.cell(row, 3).data_type) for row in range(4, 18)} == {("=SUM(1,2)", "s")}


# --- notices and the bell ------------------------------------------------------------------------


def test_a_department_user_follows_a_notice_to_the_missing_form_and_marks_all_read(chased, login):
    fgj = login("fgj1")
    assert unread_count(soup(fgj.get("/", follow_redirects=True))) == "3"
    page = page_of(fgj, "/notifications")
    titles = [text(n.strong) for n in page.select("#notifications .notification")]
    assert titles == [
        "未读 【催办】2018年下半年工作总结已逾期5天",
        "未读 【催办】2018年第四季度完成情况报送表已逾期10天",
        "未读 【催办】2018年第三季度完成情况报送表已逾期102天",
    ]

    links = [n.find_parent("form")["action"] for n in page.select("#notifications .notification")]
    summary = HalfYearSummary.query.filter_by(department_id=department("发改局").id).one()
    # Following a notice's address (a GET: a link, a prefetch) leads there and changes nothing.
    assert fgj.get(links[1]).headers["Location"] == f"/returns/{quarterly_form('发改局', 4).id}"
    assert unread_count(page_of(fgj, "/notifications")) == "3"
    for link, target in (
        (links[2], f"/returns/{quarterly_form('发改局', 3).id}"),
        (links[0], f"/summaries/{summary.id}"),
    ):
        response = fgj.post(link, data={"csrf_token": token(fgj)})
        assert response.status_code == 302 and response.headers["Location"] == target
        assert fgj.get(target).status_code == 200
    page = page_of(fgj, "/notifications")
    assert unread_count(page) == "1"
    assert len(page.select("#notifications .notification.unread")) == 1

    page = soup(fgj.post("/notifications/read", data={"csrf_token": token(fgj)}, follow_redirects=True))
    assert flashes(page) == ["已全部标为已读。"]
    assert unread_count(page) is None
    assert not page.select("#notifications .unread")
    assert all(n.read_at for n in notices_of("fgj1"))
    # Another user's notices are not fgj1's to open, and stay unread.
    for other, count in (("fgj2", "3"), ("office1", "42")):  # the office: 21 departments, two quarters
        notice = notices_of(other)[0]
        assert fgj.get(f"/notifications/{notice.id}").status_code == 404
        assert unread_count(soup(login(other).get("/", follow_redirects=True))) == count


@pytest.mark.dates
def test_an_office_notice_of_a_step_before_the_due_date_does_not_say_overdue(plan, account, login):
    account("fgj1")
    office = login("office1")
    page = page_of(office, "/jobs")
    first = ChaseStep.query.filter_by(offset_days=-3).one()
    data = {**step_form(page, f"step-{first.id}"), "notify_office": "1"}
    assert flashes(soup(office.post("/jobs/ladder", data=data, follow_redirects=True))) == [SAVED]
    run_chase(datetime.date(2018, 10, 7))

    assert [n.title for n in notices_of("fgj1")] == ["【提醒】2018年第三季度完成情况报送表还有3天截止"]
    office_notice = next(n for n in notices_of("office1") if "发改局" in n.title)
    # The form is not overdue and the step does not put anyone on the leaders' list.
    assert "逾期" not in office_notice.title, office_notice.title
    assert "列入领导逾期名单" not in office_notice.body, office_notice.body


# --- the overdue list -----------------------------------------------------------------------------


def overdue_rows(page):
    return {
        row["data-department"]: tuple(text(cell) for cell in row.select("th, td")[1:4])
        for row in page.select("#overdue tr[data-department]")
    }


@pytest.mark.dates
def test_the_overdue_list_names_what_is_open_ten_days_after_its_due_date_until_it_is_submitted(
    app, plan, account, login
):
    fgj1, office_user = account("fgj1"), account("office1")
    app.config["TRACKER_TODAY"] = "2018-10-19"
    run_chase(datetime.date(2018, 10, 19))
    office, leader = login("office1"), login("leader1")
    page = page_of(office, "/overdue")
    assert overdue_rows(page) == {} and "目前没有逾期名单。" in page.get_text()
    assert login("fgj1").get("/overdue").status_code == 403

    app.config["TRACKER_TODAY"] = "2018-10-20"
    run_chase(datetime.date(2018, 10, 20))
    for client in (office, leader):
        rows = overdue_rows(page_of(client, "/overdue"))
        assert len(rows) == 21
        assert rows["发改局"] == ("2018年第三季度完成情况报送表", "2018年10月10日", "10 天")

    submit("发改局", 3, fgj1)
    report = submit("财政局", 3, fgj1)
    review(report, office_user, "accept")
    rows = overdue_rows(page_of(leader, "/overdue"))
    assert len(rows) == 19 and not {"发改局", "财政局"} & rows.keys()


# --- the archive ----------------------------------------------------------------------------------


@pytest.mark.dates
def test_the_archive_job_produces_each_periods_spreadsheets_once_after_its_due_date(app, plan, account, login):
    fgj1 = account("fgj1")
    app.config["TRACKER_TODAY"] = "2018-10-09"
    app.config["TRACKER_NOW"] = datetime.datetime(2018, 10, 9, 2, 0, tzinfo=datetime.UTC)
    submit("发改局", 3, fgj1)
    del app.config["TRACKER_NOW"]
    archive = job_by_id("archive")

    app.config["TRACKER_TODAY"] = "2018-10-11"
    run = run_job(archive, "manual")
    assert (run.status, run.summary) == (
        "ok",
        "生成报表3份：2018年任务分解表（2018年第三季度归档）.xlsx、2018年第三季度完成情况汇总表.xlsx、"
        "2018年第三季度政务公开工作情况简报.xlsx",
    )
    assert run_job(archive, "manual").summary == "生成报表0份"
    assert ArchiveFile.query.count() == 3

    # The fourth quarter (with the year's brief, its last quarter) and the second half-year.
    app.config["TRACKER_TODAY"] = "2019-01-20"
    assert run_job(archive, "manual").summary.startswith("生成报表7份")
    assert run_job(archive, "manual").summary == "生成报表0份"
    assert sorted(db.session.scalars(select(StoredFile.name))) == sorted(a.stored_name for a in ArchiveFile.query)
    assert len(db.session.scalars(select(StoredFile.name)).all()) == 10

    expected = [
        ("2018年下半年", "任务分解表", "2018年任务分解表（2018年下半年归档）.xlsx"),
        ("2018年下半年", "半年工作总结报送情况表", "2018年下半年工作总结报送情况表.xlsx"),
        ("2018年下半年", "领导简报", "2018年下半年政务公开工作情况简报.xlsx"),
        ("2018年第四季度", "任务分解表", "2018年任务分解表（2018年第四季度归档）.xlsx"),
        ("2018年第四季度", "季度完成情况汇总表", "2018年第四季度完成情况汇总表.xlsx"),
        ("2018年第四季度", "领导简报", "2018年第四季度政务公开工作情况简报.xlsx"),
        ("2018年第四季度", "全年领导简报", "2018年政务公开工作情况简报.xlsx"),
        ("2018年第三季度", "任务分解表", "2018年任务分解表（2018年第三季度归档）.xlsx"),
        ("2018年第三季度", "季度完成情况汇总表", "2018年第三季度完成情况汇总表.xlsx"),
        ("2018年第三季度", "领导简报", "2018年第三季度政务公开工作情况简报.xlsx"),
    ]
    for username in ("office1", "leader1"):
        page = page_of(login(username), "/archive")
        rows = page.select("#archive tbody tr")
        assert [(text(r.td), text(r.select("td")[1]), r.a.contents[-1].strip()) for r in rows] == expected

    leader = login("leader1")
    q3 = ArchiveFile.query.filter_by(filename="2018年第三季度完成情况汇总表.xlsx").one()
    sheet = download(leader, f"/archive/{q3.id}", q3.filename)
    assert sheet.title == "完成情况汇总"
    assert sheet["A1"].value == "2018年第三季度政务公开工作完成情况汇总"
    assert sheet["A2"].value.startswith("2018年天津开发区政务公开重点工作安排")
    rows = {r[1]: r[2:] for r in body_rows(sheet) if r[0] != "合计"}
    assert len(rows) == 21
    lines = len(quarterly_form("发改局", 3).lines)
    # Tasks, reported, done, rate, state, submitted at (Shanghai time), timeliness, times returned.
    assert rows["发改局"] == (lines, lines, 0, 0, "已报送", datetime.datetime(2018, 10, 9, 10, 0), "按时", 0)
    assert rows["财政局"][4:] == ("逾期未报", None, "逾期1天未报", 0)
    breakdown = ArchiveFile.query.filter_by(kind="breakdown", period_id=q3.period_id).one()
    sheet = download(leader, f"/archive/{breakdown.id}", breakdown.filename)
    assert sheet["A1"].value.endswith("任务分解表（第三季度进展）")
    assert sheet["G3"].value == "第三季度进展"

    fgj = login("fgj1")
    assert fgj.get("/archive").status_code == 403
    assert fgj.get(f"/archive/{q3.id}").status_code == 403


# --- the nightly clean-up -------------------------------------------------------------------------


@pytest.mark.dates
def test_the_clean_up_removes_read_notices_older_than_keep_days_and_keeps_unread_ones(app, account, login):
    app.config["KEEP_DAYS"] = 30
    user = account("office1")
    now = datetime.datetime(2019, 1, 16, 2, 0, tzinfo=datetime.UTC)
    app.config["TRACKER_NOW"] = now
    ago = {"old read": 40, "recent read": 5, "old unread": None}
    for title, days in ago.items():
        read_at = now - datetime.timedelta(days=days) if days else None
        created = now - datetime.timedelta(days=days or 60)
        db.session.add(Notification(user_id=user.id, title=title, url="/", created_at=created, read_at=read_at))
    db.session.commit()

    run = run_job(job_by_id("housekeeping"), "manual")
    assert run.status == "ok"
    assert run.summary.startswith("清理已读通知1条"), run.summary
    assert sorted(n.title for n in Notification.query) == ["old unread", "recent read"]
    page = page_of(login("office1"), "/notifications")
    assert unread_count(page) == "1"
    assert [text(n.strong) for n in page.select("#notifications .notification")] == ["未读 old unread", "recent read"]


@pytest.mark.parametrize("outcome", ["raises", "rolls back first", "refuses and goes on"])
def test_a_job_run_from_the_page_is_recorded_however_it_ends(plan, login, monkeypatch, outcome):
    """The run's record is committed on its own: a job that fails, or rolls back before writing, or
    meets a refusal it handles (which makes the request keep nothing of its own), still leaves it."""
    import dataclasses

    from tracker import jobs
    from tracker.errors import TrackerError

    def job(run):
        if outcome == "rolls back first":
            db.session.rollback()
        if outcome in ("raises", "rolls back first"):
            raise RuntimeError("the disk is full")
        try:
            raise TrackerError("no brief for a half without quarters")
        except TrackerError:
            return "nothing to do"

    patched = [dataclasses.replace(j, func=job) if j.id == "housekeeping" else j for j in jobs.JOBS]
    monkeypatch.setattr(jobs, "JOBS", patched)
    office = login("office1")
    page = soup(office.post("/jobs/housekeeping/run", data={"csrf_token": token(office)}, follow_redirects=True))

    run = JobRun.query.one()
    assert run.finished_at is not None
    if outcome == "refuses and goes on":
        assert (run.status, run.summary) == ("ok", "nothing to do")
        assert flashes(page) == ["“夜间清理”已运行：nothing to do"]
    else:
        assert (run.status, run.summary) == ("error", "RuntimeError: the disk is full")
        assert flashes(page) == ["“夜间清理”运行出错：RuntimeError: the disk is full"]
