"""Quarterly completion forms (季度完成情况报送表): periods, filling in, review, timeliness, versions,
evidence files, permissions and the office's dashboard — through the pages a person uses, and through
the operations where that is clearer.

"Today" is fixed with ``TRACKER_TODAY``: the 2018 plan's third quarter is due on 2018-10-10.
"""

import datetime
import functools
import io
import re
import struct
import threading
import zipfile
import zlib
from urllib.parse import quote

import docx
import openpyxl
import pytest
from cfb import compound_file
from conftest import counted, csrf_token, department, flashes, page_of, quarterly_form, soup, state_text, upload_files
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from tracker import storage
from tracker.extensions import db
from tracker.models import (
    AuditEntry,
    Department,
    Evidence,
    Plan,
    QuarterlyReturn,
    ReportingPeriod,
    ReturnLine,
    ReturnState,
    ReturnVersion,
    StoredFile,
    Task,
    TaskDepartment,
    User,
    chinese_numeral,
)
from tracker.returns.operations import save_return, submit_return
from tracker.workflow import WorkflowError, review

BEFORE_DUE = "2018-10-05"

#: Every task 发改局 reports on: those it leads (1.1.4, 1.3.1-1.3.3), those it carries out by name
#: (1.2.4, 1.2.5, 1.4.1) and those for every department, in the plan's order.
FGJ_CODES = [
    *("1.1.1", "1.1.4", "1.2.4", "1.2.5", "1.3.1", "1.3.2", "1.3.3", "1.4.1", "1.4.2", "1.5.1", "1.5.2"),
    *("4.1", "4.2", "4.3", "5.1", "5.2", "5.3"),
]

HEADER = {"filled_by_name": "王晓明", "filled_by_phone": "022-25201234", "approved_by": "李建国"}


SUBMIT_INCOMPLETE = "报送表尚未填写完整，请补全标红的内容后再报送。"
RETURN_NEEDS = "退回时须填写退回原因和不早于今天的修改截止日期。"
CONFLICT = "该报送表已被他人修改"
EVENT = re.compile("(修改后重新报送|报送|审核通过|退回修改|重新打开)")

PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
PDF_MIME = "application/pdf"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def plan(app, load_seed):
    """Load the 2018 plan, with today fixed five days before the third quarter is due."""
    app.config["TRACKER_TODAY"] = BEFORE_DUE
    return load_seed()


@pytest.fixture
def account(plan, account):
    """Load the plan before anyone signs in: the accounts' departments come from it (see conftest)."""
    return account


def line_of(report, code):
    return next(line for line in report.lines if line.task.code == code)


def token_of(page):
    return csrf_token(str(page))


def form_fields(page):
    """Return what a browser would submit for the completion form of a page, as a dict."""
    form = page.select_one("#return-form")
    assert form is not None, "no completion form in the page"
    data = {}
    for field in form.find_all(["input", "textarea", "select"]):
        name = field.get("name")
        if not name or field.get("type") == "submit":
            continue
        if field.name == "textarea":
            data[name] = field.get_text()
        elif field.name == "select":
            chosen = field.find("option", selected=True) or field.find("option")
            data[name] = chosen.get("value", "")
        else:
            data[name] = field.get("value", "")
    return data


def row_of(page, code):
    row = page.select_one(f'#lines tr.line-row[data-code="{code}"]')
    assert row is not None, f"no line {code} in the form"
    return row


def field_name(page, code, field):
    """Return the input name of ``field`` (status, done, problems, next_steps) of line ``code``."""
    element = row_of(page, code).select_one(f'[name$="-{field}"]')
    assert element is not None, f"line {code} has no {field} field"
    return element["name"]


def shown(page, code, field):
    """Return what the form shows in ``field`` of line ``code``: the chosen option or the text."""
    element = row_of(page, code).select_one(f'[name$="-{field}"]')
    if element.name == "select":
        chosen = element.find("option", selected=True)
        return chosen["value"] if chosen else ""
    return element.get_text()


def every_line(page, status="in_progress", done=None):
    """Return values for every line of the form: ``status`` and a 完成情况 naming the task."""
    return {
        row["data-code"]: {"status": status, "done": done or f"{row['data-code']}：本季度已按计划推进。"}
        for row in page.select("#lines tr.line-row")
    }


def post_form(client, report_id, lines=None, header=None, counts=None, action="save", page=None):
    """Open the form (unless ``page`` is what the user has open), change fields and press a button."""
    page = page if page is not None else page_of(client, f"/returns/{report_id}")
    data = form_fields(page)
    for code, values in (lines or {}).items():
        for field, value in values.items():
            data[field_name(page, code, field)] = value
    data.update(header or {})
    for (kind, channel), value in (counts or {}).items():
        data[f"count-{kind}-{channel}"] = str(value)
    data["action"] = action
    return client.post(f"/returns/{report_id}", data=data, follow_redirects=True)


def submit_complete(client, report_id, lines=None, counts=None, header=None):
    """Fill in every line and the header, apply ``lines`` on top, and press 保存并报送."""
    page = page_of(client, f"/returns/{report_id}")
    values = every_line(page)
    for code, changes in (lines or {}).items():
        values[code] = {**values[code], **changes}
    return post_form(client, report_id, values, {**HEADER, **(header or {})}, counts, action="submit", page=page)


def fill(report, status="in_progress", done=None, lines=None, counts=None, **header):
    """Fill in a form through the operation (as the API would): every line, then ``lines`` on top."""
    payload = {
        **HEADER,
        **header,
        "lines": [
            {"task_code": line.task.code, "status": status, "done": done or f"{line.task.code}：已推进。"}
            for line in report.lines
        ],
    }
    for item in payload["lines"]:
        item.update((lines or {}).get(item["task_code"], {}))
    if counts:
        payload["counts"] = counts
    save_return(report, payload, report.version)


def submitted(name, user, quarter=3, **kwargs):
    """Fill in and submit a department's form through the operations; return it."""
    report = quarterly_form(name, quarter)
    fill(report, **kwargs)
    submit_return(report, user)
    return report


def editable_fields(page):
    return page.select("#return-form textarea, #return-form select, #return-form input[type=number]")


def action_buttons(page):
    return page.select('#return-form button[name="action"]')


def matrix_cell(page, name, period="Q3"):
    row = page.select_one(f'#matrix tr[data-department="{name}"]')
    assert row is not None, f"{name} is not in the matrix"
    return row.select_one(f'td[data-period="{period}"]')


def png_bytes():
    """Return a real one-pixel PNG."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xc8\x10\x10"))
        + chunk(b"IEND", b"")
    )


def docx_bytes():
    document = docx.Document()
    document.add_paragraph("2018年第三季度政务公开工作佐证材料")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes():
    workbook = openpyxl.Workbook()
    workbook.active.append(["任务", "完成情况"])
    workbook.active.append(["1.3.1", "已建立统一开放平台"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, report_id, data, name, code="1.3.1", page=None):
    """Upload a file to line ``code`` through the form page's upload form."""
    page = page if page is not None else page_of(client, f"/returns/{report_id}")
    option = next((o for o in page.select("#line_id option") if o.get_text().startswith(code + " ")), None)
    assert option is not None, f"the page has no upload form for line {code}"
    return client.post(
        f"/returns/{report_id}/evidence",
        data={"csrf_token": token_of(page), "line_id": option["value"], "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


# --- periods and forms ----------------------------------------------------------------------------


@pytest.mark.dates
def test_the_plan_has_two_quarters_and_the_second_half_with_their_due_dates(plan):
    periods = {
        (p.kind.value, p.number): (p.starts_on, p.ends_on, p.due_on)
        for p in ReportingPeriod.query.filter_by(plan_id=plan.id)
    }

    d = datetime.date
    assert periods == {
        ("quarter", 3): (d(2018, 7, 1), d(2018, 9, 30), d(2018, 10, 10)),
        ("quarter", 4): (d(2018, 10, 1), d(2018, 12, 31), d(2019, 1, 10)),
        ("half", 2): (d(2018, 7, 1), d(2018, 12, 31), d(2019, 1, 15)),
    }


def test_the_office_sees_every_period_and_its_due_date(login):
    office = login("office1")

    page = page_of(office, "/plans/2018/periods")

    dates = {i["aria-label"]: i["value"] for i in page.select('input[name="due_on"]')}
    assert dates == {
        "2018年第三季度截止日期": "2018-10-10",
        "2018年第四季度截止日期": "2019-01-10",
        "2018年下半年截止日期": "2019-01-15",
    }
    labels = {row.td.get_text(strip=True) for row in page.select("tbody tr")}
    assert labels == {
        "2018年第三季度（季度完成情况报送表）",
        "2018年第四季度（季度完成情况报送表）",
        "2018年下半年（半年工作总结）",
    }


def test_every_department_has_a_form_per_quarter_with_a_line_per_task_it_reports_on(plan):
    tasks = Task.query.filter_by(plan_id=plan.id).order_by(Task.position).all()
    for_all = [t for t in tasks if t.is_all_departments]
    departments = Department.query.all()
    assert len(departments) == 21
    assert len(tasks) == 33

    for dept in departments:
        named = {a.task_id for a in TaskDepartment.query.filter_by(department_id=dept.id)}
        expected = [t.code for t in tasks if t.id in named or t in for_all]
        for quarter in (3, 4):
            report = quarterly_form(dept.name, quarter)
            assert report.state is ReturnState.DRAFT
            assert [line.task.code for line in report.lines] == expected, (dept.name, quarter)
    assert QuarterlyReturn.query.count() == 2 * 21


def test_fgj_sees_the_tasks_it_leads_or_carries_out_and_every_all_department_task(login):
    fgj = login("fgj1")
    report = quarterly_form("发改局")

    page = page_of(fgj, f"/returns/{report.id}")

    assert [row["data-code"] for row in page.select("#lines tr.line-row")] == FGJ_CODES
    assert page.select_one("h1").get_text(strip=True) == "2018年政务公开工作第三季度完成情况报送表"
    assert "截止日期：2018年10月10日" in page.select_one("h1 + div").get_text(strip=True)
    assert state_text(page) == "未到期"
    title = row_of(page, "1.3.1").select_one("a").get_text(strip=True)
    assert title == Task.query.filter_by(code="1.3.1").one().title


def test_loading_the_plan_again_adds_no_forms_or_lines_and_keeps_what_was_written(plan, load_seed):
    report = quarterly_form("发改局")
    fill(report, lines={"1.3.1": {"done": "已建立统一开放平台。"}})
    before = (QuarterlyReturn.query.count(), ReturnLine.query.count(), ReportingPeriod.query.count())

    load_seed()

    db.session.expire_all()
    assert (QuarterlyReturn.query.count(), ReturnLine.query.count(), ReportingPeriod.query.count()) == before
    assert before == (42, sum(2 * len(quarterly_form(d.name).lines) for d in Department.query.all()), 3)
    assert line_of(quarterly_form("发改局"), "1.3.1").done == "已建立统一开放平台。"


def test_the_office_changes_a_due_date_and_the_change_is_audited(login):
    office = login("office1")
    fgj = login("fgj1")
    period = quarterly_form("发改局").period
    page = page_of(office, "/plans/2018/periods")

    response = office.post(
        "/plans/2018/periods",
        data={"csrf_token": token_of(page), "period_id": period.id, "due_on": "2018-10-15"},
        follow_redirects=True,
    )

    page = soup(response)
    assert "2018年第三季度的截止日期已改为2018年10月15日。" in flashes(page)
    assert page.select_one('input[aria-label="2018年第三季度截止日期"]')["value"] == "2018-10-15"
    entry = AuditEntry.query.filter_by(entity="reporting_periods", action="update", entity_id=period.id).one()
    assert (entry.actor, entry.before, entry.after) == ("office1", {"due_on": "2018-10-10"}, {"due_on": "2018-10-15"})
    home = page_of(fgj, "/returns")
    assert "2018年10月15日" in home.select_one('tr.return-row[data-period="Q3"]').get_text()


@pytest.mark.dates
@pytest.mark.parametrize(
    ("due_on", "message"),
    [
        ("2018-09-29", "截止日期不能早于报送期结束日（2018-09-30）。"),
        ("2018-13-01", "请填写有效的日期。"),
        ("2118-10-10", "截止日期不能晚于报送期结束后一年（2019-10-01），请检查年份是否填错。"),
    ],
)
def test_a_due_date_before_the_period_ends_too_far_after_or_not_a_date_is_refused(login, due_on, message):
    office = login("office1")
    period = quarterly_form("发改局").period
    page = page_of(office, "/plans/2018/periods")

    response = office.post(
        "/plans/2018/periods",
        data={"csrf_token": token_of(page), "period_id": period.id, "due_on": due_on},
        follow_redirects=True,
    )

    assert message in flashes(soup(response))
    assert db.session.get(ReportingPeriod, period.id).due_on == datetime.date(2018, 10, 10)
    assert AuditEntry.query.filter_by(entity="reporting_periods", action="update").count() == 0


def test_a_department_user_cannot_see_or_change_due_dates(login):
    fgj = login("fgj1")
    period = quarterly_form("发改局").period
    token = token_of(page_of(fgj, "/returns"))

    page = page_of(fgj, "/plans/2018/periods", status=403)
    response = fgj.post(
        "/plans/2018/periods", data={"csrf_token": token, "period_id": period.id, "due_on": "2018-12-01"}
    )

    assert "没有权限" in page.get_text()
    assert response.status_code == 403
    assert db.session.get(ReportingPeriod, period.id).due_on == datetime.date(2018, 10, 10)


# --- the department's home ------------------------------------------------------------------------


@pytest.mark.dates
def test_the_department_home_lists_its_forms_with_due_dates_and_states(login):
    fgj = login("fgj1")

    page = page_of(fgj, "/returns")

    rows = page.select("tr.return-row")
    assert [r["data-period"] for r in rows] == ["Q4", "Q3"]
    cells = [[cell.get_text(" ", strip=True) for cell in r.select("th, td")[:3]] for r in rows]
    assert cells == [["2018年第四季度", "2019年1月10日", "未到期"], ["2018年第三季度", "2018年10月10日", "未到期"]]
    links = [r.select_one("a")["href"] for r in rows]
    assert links == [f"/returns/{quarterly_form('发改局', 4).id}", f"/returns/{quarterly_form('发改局', 3).id}"]
    assert "发改局" in page.select_one("h1").get_text()


def test_the_department_home_shows_the_reason_a_form_was_returned(login, account):
    fgj = login("fgj1")
    report = submitted("发改局", account("fgj1"))
    review(report, account("office1"), "return", "1.3.1 完成情况过于简略，请补充数据。", "2018-10-20")

    page = page_of(fgj, "/returns")

    q3 = page.select_one('tr.return-row[data-period="Q3"]')
    text_ = q3.get_text(" ", strip=True)
    assert "退回修改" in text_
    assert "退回原因：1.3.1 完成情况过于简略，请补充数据。" in text_
    assert "2018年10月20日" in text_  # the correction's due date, not the period's
    assert q3.select_one("a").get_text(strip=True) == "填报"


def test_others_are_sent_from_the_department_home_to_the_dashboard(login):
    office = login("office1")

    response = office.get("/returns")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")


# --- filling in and submitting --------------------------------------------------------------------


def test_saving_a_draft_keeps_the_text(login):
    fgj = login("fgj1")
    report = quarterly_form("发改局")
    done = "已建立统一开放平台，\n发布数据集 12 个 <含“双随机”结果> & 目录。"

    response = post_form(
        fgj,
        report.id,
        lines={"1.3.1": {"status": "in_progress", "done": done, "problems": "数据质量参差", "next_steps": "扩充数据"}},
        header={"filled_by_name": "王晓明"},
        counts={("submitted", "portal"): 3, ("published", "wechat"): 2},
    )

    page = soup(response)
    assert flashes(page) == ["已保存草稿。"]
    for p in (page, page_of(fgj, f"/returns/{report.id}")):
        assert shown(p, "1.3.1", "status") == "in_progress"
        assert shown(p, "1.3.1", "done") == done
        assert shown(p, "1.3.1", "problems") == "数据质量参差"
        assert shown(p, "1.3.1", "next_steps") == "扩充数据"
        assert p.select_one("#filled_by_name")["value"] == "王晓明"
        assert p.select_one('input[name="count-submitted-portal"]')["value"] == "3"
        assert p.select_one('input[name="count-published-wechat"]')["value"] == "2"
        assert state_text(p) == "填报中"
    report = quarterly_form("发改局")
    assert report.state is ReturnState.DRAFT
    assert line_of(report, "1.3.1").done == done
    assert report.versions == []


INCOMPLETE = {
    "a line without a status": ({"1.3.1": {"status": ""}}, {}, "line-status", "请选择进展"),
    "a done line without 完成情况": ({"1.3.1": {"status": "done", "done": ""}}, {}, "line-done", "须填写完成情况"),
    "no 填报人": ({}, {"filled_by_name": ""}, "filled_by_name", "请填写填报人"),
    "no 联系电话": ({}, {"filled_by_phone": " "}, "filled_by_phone", "请填写联系电话"),
    "no 审核人": ({}, {"approved_by": ""}, "approved_by", "请填写审核人（部门负责人）"),
}


@pytest.mark.parametrize("case", INCOMPLETE)
def test_submitting_with_a_required_field_missing_shows_the_error_and_the_form_stays_a_draft(login, case):
    lines, header, field, feedback = INCOMPLETE[case]
    fgj = login("fgj1")
    report = quarterly_form("发改局")

    response = submit_complete(fgj, report.id, lines=lines, header=header)

    page = soup(response)
    assert SUBMIT_INCOMPLETE in flashes(page)
    if field.startswith("line-"):
        element = row_of(page, "1.3.1").select_one(f'[name$="-{field[5:]}"]')
    else:
        element = page.select_one(f"#{field}")
    assert "is-invalid" in element["class"]
    assert feedback in element.parent.select_one(".invalid-feedback").get_text()
    assert len(page.select(".is-invalid")) == 1
    # What the user typed is still in front of them, and the form can still be submitted.
    assert shown(page, "1.1.4", "done") == "1.1.4：本季度已按计划推进。"
    assert [b["value"] for b in action_buttons(page)] == ["save", "submit"]
    report = quarterly_form("发改局")
    assert report.state is ReturnState.DRAFT
    assert (report.versions, report.events, report.first_submitted_at) == ([], [], None)


def test_a_refused_submission_saves_nothing(login):
    """The spec: a missing required field gives a clear error and nothing is saved.

    Saving the draft first and then trying to submit would keep the text of a refused post, and
    move the form's version on so that a colleague's open copy went stale for nothing.
    """
    fgj = login("fgj1")
    report = quarterly_form("发改局")
    version = report.version

    submit_complete(fgj, report.id, lines={"1.3.1": {"done": "这次报送被拒绝"}}, header={"approved_by": ""})

    page = page_of(fgj, f"/returns/{report.id}")
    assert shown(page, "1.3.1", "done") == ""
    report = quarterly_form("发改局")
    assert line_of(report, "1.3.1").done == ""
    assert report.filled_by_name == ""
    assert report.version == version


def test_a_line_not_started_needs_no_text(login):
    fgj = login("fgj1")
    report = quarterly_form("发改局")

    response = submit_complete(fgj, report.id, lines={"1.3.3": {"status": "not_started", "done": ""}})

    page = soup(response)
    assert "2018年第三季度完成情况报送表已报送，等待办公室审核。" in flashes(page)
    assert state_text(page) == "已报送"
    assert quarterly_form("发改局").state is ReturnState.SUBMITTED


@pytest.mark.parametrize("count", ["-1", "abc", "1.5", "²"])
def test_a_count_that_is_not_a_whole_number_is_refused_and_nothing_is_saved(login, count):
    fgj = login("fgj1")
    report = quarterly_form("发改局")
    version = report.version

    response = post_form(fgj, report.id, lines={"1.3.1": {"done": "不应保存"}}, counts={("published", "weibo"): count})

    page = soup(response)
    assert "部分内容填写有误，请按提示修改。" in flashes(page)
    assert "is-invalid" in page.select_one('input[name="count-published-weibo"]')["class"]
    report = quarterly_form("发改局")
    assert (report.version, line_of(report, "1.3.1").done, report.counts) == (version, "", [])


# --- the workflow ---------------------------------------------------------------------------------


def test_submit_return_correct_resubmit_accept_lock(login):
    fgj = login("fgj1")
    office = login("office1")
    report_id = quarterly_form("发改局").id

    # The department submits.
    page = soup(submit_complete(fgj, report_id))
    assert "2018年第三季度完成情况报送表已报送，等待办公室审核。" in flashes(page)
    assert state_text(page) == "已报送"
    assert editable_fields(page) == []

    # The office returns it with a reason and a new due date.
    page = page_of(office, f"/returns/{report_id}")
    assert page.select_one("#review-panel") is not None
    response = office.post(
        f"/returns/{report_id}/review",
        data={
            "csrf_token": token_of(page),
            "decision": "return",
            "reason": "1.3.1 请补充开放数据集数量。",
            "due_on": "2018-10-20",
        },
        follow_redirects=True,
    )
    assert "已退回修改。" in flashes(soup(response))

    # The department sees why, and until when it may correct it.
    page = page_of(fgj, f"/returns/{report_id}")
    reason = page.select_one("#return-reason").get_text(" ", strip=True)
    assert "1.3.1 请补充开放数据集数量。" in reason
    assert "请于 2018年10月20日 前修改后重新报送。" in reason
    assert page.select_one("#due-on").get_text() == "2018年10月20日"
    assert state_text(page) == "退回修改"

    # It corrects and resubmits.
    page = soup(submit_complete(fgj, report_id, lines={"1.3.1": {"done": "已开放数据集 35 个。"}}))
    assert state_text(page) == "已报送"
    assert page.select_one("#return-reason") is None

    # The office sees what changed, and accepts.
    page = page_of(office, f"/returns/{report_id}")
    assert row_of(page, "1.3.1").select_one(".badge.text-bg-info").get_text() == "本次修改"
    assert row_of(page, "1.3.2").select_one(".badge.text-bg-info") is None
    response = office.post(
        f"/returns/{report_id}/review",
        data={"csrf_token": token_of(page), "decision": "accept"},
        follow_redirects=True,
    )
    page = soup(response)
    assert "已审核通过。" in flashes(page)
    assert state_text(page) == "已通过"

    # The form is locked for the department.
    page = page_of(fgj, f"/returns/{report_id}")
    assert editable_fields(page) == [] and action_buttons(page) == []
    assert page.select_one("#file") is None
    assert "已开放数据集 35 个。" in row_of(page, "1.3.1").get_text()
    data = {**form_fields(page), "action": "save"}
    assert fgj.post(f"/returns/{report_id}", data=data).status_code == 403
    home = page_of(fgj, "/returns").select_one('tr.return-row[data-period="Q3"]')
    assert "已通过" in home.get_text() and home.select_one("a").get_text(strip=True) == "查看"
    report = quarterly_form("发改局")
    assert report.state is ReturnState.ACCEPTED
    assert [v.is_correction for v in report.versions] == [False, True]
    assert [e.action for e in report.events] == ["submit", "return", "resubmit", "accept"]


def test_the_office_reopens_an_accepted_form_with_a_reason_and_it_is_editable_again(login, account):
    fgj = login("fgj1")
    office = login("office1")
    report = submitted("发改局", account("fgj1"))
    review(report, account("office1"), "accept")
    page = page_of(office, f"/returns/{report.id}")

    response = office.post(
        f"/returns/{report.id}/reopen",
        data={"csrf_token": token_of(page), "reason": "审计发现 1.1.4 数据有误。", "due_on": "2018-10-12"},
        follow_redirects=True,
    )

    assert "已重新打开，等待部门修改。" in flashes(soup(response))
    page = page_of(fgj, f"/returns/{report.id}")
    assert "审计发现 1.1.4 数据有误。" in page.select_one("#return-reason").get_text()
    assert editable_fields(page) != []
    page = soup(post_form(fgj, report.id, lines={"1.1.4": {"done": "已更正数据。"}}, page=page))
    assert flashes(page) == ["已保存草稿。"]
    assert line_of(quarterly_form("发改局"), "1.1.4").done == "已更正数据。"
    history = page_of(fgj, f"/returns/{report.id}/history")
    events = [li.get_text(" ", strip=True) for li in history.select("#events li")]
    assert [EVENT.search(e).group(1) for e in events] == ["报送", "审核通过", "重新打开"]
    assert "原因：审计发现 1.1.4 数据有误。；修改截止 2018年10月12日" in events[-1]


@pytest.mark.dates
@pytest.mark.parametrize(
    ("reason", "due_on"),
    [("", "2018-10-20"), ("   ", "2018-10-20"), ("请补充", ""), ("请补充", "2018-10-04"), ("请补充", "10/20")],
    ids=["no reason", "blank reason", "no due date", "due date in the past", "not a date"],
)
def test_returning_needs_a_reason_and_a_due_date_not_in_the_past(login, account, reason, due_on):
    office = login("office1")
    report = submitted("发改局", account("fgj1"))
    page = page_of(office, f"/returns/{report.id}")

    response = office.post(
        f"/returns/{report.id}/review",
        data={"csrf_token": token_of(page), "decision": "return", "reason": reason, "due_on": due_on},
        follow_redirects=True,
    )

    page = soup(response)
    assert RETURN_NEEDS in flashes(page)
    assert state_text(page) == "已报送"
    assert page.select_one("#review-panel") is not None
    report = quarterly_form("发改局")
    assert (report.state, report.return_reason, report.returned_count) == (ReturnState.SUBMITTED, None, 0)


@pytest.mark.dates
def test_a_form_can_be_returned_with_today_as_its_new_due_date(login, account):
    office = login("office1")
    report = submitted("发改局", account("fgj1"))
    page = page_of(office, f"/returns/{report.id}")
    assert page.select_one("#due_on")["min"] == BEFORE_DUE

    response = office.post(
        f"/returns/{report.id}/review",
        data={"csrf_token": token_of(page), "decision": "return", "reason": "请补充", "due_on": BEFORE_DUE},
        follow_redirects=True,
    )

    page = soup(response)
    assert "已退回修改。" in flashes(page)
    assert state_text(page) == "退回修改"
    report = quarterly_form("发改局")
    assert (report.state, report.due_on) == (ReturnState.RETURNED, datetime.date(2018, 10, 5))


@pytest.mark.dates
@pytest.mark.parametrize(("reason", "due_on"), [("", "2018-10-20"), ("数据有误", "2018-10-01")])
def test_reopening_needs_a_reason_and_a_due_date_not_in_the_past(login, account, reason, due_on):
    office = login("office1")
    report = submitted("发改局", account("fgj1"))
    review(report, account("office1"), "accept")
    page = page_of(office, f"/returns/{report.id}")

    response = office.post(
        f"/returns/{report.id}/reopen",
        data={"csrf_token": token_of(page), "reason": reason, "due_on": due_on},
        follow_redirects=True,
    )

    assert RETURN_NEEDS in flashes(soup(response))
    assert quarterly_form("发改局").state is ReturnState.ACCEPTED


def test_only_a_submitted_form_can_be_reviewed(login):
    office = login("office1")
    report = quarterly_form("发改局")
    page = page_of(office, f"/returns/{report.id}")
    assert page.select_one("#review-panel") is None

    response = office.post(
        f"/returns/{report.id}/review", data={"csrf_token": token_of(page), "decision": "accept"}, follow_redirects=True
    )

    assert "只有“已报送”的报送表可以审核，当前为“填报中”。" in flashes(soup(response))
    assert quarterly_form("发改局").state is ReturnState.DRAFT


# --- on time or late ------------------------------------------------------------------------------


@pytest.mark.dates
@pytest.mark.parametrize(("today", "late"), [("2018-10-05", False), ("2018-10-10", False), ("2018-10-11", True)])
def test_a_first_submission_is_on_time_up_to_the_due_date_and_late_after_it(app, login, today, late):
    fgj = login("fgj1")
    office = login("office1")
    app.config["TRACKER_TODAY"] = today
    report_id = quarterly_form("发改局").id

    page = soup(submit_complete(fgj, report_id))

    assert page.select_one("#timeliness").get_text() == ("迟报" if late else "按时报送")
    report = quarterly_form("发改局")
    (version,) = report.versions
    assert (version.is_late, version.is_correction, version.due_on) == (late, False, datetime.date(2018, 10, 10))
    assert report.is_first_late is late
    cell = matrix_cell(page_of(office, "/dashboard?year=2018"), "发改局")
    assert cell["data-state"] == "submitted"
    assert bool(cell.select(".late-mark")) is late


@pytest.mark.dates
def test_a_correction_is_measured_against_its_own_due_date(app, login, account):
    office_user = account("office1")
    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id
    app.config["TRACKER_TODAY"] = "2018-10-11"
    submit_complete(fgj, report_id)  # late
    review(quarterly_form("发改局"), office_user, "return", "请补充", "2018-10-20")

    app.config["TRACKER_TODAY"] = "2018-10-15"
    submit_complete(fgj, report_id, lines={"1.3.1": {"done": "补充后的完成情况"}})  # before the new due date
    review(quarterly_form("发改局"), office_user, "return", "再补充", "2018-10-18")
    app.config["TRACKER_TODAY"] = "2018-10-19"
    submit_complete(fgj, report_id, lines={"1.3.1": {"done": "再次补充"}})  # after the new due date

    report = quarterly_form("发改局")
    got = [(v.number, v.is_correction, v.due_on.isoformat(), v.is_late) for v in report.versions]
    assert got == [
        (1, False, "2018-10-10", True),
        (2, True, "2018-10-20", False),
        (3, True, "2018-10-18", True),
    ]
    assert report.is_first_late is True  # the first submission's lateness is kept
    history = page_of(fgj, f"/returns/{report_id}/history")
    badges = [c.select_one(".card-header .badge").get_text() for c in history.select(".version")]
    assert badges == ["迟报", "按时", "迟报"]


# --- the dashboard ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "status"), [("office1", 200), ("leader1", 200), ("fgj1", 403)])
def test_the_dashboard_is_for_the_office_and_leaders(login, username, status):
    client = login(username)

    page = page_of(client, "/dashboard?year=2018", status=status)

    if status == 200:
        assert page.select_one("h1").get_text(strip=True).startswith("2018年季度完成情况报送总览")
        assert len(page.select("#matrix tbody tr")) == 21
    else:
        assert "没有权限" in page.get_text()


def test_the_matrix_shows_each_forms_state(app, login, account):
    office = login("office1")
    fgj, office_user = account("fgj1"), account("office1")
    fill(quarterly_form("党建工作部"))  # started, not submitted
    submitted("财政局", fgj)
    review(submitted("行政审批局", fgj), office_user, "return", "请补充", "2018-10-20")
    review(submitted("规国局", fgj), office_user, "return", "请补充", "2018-10-08")
    review(submitted("建交局", fgj), office_user, "accept")
    expected_now = {
        "发改局": "not_due",
        "党建工作部": "draft",
        "财政局": "submitted",
        "行政审批局": "returned",
        "规国局": "returned",
        "建交局": "accepted",
    }
    labels = {
        "not_due": "未到期",
        "draft": "填报中",
        "submitted": "已报送",
        "returned": "退回修改",
        "accepted": "已通过",
        "overdue": "逾期未报",
    }

    page = page_of(office, "/dashboard?year=2018")
    for name, state in expected_now.items():
        cell = matrix_cell(page, name)
        assert (cell["data-state"], cell.get_text(" ", strip=True).split(" ")[0]) == (state, labels[state]), name
        assert matrix_cell(page, name, "Q4")["data-state"] == "not_due"
    assert "↩1" in matrix_cell(page, "行政审批局").get_text()

    app.config["TRACKER_TODAY"] = "2018-10-11"  # the quarter's due date has passed
    page = page_of(office, "/dashboard?year=2018")
    later = {**expected_now, "发改局": "overdue", "党建工作部": "overdue", "规国局": "overdue"}
    assert {name: matrix_cell(page, name)["data-state"] for name in later} == later
    assert matrix_cell(page, "规国局").get_text(" ", strip=True).startswith("逾期未报")


@pytest.mark.dates
def test_the_dashboard_marks_late_forms_and_gives_rates_per_quarter(app, login, account):
    office = login("office1")
    user = account("fgj1")
    submitted("发改局", user)  # on 2018-10-05: on time
    app.config["TRACKER_TODAY"] = "2018-10-11"
    submitted("财政局", user)  # late
    submitted("党建工作部", user)  # late
    app.config["TRACKER_TODAY"] = "2018-10-12"

    page = page_of(office, "/dashboard?year=2018")

    assert [n for n in ("发改局", "财政局", "党建工作部") if matrix_cell(page, n).select(".late-mark")] == [
        "财政局",
        "党建工作部",
    ]
    q3 = page.select_one('.quarter-card[data-period="Q3"]')
    assert "应报 21，已报 3（按时 1，迟报 2）" in q3.get_text()
    bars = [b.get_text(strip=True) for b in q3.select(".progress + span")]
    assert bars == [f"{round(300 / 21)}%", f"{round(100 / 21)}%"]
    q4 = page.select_one('.quarter-card[data-period="Q4"]')
    assert "应报 0，已报 0（按时 0，迟报 0）" in q4.get_text()
    rates = {
        name: [
            td.get_text(strip=True) for td in page.select_one(f'#matrix tr[data-department="{name}"]').select("td")[-2:]
        ]
        for name in ("发改局", "财政局", "环保局")
    }
    assert rates == {"发改局": ["100%", "100%"], "财政局": ["100%", "0%"], "环保局": ["0%", "0%"]}


def test_the_information_totals_equal_what_was_submitted(login, account):
    office = login("office1")
    user = account("fgj1")
    submitted(
        "发改局",
        user,
        counts={"submitted": {"portal": 3, "wechat": 2}, "published": {"portal": 1, "weibo": 4}},
    )
    submitted("财政局", user, counts={"submitted": {"app": 5}, "published": {"other": 2}})

    page = page_of(office, "/dashboard?year=2018&quarter=3")

    assert page.select_one("#total-submitted").get_text() == "10"
    assert page.select_one("#total-published").get_text() == "7"
    rows = {
        tr.th.get_text(): [td.get_text() for td in tr.select("td")[:2]] for tr in page.select("#counts-table tbody tr")
    }
    assert rows["发改局"] == ["5", "5"]
    assert rows["财政局"] == ["5", "2"]
    assert rows["环保局"] == ["0", "0"]
    form_page = page_of(office, f"/returns/{quarterly_form('发改局').id}")
    totals = [tr.select("td")[-1].get_text() for tr in form_page.select("#counts tbody tr")]
    assert totals == ["5", "5"]


def test_the_information_totals_leave_out_forms_not_submitted(login, account):
    """Numbers still being typed into a draft are not what a department reported."""
    office = login("office1")
    submitted("发改局", account("fgj1"), counts={"submitted": {"portal": 3}, "published": {"portal": 1}})
    fill(quarterly_form("财政局"), counts={"submitted": {"portal": 100}, "published": {"portal": 100}})

    page = page_of(office, "/dashboard?year=2018&quarter=3")

    assert (page.select_one("#total-submitted").get_text(), page.select_one("#total-published").get_text()) == (
        "3",
        "1",
    )


def test_progress_per_section_is_the_share_of_submitted_lines_marked_done(login, account):
    office = login("office1")
    user = account("fgj1")
    done = {"status": "done"}
    submitted("发改局", user, lines=dict.fromkeys(("1.3.1", "1.3.2", "1.3.3", "4.1", "4.2", "4.3"), done))
    submitted("党建工作部", user, lines={"1.1.1": done})
    fill(quarterly_form("财政局"), status="done")  # a draft: not counted

    page = page_of(office, "/dashboard?year=2018&quarter=3")

    sections = {
        d.select_one("summary span").get_text(strip=True)[:2]: d.select_one("summary .progress + span").get_text(
            strip=True
        )
        for d in page.select("details.section-progress")
    }
    # 一: 发改局 has 11 lines in it, 党建工作部 5; 4 are done. 四: 3 + 3 lines, 3 done. 五: 6 lines, none done.
    assert sections == {"一、": "25%", "二、": "—", "三、": "—", "四、": "50%", "五、": "0%"}  # — no line reported
    tasks = {
        tr.th.get_text(): tr.select("td")[-1].get_text()
        for d in page.select("details.section-progress")
        for tr in d.select("tr")
    }
    assert (tasks["1.1.1"], tasks["1.3.1"], tasks["1.2.1"], tasks["4.1"]) == ("1/2", "1/1", "0/0", "1/2")


def test_the_dashboard_filters_by_department(login, account):
    office = login("office1")
    submitted("发改局", account("fgj1"), counts={"submitted": {"portal": 3}})
    submitted("财政局", account("fgj1"), counts={"submitted": {"portal": 4}})

    page = page_of(office, f"/dashboard?year=2018&quarter=3&department={department('财政局').id}")

    assert [tr["data-department"] for tr in page.select("#matrix tbody tr")] == ["财政局"]
    assert page.select_one("#total-submitted").get_text() == "4"
    assert "应报 1，已报 1" in page.select_one('.quarter-card[data-period="Q3"]').get_text()


@pytest.mark.postgres  # on SQLite a second writer waits for the first to commit
def test_the_dashboard_shows_a_submission_committed_after_a_later_one(app, login, account):
    """Two workers submit at about the same time; the one that started first commits last.

    The dashboard must show both submissions once both are committed, whatever order they
    committed in.
    """
    office = login("office1")
    user = account("fgj1")
    fill(quarterly_form("发改局"))
    fill(quarterly_form("财政局"))
    report_id, user_id = quarterly_form("发改局").id, user.id
    flushed, go, results = threading.Event(), threading.Event(), {}

    def hold_before_commit(session, flush_context):
        if threading.current_thread() is worker and not flushed.is_set():
            flushed.set()
            go.wait(timeout=20)

    def submit_slowly():
        try:
            with app.app_context():
                submit_return(db.session.get(QuarterlyReturn, report_id), db.session.get(User, user_id))
                results["发改局"] = "submitted"
        except Exception as error:  # noqa: BLE001 - reported by the assertion below, not lost in the thread
            results["发改局"] = repr(error)

    worker = threading.Thread(target=submit_slowly)
    event.listen(Session, "after_flush_postexec", hold_before_commit)
    try:
        worker.start()
        assert flushed.wait(timeout=20), "the first submission never reached the database"
        submitted("财政局", user)  # the second worker's submission commits first
        before = page_of(office, "/dashboard?year=2018")
        go.set()
        worker.join(timeout=30)
    finally:
        go.set()
        event.remove(Session, "after_flush_postexec", hold_before_commit)

    assert results == {"发改局": "submitted"}
    assert [matrix_cell(before, n)["data-state"] for n in ("发改局", "财政局")] == ["draft", "submitted"]
    after = page_of(office, "/dashboard?year=2018")
    assert [matrix_cell(after, n)["data-state"] for n in ("发改局", "财政局")] == ["submitted", "submitted"]
    assert "已报 2" in after.select_one('.quarter-card[data-period="Q3"]').get_text()


def write_notice(path, departments=30, sections=5, groups=3, items=3):
    """Write a 2019 notice with more departments and tasks than the 2018 seed (21 and 33)."""
    names = [f"测试{i:02d}局" for i in range(1, departments + 1)]
    lines = [
        "测试开发区管委会办公室关于印发2019年测试开发区政务公开重点工作安排的通知",
        "2019年7月1日",
        "2019年测试开发区政务公开重点工作安排",
        "2019年政务公开工作的总体要求是：稳步推进。",
    ]
    n = 0
    for s in range(1, sections + 1):
        lines.append(f"{chinese_numeral(s)}、第{s}方面工作")
        for g in range(1, groups + 1):
            lines.append(f"（{chinese_numeral(g)}）第{s}方面第{g}组工作。")
            for i in range(1, items + 1):
                if n % 9 == 0:
                    who = "管委会各部门负责落实"
                else:
                    lead, *others = (names[(n + k) % departments] for k in range(3))
                    who = f"{lead}牵头、{'、'.join(others)}负责落实"
                lines.append(f"{i}.第{n + 1}项任务。做好第{n + 1}项工作的公开。（{who}）")
                n += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n


def count_queries(client, url):
    """Open ``url``; return the page and the SQL statements it took."""
    response, statements = counted(lambda: client.get(url))
    return soup(response), statements


def test_the_dashboard_needs_the_same_number_of_queries_however_big_the_plan(login, account, load_seed, tmp_path):
    office = login("office1")
    user = account("fgj1")
    path = tmp_path / "2019年测试开发区政务公开重点工作安排.txt"
    tasks = write_notice(path)
    load_seed(path)
    big = Plan.query.filter_by(year=2019).one()
    assert (len(big.tasks), tasks) == (45, 45)
    for year, names in ((2018, ("发改局", "财政局")), (2019, ("测试01局", "测试02局"))):
        for name in names:
            report = quarterly_form(name, year=year)
            fill(report, counts={"submitted": {"portal": 1}})
            submit_return(report, user)
    review(quarterly_form("财政局"), account("office1"), "return", "请补充", "2018-10-20")
    review(quarterly_form("测试02局", year=2019), account("office1"), "return", "请补充", "2018-10-20")

    small_page, small = count_queries(office, "/dashboard?year=2018")
    big_page, large = count_queries(office, "/dashboard?year=2019")

    assert len(small_page.select("#matrix tbody tr")) == 21
    assert len(big_page.select("#matrix tbody tr")) == 30
    assert len(big_page.select("details.section-progress tr")) == 45
    assert matrix_cell(big_page, "测试02局")["data-state"] == "returned"
    assert len(large) == len(small), "\n".join(large)
    assert len(small) <= 20, "\n".join(small)


def test_the_web_form_is_read_and_saved_with_the_same_queries_whatever_its_size(login):
    """Opening and saving a form of 17 lines costs what one of 3 lines does: no query per line."""
    small = quarterly_form("财政局")
    for line in small.lines[3:]:
        db.session.delete(line)
    db.session.commit()
    sizes = {}
    for name, username in (("发改局", "fgj1"), ("财政局", "czj1")):
        client = login(username)
        report_id = quarterly_form(name).id
        page, reads = count_queries(client, f"/returns/{report_id}")
        data = form_fields(page)
        for code, values in every_line(page).items():
            for field, value in values.items():
                data[field_name(page, code, field)] = value
        data["action"] = "save"
        saved, writes = counted(functools.partial(client.post, f"/returns/{report_id}", data=data))
        assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
        sizes[name] = (len(page.select("#lines tr.line-row")), len(reads), writes)

    assert (sizes["发改局"][0], sizes["财政局"][0]) == (17, 3)
    assert sizes["发改局"][1] == sizes["财政局"][1], sizes
    assert len(sizes["发改局"][2]) == len(sizes["财政局"][2]), "\n".join(sizes["发改局"][2])
    again = page_of(login("czj1"), f"/returns/{quarterly_form('财政局').id}")
    first = again.select_one("#lines tr.line-row")["data-code"]
    assert (shown(again, first, "status"), shown(again, first, "done")) == (
        "in_progress",
        f"{first}：本季度已按计划推进。",
    )


# --- versions and comparison ----------------------------------------------------------------------


def test_each_submission_is_a_version_and_the_history_shows_what_changed(login, account):
    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id
    submit_complete(fgj, report_id)
    review(quarterly_form("发改局"), account("office1"), "return", "1.3.1 写得太简略", "2018-10-20")
    submit_complete(fgj, report_id, lines={"1.3.1": {"done": "已开放数据集 35 个。"}, "1.3.2": {"status": "done"}})

    page = page_of(fgj, f"/returns/{report_id}/history")

    cards = page.select(".version")
    assert [c["data-number"] for c in cards] == ["1", "2"]
    assert "第 1 次报送（首次报送）" in cards[0].select_one(".card-header").get_text()
    assert "第 2 次报送（修改后重新报送）" in cards[1].select_one(".card-header").get_text()

    def marks(card):
        return {
            tr.th.get_text(): tr.select_one(".badge").get_text() for tr in card.select("tr") if tr.select_one(".badge")
        }

    assert marks(cards[0]) == {}
    assert marks(cards[1]) == {"1.3.1": "较上一版修改：完成情况", "1.3.2": "较上一版修改：进展"}
    assert "已开放数据集 35 个。" in cards[1].get_text()
    assert "已开放数据集 35 个。" not in cards[0].get_text()
    events = [li.get_text(" ", strip=True) for li in page.select("#events li")]
    assert len(events) == 3
    assert "退回修改" in events[1] and "原因：1.3.1 写得太简略；修改截止 2018年10月20日" in events[1]
    assert "修改后重新报送" in events[2]
    versions = ReturnVersion.query.filter_by(return_id=report_id).order_by(ReturnVersion.number).all()
    saved = [next(x["done"] for x in v.content["lines"] if x["task_code"] == "1.3.1") for v in versions]
    assert saved == ["1.3.1：本季度已按计划推进。", "已开放数据集 35 个。"]


def test_text_copied_unchanged_from_the_previous_quarter_is_marked_for_the_office(login, account):
    office = login("office1")
    q3 = submitted(
        "发改局",
        account("fgj1"),
        lines={"1.1.4": {"done": "已公开负面清单。"}, "1.3.1": {"done": "平台已上线。"}},
    )
    q4 = quarterly_form("发改局", 4)
    fill(
        q4,
        done="第四季度：继续推进。",
        lines={"1.1.4": {"done": "已公开负面清单。"}, "1.3.1": {"done": "平台已上线，新增数据集 20 个。"}},
    )

    page = page_of(office, f"/returns/{q4.id}")

    copied = [row["data-code"] for row in page.select("#lines tr.line-row") if row.select(".copied-mark")]
    assert copied == ["1.1.4"]
    assert row_of(page, "1.1.4").select_one(".copied-mark").get_text() == "与上季度相同"
    assert page_of(office, f"/returns/{q3.id}").select(".copied-mark") == []
    history = page_of(office, f"/returns/{q4.id}/history")
    paragraph = next(p for p in history.select("p.small") if "一字不差" in p.get_text())
    assert [b.get_text() for b in paragraph.select(".badge")] == ["1.1.4"]


# --- no lost work ---------------------------------------------------------------------------------


def test_two_people_editing_one_draft_the_second_save_is_refused_and_the_first_text_kept(login):
    first, second = login("fgj1"), login("fgj2")
    report_id = quarterly_form("发改局").id
    first_page = page_of(first, f"/returns/{report_id}")
    second_page = page_of(second, f"/returns/{report_id}")
    version = quarterly_form("发改局").version
    assert first_page.select_one('input[name="version"]')["value"] == str(version)

    saved = post_form(first, report_id, lines={"1.3.1": {"done": "甲填写的完成情况"}}, page=first_page)
    refused = post_form(second, report_id, lines={"1.3.1": {"done": "乙填写的完成情况"}}, page=second_page)

    assert flashes(soup(saved)) == ["已保存草稿。"]
    page = soup(refused)
    (message,) = flashes(page)
    assert CONFLICT in message and "请刷新页面" in message
    assert shown(page, "1.3.1", "done") == "甲填写的完成情况"
    assert "乙填写的完成情况" in page.select_one("#unsaved").get_text()  # kept beside the form to copy from
    assert line_of(quarterly_form("发改局"), "1.3.1").done == "甲填写的完成情况"
    assert quarterly_form("发改局").version == version + 1
    # The page now carries the current version: the second person can apply their change on top.
    assert page.select_one('input[name="version"]')["value"] == str(version + 1)
    again = post_form(second, report_id, lines={"1.3.2": {"done": "乙补充"}}, page=page)
    assert flashes(soup(again)) == ["已保存草稿。"]
    report = quarterly_form("发改局")
    assert (line_of(report, "1.3.1").done, line_of(report, "1.3.2").done) == ("甲填写的完成情况", "乙补充")


def test_submitting_a_stale_copy_is_refused(login):
    first, second = login("fgj1"), login("fgj2")
    report_id = quarterly_form("发改局").id
    stale = page_of(second, f"/returns/{report_id}")
    post_form(first, report_id, lines={"1.3.1": {"done": "甲的修改"}})

    page = stale
    data = form_fields(page)
    for code, values in every_line(page).items():
        for field, value in values.items():
            data[field_name(page, code, field)] = value
    response = second.post(f"/returns/{report_id}", data={**data, **HEADER, "action": "submit"}, follow_redirects=True)

    assert CONFLICT in " ".join(flashes(soup(response)))
    report = quarterly_form("发改局")
    assert (report.state, report.versions, line_of(report, "1.3.1").done) == (ReturnState.DRAFT, [], "甲的修改")


def test_save_return_twice_with_the_same_expected_version(plan):
    report = quarterly_form("发改局")
    version = report.version

    save_return(report, {"lines": [{"task_code": "1.3.1", "done": "第一次保存"}]}, version)
    with pytest.raises(WorkflowError) as refused:
        save_return(report, {"lines": [{"task_code": "1.3.1", "done": "第二次保存"}]}, version)

    assert refused.value.code == "conflict"
    assert CONFLICT in refused.value.zh
    db.session.expire_all()
    report = quarterly_form("发改局")
    assert (report.version, line_of(report, "1.3.1").done) == (version + 1, "第一次保存")


def test_a_save_the_database_has_moved_past_is_refused_by_the_version_check(plan):
    """Someone else's save lands between reading the form and writing it: the row's version decides."""
    report = quarterly_form("发改局")
    version = report.version
    assert line_of(report, "1.3.1").done == ""
    with db.engine.begin() as other:  # another connection: another worker saving the same form
        other.execute(text("UPDATE quarterly_returns SET version = version + 1 WHERE id = :id"), {"id": report.id})

    with pytest.raises(WorkflowError) as refused:
        save_return(report, {"lines": [{"task_code": "1.3.1", "done": "迟到的保存"}]}, version)

    assert refused.value.code == "conflict"
    db.session.expire_all()
    report = quarterly_form("发改局")
    assert (report.version, line_of(report, "1.3.1").done) == (version + 1, "")


@pytest.mark.postgres  # SQLite serialises writers, so two connections cannot race on one row
def test_two_connections_saving_the_same_version_at_once_only_one_succeeds(app, plan):
    report_id = quarterly_form("发改局").id
    version = quarterly_form("发改局").version
    db.session.commit()
    barrier = threading.Barrier(2)
    results = {}

    def save(name):
        try:
            with app.app_context():
                report = db.session.get(QuarterlyReturn, report_id)
                assert report.version == version and len(report.lines) == 17
                barrier.wait(timeout=10)
                try:
                    save_return(report, {"lines": [{"task_code": "1.3.1", "done": f"{name}的完成情况"}]}, version)
                    results[name] = "saved"
                except WorkflowError as error:
                    results[name] = error.code
        except Exception as error:  # noqa: BLE001 - reported by the assertion below, not lost in the thread
            results[name] = repr(error)

    threads = [threading.Thread(target=save, args=(name,)) for name in ("甲", "乙")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results.values()) == ["conflict", "saved"], results
    winner = next(name for name, result in results.items() if result == "saved")
    db.session.expire_all()
    report = quarterly_form("发改局")
    assert (report.version, line_of(report, "1.3.1").done) == (version + 1, f"{winner}的完成情况")


# --- evidence files -------------------------------------------------------------------------------

FILES = {
    "pdf": ("第三季度工作会议纪要.pdf", lambda: PDF, PDF_MIME, ".pdf"),
    "png": ("平台上线截图.png", png_bytes, "image/png", ".png"),
    "docx": ("数据开放情况说明（定稿）.docx", docx_bytes, DOCX_MIME, ".docx"),
    "xlsx": ("开放数据集清单.xlsx", xlsx_bytes, XLSX_MIME, ".xlsx"),
}


@pytest.mark.parametrize("kind", FILES)
def test_an_uploaded_file_is_stored_under_a_generated_name_and_downloads_as_it_was(app, login, kind):
    name, make, mime, suffix = FILES[kind]
    data = make()
    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id

    page = soup(upload(fgj, report_id, data, name))

    assert f"已上传“{name}”。" in flashes(page)
    item = page.select_one("#evidence li")
    assert item.select_one("a").get_text() == name
    assert item.select_one(".text-muted").get_text() == "1.3.1"
    evidence = Evidence.query.one()
    assert (evidence.original_name, evidence.content_type, evidence.size) == (name, mime, len(data))
    assert evidence.line.task.code == "1.3.1"
    stored = upload_files(app)
    assert stored == [evidence.stored_name]
    assert re.fullmatch(r"[0-9a-f]{32}" + re.escape(suffix), stored[0])
    assert storage.read(stored[0]) == data

    with fgj.get(item.select_one("a")["href"]) as response:
        assert response.status_code == 200
        assert response.data == data
        assert response.mimetype == mime
        disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"filename*=UTF-8''{quote(name)}" in disposition


def test_an_executable_renamed_pdf_is_refused_and_nothing_is_stored(app, login):
    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200 + b"This program cannot be run"

    page = soup(upload(fgj, report_id, exe, "会议纪要.pdf"))

    (message,) = flashes(page)
    assert "“会议纪要.pdf”不是允许的文件类型" in message
    assert (
        "只能上传PDF、Word（.docx）、Excel（.xlsx）、JPG、PNG、"
        "Word 97-2003（.doc）、WPS文字（.wps）、WPS表格（.et）、OFD版式文件（.ofd）文件"
    ) in message
    assert page.select("#evidence li") == []
    assert Evidence.query.count() == 0
    assert upload_files(app) == []


def repacked(data, extra=(), drop=(), types=None):
    """Return a copy of the Office package ``data`` with parts added, dropped or [Content_Types].xml replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            content = source.read(info)
            if info.filename == "[Content_Types].xml" and types is not None:
                content = types(content)
            target.writestr(info.filename, content)
        for name, content in extra:
            target.writestr(name, content)
    return buffer.getvalue()


PE = b"MZ\x90\x00" + b"\x00" * 60 + b"This program cannot be run in DOS mode.\r\n"
HOSTILE = {
    "exe inside a docx": (
        lambda: repacked(docx_bytes(), [("word/evil.exe", PE)]),
        "程序、宏、嵌入对象或网页（word/evil.exe）",
    ),
    "html inside a docx": (
        lambda: repacked(docx_bytes(), [("word/page.html", b"<html><script>alert(1)</script></html>")]),
        "程序、宏、嵌入对象或网页",
    ),
    "macros in an xlsx": (lambda: repacked(xlsx_bytes(), [("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0")]), "宏"),
    "program as an image": (lambda: repacked(docx_bytes(), [("word/media/image1.png", PE)]), "可执行程序"),
    "docx without its document": (lambda: repacked(docx_bytes(), drop={"word/document.xml"}), "不是一个完整的"),
    "docx declaring html": (
        lambda: repacked(
            docx_bytes(),
            types=lambda xml: xml.replace(b"</Types>", b'<Default Extension="htm" ContentType="text/html"/></Types>'),
        ),
        "含有宏或网页内容",
    ),
    "zip bomb": (
        lambda: repacked(docx_bytes(), [("word/media/big.bmp", b"\x00" * (60 * 1024 * 1024))]),
        "疑似压缩炸弹",
    ),
    "pdf and html polyglot": (
        lambda: PDF.replace(b"%%EOF", b"<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF"),
        "含有脚本、网页内容或附加文件",
    ),
    "pdf with javascript": (
        lambda: PDF.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
        "含有脚本",
    ),
}


def pdf_made(script=None, noise=0):
    """Return a real PDF (pypdf's writer): a page, a stream of ``noise`` random bytes, and a script if given."""
    import random

    from pypdf import PdfWriter
    from pypdf.actions import JavaScript
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    if noise:
        stream = DecodedStreamObject()
        stream.set_data(random.Random(noise).randbytes(noise))  # like a scanned page's image data
        page[NameObject("/Noise")] = stream
    if script:
        writer.add_open_action(JavaScript(script))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def zip_flagged_encrypted(data):
    """Return ``data`` (a zip) with the encryption bit set on its first part, in both headers."""
    data = bytearray(data)
    data[6] |= 1  # the local header's flags
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"PK\x05\x06"))
    first = data.find(b"PK\x01\x02")
    data[first + 8] |= 1
    assert central >= first
    return bytes(data)


REMOTE_TEMPLATE = (
    b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate"'
    b' Target="http://203.0.113.9/t.dotm" TargetMode="External"/></Relationships>'
)
ALT_CHUNK = REMOTE_TEMPLATE.replace(b"attachedTemplate", b"aFChunk").replace(
    b' Target="http://203.0.113.9/t.dotm" TargetMode="External"', b' Target="page.mht"'
)
HOSTILE.update(
    {
        "hex-escaped javascript in a real pdf": (
            lambda: pdf_made("app.alert(1)").replace(b"/JavaScript", b"/J#61vaScript"),
            "含有脚本",
        ),
        "javascript in a real pdf": (lambda: pdf_made("app.alert(1)"), "含有脚本"),
        "encrypted part": (lambda: zip_flagged_encrypted(docx_bytes()), "可能已损坏或加密"),
        "remote template": (
            lambda: repacked(docx_bytes(), [("word/_rels/settings.xml.rels", REMOTE_TEMPLATE)]),
            "载入外部模板、网址或嵌入文档（http://203.0.113.9/t.dotm）",
        ),
        "alt chunk": (lambda: repacked(docx_bytes(), [("word/_rels/footer9.xml.rels", ALT_CHUNK)]), "嵌入文档"),
        "ole object": (
            lambda: repacked(docx_bytes(), [("word/embeddings/oleObject1.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 600)]),
            "嵌入对象",
        ),
    }
)


@pytest.mark.parametrize(
    "make",
    [
        lambda: pdf_made(noise=4 * 1024 * 1024),
        lambda: repacked(docx_bytes(), [("word/media/image1.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")]),
    ],
    ids=["scanned-pdf", "docx-with-an-svg-icon"],
)
def test_ordinary_files_pass_the_checks(app, login, make):
    """A scan's random-looking image data, or Word's SVG icon, is not mistaken for something hostile."""
    data = make()
    fgj = login("fgj1")
    name = "扫描件" + (".pdf" if data.startswith(b"%PDF") else ".docx")

    page = soup(upload(fgj, quarterly_form("发改局").id, data, name))

    assert flashes(page) == [f"已上传“{name}”。"]


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_file_with_an_allowed_type_is_refused_and_nothing_is_stored(app, login, case):
    make, reason = HOSTILE[case]
    data = make()
    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id

    page = soup(upload(fgj, report_id, data, "佐证材料" + (".pdf" if data.startswith(b"%PDF") else ".docx")))

    (message,) = flashes(page)
    assert reason in message, message
    assert Evidence.query.count() == 0
    assert upload_files(app) == []


def test_an_oversized_upload_gets_413_in_chinese_and_nothing_is_stored(app, login):
    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id
    page = page_of(fgj, f"/returns/{report_id}")
    app.config["MAX_CONTENT_LENGTH"] = 1024

    response = upload(fgj, report_id, PDF + b"0" * 4096, "大文件.pdf", page=page)

    assert response.status_code == 413
    text_ = soup(response, 413).get_text(" ", strip=True)
    assert "文件过大" in text_ and "上传的文件超过了" in text_
    assert Evidence.query.count() == 0
    assert upload_files(app) == []


def test_evidence_can_be_deleted_while_the_form_is_open_but_not_once_submitted(app, login, account):
    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id
    upload(fgj, report_id, PDF, "旧版.pdf")
    upload(fgj, report_id, png_bytes(), "截图.png", code="1.1.4")
    old, keep = Evidence.query.order_by(Evidence.id).all()
    page = page_of(fgj, f"/returns/{report_id}")

    response = fgj.post(f"/evidence/{old.id}/delete", data={"csrf_token": token_of(page)}, follow_redirects=True)

    assert "已删除附件。" in flashes(soup(response))
    assert [e.id for e in Evidence.query.all()] == [keep.id]
    assert upload_files(app) == [keep.stored_name]
    submitted("发改局", account("fgj1"))
    assert fgj.post(f"/evidence/{keep.id}/delete", data={"csrf_token": token_of(page)}).status_code == 403
    assert (
        fgj.post(
            f"/returns/{report_id}/evidence",
            data={"csrf_token": token_of(page), "line_id": keep.line_id, "file": (io.BytesIO(PDF), "新.pdf")},
            content_type="multipart/form-data",
        ).status_code
        == 403
    )
    assert upload_files(app) == [keep.stored_name]
    assert Evidence.query.count() == 1


def test_another_department_gets_404_for_the_file_and_the_form(login):
    fgj = login("fgj1")
    czj = login("czj1")
    report_id = quarterly_form("发改局").id
    upload(fgj, report_id, PDF, "纪要.pdf")
    evidence = Evidence.query.one()
    token = token_of(page_of(czj, "/returns"))

    assert czj.get(f"/evidence/{evidence.id}").status_code == 404
    assert czj.get(f"/returns/{report_id}").status_code == 404
    assert czj.get(f"/returns/{report_id}/history").status_code == 404
    assert czj.post(f"/evidence/{evidence.id}/delete", data={"csrf_token": token}).status_code == 404
    page = page_of(czj, f"/evidence/{evidence.id}", status=404)
    assert "页面不存在" in page.get_text()
    assert Evidence.query.count() == 1


def test_a_leader_can_download_but_not_upload(login):
    fgj = login("fgj1")
    leader = login("leader1")
    report_id = quarterly_form("发改局").id
    upload(fgj, report_id, PDF, "纪要.pdf")
    evidence = Evidence.query.one()
    page = page_of(leader, f"/returns/{report_id}")
    assert page.select_one("#file") is None
    link = page.select_one("#evidence li a")

    with leader.get(link["href"]) as response:
        assert (response.status_code, response.data) == (200, PDF)
    refused = leader.post(
        f"/returns/{report_id}/evidence",
        data={"csrf_token": token_of(page), "line_id": evidence.line_id, "file": (io.BytesIO(PDF), "领导.pdf")},
        content_type="multipart/form-data",
    )

    assert refused.status_code == 403
    assert Evidence.query.count() == 1


# --- who may do what ------------------------------------------------------------------------------


def test_a_department_user_gets_404_for_another_departments_form(login):
    czj = login("czj1")
    report = quarterly_form("发改局")
    own = page_of(czj, f"/returns/{quarterly_form('财政局').id}")
    version = report.version

    response = czj.get(f"/returns/{report.id}")
    posted = czj.post(
        f"/returns/{report.id}",
        data={**form_fields(own), "version": version, **HEADER, "action": "save"},
    )

    assert response.status_code == 404
    assert posted.status_code == 404
    assert "页面不存在" in soup(posted, 404).get_text()
    report = quarterly_form("发改局")
    assert (report.version, report.filled_by_name) == (version, "")
    assert czj.post(f"/returns/{report.id}/review", data={"csrf_token": token_of(own)}).status_code == 403


def test_a_leader_sees_every_form_read_only_and_cannot_review(login, account):
    leader = login("leader1")
    report = submitted("发改局", account("fgj1"))
    other = quarterly_form("财政局")

    pages = [page_of(leader, f"/returns/{r.id}") for r in (report, other)]
    token = token_of(pages[0])

    for page in pages:
        assert editable_fields(page) == [] and action_buttons(page) == []
        assert page.select_one("#review-panel") is None
    assert "1.3.1：已推进。" in row_of(pages[0], "1.3.1").get_text()
    assert leader.post(f"/returns/{report.id}", data={**form_fields(pages[0]), "action": "save"}).status_code == 403
    review = {"csrf_token": token, "decision": "accept"}
    assert leader.post(f"/returns/{report.id}/review", data=review).status_code == 403
    assert leader.post(f"/returns/{report.id}/reopen", data={"csrf_token": token}).status_code == 403
    assert page_of(leader, f"/returns/{report.id}/history").select(".version")
    assert quarterly_form("发改局").state is ReturnState.SUBMITTED


def test_the_office_cannot_fill_in_a_departments_form(login):
    office = login("office1")
    report = quarterly_form("发改局")
    page = page_of(office, f"/returns/{report.id}")
    assert editable_fields(page) == [] and action_buttons(page) == []

    data = {**form_fields(page), **HEADER, "action": "save"}
    response = office.post(f"/returns/{report.id}", data=data)
    upload_response = office.post(
        f"/returns/{report.id}/evidence",
        data={"csrf_token": token_of(page), "line_id": report.lines[0].id, "file": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 403
    assert "没有权限" in soup(response, 403).get_text()
    assert upload_response.status_code == 403
    report = quarterly_form("发改局")
    assert (report.filled_by_name, Evidence.query.count()) == ("", 0)


# --- text pasted from Word (issue 12, item 5) ---------------------------------------------------------


def test_a_soft_line_break_pasted_from_word_is_saved_as_a_line_break(login):
    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id

    page = soup(post_form(fgj, report_id, {"1.3.1": {"done": "一是完善制度\x0b二是加强培训\u2028三是公开"}}))

    assert shown(page, "1.3.1", "done") == "一是完善制度\n二是加强培训\n三是公开"
    assert line_of(quarterly_form("发改局"), "1.3.1").done == "一是完善制度\n二是加强培训\n三是公开"


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x07", "\x7f"], ids=["nul", "escape", "bell", "delete"])
def test_other_control_characters_are_refused_in_chinese_and_nothing_is_saved(login, character):
    fgj = login("fgj1")
    report = quarterly_form("发改局")
    version = report.version

    response = post_form(fgj, report.id, {"1.3.1": {"done": f"已完成{character}"}})

    assert response.status_code == 400
    assert "不可见控制字符" in response.get_data(as_text=True)
    db.session.expire_all()
    assert quarterly_form("发改局").version == version
    assert line_of(quarterly_form("发改局"), "1.3.1").done == ""


def test_every_export_writes_control_characters_the_database_holds(app, login):
    """Text that reached the database before these checks (or by another road) never breaks a download."""
    report = quarterly_form("发改局")
    line = line_of(report, "1.3.1")
    line.done = "旧数据\x0b含\x01有\x1b控制字符\x0c"  # PostgreSQL text cannot hold NUL at all
    report.filled_by_name = "张\x0b三"
    summary = report.period.plan.periods[0].plan  # the plan, for its title
    summary.title = summary.title + "\x0b"
    db.session.commit()
    office = login("office1")

    for url in (
        "/exports/breakdown.xlsx?year=2018&quarter=3",
        "/exports/quarter.xlsx?year=2018&quarter=3",
        "/exports/summary.xlsx?year=2018&scope=q:3",
        "/exports/department.xlsx?year=2018&department=发改局",
        f"/returns/{report.id}",
        "/plans/2018",
    ):
        with office.get(url) as response:
            assert response.status_code == 200, url


def test_an_upload_past_the_department_quota_is_refused_and_others_still_upload(app, login):
    app.config["DEPARTMENT_QUOTA_MB"] = 0.05  # 51 KB
    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id
    data = docx_bytes()
    assert 25 * 1024 < len(data) < 51 * 1024

    first = soup(upload(fgj, report_id, data, "第一份.docx"))
    second = soup(upload(fgj, report_id, data, "第二份.docx"))

    assert flashes(first) == ["已上传“第一份.docx”。"]
    (message,) = flashes(second)
    assert "超过0.05 MB的存储限额" in message
    assert [e.original_name for e in Evidence.query] == ["第一份.docx"]
    czj = login("czj1")
    assert flashes(soup(upload(czj, quarterly_form("财政局").id, data, "财政.docx", code="1.1.1"))) == [
        "已上传“财政.docx”。"
    ]


def test_the_nightly_clean_up_removes_stored_files_no_row_refers_to(app, login):
    from sqlalchemy import update

    from tracker.jobs import job_by_id, run_job
    from tracker.timeutil import system_now

    fgj = login("fgj1")
    upload(fgj, quarterly_form("发改局").id, PDF, "纪要.pdf")
    kept = Evidence.query.one().stored_name
    orphan, fresh = storage.put(PDF, ".pdf").name, storage.put(PDF, ".pdf").name
    db.session.commit()
    two_days_ago = system_now() - datetime.timedelta(days=2)
    db.session.execute(update(StoredFile).where(StoredFile.name.in_([orphan, kept])).values(created_at=two_days_ago))
    db.session.commit()

    run = run_job(job_by_id("housekeeping"), "manual")

    assert run.status == "ok", run.summary
    # The fresh one may belong to a request that committed after the clean-up read the references.
    assert upload_files(app) == sorted([kept, fresh])
    assert "遗留文件1个" in run.summary
    with fgj.get(f"/evidence/{Evidence.query.one().id}") as response:
        assert response.status_code == 200 and response.data == PDF


def test_a_form_submitted_while_its_upload_was_being_checked_takes_no_file(app, login, monkeypatch):
    """The upload looks at the form again, locked, after the (slow) check of the file's content."""
    from sqlalchemy import update

    from tracker.returns import files

    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id
    page = page_of(fgj, f"/returns/{report_id}")
    real_inspect = files.inspect

    def submitted_meanwhile(mime, data):
        real_inspect(mime, data)
        with db.engine.begin() as other:  # a colleague's request, on its own connection
            other.execute(update(QuarterlyReturn).where(QuarterlyReturn.id == report_id).values(state="submitted"))

    monkeypatch.setattr(files, "inspect", submitted_meanwhile)

    (message,) = flashes(soup(upload(fgj, report_id, PDF, "纪要.pdf", page=page)))

    assert "不能修改" in message
    assert Evidence.query.count() == 0
    assert upload_files(app) == []


# --- autosave (issue 13, item 3) -------------------------------------------------------------------


def autosave(client, report_id, changes, version=None):
    """Post what the page's script posts after a pause in typing; return the response."""
    page = page_of(client, f"/returns/{report_id}")
    data = form_fields(page)
    for code, values in changes.items():
        for field, value in values.items():
            data[field_name(page, code, field)] = value
    if version is not None:
        data["version"] = str(version)
    return client.post(
        f"/returns/{report_id}/autosave", data=data, headers={"X-Requested-With": "fetch", "Accept": "application/json"}
    )


def test_an_autosave_saves_the_draft_and_answers_with_the_new_version(login):
    fgj = login("fgj1")
    report = quarterly_form("发改局")
    version = report.version

    response = autosave(fgj, report.id, {"1.3.1": {"done": "已上线统一开放平台"}})

    assert response.status_code == 200
    assert response.get_json()["version"] == version + 1
    assert re.fullmatch(r"\d\d:\d\d:\d\d", response.get_json()["saved_at"])
    db.session.expire_all()
    assert line_of(quarterly_form("发改局"), "1.3.1").done == "已上线统一开放平台"


def test_an_autosave_on_a_stale_version_is_refused_and_overwrites_nothing(login):
    fgj, fgj2 = login("fgj1"), login("fgj2")
    report = quarterly_form("发改局")
    stale = report.version
    assert autosave(fgj2, report.id, {"1.3.1": {"done": "同事先保存的内容"}}).status_code == 200

    response = autosave(fgj, report.id, {"1.3.1": {"done": "我的内容"}}, version=stale)

    assert response.status_code == 409
    assert response.get_json()["error"] == "conflict"
    assert CONFLICT in response.get_json()["message"]
    db.session.expire_all()
    assert line_of(quarterly_form("发改局"), "1.3.1").done == "同事先保存的内容"


def test_an_autosave_after_the_session_ended_is_a_401_the_script_can_read(app, login):
    from tracker.auth.operations import sign_out_everywhere

    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id
    page = page_of(fgj, f"/returns/{report_id}")
    sign_out_everywhere(User.query.filter_by(username="fgj1").one())

    response = fgj.post(f"/returns/{report_id}/autosave", data=form_fields(page), headers={"X-Requested-With": "fetch"})

    assert response.status_code == 401
    assert response.is_json


def test_an_autosave_of_a_submitted_form_is_refused(login, account):
    fgj = login("fgj1")
    report = submitted("发改局", account("fgj1"))

    response = fgj.post(
        f"/returns/{report.id}/autosave",
        data={"version": str(report.version), "csrf_token": token_of(page_of(fgj, f"/returns/{report.id}"))},
        headers={"X-Requested-With": "fetch"},
    )

    assert response.status_code == 409
    assert "不能修改" in response.get_json()["message"]


def test_the_editable_form_carries_the_autosave_script_and_the_upload_saves_first(login):
    page = page_of(login("fgj1"), f"/returns/{quarterly_form('发改局').id}")

    assert page.select_one("#return-form")["data-autosave"] == f"/returns/{quarterly_form('发改局').id}/autosave"
    assert page.select_one("form[data-save-first]") is not None
    assert page.select_one("script[src='/static/autosave.js']") is not None
    assert page.select_one("#autosave-status")["aria-live"] == "polite"


# --- files people actually have (issue 13, item 8) ------------------------------------------------


def ofd_bytes(extra=()):
    """Return a small OFD package: OFD.xml at the root, a document and a page."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("OFD.xml", '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0"/>')
        package.writestr("Doc_0/Document.xml", "<ofd:Document/>")
        package.writestr("Doc_0/Pages/Page_0/Content.xml", "<ofd:Page/>")
        for name, data in extra:
            package.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "mime"),
    [
        ("通知.doc", lambda: compound_file([("WordDocument", b"text")]), "application/msword"),
        ("台账.et", lambda: compound_file([("Workbook", b"cells")]), "application/kset"),
        ("总结.wps", lambda: compound_file([("WordDocument", b"text")]), "application/kswps"),
        ("红头文件.ofd", ofd_bytes, "application/ofd"),
    ],
)
def test_the_older_word_and_wps_files_and_ofd_are_accepted_by_their_content(app, login, name, make, mime):
    fgj = login("fgj1")

    page = soup(upload(fgj, quarterly_form("发改局").id, make(), name))

    assert flashes(page) == [f"已上传“{name}”。"]
    evidence = Evidence.query.one()
    assert evidence.content_type == mime
    assert evidence.stored_name.endswith(name[name.rindex(".") :])


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("宏.doc", lambda: compound_file([("WordDocument", b"text")], ["Macros"]), "含有宏或嵌入对象"),
        ("嵌入.wps", lambda: compound_file([("WordDocument", b"t"), ("ObjectPool", b"")]), "含有宏或嵌入对象"),
        ("不明.xls", lambda: compound_file([("Workbook", b"cells")]), "不是允许的文件类型"),
        ("坏的.doc", lambda: bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 100, "可能已损坏"),
        ("程序.ofd", lambda: ofd_bytes([("Doc_0/run.exe", PE)]), "程序、宏、嵌入对象或网页"),
    ],
)
def test_a_hostile_or_broken_older_file_is_refused_with_the_reason(app, login, name, make, reason):
    fgj = login("fgj1")

    (message,) = flashes(soup(upload(fgj, quarterly_form("发改局").id, make(), name)))

    assert reason in message
    assert Evidence.query.count() == 0


def test_the_office_chooses_which_kinds_may_be_uploaded(app, login):
    office = login("office1")
    page = page_of(office, "/settings/uploads")
    assert len(page.select("#upload-kinds input[name=kind]")) == 9

    office.post("/settings/uploads", data={"csrf_token": token_of(page), "kind": ["docx", "jpg"]})

    fgj = login("fgj1")
    form_page = page_of(fgj, f"/returns/{quarterly_form('发改局').id}")
    assert form_page.select_one("#file")["accept"] == ".pdf,.docx,.jpg,.jpeg"
    (message,) = flashes(soup(upload(fgj, quarterly_form("发改局").id, xlsx_bytes(), "表.xlsx", page=form_page)))
    assert "只能上传PDF、Word（.docx）、JPG文件" in message
    assert flashes(soup(upload(fgj, quarterly_form("发改局").id, PDF, "纪要.pdf"))) == ["已上传“纪要.pdf”。"]


# --- form polish (issue 13, item 9) -----------------------------------------------------------------


def test_the_header_is_carried_over_from_last_quarter_until_changed(login, account):
    fgj = login("fgj1")
    submitted("发改局", account("fgj1"), quarter=3)

    page = page_of(fgj, f"/returns/{quarterly_form('发改局', 4).id}")

    assert {f: page.select_one(f"#{f}")["value"] for f in HEADER} == HEADER
    assert quarterly_form("发改局", 4).filled_by_name == ""  # shown, saved only when the department saves


def test_a_wrong_number_says_what_is_wrong_at_its_field(login):
    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id

    page = soup(post_form(fgj, report_id, counts={("submitted", "portal"): "3.5"}))

    field = page.select_one("#count-submitted-portal")
    assert field["aria-invalid"] == "true"
    assert page.select_one(f"#{field['aria-describedby']}").get_text() == "请填写0或正整数（不含小数点、空格和单位）"
    assert all("text-nowrap" in th["class"] for th in page.select("#counts thead th[scope=col]"))


def test_an_upload_whose_transaction_fails_leaves_no_file_behind(app, login):
    """The file is written with its row, in one transaction: the database failing at the commit keeps neither."""
    from sqlalchemy.exc import OperationalError

    fgj = login("fgj1")
    report_id = quarterly_form("发改局").id
    page = page_of(fgj, f"/returns/{report_id}")

    def connection_lost(session):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    event.listen(db.session, "before_commit", connection_lost)
    try:
        response = upload(fgj, report_id, PDF, "纪要.pdf", page=page)
    finally:
        event.remove(db.session, "before_commit", connection_lost)

    assert "系统出现错误，请稍后重试" in soup(response, 500).get_text(" ", strip=True)
    db.session.rollback()
    assert Evidence.query.count() == 0
    assert upload_files(app) == []
    page = soup(upload(fgj, report_id, PDF, "纪要.pdf"))
    assert [a.get_text() for a in page.select("#evidence li a")] == ["纪要.pdf"]
    assert len(upload_files(app)) == 1
