"""Half-year work summaries (半年工作总结): periods, writing and submitting, documents, review,
versions, permissions and the office's overview — through the pages a person uses.

"Today" is fixed with ``TRACKER_TODAY``: the 2018 plan's second half is due on 2019-01-15.
"""

import datetime
import io
from urllib.parse import quote

import docx
import openpyxl
import pytest
from bs4 import BeautifulSoup
from conftest import csrf_token, flashes, half_year_summary, page_of, soup, state_text, upload_files

from tracker.models import Department, HalfYearSummary, PeriodKind, ReportingPeriod, ReturnState, User
from tracker.summaries.operations import save_and_submit_summary
from tracker.workflow import review

BEFORE_DUE = "2019-01-10"
FILLER = {"filled_by_name": "王晓明", "filled_by_phone": "022-25201234", "approved_by": "李建国"}
SUBMITTED = "2018年下半年工作总结已报送，等待办公室审核。"
INCOMPLETE = "半年工作总结尚未填写完整，请补全标红的内容后再报送。"
RETURN_NEEDS = "退回时须填写退回原因和不早于今天的修改截止日期。"
CONFLICT = "该半年工作总结已被他人修改，您的保存未生效。请刷新页面，在最新内容上重新修改。"
NOT_ALLOWED = (
    "不是允许的文件类型。只能上传Word（.docx）、PDF、Word 97-2003（.doc）、WPS文字（.wps）、OFD版式文件（.ofd）文件"
    "（按文件内容判断，而不是文件名）。"
)

PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
PDF_MIME = "application/pdf"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def plan(app, load_seed):
    """Load the 2018 plan, with today fixed five days before the second half's summary is due."""
    app.config["TRACKER_TODAY"] = BEFORE_DUE
    return load_seed()


@pytest.fixture
def account(plan, account):
    """Load the plan before anyone signs in: the accounts' departments come from it (see conftest)."""
    return account


def post_summary(client, summary_id, action="save", page=None, **values):
    """Open the summary (unless ``page`` is what the user has open), change fields and press a button."""
    page = page if page is not None else page_of(client, f"/summaries/{summary_id}")
    form = page.select_one("#summary-form")
    data = {i["name"]: i.get("value", "") for i in form.select("input[name]")}
    data["text"] = form.select_one("textarea[name=text]").get_text()
    data.update(values, action=action)
    return client.post(f"/summaries/{summary_id}", data=data, follow_redirects=True)


def upload(client, summary_id, data, name):
    """Upload a document through the summary page's upload form."""
    page = page_of(client, f"/summaries/{summary_id}")
    return client.post(
        f"/summaries/{summary_id}/document",
        data={"csrf_token": csrf_token(str(page)), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def office_post(client, url, **data):
    """Post one of the office's review forms, with the token of the summary page."""
    summary_url = url.rsplit("/", 1)[0]
    token = csrf_token(client.get(summary_url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=True)


def download(client, url):
    """Fetch a file; return the closed response and its bytes."""
    with client.get(url) as response:
        return response, response.get_data()


def docx_bytes(text="2018年下半年政务公开工作总结"):
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes():
    workbook = openpyxl.Workbook()
    workbook.active.append(["工作总结", "已完成"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def submitted(name, username, text="下半年工作总结正文。"):
    """Write and submit a department's summary through the operation; return it."""
    summary = half_year_summary(name)
    user = User.query.filter_by(username=username).one()
    return save_and_submit_summary(summary, {"text": text, **FILLER}, summary.version, user)


# --- periods --------------------------------------------------------------------------------------


@pytest.mark.dates
def test_the_seed_plan_gives_every_department_one_summary_for_the_second_half_due_15_january(plan, login):
    halves = ReportingPeriod.query.filter_by(plan_id=plan.id, kind=PeriodKind.HALF).all()
    assert [(p.number, p.starts_on, p.ends_on, p.due_on) for p in halves] == [
        (2, datetime.date(2018, 7, 1), datetime.date(2018, 12, 31), datetime.date(2019, 1, 15))
    ]
    summaries = HalfYearSummary.query.all()
    assert len(summaries) == 21
    assert sorted(s.department_id for s in summaries) == sorted(d.id for d in Department.query)
    assert all(s.state is ReturnState.DRAFT and s.period_id == halves[0].id for s in summaries)

    page = page_of(login("fgj1"), "/summaries")

    rows = page.select("tr.summary-row")
    assert [r["data-period"] for r in rows] == ["H2"]
    cells = [cell.get_text(" ", strip=True) for cell in rows[0].select("th, td")]
    assert cells[:3] == ["2018年下半年", "2019年1月15日", "未到期"]
    assert rows[0].select_one("a").get_text(strip=True) == "填写"


# --- writing and submitting -----------------------------------------------------------------------


def test_a_department_saves_a_draft_then_submits_it_as_version_one(login):
    fgj = login("fgj1")
    summary_id = half_year_summary("发改局").id

    page = soup(post_summary(fgj, summary_id, text="一、主要工作\n二、存在问题", **FILLER))

    assert flashes(page) == ["已保存草稿。"]
    assert state_text(page) == "填报中"
    summary = half_year_summary("发改局")
    assert summary.text == "一、主要工作\n二、存在问题" and summary.filled_by_phone == "022-25201234"
    assert summary.versions == [] and summary.events == []

    page = soup(post_summary(fgj, summary_id, action="submit", page=page))

    assert flashes(page) == [SUBMITTED]
    assert state_text(page) == "已报送"
    assert page.select_one("#timeliness").get_text(strip=True) == "按时报送"
    assert page.select_one("textarea") is None and page.select_one('input[type="file"]') is None
    assert page.select_one("div#text").get_text() == "一、主要工作\n二、存在问题"
    summary = half_year_summary("发改局")
    assert summary.state is ReturnState.SUBMITTED and summary.is_first_late is False
    assert [(v.number, v.is_correction, v.is_late, v.content["text"]) for v in summary.versions] == [
        (1, False, False, "一、主要工作\n二、存在问题")
    ]
    assert summary.versions[0].submitted_by.username == "fgj1"
    assert [e.label for e in summary.events] == ["报送"]
    history = page_of(fgj, f"/summaries/{summary_id}/history")
    assert "报送" in history.select_one("#events").get_text()
    assert "第 1 次报送（首次报送）" in history.select_one(".version").get_text()


@pytest.mark.parametrize(
    ("values", "invalid"),
    [
        ({"text": "下半年工作总结。", **FILLER, "filled_by_phone": ""}, "filled_by_phone"),
        ({"text": "下半年工作总结。", **FILLER, "approved_by": ""}, "approved_by"),
        ({"text": "  ", **FILLER}, "text"),
    ],
    ids=["without-phone", "without-approver", "without-text-or-document"],
)
def test_an_incomplete_summary_is_refused_and_nothing_is_saved(login, values, invalid):
    fgj = login("fgj1")
    summary_id = half_year_summary("发改局").id
    before = half_year_summary("发改局").version

    page = soup(post_summary(fgj, summary_id, action="submit", **values))

    assert flashes(page) == [INCOMPLETE]
    assert "is-invalid" in page.select_one(f"#{invalid}")["class"]
    assert page.select_one("#filled_by_name")["value"] == "王晓明", "what was typed is shown again"
    summary = half_year_summary("发改局")
    assert (summary.state, summary.version, summary.text + summary.filled_by_name) == (ReturnState.DRAFT, before, "")
    assert summary.versions == [] and summary.events == []


def test_a_too_long_summary_is_refused_with_a_message_about_its_length(login):
    fgj = login("fgj1")
    summary_id = half_year_summary("发改局").id

    page = soup(post_summary(fgj, summary_id, text="总" * 20_001, **FILLER))

    assert flashes(page) == ["部分内容填写有误，请按提示修改。"]
    assert half_year_summary("发改局").text == ""
    feedback = page.select_one("#text ~ .invalid-feedback").get_text(strip=True)
    assert feedback != "请填写总结内容或上传总结文件。", "the field asks for text although there is too much of it"


def test_a_stale_save_is_refused_and_does_not_overwrite(login):
    first, second = login("fgj1"), login("fgj2")
    summary_id = half_year_summary("发改局").id
    opened = page_of(second, f"/summaries/{summary_id}")
    post_summary(first, summary_id, text="第一位同事写的总结。", **FILLER)

    page = soup(post_summary(second, summary_id, page=opened, text="第二位同事的旧页面。"))

    assert flashes(page) == [CONFLICT]
    assert page.select_one("textarea#text").get_text() == "第一位同事写的总结。"
    assert half_year_summary("发改局").text == "第一位同事写的总结。"

    page = soup(post_summary(second, summary_id, page=opened, action="submit", text="第二位同事的旧页面。"))

    assert flashes(page) == [CONFLICT]
    summary = half_year_summary("发改局")
    assert (summary.state, summary.text, summary.versions) == (ReturnState.DRAFT, "第一位同事写的总结。", [])


def test_a_stale_save_keeps_the_refused_text_on_the_page_to_copy_from(login):
    first, second = login("fgj1"), login("fgj2")
    summary_id = half_year_summary("发改局").id
    opened = page_of(second, f"/summaries/{summary_id}")
    post_summary(first, summary_id, text="第一位同事写的总结。", **FILLER)

    page = soup(post_summary(second, summary_id, page=opened, text="第二位同事花了一下午写的总结。"))

    assert flashes(page) == [CONFLICT]
    kept = "第二位同事花了一下午写的总结。" in page.get_text()
    assert kept, "the refused text is nowhere on the page (the quarterly form keeps it in #unsaved)"


# --- documents ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "name", "mime"),
    [(docx_bytes, "发改局下半年总结.docx", DOCX_MIME), (lambda: PDF, "总结.pdf", PDF_MIME)],
    ids=["docx", "pdf"],
)
def test_a_word_or_pdf_document_is_uploaded_and_downloaded(app, login, make, name, mime):
    fgj = login("fgj1")
    summary_id = half_year_summary("发改局").id
    data = make()

    page = soup(upload(fgj, summary_id, data, name))

    assert flashes(page) == [f"已上传“{name}”。"]
    assert page.select_one("#document-link").get_text(strip=True) == name
    summary = half_year_summary("发改局")
    assert (summary.document_name, summary.document_type, summary.document_size) == (name, mime, len(data))
    assert len(upload_files(app)) == 1
    response, body = download(fgj, f"/summaries/{summary_id}/document")
    assert (response.status_code, response.mimetype, body) == (200, mime, data)
    assert response.headers["Content-Disposition"].endswith(f"; filename*=UTF-8''{quote(name)}")


def test_a_document_over_the_size_limit_gets_413_in_chinese_and_nothing_is_stored(app, login):
    fgj = login("fgj1")
    summary_id = half_year_summary("发改局").id
    app.config["MAX_CONTENT_LENGTH"] = 1024

    response = upload(fgj, summary_id, PDF + b"0" * 4096, "大文件.pdf")

    assert "上传的文件超过了" in soup(response, 413).get_text()
    assert half_year_summary("发改局").document_name is None
    assert upload_files(app) == []


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        (xlsx_bytes, "总结.xlsx", f"“总结.xlsx”{NOT_ALLOWED}"),
        (lambda: "下半年工作总结（纯文本）".encode(), "总结.docx", f"“总结.docx”{NOT_ALLOWED}"),
        (lambda: b"", "空白.pdf", "上传的文件是空的。"),
    ],
    ids=["xlsx", "text-named-docx", "empty"],
)
def test_anything_but_a_word_or_pdf_document_is_refused_and_nothing_changes(app, login, make, name, message):
    fgj = login("fgj1")
    summary_id = half_year_summary("发改局").id
    before = half_year_summary("发改局").version

    page = soup(upload(fgj, summary_id, make(), name))

    assert flashes(page) == [message]
    assert page.select_one("#document-link") is None
    summary = half_year_summary("发改局")
    assert (summary.document_name, summary.document_stored_name, summary.version) == (None, None, before)
    assert upload_files(app) == []


def test_a_summary_given_only_as_a_document_can_be_submitted(login):
    fgj = login("fgj1")
    summary_id = half_year_summary("发改局").id
    upload(fgj, summary_id, PDF, "总结.pdf")

    page = soup(post_summary(fgj, summary_id, action="submit", text="", **FILLER))

    assert flashes(page) == [SUBMITTED]
    assert page.select_one("div#text").get_text(strip=True) == "（未填写，见总结文件）"
    (version,) = half_year_summary("发改局").versions
    assert (version.content["text"], version.content["document"]) == ("", "总结.pdf")


def test_a_versions_document_stays_downloadable_after_the_draft_document_is_replaced(app, login):
    fgj, office = login("fgj1"), login("office1")
    summary_id = half_year_summary("发改局").id
    first = docx_bytes("第一次报送的总结")
    upload(fgj, summary_id, docx_bytes("草稿，将被替换"), "草稿.docx")
    upload(fgj, summary_id, first, "总结.docx")
    assert len(upload_files(app)) == 1, "a replaced draft document no version refers to is deleted"
    post_summary(fgj, summary_id, action="submit", **FILLER)
    office_post(office, f"/summaries/{summary_id}/review", decision="return", reason="请补充数据", due_on="2019-01-20")

    page = soup(upload(fgj, summary_id, PDF, "修改稿.pdf"))

    assert flashes(page) == ["已上传“修改稿.pdf”。"]
    assert download(fgj, f"/summaries/{summary_id}/document")[1] == PDF
    old, body = download(fgj, f"/summaries/{summary_id}/versions/1/document")
    assert old.status_code == 200 and body == first and old.mimetype == DOCX_MIME
    assert len(upload_files(app)) == 2

    token = {"csrf_token": csrf_token(str(page))}
    page = soup(fgj.post(f"/summaries/{summary_id}/document/delete", data=token, follow_redirects=True))
    assert flashes(page) == ["已删除文件。"]
    assert len(upload_files(app)) == 1, "the draft's own document is deleted, version 1's is kept"
    post_summary(fgj, summary_id, action="submit", text="修改后的总结正文。", page=page)

    summary = half_year_summary("发改局")
    assert [(v.is_correction, v.content["document"]) for v in summary.versions] == [(False, "总结.docx"), (True, None)]
    assert download(fgj, f"/summaries/{summary_id}/document")[0].status_code == 404
    assert download(fgj, f"/summaries/{summary_id}/versions/1/document")[1] == first
    assert download(fgj, f"/summaries/{summary_id}/versions/2/document")[0].status_code == 404
    links = page_of(fgj, f"/summaries/{summary_id}/history").select(".version a")
    assert [a["href"] for a in links] == [f"/summaries/{summary_id}/versions/1/document"]


# --- review ---------------------------------------------------------------------------------------


def test_the_office_returns_a_summary_the_department_corrects_it_and_the_office_accepts_it(login):
    fgj, office = login("fgj1"), login("office1")
    summary_id = half_year_summary("发改局").id
    post_summary(fgj, summary_id, action="submit", text="初稿。", **FILLER)
    review = f"/summaries/{summary_id}/review"
    assert page_of(office, f"/summaries/{summary_id}").select_one("#review-panel") is not None

    for refused in ({"reason": "补充"}, {"reason": "补充", "due_on": "2019-01-09"}, {"due_on": "2019-01-20"}):
        page = soup(office_post(office, review, decision="return", **refused))
        assert flashes(page) == [RETURN_NEEDS], refused
        assert half_year_summary("发改局").state is ReturnState.SUBMITTED

    page = soup(office_post(office, review, decision="return", reason="请补充第四季度的数据", due_on="2019-01-20"))

    assert flashes(page) == ["已退回修改。"]
    summary = half_year_summary("发改局")
    assert (summary.state, summary.return_reason) == (ReturnState.RETURNED, "请补充第四季度的数据")
    page = page_of(fgj, f"/summaries/{summary_id}")
    assert page.select_one("#return-reason").get_text(" ", strip=True) == (
        "办公室退回修改： 请补充第四季度的数据 请于 2019年1月20日 前修改后重新报送。"
    )
    assert page.select_one("#due-on").get_text() == "2019年1月20日"
    assert "退回原因：请补充第四季度的数据" in page_of(fgj, "/summaries").select_one("tr.summary-row").get_text()

    page = soup(post_summary(fgj, summary_id, action="submit", page=page, text="初稿。\n补充：第四季度数据。"))

    assert flashes(page) == [SUBMITTED]
    summary = half_year_summary("发改局")
    assert [(v.is_correction, v.due_on.isoformat()) for v in summary.versions] == [
        (False, "2019-01-15"),
        (True, "2019-01-20"),
    ]
    assert summary.versions[1].content["text"] == "初稿。\n补充：第四季度数据。"

    page = soup(office_post(office, review, decision="accept"))

    assert flashes(page) == ["已审核通过。"]
    assert state_text(page) == "已通过" and page.select_one("#review-panel") is None
    summary = half_year_summary("发改局")
    assert summary.state is ReturnState.ACCEPTED and summary.accepted_at is not None
    assert [e.label for e in summary.events] == ["报送", "退回修改", "修改后重新报送", "审核通过"]
    history = page_of(fgj, f"/summaries/{summary_id}/history").select_one("#events").get_text(" ", strip=True)
    assert "原因：请补充第四季度的数据；修改截止 2019年1月20日" in history

    page = page_of(fgj, f"/summaries/{summary_id}")
    assert page.select_one("#summary-form button") is None and page.select_one('input[type="file"]') is None
    token = csrf_token(str(page))
    for url, data in (
        ("", {"version": str(summary.version), "text": "改动", **FILLER, "action": "save"}),
        ("/document", {"file": (io.BytesIO(PDF), "x.pdf")}),
        ("/document/delete", {}),
    ):
        assert fgj.post(f"/summaries/{summary_id}{url}", data={"csrf_token": token, **data}).status_code == 403, url
    summary = half_year_summary("发改局")
    assert (summary.state, summary.text) == (ReturnState.ACCEPTED, "初稿。\n补充：第四季度数据。")


def test_the_office_reopens_an_accepted_summary_for_correction(login):
    fgj, office = login("fgj1"), login("office1")
    summary = submitted("发改局", "fgj1")
    review(summary, User.query.filter_by(username="office1").one(), "accept")
    summary_id = summary.id

    page = soup(office_post(office, f"/summaries/{summary_id}/reopen", reason="数据有误", due_on="2019-01-08"))
    assert flashes(page) == [RETURN_NEEDS] and half_year_summary("发改局").state is ReturnState.ACCEPTED

    page = soup(office_post(office, f"/summaries/{summary_id}/reopen", reason="数据有误", due_on="2019-01-18"))

    assert flashes(page) == ["已重新打开，等待部门修改。"]
    summary = half_year_summary("发改局")
    assert (summary.state, summary.accepted_at, summary.due_on.isoformat()) == (
        ReturnState.RETURNED,
        None,
        "2019-01-18",
    )
    page = soup(post_summary(fgj, summary_id, action="submit", text="更正后的总结。"))
    assert flashes(page) == [SUBMITTED]
    summary = half_year_summary("发改局")
    assert [e.label for e in summary.events] == ["报送", "审核通过", "重新打开", "修改后重新报送"]
    assert [v.is_correction for v in summary.versions] == [False, True]


@pytest.mark.dates
def test_a_late_first_submission_is_marked_late(app, login):
    app.config["TRACKER_TODAY"] = "2019-01-16"
    fgj = login("fgj1")
    summary_id = half_year_summary("发改局").id
    assert "逾期未报" in page_of(fgj, "/summaries").select_one("tr.summary-row").get_text()

    page = soup(post_summary(fgj, summary_id, action="submit", text="迟到的总结。", **FILLER))

    assert page.select_one("#timeliness").get_text(strip=True) == "迟报"
    summary = half_year_summary("发改局")
    assert summary.is_first_late is True and summary.versions[0].is_late is True


# --- who sees what --------------------------------------------------------------------------------


def test_another_departments_user_gets_404_on_the_summary_and_its_document(login):
    czj = login("czj1")
    fgj = login("fgj1")
    summary_id = half_year_summary("发改局").id
    upload(fgj, summary_id, PDF, "总结.pdf")
    submitted("发改局", "fgj1")
    for url in ("", "/document", "/versions/1/document", "/history"):
        assert download(czj, f"/summaries/{summary_id}{url}")[0].status_code == 404, url
    token = csrf_token(czj.get("/summaries").get_data(as_text=True))
    for url, data in (("", {"text": "x"}), ("/document", {"file": (io.BytesIO(PDF), "x.pdf")})):
        assert czj.post(f"/summaries/{summary_id}{url}", data={"csrf_token": token, **data}).status_code == 404
    assert czj.post(f"/summaries/{summary_id}/review", data={"csrf_token": token}).status_code == 403
    rows = page_of(czj, "/summaries").select("tr.summary-row")
    assert [r.select_one("a")["href"] for r in rows] == [f"/summaries/{half_year_summary('财政局').id}"]
    assert half_year_summary("发改局").text == "下半年工作总结正文。"


def test_a_leader_reads_every_summary_but_cannot_edit_or_review_it(login):
    fgj, leader = login("fgj1"), login("leader1")
    summary_id = half_year_summary("发改局").id
    upload(fgj, summary_id, PDF, "总结.pdf")
    post_summary(fgj, summary_id, action="submit", text="总结正文。", **FILLER)

    page = page_of(leader, f"/summaries/{summary_id}")

    assert page.select_one("div#text").get_text() == "总结正文。"
    assert page.select_one("#review-panel") is None and page.select_one("#summary-form button") is None
    assert download(leader, f"/summaries/{summary_id}/document")[1] == PDF
    assert download(leader, f"/summaries/{summary_id}/versions/1/document")[1] == PDF
    assert page_of(leader, f"/summaries/{summary_id}/history").select_one(".version") is not None
    assert len(page_of(leader, "/summaries").select("#summaries tbody tr")) == 21
    token = csrf_token(str(page))
    for url, data in (
        ("", {"version": "1", "text": "领导改的", "action": "save"}),
        ("/document", {"file": (io.BytesIO(PDF), "x.pdf")}),
        ("/document/delete", {}),
        ("/review", {"decision": "accept"}),
        ("/reopen", {"reason": "x", "due_on": "2019-01-20"}),
    ):
        assert leader.post(f"/summaries/{summary_id}{url}", data={"csrf_token": token, **data}).status_code == 403
    summary = half_year_summary("发改局")
    assert (summary.state, summary.text, summary.document_name) == (ReturnState.SUBMITTED, "总结正文。", "总结.pdf")


def test_the_office_overview_lists_every_department_with_its_state(app, login):
    office, czj, _ = login("office1"), login("czj1"), login("fgj1")
    submitted("发改局", "fgj1")
    post_summary(czj, half_year_summary("财政局").id, text="还在写。")

    page = page_of(office, "/summaries")

    assert page.select_one("h1").get_text(strip=True) == "2018年 · 半年工作总结"
    assert [a.get_text(strip=True) for a in page.select(".nav-pills a")] == ["2018年下半年"]
    rows = {r["data-department"]: r for r in page.select("#summaries tbody tr")}
    assert sorted(rows) == sorted(d.name for d in Department.query)
    states = {name: row.select_one(".badge").get_text(strip=True) for name, row in rows.items()}
    assert states["发改局"] == "已报送" and states["财政局"] == "填报中"
    assert {s for name, s in states.items() if name not in ("发改局", "财政局")} == {"未到期"}
    assert rows["发改局"].select_one("a.btn").get_text(strip=True) == "审核"
    summary_line = page.select_one("main p.text-muted").get_text(" ", strip=True)
    assert "截止日期 2019年1月15日" in summary_line and "已报送 1" in summary_line and "未到期 19" in summary_line

    app.config["TRACKER_TODAY"] = "2019-01-16"
    rows = page_of(office, "/summaries").select("#summaries tbody tr")
    states = {r["data-department"]: r["data-state"] for r in rows}
    assert states["发改局"] == "submitted" and states["财政局"] == "overdue"
    assert list(states.values()).count("overdue") == 20


def test_a_pause_in_typing_a_summary_saves_it_through_the_same_version_check(login):
    fgj = login("fgj1")
    summary = half_year_summary("发改局")
    version = summary.version
    page = BeautifulSoup(fgj.get(f"/summaries/{summary.id}").get_data(as_text=True), "html.parser")
    form = page.select_one("#summary-form")
    data = {
        "csrf_token": form.select_one("input[name=csrf_token]")["value"],
        "version": form.select_one("input[name=version]")["value"],
        "text": "上半年，我局按照工作安排推进政务公开。",
        "filled_by_name": "王晓明",
        "filled_by_phone": "",
    }

    saved = fgj.post(form["data-autosave"], data=data, headers={"X-Requested-With": "fetch"})
    stale = fgj.post(
        form["data-autosave"], data={**data, "text": "旧版本上的修改"}, headers={"X-Requested-With": "fetch"}
    )

    assert saved.status_code == 200 and saved.get_json()["version"] == version + 1
    assert stale.status_code == 409 and stale.get_json()["error"] == "conflict"
    assert half_year_summary("发改局").text == "上半年，我局按照工作安排推进政务公开。"
