"""Word when a form changes hands (issue 13, item 2): the office hears of a submission, the department
of a return (with the reason and new due date) or an acceptance, under the bell at once, and by e-mail
in one hourly digest per person if they chose it."""

import pytest
from bs4 import BeautifulSoup
from conftest import FORM_HEADER, Auth, csrf_token, department, submit_form

from tracker.handoff import make_digests
from tracker.jobs import job_by_id, run_job
from tracker.models import (
    HalfYearSummary,
    Notification,
    NotificationPreference,
    OutgoingMail,
)
from tracker.returns.operations import submit_return
from tracker.summaries.operations import save_and_submit_summary
from tracker.workflow import review


@pytest.fixture
def people(app, load_seed, create_user):
    app.config["TRACKER_TODAY"] = "2018-10-08"
    load_seed()
    return {
        "office1": create_user("office1", email="office1@teda.example"),
        "office2": create_user("office2", email="office2@teda.example"),
        "leader1": create_user("leader1", "leader", email="leader@teda.example"),
        "fgj1": create_user("fgj1", "department", "发改局", email="fgj1@teda.example"),
        "fgj2": create_user("fgj2", "department", "发改局"),
        "czj1": create_user("czj1", "department", "财政局", email="czj1@teda.example"),
    }


def notices(user, event=None):
    query = Notification.query.filter_by(user_id=user.id)
    query = query.filter(Notification.event != "") if event is None else query.filter_by(event=event)
    return [(n.title, n.body, n.url) for n in query.order_by(Notification.id)]


def test_a_submission_tells_every_office_user_and_no_one_else(app, people):
    report = submit_form("发改局", people["fgj1"])

    expected = [("【待审核】发改局报送了2018年第三季度完成情况报送表", "第1版，请审核。", f"/returns/{report.id}")]
    assert notices(people["office1"]) == expected
    assert notices(people["office2"]) == expected
    assert notices(people["leader1"]) == [] and notices(people["fgj1"]) == [] and notices(people["czj1"]) == []
    client = app.test_client()
    Auth(client).login("office1")
    page = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    assert page.select_one("#unread-count").get_text() == "1"


def test_a_return_tells_the_department_why_and_by_when_and_a_correction_tells_the_office(app, people):
    report = submit_form("发改局", people["fgj1"])
    review(report, people["office1"], "return", "请补充1.3.1的数据", "2018-10-19")

    told = notices(people["fgj2"])
    assert told == [
        (
            "【退回修改】2018年第三季度完成情况报送表被退回",
            "退回原因：请补充1.3.1的数据\n请于2018年10月19日前修改后重新报送。",
            f"/returns/{report.id}",
        )
    ]
    assert notices(people["fgj1"]) == told and notices(people["czj1"]) == []

    submit_return(report, people["fgj1"])
    assert (
        notices(people["office1"], "submitted")[-1][0] == "【待审核】发改局修改后重新报送了2018年第三季度完成情况报送表"
    )


def test_an_acceptance_tells_the_department(app, people):
    report = submit_form("发改局", people["fgj1"])
    review(report, people["office1"], "accept")

    assert notices(people["fgj1"], "accepted") == [
        (
            "【审核通过】2018年第三季度完成情况报送表已审核通过",
            "已锁定，不能再修改；如需更正请联系办公室。",
            f"/returns/{report.id}",
        )
    ]


def test_a_half_year_summary_changes_hands_the_same_way(app, people):
    app.config["TRACKER_TODAY"] = "2019-01-10"
    summary = HalfYearSummary.query.filter_by(department_id=department("发改局").id).one()
    save_and_submit_summary(summary, {**FORM_HEADER, "text": "半年工作总结正文。"}, summary.version, people["fgj1"])

    assert notices(people["office1"]) == [
        ("【待审核】发改局报送了2018年下半年工作总结", "第1版，请审核。", f"/summaries/{summary.id}")
    ]


def test_each_user_chooses_bell_only_or_bell_and_email_per_event(app, people):
    client = app.test_client()
    Auth(client).login("fgj1")
    page = BeautifulSoup(client.get("/account").get_data(as_text=True), "html.parser")
    boxes = {box["name"]: box.has_attr("checked") for box in page.select("#notify-form input[type=checkbox]")}
    assert boxes == {"email-returned": True, "email-accepted": True}  # an address: e-mail by default

    client.post(
        "/account/notifications",
        data={"csrf_token": csrf_token(str(page)), "email-returned": "1"},
        follow_redirects=True,
    )

    chosen = {p.event: p.by_email for p in NotificationPreference.query.filter_by(user_id=people["fgj1"].id)}
    assert chosen == {"returned": True, "accepted": False}


def test_the_hourly_digest_sends_one_mail_per_person_however_many_forms_moved(app, people, smtp):
    start, _ = smtp
    inbox = start()
    for name, user in (("发改局", "fgj1"), ("财政局", "czj1")):
        submit_form(name, people[user])
    NotificationPreference.query.session.add(
        NotificationPreference(user_id=people["office2"].id, event="submitted", by_email=False)
    )
    NotificationPreference.query.session.commit()

    run = run_job(job_by_id("digest"), "manual")
    again = run_job(job_by_id("digest"), "manual")

    assert run.status == "ok" and run.summary.startswith("汇总邮件1封"), run.summary
    mails = inbox.to("office1@teda.example")
    assert len(mails) == 1
    assert mails[0]["Subject"] == "【报送动态】2项报送事项变化"
    body = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert "【待审核】发改局报送了2018年第三季度完成情况报送表" in body
    assert "【待审核】财政局报送了2018年第三季度完成情况报送表" in body
    assert inbox.to("office2@teda.example") == []  # the bell only, as chosen
    assert again.summary.startswith("汇总邮件0封")
    assert len(inbox.messages) == 1
    assert Notification.query.filter(Notification.event != "", Notification.digested_at.is_(None)).count() == 0


def test_without_a_mail_server_the_digest_only_marks_the_notices(app, people):
    submit_form("发改局", people["fgj1"])

    assert make_digests() == 0

    assert OutgoingMail.query.count() == 0
    assert Notification.query.filter(Notification.event != "", Notification.digested_at.is_(None)).count() == 0
