"""Issue 12, item 9: over-long text is refused with its limit, never cut; dates are checked for
sense; a form's CSRF token lasts a working day."""

import datetime
import io

import pytest
from bs4 import BeautifulSoup
from conftest import PASSWORD, Auth, csrf_token

from tracker.disclosure.operations import DisclosureError, import_applications, save_application, set_calendar_exception
from tracker.models import Application, CalendarException, Evidence, QuarterlyReturn

BASE = {"number": "F1", "received_on": "2026-02-01", "channel": "网络", "applicant_type": "自然人"}


@pytest.fixture(autouse=True)
def _today(app):
    app.config["TRACKER_TODAY"] = "2026-03-01"


def test_an_application_request_past_5000_characters_is_refused_with_its_limit(app):
    with pytest.raises(DisclosureError) as refused:
        save_application(None, {**BASE, "request": "申" * 5001})

    assert "申请内容不超过5000字（现有5001字）" in refused.value.zh
    assert Application.query.count() == 0
    assert save_application(None, {**BASE, "request": "申" * 5000}).request == "申" * 5000


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("received_on", "0001-01-01", "“收到日期”（0001-01-01）不在2000年至2027年之间"),
        ("received_on", "1999-12-31", "不在2000年至2027年之间"),
        ("received_on", "2028-01-01", "不在2000年至2027年之间"),
    ],
)
def test_a_date_no_register_could_hold_is_refused(app, field, value, message):
    with pytest.raises(DisclosureError) as refused:
        save_application(None, {**BASE, field: value})

    assert message in refused.value.zh
    assert Application.query.count() == 0


def test_a_calendar_note_past_100_characters_is_refused_not_cut(app):
    with pytest.raises(DisclosureError) as refused:
        set_calendar_exception(datetime.date(2026, 10, 8), False, "国" * 101)

    assert "说明不超过100字（现有101字）" in refused.value.zh
    assert CalendarException.query.count() == 0
    assert set_calendar_exception(datetime.date(2026, 10, 8), False, "国" * 100).note == "国" * 100


def test_the_calendar_page_says_why_a_long_note_was_refused(app, load_seed, create_user, client):
    load_seed()
    create_user("office1")
    Auth(client).login("office1")
    token = csrf_token(client.get("/calendar").get_data(as_text=True))

    response = client.post(
        "/calendar",
        data={"csrf_token": token, "day": "2026-10-08", "is_workday": "0", "note": "国" * 101},
        follow_redirects=True,
    )

    assert "说明不超过100字（现有101字）。" in response.get_data(as_text=True)
    assert CalendarException.query.count() == 0


def test_an_upload_with_a_file_name_past_255_characters_is_refused_not_cut(app, load_seed, create_user, client):
    load_seed()
    create_user("fgj1", "department", "发改局")
    Auth(client).login("fgj1")
    report = next(r for r in QuarterlyReturn.query if r.department.name == "发改局" and r.is_editable)
    page = BeautifulSoup(client.get(f"/returns/{report.id}").get_data(as_text=True), "html.parser")
    line_id = page.select_one("#line_id option")["value"]
    pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

    response = client.post(
        f"/returns/{report.id}/evidence",
        data={"csrf_token": csrf_token(str(page)), "line_id": line_id, "file": (io.BytesIO(pdf), "长" * 260 + ".pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )

    assert "文件名过长（264个字符，最多255个）" in response.get_data(as_text=True)
    assert Evidence.query.count() == 0


@pytest.mark.parametrize(("hours", "expired"), [(9, False), (10.1, True)])
def test_a_csrf_token_lasts_a_working_day(app, load_seed, create_user, client, monkeypatch, hours, expired):
    """A form left open over lunch still submits; one left overnight asks for a reload."""
    import itsdangerous.timed

    load_seed()
    create_user("office1")
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 10 * 3600
    token = csrf_token(client.get("/login").get_data(as_text=True))
    issued = itsdangerous.timed.TimestampSigner.get_timestamp
    later = int(hours * 3600)
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: issued(self) + later)

    response = client.post("/login", data={"username": "office1", "password": PASSWORD, "csrf_token": token})

    assert ("页面已过期" in response.get_data(as_text=True)) is expired
    assert response.status_code == (400 if expired else 302)


def test_the_register_export_writes_control_characters_the_database_holds(app, load_seed, create_user, client):
    import openpyxl

    from tracker.extensions import db

    load_seed()
    create_user("office1")
    saved = save_application(None, {**BASE, "request": "申请公开\n某文件"})
    saved.request = "旧数据\x0b含\x01控制字符"
    db.session.commit()
    Auth(client).login("office1")

    response = client.get("/applications.xlsx")

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    # Excel's own escape for characters XML cannot carry; Excel shows them as they were.
    assert sheet["E2"].value == "旧数据_x000B_含_x0001_控制字符"


def test_the_register_exported_and_imported_back_keeps_line_breaks_and_escape_like_text(
    app, load_seed, create_user, client
):
    """A browser sends a textarea's line breaks as CRLF; the export writes the CR as Excel does
    (_x000D_), and the import reads it back as the CR it was, as it reads a file Excel saved."""
    load_seed()
    create_user("office1")
    request = "申请公开\r\n某文件（编号_x0041_）"
    save_application(None, {**BASE, "request": request})
    Auth(client).login("office1")

    exported = client.get("/applications.xlsx").data
    Application.query.one().request = "已改动"
    assert import_applications(exported) == (0, 1)

    assert Application.query.one().request == request


def test_a_long_register_is_paged_most_urgent_first(app, load_seed, create_user, client):
    load_seed()
    create_user("office1")
    for n in range(55):
        save_application(None, {**BASE, "number": f"2026-{n:03d}", "received_on": f"2026-02-{1 + n % 27:02d}"})
    Auth(client).login("office1")

    first = BeautifulSoup(client.get("/applications").get_data(as_text=True), "html.parser")
    second = BeautifulSoup(client.get("/applications?page=2").get_data(as_text=True), "html.parser")

    assert len(first.select("table tbody tr")) == 50
    assert len(second.select("table tbody tr")) == 5
    assert "第 1 / 2 页" in first.select_one(".pagination").get_text()
    assert second.select_one(".pagination a")["href"] == "/applications?page=1&show=open"
