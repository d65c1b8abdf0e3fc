"""Leaders receive the periodic brief without asking: subscriptions, delivery once per subscriber and
brief (SMTP down, two runs at once), the e-mail with its workbook, the web brief, the CLI."""

import datetime
import io

import openpyxl
import pytest
from bs4 import BeautifulSoup
from conftest import FORM_HEADER, Auth, at_once, csrf_token, quarterly_form, soup, start_flask, submit_form
from sqlalchemy.exc import IntegrityError

from tracker.briefs.operations import (
    brief_figures,
    brief_for,
    brief_lines,
    send_briefs,
    set_subscription,
    set_subscription_defaults,
    subscription_of,
)
from tracker.extensions import db
from tracker.jobs import job_by_id, run_job
from tracker.models import ArchiveFile, BriefDelivery, MailState, Notification, OutgoingMail
from tracker.returns.operations import save_return, submit_return
from tracker.workflow import review

DAY = datetime.date
#: The 2018 plan's third-quarter forms fall due on 10 October 2018.
Q3_DUE = DAY(2018, 10, 10)


@pytest.fixture
def office(load_seed, create_user):
    """The 2018 plan; leaders on the defaults, one who opted out, office users; three forms in, one accepted."""
    plan = load_seed()
    people = {
        "leader1": create_user("leader1", "leader", email="leader1@teda.example", display_name="张主任"),
        "leader2": create_user("leader2", "leader", email="leader2@teda.example", display_name="李副主任"),
        "leader3": create_user("leader3", "leader", email="leader3@teda.example", display_name="王副主任"),
        "nomail": create_user("nomail", "leader", display_name="赵副主任"),
        "office1": create_user("office1", "office", email="office1@teda.example"),
        "office2": create_user("office2", "office", email="office2@teda.example"),
    }
    set_subscription(people["leader3"], {})  # opted out of everything
    set_subscription(people["office2"], {"quarter": "1", "by_email": "1"})
    return plan, people


def submit(app, name, day, user=None):
    """Fill in a department's third-quarter form and submit it on ``day`` (10:00 in Tianjin)."""
    app.config["TRACKER_NOW"] = datetime.datetime(day.year, day.month, day.day, 2, 0, tzinfo=datetime.UTC)
    report = submit_form(name, user)
    del app.config["TRACKER_NOW"]
    return report


@pytest.fixture
def season(app, office):
    """发改局 and 财政局 on time (财政局 accepted), 商务局 two days late; everyone else still owes."""
    _, people = office
    submit(app, "发改局", DAY(2018, 10, 8))
    accepted = submit(app, "财政局", DAY(2018, 10, 9))
    review(accepted, people["office1"], "accept")
    submit(app, "商务局", DAY(2018, 10, 12))
    return people


SUBSCRIBED = ("leader1@teda.example", "leader2@teda.example", "office2@teda.example")


def brief_mails(inbox, address):
    return [m for m in inbox.to(address) if "简报" in m["Subject"]]


def attachment(message):
    """Return the (file name, workbook) the message carries."""
    (part,) = list(message.iter_attachments())
    return part.get_filename(), openpyxl.load_workbook(io.BytesIO(part.get_content()))


# --- delivery ------------------------------------------------------------------------------------


@pytest.mark.dates
def test_after_the_due_date_every_subscriber_gets_exactly_one_brief_with_the_workbook(app, season, smtp):
    start, _ = smtp
    inbox = start()

    before = send_briefs(DAY(2018, 10, 10))  # the due date itself: forms may still come in

    assert before.sent == [] and inbox.messages == []

    app.config["TRACKER_TODAY"] = "2018-10-13"  # the scheduler's day: the workbook is made that day
    report = send_briefs(DAY(2018, 10, 13))

    assert sorted(d.user.username for d in report.sent) == ["leader1", "leader2", "nomail", "office2"]
    assert report.mail_sent == 3
    for address in SUBSCRIBED:
        (mail,) = brief_mails(inbox, address)
        assert mail["Subject"] == "【领导简报】2018年第三季度政务公开工作简报"
        name, workbook = attachment(mail)
        assert name == "2018年第三季度政务公开工作情况简报.xlsx"
        assert workbook.worksheets[0]["A1"].value.startswith("2018年第三季度")
    for address in ("leader3@teda.example", "office1@teda.example"):  # opted out; never subscribed
        assert brief_mails(inbox, address) == []

    text = brief_mails(inbox, "leader1@teda.example")[0].get_body(("plain",)).get_content()
    assert text.startswith("张主任：\n\n2018年第三季度政务公开工作简报（截至2018年10月13日）")
    assert "报送率：14%（应报21份，已报3份）" in text
    assert "按时报送率：10%（按时报送2份）" in text
    assert "审核通过：1份" in text
    overdue = next(line for line in text.splitlines() if line.startswith("逾期未报送"))
    assert overdue.startswith("逾期未报送（含退回后逾期未改）的部门（18个）：") and "（逾期3天）" in overdue
    assert overdue.endswith("等18个部门")
    for reported in ("发改局", "财政局", "商务局"):
        assert reported not in overdue
    assert "详细数据见附件《2018年第三季度政务公开工作情况简报.xlsx》（2018年10月13日生成）。" in text
    assert "http://127.0.0.1:5000/briefs/2018-Q3" in text

    # The leader without an address hears of it under the bell, and the office sees why.
    nomail = season["nomail"]
    (notice,) = Notification.query.filter_by(user_id=nomail.id).all()
    assert (notice.title, notice.url) == ("【领导简报】2018年第三季度政务公开工作简报", "/briefs/2018-Q3")
    assert BriefDelivery.query.filter_by(user_id=nomail.id).one().result_zh == "仅站内通知（账号没有邮箱）"

    again = send_briefs(DAY(2018, 10, 13))
    later = send_briefs(DAY(2018, 10, 20))

    assert again.sent == [] and later.sent == []
    assert sum(len(brief_mails(inbox, a)) for a in SUBSCRIBED) == 3
    assert BriefDelivery.query.count() == 4
    assert ArchiveFile.query.filter_by(kind="brief").count() == 1
    # The ledger itself refuses a second delivery of the same brief to the same person.
    first = BriefDelivery.query.first()
    db.session.add(BriefDelivery(user_id=first.user_id, kind=first.kind, scope=first.scope, plan_id=first.plan_id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.dates
def test_with_smtp_down_at_the_first_try_each_subscriber_still_gets_one_brief(app, season, smtp):
    start, _ = smtp

    first = send_briefs(DAY(2018, 10, 11))  # nothing listens yet

    assert first.mail_failed == 3 and first.mail_sent == 0
    failed = OutgoingMail.query.filter(OutgoingMail.attachment_id.isnot(None)).all()
    assert {m.state for m in failed} == {MailState.FAILED}
    assert all("无法连接邮件服务器" in m.last_error for m in failed)
    office_page = Auth(office_client := app.test_client())
    office_page.login("office1")
    table = BeautifulSoup(office_client.get("/briefs/subscribers").get_data(as_text=True), "html.parser")
    assert table.select_one("#deliveries").get_text().count("发送失败（待重试）") == 3

    inbox = start()
    run = run_job(job_by_id("digest"), "manual")  # the next job that sends mail, within the hour

    assert run.status == "ok" and run.summary.endswith("失败0封")
    send_briefs(DAY(2018, 10, 12))  # the next day's run: nothing new, nothing twice
    for address in SUBSCRIBED:
        (mail,) = brief_mails(inbox, address)
        assert attachment(mail)[0] == "2018年第三季度政务公开工作情况简报.xlsx"
    assert {d.result_zh for d in BriefDelivery.query if d.mail} == {"已发送"}


def test_two_runs_at_once_give_each_subscriber_one_brief(app, season, smtp):
    """Two schedulers (or a scheduler and the CLI) start the same day's briefs together."""
    start, _ = smtp
    inbox = start()

    errors = at_once(app, lambda: send_briefs(DAY(2018, 10, 11)))

    assert errors == []
    for address in SUBSCRIBED:
        assert len(brief_mails(inbox, address)) == 1, address
    assert BriefDelivery.query.count() == 4
    assert ArchiveFile.query.filter_by(kind="brief").count() == 1
    for user in season.values():
        assert (
            Notification.query.filter(Notification.user_id == user.id, Notification.title.contains("简报")).count() <= 1
        )


def test_two_processes_sending_at_once_give_each_subscriber_one_brief(app, season, smtp, database_url, tmp_path):
    """Two schedulers on two hosts: two processes, each with its own connections, run the same day's briefs."""
    start, _ = smtp
    inbox = start()
    db.session.commit()
    mail = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(app.config["MAIL_PORT"])}
    runs = start_flask(database_url, tmp_path, "brief", "send", "--today", "2018-10-11", **mail)
    outputs = [run.communicate(timeout=120)[0].decode() for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    sent = [line for output in outputs for line in output.splitlines() if line.startswith("sent ")]
    assert len(sent) == 4, outputs  # each delivery by one process or the other, never both
    for address in SUBSCRIBED:
        assert len(brief_mails(inbox, address)) == 1, address
    db.session.expire_all()
    assert BriefDelivery.query.count() == 4


@pytest.mark.dates
def test_a_brief_is_sent_while_fresh_and_a_late_subscriber_is_not_sent_old_ones(app, office, create_user):
    app.config["BRIEF_CATCH_UP_DAYS"] = 30

    late = send_briefs(Q3_DUE + datetime.timedelta(days=31))

    assert late.briefs == [] and BriefDelivery.query.count() == 0
    last_day = send_briefs(Q3_DUE + datetime.timedelta(days=30), dry_run=True)
    assert [b.scope for b in last_day.briefs] == ["2018-Q3"]

    caught_up = send_briefs(Q3_DUE + datetime.timedelta(days=4))  # the scheduler was down three days

    assert [b.scope for b in caught_up.briefs] == ["2018-Q3", "2018-Q3-W2"]  # nobody takes the weekly
    assert len(caught_up.sent) == 4
    create_user("leader4", "leader", email="leader4@teda.example")
    assert send_briefs(Q3_DUE + datetime.timedelta(days=5)).sent[0].user.username == "leader4"
    assert send_briefs(Q3_DUE + datetime.timedelta(days=6)).sent == []


@pytest.mark.dates
def test_the_half_year_and_year_briefs_follow_their_own_due_dates(app, office):
    # The fourth quarter, the second half-year's summaries and the year all fall due in January 2019.
    report = send_briefs(DAY(2019, 1, 20))

    titles = [b.title for b in report.briefs]
    assert "2018年第四季度政务公开工作简报" in titles
    assert "2018年下半年政务公开工作简报" in titles
    assert "2018年政务公开工作简报" in titles
    leader = office[1]["leader1"]
    assert sorted(d.scope for d in BriefDelivery.query.filter_by(user_id=leader.id)) == ["2018", "2018-H2", "2018-Q4"]
    # office2 asked for quarters only.
    office2 = office[1]["office2"]
    assert [d.scope for d in BriefDelivery.query.filter_by(user_id=office2.id)] == ["2018-Q4"]
    kinds = {a.kind: a.filename for a in ArchiveFile.query}
    assert kinds["year_brief"] == "2018年政务公开工作情况简报.xlsx"
    half = brief_for("2018-H2")
    assert brief_lines(half, brief_figures(half, DAY(2019, 1, 20)))[2] == "（统计第三季度、第四季度的完成情况报送表）"


@pytest.mark.dates
def test_weekly_briefs_go_once_a_week_in_the_reporting_window(app, office):
    leader = office[1]["leader1"]
    set_subscription(leader, {"weekly": "1"})

    sent = {}
    day = Q3_DUE - datetime.timedelta(days=9)
    while day <= Q3_DUE + datetime.timedelta(days=18):
        sent[day] = [d.brief.scope for d in send_briefs(day).sent if d.user.id == leader.id]
        day += datetime.timedelta(days=1)

    got = {day: scopes for day, scopes in sent.items() if scopes}
    assert got == {
        DAY(2018, 10, 3): ["2018-Q3-W1"],
        DAY(2018, 10, 10): ["2018-Q3-W2"],
        DAY(2018, 10, 17): ["2018-Q3-W3"],
        DAY(2018, 10, 24): ["2018-Q3-W4"],
    }
    notices = [n.title for n in Notification.query.filter_by(user_id=leader.id).order_by(Notification.id)]
    assert notices[0] == "【报送周报】2018年第三季度报送进展（第1周）"
    assert "brief_w1" in {a.kind for a in ArchiveFile.query}


def test_bell_only_subscribers_get_no_mail(app, office, smtp):
    start, _ = smtp
    inbox = start()
    set_subscription_defaults({"quarter": "1"})  # leaders: quarters, by the bell only

    send_briefs(DAY(2018, 10, 11))

    assert [m["To"] for _, m in inbox.messages] == ["office2 <office2@teda.example>"]
    leader = office[1]["leader1"]
    assert Notification.query.filter_by(user_id=leader.id).count() == 1


# --- the CLI -------------------------------------------------------------------------------------


def test_a_dry_run_prints_who_would_get_which_brief_and_writes_nothing(runner, office, smtp):
    result = runner.invoke(args=["brief", "send", "--period", "2018-Q3", "--dry-run"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert sorted(line.split("[")[1].split("]")[0] for line in lines if line.startswith("would send")) == [
        "leader1",
        "leader2",
        "nomail",
        "office2",
    ]
    assert any("2018-Q3" in line and "bell + e-mail <leader1@teda.example>" in line for line in lines)
    assert any(line.endswith("[nomail] -> bell (the account has no e-mail address)") for line in lines)
    assert lines[-1].endswith("would send 4")
    assert BriefDelivery.query.count() == Notification.query.count() == ArchiveFile.query.count() == 0


def test_the_cli_sends_a_named_brief_once_and_refuses_one_not_yet_due(app, runner, office):
    app.config["TRACKER_TODAY"] = "2018-10-05"
    early = runner.invoke(args=["brief", "send", "--period", "2018-Q3"])
    assert early.exit_code != 0
    assert "the 2018-Q3 brief falls due on 2018-10-11" in early.output and "nothing was sent" in early.output

    app.config["TRACKER_TODAY"] = "2018-12-01"  # long after: the office sends it by hand
    sent = runner.invoke(args=["brief", "send", "--period", "2018-q3"])
    again = runner.invoke(args=["brief", "send", "--period", "2018-Q3"])

    assert sent.exit_code == 0, sent.output
    assert sum(line.startswith("sent ") for line in sent.output.splitlines()) == 4
    assert "sent 0" in again.output.splitlines()[-1]
    for bad in ("2018-Q5", "18Q3", "2030"):
        result = runner.invoke(args=["brief", "send", "--period", bad])
        assert result.exit_code != 0 and "Error:" in result.output, bad
    assert BriefDelivery.query.count() == 4


def test_brief_show_prints_the_text_body(app, runner, season):
    result = runner.invoke(args=["brief", "show", "--period", "2018-Q3", "--today", "2018-10-13"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "2018年第三季度政务公开工作简报（截至2018年10月13日）"
    assert lines[2:5] == ["报送率：14%（应报21份，已报3份）", "按时报送率：10%（按时报送2份）", "审核通过：1份"]
    assert lines[5].startswith("逾期未报送（含退回后逾期未改）的部门（18个）：")
    # Every line the season's forms report is done: no section is behind the whole.
    assert lines[6] == "各部分任务完成率均不低于总体完成率（100%）。"


# --- the web brief and the subscriptions --------------------------------------------------------------


def signed_in(app, username):
    client = app.test_client()
    Auth(client).login(username)
    return client


def test_the_web_brief_shows_figures_chart_and_departments_ranked_by_on_time_rate(app, season):
    app.config["TRACKER_TODAY"] = "2018-10-13"
    page = soup(signed_in(app, "leader1").get("/briefs/2018-Q3"))

    assert page.h1.get_text(strip=True) == "2018年第三季度政务公开工作简报"
    figures = page.select_one("#figures").get_text(" ", strip=True)
    assert "报送率 14% 已报 3 / 应报 21" in figures and "审核通过 1" in figures
    chart = page.select_one("svg#section-chart")
    assert chart["role"] == "img" and len(chart.select("rect.bar")) >= 1
    assert chart.desc.get_text().startswith("一、")
    ranking = [li.select("span")[1].get_text(strip=True) for li in page.select("#ranking li")]
    assert set(ranking[:2]) == {"发改局", "财政局"}
    assert ranking[2] == "商务局"  # late: 0% on time, but ahead of those that have not reported
    assert page.select_one("#ranking li").get_text(" ", strip=True).endswith("100% 1/1")
    overdue = next(c for c in page.select("#figures .card") if "逾期部门" in c.get_text())
    assert overdue.select_one(".fs-3").get_text(strip=True) == "18"
    assert "财政局" not in page.select_one("#overdue-list").text


def test_only_leaders_and_the_office_read_briefs(app, office, create_user):
    create_user("fgj1", "department", "发改局")
    department = signed_in(app, "fgj1")
    for path in ("/briefs/", "/briefs/2018-Q3", "/briefs/subscription", "/briefs/subscribers"):
        assert department.get(path).status_code == 403, path
    leader = signed_in(app, "leader1")
    assert leader.get("/briefs/subscribers").status_code == 403
    assert leader.get("/briefs/2018-Q9").status_code == 404
    assert leader.get("/briefs/1999").status_code == 404


def test_a_leader_unsubscribes_on_the_page_and_gets_no_brief(app, office):
    client = signed_in(app, "leader1")
    page = soup(client.get("/briefs/subscription"))
    assert page.select_one("#sub-quarter").has_attr("checked")  # the office's defaults

    response = client.post(
        "/briefs/subscription",
        data={"csrf_token": csrf_token(str(page)), "action": "save", "half": "1", "by_email": "1"},
        follow_redirects=True,
    )

    assert "简报订阅已保存" in response.get_data(as_text=True)
    forged = client.post("/briefs/subscription", data={"action": "reset"})
    assert forged.status_code == 400  # no CSRF token: refused, the choice stands
    assert subscription_of(office[1]["leader1"]).source == "own"
    report = send_briefs(DAY(2018, 10, 11))
    assert "leader1" not in {d.user.username for d in report.sent}
    assert "leader2" in {d.user.username for d in report.sent}


def test_the_office_sets_the_defaults_and_sees_who_gets_what(app, office):
    client = signed_in(app, "office1")
    page = soup(client.get("/briefs/subscribers"))
    rows = {
        r.td.get_text(strip=True): [td.get_text(" ", strip=True) for td in r.select("td")]
        for r in page.select("#subscribers tbody tr")
    }
    assert rows["张主任"][2:4] == ["季度简报、半年简报、全年简报", "站内通知和邮件"]
    assert rows["张主任"][5] == "默认订阅"
    assert rows["王副主任"][2] == "不接收" and rows["王副主任"][5] == "本人设置"
    assert rows["赵副主任"][4] == "无邮箱，仅站内通知"
    assert rows["office1"][2] == "不接收" and rows["office1"][5] == "未订阅"

    client.post(
        "/briefs/subscribers",
        data={"csrf_token": csrf_token(str(page)), "quarter": "1", "weekly": "1", "by_email": "1"},
    )

    rows = {
        r.td.get_text(strip=True): [td.get_text(" ", strip=True) for td in r.select("td")]
        for r in soup(client.get("/briefs/subscribers")).select("#subscribers tbody tr")
    }
    assert rows["张主任"][2] == "季度简报、报送周报"
    assert rows["王副主任"][2] == "不接收"  # their own choice stands


# --- what a brief says, in the harder cases --------------------------------------------------------


def test_a_weekly_brief_before_the_due_date_counts_every_form_and_names_who_has_not_reported(app, office):
    submit(app, "发改局", DAY(2018, 10, 2))
    brief = brief_for("2018-Q3")

    lines = brief_lines(brief, brief_figures(brief, DAY(2018, 10, 5)))

    assert lines[0] == "2018年第三季度政务公开工作简报（截至2018年10月5日）（报送尚未截止，数据随报送更新）"
    assert lines[2] == "报送率：5%（应报21份，已报1份）"  # not 100%: every form is expected
    assert lines[3] == "按时报送率：5%（按时报送1份）"
    waiting = lines[5]
    assert waiting.startswith("尚未报送的部门（20个）：") and "发改局" not in waiting
    assert not any(line.startswith("逾期") for line in lines)  # nobody is late before the due date


def test_a_returned_form_past_its_new_date_is_named_as_late_though_it_was_reported(app, office):
    people = office[1]
    report = submit(app, "发改局", DAY(2018, 10, 8))
    app.config["TRACKER_TODAY"] = "2018-10-11"
    review(report, people["office1"], "return", reason="请补充数据。", due_on=DAY(2018, 10, 15))
    brief = brief_for("2018-Q3")

    figures = brief_figures(brief, DAY(2018, 10, 20))
    lines = brief_lines(brief, figures)

    assert lines[2] == "报送率：5%（应报21份，已报1份）" and lines[3] == "按时报送率：5%（按时报送1份）"
    assert lines[5].startswith("逾期未报送（含退回后逾期未改）的部门（21个）：")
    assert {"department": "发改局", "forms": 1, "days": 5} in figures["overdue"]


def test_the_sections_behind_are_those_done_at_a_lower_rate_than_all_together(app, office):
    report = quarterly_form("发改局")
    lines = [
        {"task_code": line.task.code, "status": "done" if n % 2 else "in_progress", "done": "进行中。"}
        for n, line in enumerate(report.lines)
    ]
    save_return(report, {**FORM_HEADER, "lines": lines}, report.version)
    submit_return(report, None)
    brief = brief_for("2018-Q3")

    figures = brief_figures(brief, DAY(2018, 10, 13))
    text = brief_lines(brief, figures)

    reported = [s for s in figures["sections"] if s["lines"]]
    overall = figures["completion"]
    expected = sorted((s for s in reported if s["percent"] < overall), key=lambda s: (s["percent"], s["id"]))[:3]
    assert expected, "the form leaves some section behind"
    assert [s["label"] for s in figures["behind"]] == [s["label"] for s in expected]
    assert text[6] == f"完成率低于总体完成率（{overall}%）的部分：" + "；".join(
        f"{s['label']}（{s['percent']}%）" for s in expected
    )


def test_a_half_year_without_quarters_has_no_brief_and_breaks_nothing(app, office):
    from tracker.models import PeriodKind, ReportingPeriod

    for quarter in ReportingPeriod.query.filter_by(kind=PeriodKind.QUARTER):
        db.session.delete(quarter)
    db.session.commit()

    report = send_briefs(DAY(2019, 1, 20))

    assert report.briefs == [] and BriefDelivery.query.count() == 0
    leader = signed_in(app, "leader1")
    assert leader.get("/briefs/2018-H2").status_code == 404
    assert leader.get("/briefs/").status_code == 200


def test_a_disabled_leader_gets_no_brief_and_equal_rates_share_a_rank(app, season):
    from tracker.auth.operations import disable_user

    disable_user(season["leader2"])

    report = send_briefs(DAY(2018, 10, 13))

    assert "leader2" not in {d.user.username for d in report.sent}
    brief = brief_for("2018-Q3")
    ranking = brief_figures(brief, DAY(2018, 10, 13))["ranking"]
    assert [(r["department"], r["rank"]) for r in ranking[:2]] in (
        [("发改局", 1), ("财政局", 1)],
        [("财政局", 1), ("发改局", 1)],
    )
    assert ranking[2]["rank"] == 3 and ranking[2]["department"] == "商务局"


def test_the_briefs_page_lists_each_brief_of_the_year_in_the_order_they_fall_due(app, office):
    app.config["TRACKER_TODAY"] = "2018-12-01"
    page = soup(signed_in(app, "leader1").get("/briefs/"))

    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in page.select("#year-2018 ~ div tbody tr")]
    assert rows == [
        ["2018年第三季度政务公开工作简报", "2018年10月11日", "已到期"],
        ["2018年第四季度政务公开工作简报", "2019年1月11日", "报送中"],
        ["2018年政务公开工作简报", "2019年1月11日", "报送中"],
        ["2018年下半年政务公开工作简报", "2019年1月16日", "报送中"],
    ]
    assert page.select_one("#year-2018 ~ div a")["href"] == "/briefs/2018-Q3"
