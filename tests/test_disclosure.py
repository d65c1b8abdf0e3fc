"""The disclosure register, statutory deadlines and the annual report's tables (政府信息公开工作年度报告).

Table 3's sheet: rows 6 一、本年新收, 7 二、上年结转, 8-26 the outcomes in the table's order, 27 (七)总计,
28 四、结转下年度; columns D-J: 自然人, 商业企业, 科研机构, 社会公益组织, 法律服务机构, 其他, 总计.

"Today" is fixed at :data:`TODAY`: 2025 is over, 2026 is not, and the calendar covers both.
"""

import datetime
import io

import openpyxl
import pytest
from bs4 import BeautifulSoup

from tracker.disclosure.deadlines import deadline
from tracker.disclosure.operations import (
    REGISTER_COLUMNS,
    DisclosureError,
    finalise_annual_report,
    import_applications,
    save_application,
)
from tracker.disclosure.tables import annual_tables
from tracker.models import AnnualReport, ApplicantType, Application, CalendarException
from tracker.models.disclosure import outcome_codes

D = datetime.date
TODAY = D(2026, 12, 15)

pytestmark = pytest.mark.dates
ROW = {"new": 6, "carried_in": 7, **{code: 8 + i for i, code in enumerate(outcome_codes())}}
ROW |= {"answered_total": 27, "carried_out": 28}
COLUMN = {kind: 4 + i for i, kind in enumerate(ApplicantType)} | {"total": 10}


@pytest.fixture(autouse=True)
def _today(app):
    """Fix today at :data:`TODAY` (the clock runs on that day)."""
    app.config["TRACKER_TODAY"] = TODAY.isoformat()


def register_file(rows, columns=REGISTER_COLUMNS):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(columns)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table3_sheet(runner, tmp_path, year, *args):
    out = tmp_path / f"annual-{year}.xlsx"
    result = runner.invoke(args=["annual-report", "--year", str(year), *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(out), result


def cells(sheet):
    """Return Table 3 as {(row key, column key): value} read from the sheet."""
    return {(row, column): sheet.cell(row=r, column=c).value for row, r in ROW.items() for column, c in COLUMN.items()}


def expected(entries):
    """Build a full Table 3 of zeros with ``entries`` {(row, column): value} set."""
    table = {(row, column): 0 for row in ROW for column in COLUMN}
    table.update(entries)
    return table


# --- the published 2019 table of seed 000 ---------------------------------------------------------


def test_a_register_reproduces_the_2019_table_of_a_published_report(app, runner, tmp_path):
    file = tmp_path / "2019.xlsx"
    file.write_bytes(
        register_file(
            [
                ["2019-001", "2019-04-02", "网络", "自然人", "某地块规划审批文件", "", "2019-04-20", "予以公开"],
                [
                    "2019-002",
                    "2019-09-11",
                    "网络",
                    "自然人",
                    "某企业补贴发放名单",
                    "",
                    "2019-10-08",
                    "无法提供/本机关不掌握相关政府信息",
                ],
            ]
        )
    )
    result = runner.invoke(args=["applications", "import", str(file)])
    assert result.exit_code == 0, result.output
    assert "2 added, 0 updated" in result.output

    workbook, result = table3_sheet(runner, tmp_path, 2019)

    assert workbook.sheetnames == ["二、主动公开", "三、依申请公开", "四、复议诉讼", "校验"]
    sheet = workbook["三、依申请公开"]
    assert sheet["A1"].value == "三、收到和处理政府信息公开申请情况"
    assert (sheet["D3"].value, sheet["D4"].value, sheet["E4"].value, sheet["J4"].value) == (
        "申请人情况",
        "自然人",
        "法人或其他组织",
        "总计",
    )
    assert [sheet.cell(row=5, column=c).value for c in range(5, 10)] == [
        "商业企业",
        "科研机构",
        "社会公益组织",
        "法律服务机构",
        "其他",
    ]
    assert sheet["C18"].value == "1.本机关不掌握相关政府信息"
    assert cells(sheet) == expected(
        {
            ("new", "natural"): 2,
            ("new", "total"): 2,
            ("open", "natural"): 1,
            ("open", "total"): 1,
            ("unavailable:1", "natural"): 1,
            ("unavailable:1", "total"): 1,
            ("answered_total", "natural"): 2,
            ("answered_total", "total"): 2,
        }
    )
    assert {"A3:C5", "D3:J3", "D4:D5", "E4:I4", "J4:J5", "A8:A27", "B10:B17"} <= {
        str(r) for r in sheet.merged_cells.ranges
    }
    assert workbook["校验"]["B4"].value == "各表勾稽关系均已核对无误。"
    assert "check: all identities hold" in result.output
    # 2019 uses the 2019-2020 layout of Table 2.
    assert workbook["二、主动公开"]["B4"].value == "本年新制作数量"


# --- every outcome, carry-over both ways ----------------------------------------------------------


def make_register():
    """A made-up register: every outcome once in 2025, carried in from 2024 and carried out to 2026."""
    codes = outcome_codes()
    kinds = list(ApplicantType)
    rows = []
    for i, code in enumerate(codes):
        kind = kinds[i % len(kinds)]
        received = D(2024, 12, 20) if i < 3 else D(2025, 3, 1) + datetime.timedelta(days=i)
        rows.append((f"A{i:02d}", received, kind, D(2025, 6, 1) + datetime.timedelta(days=i), code))
    rows.append(("B01", D(2025, 12, 15), ApplicantType.NATURAL, None, None))  # open at the end of 2025
    rows.append(("B02", D(2025, 12, 28), ApplicantType.LEGAL, D(2026, 1, 10), "open"))  # answered next year
    rows.append(("B03", D(2024, 11, 2), ApplicantType.BUSINESS, D(2024, 12, 1), "partial"))  # all in 2024
    for number, received, kind, answered, code in rows:
        save_application(
            None,
            {
                "number": number,
                "received_on": received,
                "channel": "网络",
                "applicant_type": kind,
                "answered_on": answered,
                "outcome": code,
            },
        )
    return rows


def test_every_outcome_and_carry_over_in_both_directions_come_out_cell_by_cell(app, runner, tmp_path):
    rows = make_register()
    table = {}

    def add(row, kind):
        for column in (kind, "total"):
            table[(row, column)] = table.get((row, column), 0) + 1

    for _, received, kind, answered, code in rows:
        if received.year == 2025:
            add("new", kind)
        elif received.year < 2025 and (answered is None or answered.year >= 2025):
            add("carried_in", kind)
        if answered is not None and answered.year == 2025:
            add(code, kind)
            add("answered_total", kind)
        if received.year <= 2025 and (answered is None or answered.year > 2025):
            add("carried_out", kind)
    assert table[("carried_in", "total")] == 3 and table[("carried_out", "total")] == 2

    workbook, _ = table3_sheet(runner, tmp_path, 2025)

    assert cells(workbook["三、依申请公开"]) == expected(table)
    assert all(table[(code, "total")] == 1 for code in outcome_codes())
    assert workbook["校验"]["B4"].value == "各表勾稽关系均已核对无误。"


# --- refusing bad files ----------------------------------------------------------------------------


def test_an_inconsistent_import_is_refused_with_row_numbers_and_nothing_is_imported(app, runner, tmp_path):
    file = tmp_path / "bad.xlsx"
    file.write_bytes(
        register_file(
            [
                ["2026-001", "2026-03-02", "当面", "自然人", "…", "", "", ""],
                ["2026-002", "2026-03-10", "邮寄", "商业企业", "…", "", "2026-03-01", "予以公开"],
                ["2026-003", "2026-03-12", "网络", "自然人", "…", "", "2026-03-20", "不予公开/因为不想"],
            ]
        )
    )

    result = runner.invoke(args=["applications", "import", str(file)])

    assert result.exit_code == 1
    assert "row 3: answered before it was received" in result.output
    assert "row 4: unknown outcome '不予公开/因为不想'" in result.output
    assert "nothing was imported" in result.output
    assert Application.query.count() == 0


def test_extra_columns_are_ignored_and_a_missing_one_is_named(app):
    columns = [*REGISTER_COLUMNS[:3], "备注", *REGISTER_COLUMNS[3:]]
    data = register_file([["X1", "2026-01-05", "传真", "说明", "科研机构", "…", "", "", ""]], columns)
    assert import_applications(data) == (1, 0)
    assert Application.query.one().applicant_type is ApplicantType.RESEARCH

    with pytest.raises(DisclosureError) as error:
        import_applications(register_file([["X2", "2026-01-05"]], ["编号", "收到日期"]))
    assert "申请方式" in error.value.zh and "header lacks" in error.value.message
    with pytest.raises(DisclosureError, match=r"not an \.xlsx workbook"):
        import_applications(b"not a workbook")
    assert Application.query.count() == 1


def test_the_check_reports_a_year_that_no_longer_matches_the_finalised_one_before(app, runner, tmp_path):
    make_register()
    finalise_annual_report(2024, None, None)
    assert annual_tables(2025)["failures"] == []
    # Someone corrects an old application: it was answered in 2024 after all.
    moved = Application.query.filter_by(number="A00").one()
    save_application(
        moved,
        {
            "number": "A00",
            "received_on": moved.received_on,
            "channel": "网络",
            "applicant_type": moved.applicant_type,
            "answered_on": D(2024, 12, 30),
            "outcome": moved.outcome,
        },
    )

    failures = annual_tables(2025)["failures"]

    assert "表三“总计”列：本年“二、上年结转”为 2，与2024年定稿报告“四、结转下年度继续办理” 3 不一致。" in failures
    workbook, result = table3_sheet(runner, tmp_path, 2025)
    listed = [workbook["校验"].cell(row=r, column=2).value for r in range(4, 4 + len(failures))]
    assert listed == failures
    assert f"check: {len(failures)} failure(s)" in result.output


# --- deadlines ---------------------------------------------------------------------------------------


def application(received, **values):
    values.setdefault("third_party_days", 0)
    return Application(number="T", received_on=received, **values)


@pytest.mark.parametrize(
    ("received", "due", "extended"),
    [
        # Spring Festival 2026: 15-23 February off; Saturday 14 and Saturday 28 February are working days.
        (D(2026, 2, 10), D(2026, 3, 16), D(2026, 4, 14)),
        # National Day 2026: 1-7 October off; Sunday 20 September and Saturday 10 October are working days.
        (D(2026, 9, 28), D(2026, 10, 30), D(2026, 11, 27)),
    ],
)
def test_deadlines_skip_holidays_and_count_make_up_working_days(app, received, due, extended):
    assert deadline(application(received)).due_on == due
    assert deadline(application(received, extended_on=received)).due_on == extended


def test_a_correction_stops_the_clock_and_it_starts_again_when_answered(app):
    waiting = deadline(application(D(2026, 3, 2), correction_sent_on=D(2026, 3, 4)))
    assert (waiting.state, waiting.due_on) == ("awaiting_correction", None)
    assert waiting.correction_notice_by == D(2026, 3, 11)  # 7 working days after receipt

    resumed = deadline(
        application(D(2026, 3, 2), correction_sent_on=D(2026, 3, 4), correction_answered_on=D(2026, 3, 9))
    )

    assert resumed.due_on == D(2026, 4, 7)  # 20 working days from 9 March; 6 April is Qingming
    assert deadline(application(D(2026, 3, 2), third_party_days=5)).due_on == D(2026, 4, 7)


def test_a_year_the_calendar_does_not_cover_is_flagged_and_office_exceptions_count(app):
    first = deadline(application(D(2027, 1, 4)))
    assert first.is_provisional and first.uncovered == {2027}
    assert first.due_on == D(2027, 2, 1)  # Monday to Friday only: flagged, not passed off as certain

    from tracker.extensions import db

    db.session.add(CalendarException(day=D(2027, 1, 5), is_workday=False, note="假期"))
    db.session.commit()

    entered = deadline(application(D(2027, 1, 4)))
    assert entered.due_on == D(2027, 2, 2)
    assert not entered.is_provisional  # the office entered the year's calendar


# --- chasing an application's deadline ------------------------------------------------------------


def test_the_chase_reminds_the_handling_department_before_the_deadline_and_escalates_after(
    app, load_seed, create_user, client
):
    from conftest import Auth

    from tracker.chase.operations import run_chase
    from tracker.models import ChaseEntry, ChaseItem, Notification

    load_seed()
    fgj = create_user("fgj", "department", "发改局")
    office = create_user("office1", "office")
    item = save_application(
        None,
        {
            "number": "2026-007",
            "received_on": D(2026, 2, 10),
            "channel": "网络",
            "applicant_type": "自然人",
            "request": "某项目环评批复",
            "department": "发改局",
        },
    )  # due 16 March 2026

    run_chase(D(2026, 3, 13))
    run_chase(D(2026, 3, 13))  # again: nothing new

    entries = ChaseEntry.query.filter_by(item=ChaseItem.APPLICATION).all()
    assert [(e.application_id, e.step.offset_days, e.due_on) for e in entries] == [(item.id, -3, D(2026, 3, 16))]
    # (The 2018 plan's forms are overdue too; only this application's notice matters here.)
    notice = Notification.query.filter_by(user_id=fgj.id, url=f"/applications/{item.id}").one()
    assert notice.title == "【提醒】依申请公开申请2026-007答复还有3天到期"
    assert notice.url == f"/applications/{item.id}"

    run_chase(D(2026, 3, 27))  # 11 days late: the office is told and the leaders' list shows it

    office_notice = Notification.query.filter_by(user_id=office.id, url=f"/applications/{item.id}").one()
    assert office_notice.title == "【催办】发改局依申请公开申请2026-007答复已逾期11天"
    auth = Auth(client)
    auth.login("fgj")
    page = client.get(notice.url)
    assert page.status_code == 200 and "2026-007" in page.get_data(as_text=True)
    auth.logout()
    auth.login("office1")
    overdue = client.get("/overdue").get_data(as_text=True)
    assert "依申请公开申请2026-007的答复" in overdue
    ledger = BeautifulSoup(client.get("/jobs/ledger").get_data(as_text=True), "html.parser")
    rows = [r.get_text(" ", strip=True) for r in ledger.select("tbody tr") if "依申请公开 2026-007" in r.get_text()]
    assert rows
    # An application's round is its due date's ordinal, not a count of returns (issue 13, item 6).
    assert not any("次退回后" in row for row in rows), rows

    save_application(
        item,
        {
            "number": "2026-007",
            "received_on": D(2026, 2, 10),
            "channel": "网络",
            "applicant_type": "自然人",
            "department": "发改局",
            "answered_on": D(2026, 3, 27),
            "outcome": "open",
        },
    )
    before = ChaseEntry.query.count()
    run_chase(D(2026, 4, 10))
    assert ChaseEntry.query.count() == before  # answered: no longer chased
    assert "依申请公开申请2026-007" not in client.get("/overdue").get_data(as_text=True)


# --- the pages -------------------------------------------------------------------------------------


def test_the_office_records_an_application_and_a_bad_one_is_refused_in_chinese(app, load_seed, create_user, client):
    from conftest import Auth, csrf_token

    load_seed()
    create_user("office1", "office")
    Auth(client).login("office1")
    page = client.get("/applications/new")
    token = csrf_token(page.get_data(as_text=True))
    data = {
        "csrf_token": token,
        "number": "2026-010",
        "received_on": "2026-09-28",
        "channel": "当面",
        "applicant_type": "商业企业",
        "request": "…",
        "department": "财政局",
        "third_party_days": "0",
        "answered_on": "2026-09-20",
        "outcome": "open",
    }

    refused = client.post("/applications/new", data=data)

    assert refused.status_code == 200
    assert "未保存：答复日期早于收到日期。" in refused.get_data(as_text=True)
    assert Application.query.count() == 0

    saved = client.post("/applications/new", data={**data, "answered_on": "", "outcome": ""}, follow_redirects=True)

    text = saved.get_data(as_text=True)
    assert "申请 2026-010 已保存。" in text
    assert "法定答复期限：<strong>2026年10月30日</strong>" in text
    listing = client.get("/applications").get_data(as_text=True)
    assert "2026-010" in listing and "财政局" in listing


def test_the_annual_report_page_shows_the_tables_and_the_draft_downloads(app, load_seed, create_user, client):
    import docx
    from conftest import Auth, csrf_token

    make_register()
    create_user("leader1", "leader")
    create_user("office1", "office")
    auth = Auth(client)
    auth.login("office1")
    page = client.get("/annual-report/2025")
    token = csrf_token(page.get_data(as_text=True))
    client.post("/annual-report/2025", data={"csrf_token": token, "layout": "2021", "licensing_decisions": "10180"})
    auth.logout()
    auth.login("leader1")

    text = client.get("/annual-report/2025").get_data(as_text=True)

    assert "各表勾稽关系均已核对无误。" in text
    assert 'value="10180"' in text and "disabled" in text  # leaders read, the office writes
    with client.get("/annual-report/2025.docx") as response:
        assert response.status_code == 200
        document = docx.Document(io.BytesIO(response.data))
    paragraphs = [p.text for p in document.paragraphs]
    for part in (
        "一、总体情况",
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
        "五、存在的主要问题及改进情况",
        "六、其他需要报告的事项",
    ):
        assert part in paragraphs
    table3 = document.tables[-2]
    assert table3.cell(3, 0).text == "一、本年新收政府信息公开申请数量"
    assert table3.cell(3, 9).text == str(annual_tables(2025)["table3"]["new"]["total"])
    # A leader's own, valid form token: refused for the role, not for the token.
    leader_token = csrf_token(text)
    refused = client.post("/annual-report/2025", data={"csrf_token": leader_token, "action": "finalise"})
    assert refused.status_code == 403
    assert AnnualReport.query.count() == 0


def test_a_finalised_year_changed_afterwards_is_reported_and_an_unfinalised_one_says_so(app):
    make_register()
    assert "2024年报告未在本系统定稿" in annual_tables(2025)["notes"][0]
    finalise_annual_report(2025, None, None)
    changed = Application.query.filter_by(number="A05").one()
    code = changed.outcome
    save_application(
        changed,
        {
            "number": "A05",
            "received_on": changed.received_on,
            "channel": "网络",
            "applicant_type": changed.applicant_type,
            "answered_on": changed.answered_on,
            "outcome": "other",
        },
    )

    failures = annual_tables(2025)["failures"]

    assert any(
        f.startswith("表三“三、（六）其他处理”行“总计”列：定稿后台账有改动，现为 2，定稿时为 1") for f in failures
    )
    assert code != "other"
    with pytest.raises(DisclosureError, match="not over yet"):
        finalise_annual_report(TODAY.year, None, None)


def test_future_dates_and_control_characters_are_refused_and_outcome_wording_is_forgiving(app):
    app.config["TRACKER_TODAY"] = "2026-03-01"
    base = {"number": "F1", "received_on": "2026-02-01", "channel": "网络", "applicant_type": "自然人"}
    with pytest.raises(DisclosureError) as error:
        save_application(None, {**base, "answered_on": "2026-03-02", "outcome": "予以公开"})
    assert "答复日期不能晚于今天" in error.value.zh
    with pytest.raises(DisclosureError) as error:
        save_application(None, {**base, "request": "含有\x08退格"})
    assert "控制字符" in error.value.zh
    saved = save_application(None, {**base, "answered_on": "2026-02-20", "outcome": '不予公开 / 危及"三安全一稳定"'})
    assert saved.outcome == "withheld:3"


def test_table_4_has_the_national_header(app, runner, tmp_path):
    workbook, _ = table3_sheet(runner, tmp_path, 2025)
    sheet = workbook["四、复议诉讼"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A3:E3", "F3:O3", "F4:J4", "K4:O4", "A4:A5", "E4:E5"} <= merged
    assert (sheet["A4"].value, sheet["F5"].value, sheet["O5"].value) == ("结果维持", "结果维持", "总计")


def test_cases_import_fills_table_4_and_a_bad_row_refuses_the_file(app, runner, tmp_path):
    good = tmp_path / "cases.xlsx"
    good.write_bytes(
        register_file(
            [
                ["F-1", "行政复议", "2025-03-01", "维持"],
                ["F-2", "行政复议", "2025-05-01", "尚未审结"],
                ["S-1", "复议后起诉", "2025-07-01", "纠正"],
                ["S-0", "未经复议直接起诉", "2024-12-30", "其他"],  # last year's: not in 2025's table
            ],
            ["编号", "类别", "收到日期", "结果"],
        )
    )
    bad = tmp_path / "bad-cases.xlsx"
    bad.write_bytes(register_file([["X-1", "信访", "2025-03-01", "维持"]], ["编号", "类别", "收到日期", "结果"]))

    refused = runner.invoke(args=["cases", "import", str(bad)])
    imported = runner.invoke(args=["cases", "import", str(good)])

    assert refused.exit_code == 1 and "row 2: unknown kind '信访'" in refused.output
    assert imported.exit_code == 0 and "4 added, 0 updated" in imported.output
    sheet = table3_sheet(runner, tmp_path, 2025)[0]["四、复议诉讼"]
    assert [sheet.cell(row=6, column=c).value for c in range(1, 16)] == [1, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1]
