"""The chase (催办): who is reminded of what, when, once; e-mail over a real SMTP server on loopback.

The 2018 plan's third quarter is due on 2018-10-10, the fourth on 2019-01-10 and the second
half-year's summary on 2019-01-15. The default ladder: 3 days before, on the day, 1, 5 and 10
days overdue (5: also the department head; 10: the office and the leaders' overdue list).
"""

import datetime
import smtplib
import time

import pytest
from conftest import Inbox, at_once, department, half_year_summary, quarterly_form, start_flask
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tracker.chase.operations import run_chase
from tracker.extensions import db
from tracker.models import (
    ChaseEntry,
    ChaseItem,
    ChaseResult,
    ChaseStep,
    HalfYearSummary,
    LineStatus,
    MailState,
    Notification,
    OutgoingMail,
    QuarterlyReturn,
    ReturnState,
    User,
)
from tracker.returns.operations import save_and_submit
from tracker.summaries.operations import save_and_submit_summary
from tracker.workflow import review

HEADER = {"filled_by_name": "王晓明", "filled_by_phone": "022-25201234", "approved_by": "李建国"}
DAY = datetime.date


# --- helpers ------------------------------------------------------------------------------


def submit_form(app, name, quarter, user):
    report = quarterly_form(name, quarter)
    lines = [{"task_code": line.task.code, "status": "done", "done": "已按要求完成。"} for line in report.lines]
    app.config["TRACKER_TODAY"] = "2019-01-05"
    save_and_submit(report, {**HEADER, "lines": lines}, report.version, user)
    return report


def submit_summary(app, name, user):
    item = half_year_summary(name)
    app.config["TRACKER_TODAY"] = "2019-01-12"
    data = {"text": "上半年工作总结……", **HEADER}
    save_and_submit_summary(item, data, item.version, user)
    return item


@pytest.fixture
def plan2018(load_seed, create_user):
    """The 2018 plan with a user for every department (dept-<id>) and an office user."""
    plan = load_seed()
    office = create_user("office1", "office", email="office1@teda.example")
    users = {}
    for d in sorted({r.department for r in QuarterlyReturn.query}, key=lambda d: d.id):
        users[d.name] = create_user(f"dept{d.id}", "department", d, email=f"dept{d.id}@teda.example")
    return plan, office, users


def sent_lines(output):
    """Return (department, period, item) of each 'sent' line the CLI printed."""
    found = set()
    for line in output.splitlines():
        if line.startswith("sent "):
            parts = line.split()
            found.add((parts[1], parts[2], parts[3]))
    return found


# --- the acceptance run ---------------------------------------------------------------------


@pytest.mark.dates
def test_chase_on_2019_01_20_reminds_exactly_who_has_not_reported_and_a_second_run_sends_nothing(app, runner, plan2018):
    _, office, users = plan2018
    for name in ("发改局", "财政局", "商务局"):
        submit_summary(app, name, users[name])
    submit_form(app, "发改局", 3, users["发改局"])
    submit_form(app, "发改局", 4, users["发改局"])
    accepted = submit_form(app, "财政局", 4, users["财政局"])
    app.config["TRACKER_TODAY"] = "2019-01-06"
    review(accepted, office, "accept")
    app.config.pop("TRACKER_TODAY")

    result = runner.invoke(args=["chase", "--today", "2019-01-20"])

    assert result.exit_code == 0, result.output
    open_summaries = {s.department.name for s in HalfYearSummary.query if s.state is ReturnState.DRAFT}
    open_forms = {(r.department.name, r.period.label) for r in QuarterlyReturn.query if r.is_editable}
    expected = {(name, "2018年下半年", "summary") for name in open_summaries} | {
        (name, label, "return") for name, label in open_forms
    }
    assert sent_lines(result.output) == expected
    assert "发改局" not in open_summaries and ("发改局", "2018年第三季度") not in open_forms
    assert ("财政局", "2018年第四季度") not in open_forms and ("财政局", "2018年第三季度") in open_forms
    # Each department user got one reminder per open item; those who reported everything got none
    # (财政局 was also told its fourth-quarter form was accepted: a hand-off notice, not a reminder).
    fgj = users["发改局"]
    assert Notification.query.filter_by(user_id=fgj.id, event="").count() == 0
    czj = users["财政局"]
    reminders = Notification.query.filter_by(user_id=czj.id, event="")
    assert [n.url for n in reminders] == [f"/returns/{quarterly_form('财政局', 3).id}"]
    assert [n.title for n in Notification.query.filter_by(user_id=czj.id, event="accepted")] == [
        "【审核通过】2018年第四季度完成情况报送表已审核通过"
    ]
    assert "summary" in result.output and f"sent {len(expected)} step(s)" in result.output

    again = runner.invoke(args=["chase", "--today", "2019-01-20"])

    assert again.exit_code == 0, again.output
    assert sent_lines(again.output) == set()
    assert "sent 0 step(s), skipped 0" in again.output
    assert Notification.query.filter_by(user_id=czj.id, event="").count() == 1


def test_a_dry_run_prints_what_it_would_send_and_writes_nothing(runner, plan2018):
    result = runner.invoke(args=["chase", "--today", "2019-01-20", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "would send" in result.output and "would send 0" not in result.output
    assert ChaseEntry.query.count() == 0 and Notification.query.count() == 0
    assert ChaseStep.query.count() == 0  # not even the default ladder was saved


def test_a_bad_date_is_refused_in_english(runner, plan2018):
    result = runner.invoke(args=["chase", "--today", "2019-13-01"])

    assert result.exit_code == 2
    assert "Invalid value for '--today'" in result.output
    assert ChaseEntry.query.count() == 0


# --- the ladder -----------------------------------------------------------------------------


def entries_for(name, item=ChaseItem.SUMMARY):
    return ChaseEntry.query.filter_by(department_id=department(name).id, item=item).order_by(ChaseEntry.id).all()


def test_each_step_is_sent_on_its_day_and_only_once(plan2018):
    _, _, users = plan2018
    user = users["发改局"]
    steps_by_day = {}
    for day in range(1, 31):
        run_chase(DAY(2019, 1, day))
        steps_by_day[day] = [e.step.offset_days for e in entries_for("发改局")]

    # Due 2019-01-15: 3 days before (12th), on the day (15th), 1, 5 and 10 days overdue.
    assert steps_by_day[11] == []
    assert steps_by_day[12] == [-3]
    assert steps_by_day[15] == [-3, 0]
    assert steps_by_day[16] == [-3, 0, 1]
    assert steps_by_day[20] == [-3, 0, 1, 5]
    assert steps_by_day[30] == [-3, 0, 1, 5, 10]
    assert {e.result for e in entries_for("发改局")} == {ChaseResult.SENT}
    titles = [
        n.title
        for n in Notification.query.filter_by(user_id=user.id, url=f"/summaries/{half_year_summary('发改局').id}")
    ]
    assert len(titles) == 5
    assert titles[0] == "【提醒】2018年下半年工作总结还有3天截止"
    assert titles[-1] == "【催办】2018年下半年工作总结已逾期10天"


@pytest.mark.dates
def test_steps_that_fell_due_while_nothing_ran_are_skipped_and_only_the_latest_is_sent(plan2018):
    _, office, users = plan2018

    run_chase(DAY(2019, 1, 27))  # 12 days after the summary's due date: nothing ran before

    entries = entries_for("发改局")
    assert [(e.step.offset_days, e.result) for e in entries] == [
        (-3, ChaseResult.SKIPPED),
        (0, ChaseResult.SKIPPED),
        (1, ChaseResult.SKIPPED),
        (5, ChaseResult.SKIPPED),
        (10, ChaseResult.SENT),
    ]
    assert "已由“严重逾期（列入领导逾期名单）”取代" in entries[0].detail
    notices = Notification.query.filter_by(
        user_id=users["发改局"].id, url=f"/summaries/{half_year_summary('发改局').id}"
    )
    assert notices.count() == 1
    # The last step tells the office too.
    office_titles = [n.title for n in Notification.query.filter_by(user_id=office.id)]
    assert "【催办】发改局2018年下半年工作总结已逾期12天" in office_titles


@pytest.mark.dates
def test_the_chase_stops_once_submitted(app, plan2018):
    _, _, users = plan2018
    run_chase(DAY(2019, 1, 12))
    submit_summary(app, "发改局", users["发改局"])

    run_chase(DAY(2019, 1, 30))

    assert [e.step.offset_days for e in entries_for("发改局")] == [-3]


@pytest.mark.dates
def test_a_returned_form_is_chased_again_against_its_new_due_date(app, plan2018):
    _, office, users = plan2018
    report = submit_form(app, "发改局", 4, users["发改局"])
    app.config["TRACKER_TODAY"] = "2019-01-08"
    review(report, office, "return", "请补充4.1的公开数据。", "2019-01-25")

    run_chase(DAY(2019, 1, 24))
    run_chase(DAY(2019, 1, 26))

    entries = [e for e in entries_for("发改局", ChaseItem.RETURN) if e.period.number == 4]
    assert [(e.round, e.due_on, e.step.offset_days, e.result) for e in entries] == [
        (1, DAY(2019, 1, 25), -3, ChaseResult.SENT),
        (1, DAY(2019, 1, 25), 0, ChaseResult.SKIPPED),
        (1, DAY(2019, 1, 25), 1, ChaseResult.SENT),
    ]
    notice = Notification.query.filter_by(user_id=users["发改局"].id, url=f"/returns/{report.id}").all()[-1]
    assert notice.title == "【催办】2018年第四季度完成情况报送表（退回修改）已逾期1天"
    assert "退回原因：请补充4.1的公开数据。" in notice.body


def test_the_notice_says_exactly_what_is_missing(plan2018):
    report = quarterly_form("发改局", 4)
    report.lines[0].status = LineStatus.DONE
    report.lines[0].done = "已完成。"
    report.filled_by_name = "王晓明"
    db.session.commit()

    run_chase(DAY(2019, 1, 11))

    body = Notification.query.filter_by(url=f"/returns/{report.id}").one().body
    codes = "、".join(line.task.code for line in report.lines[1:])
    missing = f"{len(report.lines) - 1}项任务未填写完成情况（任务{codes}）；未填写联系电话；未填写审核人"
    assert f"尚缺内容：{missing}。" in body
    assert body.startswith("贵部门的2018年第四季度完成情况报送表尚未报送，已于2019年1月10日截止，已逾期1天。")


def test_what_the_chase_says_is_missing_is_what_submitting_refuses(plan2018):
    """The chase reads many forms' gaps in one query; it must name the lines the submit check names."""
    from tracker.returns.operations import lacking_tasks, missing_for_submit

    report = quarterly_form("商务局", 4)
    assert len(report.lines) >= 3
    first, second, third = report.lines[:3]
    first.status, first.done = LineStatus.DONE, "已完成。"
    second.status, second.done = LineStatus.NOT_STARTED, ""  # not started: no 完成情况 needed
    third.status, third.done = LineStatus.IN_PROGRESS, ""  # started, nothing said
    db.session.commit()

    errors = missing_for_submit(report)
    refused = sorted(v.split("task ")[-1].rstrip(")") for k, v in errors.items() if k.startswith("lines["))

    assert sorted(lacking_tasks([report.id])[report.id]) == refused
    assert third.task.code in refused and first.task.code not in refused and second.task.code not in refused


def test_a_department_without_users_is_recorded_as_having_nobody_to_tell(load_seed):
    load_seed()

    run_chase(DAY(2019, 1, 16))

    entry = entries_for("发改局")[-1]
    assert entry.result is ChaseResult.NO_RECIPIENTS
    assert entry.recipients == []


def test_the_database_refuses_a_second_row_for_the_same_step(plan2018):
    run_chase(DAY(2019, 1, 16))
    entry = entries_for("发改局")[-1]
    db.session.add(
        ChaseEntry(
            department_id=entry.department_id,
            period_id=entry.period_id,
            item=entry.item,
            round=entry.round,
            step_id=entry.step_id,
            due_on=entry.due_on,
            run_on=entry.run_on,
            recipients=[],
            result=ChaseResult.SENT,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_two_runs_at_once_send_each_step_once(app, plan2018):
    """Two chases started together (two processes, say): every step goes out once, whoever wins it."""
    errors = at_once(app, lambda: run_chase(DAY(2019, 1, 16)))

    assert errors == []
    keys = [(e.department_id, e.period_id, e.item, e.round, e.step_id) for e in ChaseEntry.query]
    assert len(keys) == len(set(keys)) > 0
    user = User.query.filter_by(username=f"dept{department('发改局').id}").one()
    urls = [n.url for n in Notification.query.filter_by(user_id=user.id)]
    assert len(urls) == len(set(urls))


@pytest.mark.postgres  # SQLite serialises writers; here two processes claim the same rows at once
def test_two_chase_processes_started_together_send_each_step_once(app, plan2018, database_url, tmp_path):
    from tracker.chase.operations import ladder

    ladder()  # the default ladder is in place, as after the first run
    db.session.commit()
    # Hold the ledger against writers (readers pass) until both runs have read it and wait to claim:
    # then they claim the same rows at the same moment, however long each took to start.
    gate = db.engine.connect()
    gate.begin()
    gate.exec_driver_sql("LOCK TABLE chase_entries IN SHARE ROW EXCLUSIVE MODE")
    runs = start_flask(database_url, tmp_path, "chase", "--today", "2019-01-16")
    try:
        waiting = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO%chase_entries%'"
        )
        deadline = time.monotonic() + 60
        while db.session.execute(text(waiting)).scalar() < 2 and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.05)
        both_waited = db.session.execute(text(waiting)).scalar() == 2
        db.session.rollback()
    finally:
        gate.rollback()
        gate.close()
    outputs = [run.communicate(timeout=120)[0].decode() for run in runs]

    assert both_waited, outputs
    assert [run.returncode for run in runs] == [0, 0], outputs
    said = [line.split(None, 1) for output in outputs for line in output.splitlines()]
    sent = [rest for verb, rest in said if verb == "sent"]
    assert any(verb == "already" for verb, _ in said)  # the loser found the steps taken
    db.session.expire_all()
    entries = ChaseEntry.query.all()
    delivered = [e for e in entries if e.result is not ChaseResult.SKIPPED]
    assert len(sent) == len(set(sent)) == len(delivered) > 0  # each step by one process, never both
    notices = [(n.user_id, n.entry_id) for n in Notification.query]
    assert (
        len(notices) == len(set(notices)) == sum(1 for e in delivered for r in e.recipients if r["channel"] == "in_app")
    )


def test_an_item_another_run_holds_a_step_of_is_left_whole_to_the_next_run(app, plan2018, monkeypatch):
    """A run that planned from an older view of the ledger sends nothing for an item another run chased."""
    import tracker.chase.operations as chase

    run_chase(DAY(2018, 10, 11))  # the Q3 forms: one day overdue
    sent_before = {(e.department_id, e.step_id) for e in ChaseEntry.query}
    notices_before = Notification.query.count()
    monkeypatch.setattr(chase, "_taken", lambda *ids: {})  # as if it read the ledger before that run wrote it

    stale = run_chase(DAY(2018, 10, 15))

    assert stale.actions and {a.kind for a in stale.actions if a.period == "2018年第三季度"} == {"taken"}
    assert {(e.department_id, e.step_id) for e in ChaseEntry.query} == sent_before  # nothing of its own kept
    assert Notification.query.count() == notices_before
    monkeypatch.undo()

    fresh = run_chase(DAY(2018, 10, 15))

    assert {a.step for a in fresh.sent} == {"逾期催办（抄送部门负责人）"}
    assert len(fresh.sent) == len({d for d, _ in sent_before})


def test_a_chase_reads_the_same_number_of_times_however_much_is_due(app, plan2018, smtp):
    """Six departments' forms of one quarter, or every department's forms and summaries of three periods
    with skipped steps, e-mail included: the same statements."""
    from conftest import counted

    from tracker.chase.operations import ladder

    start, _ = smtp
    inbox = start()
    _, _, users = plan2018
    for name in sorted(users)[6:]:  # all but six departments have reported the third quarter
        submit_form(app, name, 3, users[name])
    app.config.pop("TRACKER_TODAY", None)
    ladder()  # the default ladder is written the first time it is read
    db.session.commit()
    db.session.expire_all()

    small, few = counted(lambda: run_chase(DAY(2018, 10, 12)))
    db.session.expire_all()
    large, many = counted(lambda: run_chase(DAY(2019, 1, 20)))

    assert len({a.department for a in small.sent}) == 6
    assert len({a.department for a in large.sent}) == len(users)
    assert len({a.period for a in large.actions}) == 3 and large.skipped
    assert 0 < small.mail_sent < large.mail_sent and len(inbox.messages) == small.mail_sent + large.mail_sent
    assert len(many) == len(few), "\n".join(many)


# --- e-mail over SMTP ----------------------------------------------------------------------------


def test_reminders_reach_the_department_and_at_5_days_its_head_by_email(plan2018, smtp):
    start, _ = smtp
    inbox = start()
    fgj = department("发改局")
    fgj.head_name, fgj.head_email = "李建国", "head-fgj@teda.example"
    db.session.commit()
    user = User.query.filter_by(username=f"dept{fgj.id}").one()

    run_chase(DAY(2019, 1, 16))  # the summary is 1 day overdue
    assert [m["Subject"] for m in inbox.to(user.email) if "工作总结" in m["Subject"]] == [
        "【催办】2018年下半年工作总结已逾期1天"
    ]
    # The overdue quarterly forms (6 and 98 days) reach the head already; the summary not yet.
    assert sorted(m["Subject"] for m in inbox.to("head-fgj@teda.example")) == [
        "【催办】2018年第三季度完成情况报送表已逾期98天",
        "【催办】2018年第四季度完成情况报送表已逾期6天",
    ]

    run_chase(DAY(2019, 1, 20))  # 5 days overdue: the head too

    to_head = [m for m in inbox.to("head-fgj@teda.example") if "工作总结" in m["Subject"]]
    assert [m["Subject"] for m in to_head] == ["【催办】2018年下半年工作总结已逾期5天"]
    message = to_head[0]
    assert str(message["To"]) == "李建国 <head-fgj@teda.example>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"http://127.0.0.1:5000/summaries/{half_year_summary('发改局').id}"
    assert text.startswith("发改局：")
    assert "贵部门的2018年下半年工作总结尚未报送，已于2019年1月15日截止，已逾期5天。" in text
    assert "尚缺内容：未填写填报人；未填写联系电话；未填写审核人；未填写总结内容或总结文件。" in text
    assert link in text and f'href="{link}"' in html
    # Other departments' people got their own reminders, not 发改局's.
    other = User.query.filter_by(username=f"dept{department('财政局').id}").one()
    assert all("发改局" not in m.get_body(("plain",)).get_content() for m in inbox.to(other.email))
    entry = entries_for("发改局")[-1]
    assert entry.result is ChaseResult.SENT
    assert {r["channel"] for r in entry.recipients} == {"in_app", "email"}


def test_with_the_server_down_sends_are_recorded_as_failed_and_delivered_by_the_next_run(plan2018, smtp):
    start, _ = smtp
    user = User.query.filter_by(username=f"dept{department('发改局').id}").one()

    run_chase(DAY(2019, 1, 16))  # no server listening yet

    entry = entries_for("发改局")[-1]
    assert entry.result is ChaseResult.FAILED
    assert "邮件发送失败" in entry.detail and "下次运行时重试" in entry.detail
    failed = OutgoingMail.query.filter_by(to_address=user.email).all()
    # Three reminders for 发改局's user: the summary and the two overdue quarterly forms.
    assert [(m.state, m.attempts) for m in failed] == [(MailState.FAILED, 1)] * 3
    assert "无法连接邮件服务器" in failed[0].last_error
    # The in-app notice went out regardless.
    assert Notification.query.filter_by(user_id=user.id).count() > 0

    inbox = start()
    run_chase(DAY(2019, 1, 16))  # same day: no new step, but the queued mail goes

    assert [m["Subject"] for m in inbox.to(user.email) if "工作总结" in m["Subject"]] == [
        "【催办】2018年下半年工作总结已逾期1天"
    ]
    db.session.expire_all()
    assert entries_for("发改局")[-1].result is ChaseResult.SENT
    assert OutgoingMail.query.filter(OutgoingMail.state != MailState.SENT).count() == 0

    run_chase(DAY(2019, 1, 16))
    assert len([m for m in inbox.to(user.email) if "工作总结" in m["Subject"]]) == 1


def test_one_refused_address_does_not_stop_the_others(plan2018, smtp):
    start, _ = smtp
    bad = User.query.filter_by(username=f"dept{department('发改局').id}").one()
    good = User.query.filter_by(username=f"dept{department('财政局').id}").one()
    inbox = start(Inbox(refuse={bad.email}))

    run_chase(DAY(2019, 1, 16))

    assert inbox.to(bad.email) == []
    assert any("工作总结" in m["Subject"] for m in inbox.to(good.email))
    refused = OutgoingMail.query.filter_by(to_address=bad.email).first()
    assert refused.state is MailState.FAILED and "550" in refused.last_error
    assert entries_for("发改局")[-1].result is ChaseResult.FAILED
    assert entries_for("财政局")[-1].result is ChaseResult.SENT


def test_without_mail_configured_only_in_app_notices_are_given(plan2018):
    run_chase(DAY(2019, 1, 16))

    entry = entries_for("发改局")[-1]
    assert entry.result is ChaseResult.SENT
    assert {r["channel"] for r in entry.recipients} == {"in_app"}
    assert OutgoingMail.query.count() == 0


def test_smtp_fixture_server_really_listens(app, smtp):
    # Guards the tests above: a server that never started would make the 'down' test pass for the wrong reason.
    start, stop = smtp
    start()
    with smtplib.SMTP("127.0.0.1", app.config["MAIL_PORT"], timeout=5) as client:
        assert client.noop()[0] == 250
    stop()
    time.sleep(0.1)
    with pytest.raises(OSError), smtplib.SMTP("127.0.0.1", app.config["MAIL_PORT"], timeout=2):
        pass


class SlowInbox(Inbox):
    """An inbox that takes its time over each message, so that two senders overlap; it notes who sent each."""

    def __init__(self):
        super().__init__()
        self.senders = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        import asyncio

        await asyncio.sleep(0.05)
        self.senders.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


def test_two_runs_delivering_at_once_send_each_mail_once(app, plan2018, smtp, monkeypatch):
    from tracker.chase.mail import MAIL_CONNECTIONS, deliver_pending

    monkeypatch.setattr("tracker.chase.mail.MAIL_BATCH", 10)  # batches small enough for both runs to win some
    start, _ = smtp
    run_chase(DAY(2019, 1, 16))  # no server yet: every mail is queued and failed
    queued = OutgoingMail.query.count()
    assert queued > 0
    inbox = start(SlowInbox())
    errors = at_once(app, deliver_pending)

    assert errors == []
    # Both runs delivered at once, each over its own connections (more than one run's worth of them).
    assert len(set(inbox.senders)) > MAIL_CONNECTIONS
    delivered = [message["Message-ID"] for _, message in inbox.messages]
    assert len(delivered) == len(set(delivered)) == queued
    assert OutgoingMail.query.filter(OutgoingMail.state != MailState.SENT).count() == 0


def test_a_malformed_address_fails_that_mail_only_and_is_kept(plan2018, smtp):
    start, _ = smtp
    inbox = start()
    # An address from before it was checked on the way in.
    bad = User.query.filter_by(username=f"dept{department('发改局').id}").one()
    db.session.execute(db.text("UPDATE users SET email = '<boss>@x.cn' WHERE id = :id"), {"id": bad.id})
    db.session.commit()
    good = User.query.filter_by(username=f"dept{department('财政局').id}").one()

    run_chase(DAY(2019, 1, 16))

    assert any("工作总结" in m["Subject"] for m in inbox.to(good.email))
    kept = OutgoingMail.query.filter_by(to_address="<boss>@x.cn").all()
    assert kept and all(m.state is MailState.FAILED and m.last_error for m in kept)
    assert all(m["Date"] for _, m in inbox.messages)


def test_an_address_that_is_not_one_is_refused_when_a_user_is_created(runner, load_seed):
    load_seed()
    result = runner.invoke(
        args=[
            "user",
            "add",
            "fgj",
            "--role",
            "department",
            "--department",
            "发改局",
            "--email",
            "<boss>@x.cn",
            "--password-stdin",
        ],
        input="a-long-password\n",
    )

    assert result.exit_code == 1
    assert "'<boss>@x.cn' is not an e-mail address" in result.output
    assert User.query.count() == 0


def test_a_long_chinese_name_and_subject_reach_the_reader_whole(app, smtp):
    from tracker.chase.mail import deliver_pending

    start, _ = smtp
    inbox = start()
    name = "天津经济技术开发区管理委员会办公室政务公开工作联系人" * 2
    subject = "【催办】" + "2018年下半年工作总结已逾期" * 4
    db.session.add(
        OutgoingMail(
            to_address="long@teda.example", to_name=name, subject=subject, body_text="正文", body_html="<p>正文</p>"
        )
    )
    db.session.commit()

    assert deliver_pending() == (1, 0)

    ((_, message),) = inbox.messages
    assert message["To"].addresses[0].display_name == name and message["Subject"] == subject
    raw = message.as_bytes().split(b"\n")
    subject_lines = [line for line in raw if line.startswith(b"Subject:")]
    assert len(subject_lines[0]) <= 78  # the subject is folded into short encoded words
