"""Spreadsheet exports: every workbook opened with openpyxl and checked against the database.

The 2018 plan: Q3 due 2018-10-10, Q4 due 2019-01-10, the second half-year's summaries due
2019-01-15. The ``season`` fixture plays the reporting season out day by day, then exports as of
2019-01-20 09:00 in Shanghai:

- 发改局 submits Q3 on time (5 of 17 lines 已完成, with counts), accepted; Q4 likewise; its
  half-year summary (long text and a PDF) on time;
- 财政局 submits Q3 on time with formula-looking text in its lines, accepted; its summary late;
- 审计局 submits Q3, is returned once, resubmits and is accepted;
- 环保局 submits Q3 with counts and is returned (correction due 2018-10-16), never resubmits;
- 建交局 submits Q3 five days late; 商务局 saves a Q3 draft and never submits;
- the chase runs on 2018-10-12, 2018-10-21 and 2019-01-20.
"""

import datetime
import io
import subprocess
import sys
import zipfile
from urllib.parse import quote
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, Auth, half_year_summary, period, quarterly_form

from tracker import storage
from tracker.chase.operations import run_chase
from tracker.exports.book import Book, write
from tracker.exports.operations import export_workbook
from tracker.extensions import db
from tracker.jobs import job_by_id, run_job
from tracker.models import (
    ArchiveFile,
    Channel,
    ChaseEntry,
    ChaseItem,
    ChaseResult,
    CountKind,
    HalfYearSummary,
    LineStatus,
    PeriodKind,
    Plan,
    QuarterlyReturn,
    ReturnState,
    Role,
    Section,
    Task,
    TaskDepartment,
)
from tracker.models.plan import plan_departments
from tracker.returns.operations import save_and_submit, save_return
from tracker.summaries.operations import attach_document, save_and_submit_summary
from tracker.textinput import from_excel
from tracker.workflow import review

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2019, 1, 20)
PRODUCED = "制表时间：2019-01-20 09:00"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = {"filled_by_name": "王晓明", "filled_by_phone": "022-25201234", "approved_by": "李建国"}
FORMULAS = ['=HYPERLINK("http://evil","x")', "+1", "-1", "@SUM(A1)"]
#: The forms strip what people type, so text starting with a tab or a line break is put in the
#: database directly (as an import or an older version might have left it).
RAW = ["\tTab", "\nline", "\rreturn"]
DRAFT_TEXT = "商务局草稿内容，不应导出"
FGJ_SUMMARY = "一、主要工作\n" + "推进政务公开标准化规范化建设，" * 12
CZJ_SUMMARY = '=HYPERLINK("http://evil","x") 财政局下半年工作总结'
PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
PDF_NAME = "发改局2018年下半年工作总结.pdf"
#: The departments that have a user (u0, u1, ...).
DEPARTMENTS = ("发改局", "财政局", "环保局", "审计局", "建交局", "商务局")
QUARTER_SHEETS = ["完成情况汇总", "任务进展", "信息报送发布统计", "逾期未报"]
REPORTED = (ReturnState.SUBMITTED, ReturnState.ACCEPTED)
COUNTS = {
    "发改局": {"submitted": {"portal": 12, "weibo": 3}, "published": {"portal": 10, "wechat": 4}},
    "财政局": {"submitted": {"portal": 7, "other": 2}, "published": {"weibo": 5}},
    "环保局": {"submitted": {"app": 100}, "published": {"app": 100}},
}


# --- the season -------------------------------------------------------------------------------


def at(app, day, hour=10):
    """Make it ``hour`` o'clock in Shanghai on ``day`` (YYYY-MM-DD)."""
    moment = datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)
    app.config["TRACKER_NOW"] = moment.astimezone(datetime.UTC)
    app.config["TRACKER_TODAY"] = day


def shanghai(day, hour=10):
    """Return the naive local time a workbook shows for ``hour`` o'clock on ``day``."""
    return datetime.datetime.fromisoformat(day).replace(hour=hour)


def fill(name, quarter, user, done=0, texts=(), submit=True, text="已按计划推进。"):
    """Fill every line of a form (the first ``done`` 已完成), optionally submit it; return it."""
    report = quarterly_form(name, quarter)
    texts = [*texts, *[(text, "")] * len(report.lines)]
    lines = [
        {"task_code": ln.task.code, "status": "done" if i < done else "in_progress", "next_steps": "继续推进。"}
        | dict(zip(("done", "problems"), texts[i], strict=True))
        for i, ln in enumerate(report.lines)
    ]
    data = {**HEADER, "lines": lines, "counts": COUNTS.get(name, {}) if quarter == 3 else {}}
    if submit:
        return save_and_submit(report, data, report.version, user)
    return save_return(report, data, report.version)


@pytest.fixture
def season(app, load_seed, create_user, snapshots):
    """Play the 2018 season out (see the module docstring); return the plan, as of 2019-01-20 09:00."""
    snapshots.use(app, "exports season", lambda: play_season(app, load_seed, create_user))
    at(app, "2019-01-20", hour=9)
    return Plan.query.one()


def play_season(app, load_seed, create_user):
    """Play the 2018 season out through the real operations, day by day (see the module docstring)."""
    load_seed()
    office = create_user("office1", "office")
    create_user("leader1", "leader")
    users = {name: create_user(f"u{i}", "department", name) for i, name in enumerate(DEPARTMENTS)}

    def review_q3(name, decision, due_on=None):
        review(quarterly_form(name, 3), office, decision, "请补充佐证材料。" if due_on else None, due_on)

    at(app, "2018-10-08")
    fill("发改局", 3, users["发改局"], done=5)
    fill("财政局", 3, users["财政局"], done=2, texts=[FORMULAS[0:2], FORMULAS[2:4]])
    fill("审计局", 3, users["审计局"], done=1)
    fill("环保局", 3, users["环保局"], done=3)
    fill("商务局", 3, users["商务局"], done=4, submit=False, text=DRAFT_TEXT)
    at(app, "2018-10-09")
    review_q3("发改局", "accept")
    review_q3("财政局", "accept")
    review_q3("审计局", "return", "2018-10-12")
    review_q3("环保局", "return", "2018-10-16")
    at(app, "2018-10-11")
    fill("审计局", 3, users["审计局"], done=2)
    at(app, "2018-10-12")
    review_q3("审计局", "accept")
    run_chase(datetime.date(2018, 10, 12))
    at(app, "2018-10-15")
    fill("建交局", 3, users["建交局"], done=14)
    at(app, "2018-10-21")
    run_chase(datetime.date(2018, 10, 21))
    at(app, "2019-01-05")
    fill("发改局", 4, users["发改局"], done=17)
    fill("财政局", 4, users["财政局"])
    at(app, "2019-01-06")
    review(quarterly_form("发改局", 4), office, "accept")
    at(app, "2019-01-12")
    fgj = half_year_summary("发改局")
    attach_document(fgj, PDF_NAME, PDF, users["发改局"])
    data = {"text": FGJ_SUMMARY, **HEADER}
    save_and_submit_summary(fgj, data, fgj.version, users["发改局"])
    at(app, "2019-01-18")
    czj = half_year_summary("财政局")
    save_and_submit_summary(czj, {**data, "text": CZJ_SUMMARY}, czj.version, users["财政局"])
    lines = quarterly_form("财政局", 3).lines
    (lines[2].done, lines[2].problems), lines[3].done = RAW[:2], RAW[2]
    db.session.commit()
    at(app, "2019-01-20", hour=9)
    run_chase(TODAY)


# --- reading workbooks --------------------------------------------------------------------------


def export(kind, **options):
    """Export ``kind`` of 2018 as the web and CLI do; return (file name, the saved bytes)."""
    name, workbook = export_workbook(kind, 2018, **options)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return name, buffer.getvalue()


def opened(data):
    return openpyxl.load_workbook(io.BytesIO(data))


#: A cell's text as Excel shows it: Excel's ``_xHHHH_`` escapes read back (openpyxl leaves them).
shown = from_excel


def header(sheet):
    return next(sheet.iter_rows(min_row=3, max_row=3, values_only=True))


def body(sheet):
    return list(sheet.iter_rows(min_row=4, values_only=True))


def rate(part, whole):
    return part / whole if whole else None


def reported_stats(forms):
    """Return (lines, lines reported, lines 已完成, times returned) summed over ``forms``."""
    stats = [0, 0, 0, 0]
    for f in forms:
        done = sum(line.status is LineStatus.DONE for line in f.lines)
        reported = f.state in REPORTED
        for i, value in enumerate((len(f.lines), len(f.lines) * reported, done * reported, f.returned_count)):
            stats[i] += value
    return stats


def assert_titled(sheet, title, plan):
    assert sheet["A1"].value == title
    assert sheet["A2"].value == f"{plan.title}　　{PRODUCED}"
    assert sheet.freeze_panes == "A4"


# --- breakdown --------------------------------------------------------------------------------------


def test_breakdown_lists_every_task_and_with_a_quarter_its_progress_as_the_database_says(season):
    tasks = {t.code: t for t in Task.query}

    name, data = export("breakdown")
    sheet = opened(data)["任务分解表"]

    assert name == "2018年任务分解表.xlsx" and opened(data).sheetnames == ["任务分解表"]
    assert sheet["A1"].value == f"{season.title}任务分解表"
    assert PRODUCED in sheet["A2"].value
    assert header(sheet) == ("序号", "工作任务", "具体要求", "牵头部门", "责任部门", "完成时限")
    rows = [r for r in body(sheet) if r[0] in tasks]
    assert [r[0] for r in rows] == [t.code for t in Task.query.order_by(Task.position)]
    for code, title, _, lead, *_ in rows:
        assert (title, lead or "") == (tasks[code].title, "、".join(d.name for d in tasks[code].lead_departments))

    name, data = export("breakdown", quarter=3)
    sheet = opened(data)["任务分解表"]

    assert name == "2018年任务分解表（第三季度进展）.xlsx"
    assert sheet["A1"].value == f"{season.title}任务分解表（第三季度进展）"
    assert PRODUCED in sheet["A2"].value
    assert header(sheet)[-1] == "第三季度进展" and len(header(sheet)) == 7
    q3 = period(PeriodKind.QUARTER, 3)
    progress = {code: [0, 0] for code in tasks}
    for f in QuarterlyReturn.query.filter_by(period_id=q3.id):
        for line in f.lines if f.state in REPORTED else ():
            progress[line.task.code][0] += 1
            progress[line.task.code][1] += line.status is LineStatus.DONE
    rows = {r[0]: r[6] for r in body(sheet) if r[0] in tasks}
    assert len(rows) == len(tasks)
    for code, (lines, done) in progress.items():
        assert rows[code] == (f"已完成 {done}/{lines}（{round(100 * done / lines)}%）" if lines else "未报送"), code
    assert any(v.startswith("已完成") and not v.startswith("已完成 0/") for v in rows.values())


# --- quarter ----------------------------------------------------------------------------------------


@pytest.mark.dates
def test_the_quarter_workbook_completion_sheet_totals_equal_the_database(season):
    name, data = export("quarter", quarter=3)
    book = opened(data)
    sheet = book["完成情况汇总"]

    assert name == "2018年第三季度完成情况汇总.xlsx" and book.sheetnames == QUARTER_SHEETS
    assert_titled(sheet, "2018年第三季度政务公开工作完成情况汇总", season)
    assert header(sheet) == (
        "序号", "部门", "任务数", "已报任务", "已完成", "完成率", "报送状态", "报送时间", "是否按时", "退回次数"
    )  # fmt: skip
    rows = body(sheet)
    names = [d.name for d in plan_departments(season)]
    assert len(names) == 21 and len(rows) == 22
    assert [r[:2] for r in rows[:-1]] == list(enumerate(names, 1))
    forms = QuarterlyReturn.query.filter_by(period_id=period(PeriodKind.QUARTER, 3).id).all()
    by_name = {r[1]: r for r in rows[:-1]}
    for f in forms:
        lines, reported, done, returned = reported_stats([f])
        row = by_name[f.department.name]
        assert (row[2], row[3], row[4], row[5], row[9]) == (lines, reported, done, rate(done, reported), returned)
    lines, reported, done, returned = reported_stats(forms)
    assert rows[-1] == ("合计", None, lines, reported, done, rate(done, reported), None, None, None, returned)
    assert (reported, done, returned) == (17 + 15 + 12 + 14, 5 + 2 + 2 + 14, 2)
    assert by_name["发改局"][6:] == ("已通过", shanghai("2018-10-08"), "按时", 0)
    assert by_name["审计局"][6:] == ("已通过", shanghai("2018-10-08"), "按时", 1)
    assert by_name["建交局"][6:] == ("已报送", shanghai("2018-10-15"), "迟报5天", 0)
    assert by_name["商务局"][6:] == ("逾期未报", None, "逾期102天未报", 0)
    # Dates are dates, numbers numbers, rates percentages.
    fgj = next(r for r in sheet.iter_rows(min_row=4) if r[1].value == "发改局")
    assert fgj[7].is_date and fgj[7].number_format == "yyyy-mm-dd hh:mm"
    assert fgj[2].data_type == "n" and fgj[5].data_type == "n" and fgj[5].number_format == "0%"
    assert sheet.print_title_rows == "$3:$3" and sheet.page_setup.orientation == "landscape"


def test_the_progress_sheet_groups_lines_by_task_leads_first_and_hides_drafts(season):
    sheet = opened(export("quarter", quarter=3)[1])["任务进展"]

    assert header(sheet) == ("任务", "部门", "职责", "进展", "完成情况", "存在问题", "下一步计划")
    q3 = period(PeriodKind.QUARTER, 3)
    forms = QuarterlyReturn.query.filter_by(period_id=q3.id).all()
    expected = {}
    for f in forms:
        for line in f.lines:
            expected.setdefault(line.task.code, set()).add(f.department.name)
    leads = {(a.task.code, a.department.name) for a in TaskDepartment.query.filter_by(role=Role.LEAD)}
    blocks, code = {}, None
    for row in body(sheet):
        if row[1] is None:  # a heading: "code　title" merged across the table
            code, title = row[0].split("　", 1)
            assert title == Task.query.filter_by(code=code).one().title and row[2:] == (None,) * 5
            blocks[code] = []
        else:
            assert row[0] == code
            blocks[code].append(row)
    assert list(blocks) == [t.code for t in Task.query.order_by(Task.position) if t.code in expected]
    assert sum(len(rows) for rows in blocks.values()) == sum(len(f.lines) for f in forms)
    for code, rows in blocks.items():
        assert {r[1] for r in rows} == expected[code]
        roles = [r[2] for r in rows]
        assert roles == sorted(roles, key=lambda role: role != "牵头"), code
        assert {r[1] for r in rows if r[2] == "牵头"} == {d for c, d in leads if c == code} & expected[code]
    rows = [r for rows in blocks.values() for r in rows]
    for name in ("商务局", "环保局"):  # a draft and a returned form: not the department's word
        assert {r[3:] for r in rows if r[1] == name} == {("未报送", None, None, None)}
    czj = [r for r in rows if r[1] == "财政局"]
    assert [r[3] for r in czj].count("已完成") == 2 and len(czj) == 15
    assert all(DRAFT_TEXT not in str(v) for s in opened(export("quarter", quarter=3)[1]) for r in s.values for v in r)


def test_the_counts_sheet_totals_equal_the_reported_forms_counts(season):
    sheet = opened(export("quarter", quarter=3)[1])["信息报送发布统计"]

    channels = list(Channel)
    by_channel = [f"{kind.label}·{c.label}" for kind in CountKind for c in channels]
    assert header(sheet) == ("序号", "部门", *by_channel[:5], "报送合计", *by_channel[5:], "发布合计")
    rows = body(sheet)
    assert len(rows) == 22
    sums = {(k, c): 0 for k in CountKind for c in channels}
    for f in QuarterlyReturn.query.filter_by(period_id=period(PeriodKind.QUARTER, 3).id):
        for count in f.counts if f.state in REPORTED else ():
            sums[(count.kind, count.channel)] += count.value
    submitted = [sums[(CountKind.SUBMITTED, c)] for c in channels]
    published = [sums[(CountKind.PUBLISHED, c)] for c in channels]
    assert rows[-1] == ("合计", None, *submitted, sum(submitted), *published, sum(published))
    assert sum(submitted) == 12 + 3 + 7 + 2 and sum(published) == 10 + 4 + 5
    by_name = {r[1]: r[2:] for r in rows[:-1]}
    assert by_name["环保局"] == (0,) * 12  # returned: its numbers are not reported
    assert by_name["发改局"][5] == 15 and by_name["发改局"][11] == 14


@pytest.mark.dates
def test_the_overdue_sheet_lists_overdue_departments_with_days_and_reminders_from_the_chase_ledger(season):
    sheet = opened(export("quarter", quarter=3)[1])["逾期未报"]

    assert header(sheet) == ("序号", "部门", "情况", "截止日期", "逾期天数", "已催办次数", "最近催办")
    q3 = period(PeriodKind.QUARTER, 3)
    expected = {}
    for f in QuarterlyReturn.query.filter_by(period_id=q3.id):
        if f.state in (ReturnState.DRAFT, ReturnState.RETURNED) and f.due_on < TODAY:
            entries = ChaseEntry.query.filter(
                ChaseEntry.period_id == q3.id,
                ChaseEntry.department_id == f.department_id,
                ChaseEntry.item == ChaseItem.RETURN,
                # Reminders that reached somebody: not skipped, not for want of recipients.
                ChaseEntry.result.notin_([ChaseResult.SKIPPED, ChaseResult.NO_RECIPIENTS]),
            ).count()
            situation = "退回修改未重报" if f.state is ReturnState.RETURNED else "未报送"
            expected[f.department.name] = (situation, f.due_on, (TODAY - f.due_on).days, entries)
    rows = body(sheet)
    assert len(expected) == 17 and len(rows) == 17
    assert [r[0] for r in rows] == list(range(1, 18))
    assert {r[1]: (r[2], r[3].date(), r[4], r[5]) for r in rows} == expected
    assert [r[4] for r in rows] == sorted((r[4] for r in rows), reverse=True)
    assert expected["商务局"] == ("未报送", datetime.date(2018, 10, 10), 102, 2)
    assert expected["环保局"] == ("退回修改未重报", datetime.date(2018, 10, 16), 96, 2)
    last = {r[1]: r[6] for r in rows}
    assert last.pop("环保局") == shanghai("2019-01-20", 9)  # its 10-day step came due after the correction date
    assert set(last.values()) == {shanghai("2018-10-21")}
    cells = next(sheet.iter_rows(min_row=4, max_row=4))
    assert cells[3].is_date and cells[3].number_format == "yyyy-mm-dd"
    assert cells[4].data_type == "n" and cells[5].data_type == "n"


def test_user_text_that_looks_like_a_formula_is_written_as_text_intact(season):
    data = export("quarter", quarter=3)[1]
    rows = [r for r in opened(data)["任务进展"].iter_rows(min_row=4) if r[1].value == "财政局"]

    # A line break is kept as Excel keeps it: a CR in the _x000D_ form.
    cells = [c for r in rows for c in r[4:6] if shown(c.value) in FORMULAS + RAW]
    assert sorted(shown(c.value) for c in cells) == sorted(FORMULAS + RAW)
    assert {c.data_type for c in cells} == {"s"}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        strings = archive.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in archive.namelist() else b""
    assert len(sheets) == 4 and not any(b"<f>" in xml or b"<f " in xml for xml in sheets)
    assert b"evil" in sheets[1] + strings  # the text is in the file, as text (in the sheet or its shared strings)

    half = opened(export("half", half=2)[1])["半年工作总结"]
    cell = next(r[8] for r in half.iter_rows(min_row=4) if r[1].value == "财政局")
    assert (cell.value, cell.data_type) == (CZJ_SUMMARY, "s")

    # The office edits tasks on the plan page; the breakdown writes them as text too.
    first = Task.query.order_by(Task.position).first()
    first.title, first.details = FORMULAS[3], RAW[1] + FORMULAS[0]
    db.session.commit()
    data = export("breakdown", quarter=3)[1]
    row = next(r for r in opened(data)["任务分解表"].iter_rows(min_row=4) if r[0].value == first.code)
    assert [(c.value, c.data_type) for c in row[1:3]] == [(first.title, "s"), (first.details, "s")]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")


#: Text XlsxWriter would copy into the file as the markup of a rich string: a cell, then a formula.
MARKUP = (
    '<r><t>a</t></r></is></c><c r="B1"><f>HYPERLINK("http://evil","x")</f></c>'
    '<c r="C1" t="inlineStr"><is><r><t>b</t></r>'
)
#: Text a spreadsheet program could take for anything but text, or that XML cannot carry as it is.
HOSTILE = [
    *FORMULAS,
    *RAW,
    MARKUP,
    "<r></r>",
    "_x0041_ 看似转义的文字",
    "旧数据\x0b含\x01有\x1b控制字符\x0c",
    "换行\r\n之后",
    " 前后空格 ",
    "&lt;b&gt; <b>",
    "http://example.org/x",
    "1e5",
]
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def excel_cells(data):
    """Read the first sheet's cells as Excel does: ``{reference: (type, text shown)}``; a formula is ``("f", …)``."""
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        strings = etree.fromstring(archive.read("xl/sharedStrings.xml")) if "xl/sharedStrings.xml" in names else []
        sheet = etree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    shared = ["".join(t.text or "" for t in si.iter(f"{MAIN}t")) for si in strings]
    cells = {}
    for cell in sheet.iter(f"{MAIN}c"):
        kind = "f" if cell.find(f"{MAIN}f") is not None else cell.get("t")
        if kind == "inlineStr":
            text = "".join(t.text or "" for t in cell.iter(f"{MAIN}t"))
        else:
            text = cell.findtext(f"{MAIN}v")
            text = shared[int(text)] if kind == "s" else text
        cells[cell.get("r")] = (kind, shown(text))
    return cells


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "cells in any order"])
def test_text_that_looks_like_a_formula_markup_or_an_escape_is_written_as_text_whole(streamed):
    with Book(streamed=streamed) as book:
        sheet = book.add_sheet("文字")
        for row, text in enumerate(HOSTILE):
            write(sheet, row, 0, text, book.formats["text"])

    kind = "inlineStr" if streamed else "s"
    assert excel_cells(book.data) == {f"A{row}": (kind, text) for row, text in enumerate(HOSTILE, 1)}
    with zipfile.ZipFile(io.BytesIO(book.data)) as archive:
        parts = ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml")
        xml = b"".join(archive.read(name) for name in archive.namelist() if name in parts)
    # Excel's escapes: a control character as _xHHHH_, and the _ of text already in that form as _x005F_.
    assert b"_x005F_x0041_" in xml and b"_x0001_" in xml and b"_x001B_" in xml and b"<f>" not in xml
    cells = openpyxl.load_workbook(io.BytesIO(book.data)).active["A"]
    assert [c.value for c in cells[: len(FORMULAS)]] == FORMULAS and {c.data_type for c in cells} == {"s"}


@pytest.mark.xfail(
    strict=True,
    reason="XlsxWriter 3.3.1 escapes a rich string's _xHHHH_ twice: text shaped <r>…</r>, written as a rich "
    "string so that it stays text, shows its CR as the letters _x000D_ (book.write_text)",
)
@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "cells in any order"])
def test_text_shaped_like_markup_keeps_its_line_break(streamed):
    text = "<r>第一行\r\n第二行</r>"
    with Book(streamed=streamed) as book:
        write(book.add_sheet("文字"), 0, 0, text, book.formats["text"])

    assert excel_cells(book.data)["A1"][1] == text


def test_every_number_reads_back_as_the_float_it_was():
    values = [5 / 17, 1 / 3, 0.1 + 0.2, 2 / 3 * 1e-7, 1e300 / 3, 17, -4, 0.0]
    with Book() as book:
        sheet = book.add_sheet("数")
        for row, value in enumerate(values):
            write(sheet, row, 0, value, book.formats["percent"])

    read = [c.value for c in openpyxl.load_workbook(io.BytesIO(book.data)).active["A"]]
    assert read == values and all(type(a) is type(b) for a, b in zip(read, values, strict=True))


# --- department, half, summary ---------------------------------------------------------------------


@pytest.mark.dates
def test_the_department_workbook_shows_its_forms_and_summary_with_states_and_dates(season):
    name, data = export("department", department="发改局")
    book = opened(data)
    sheet = book["全年报送情况"]

    assert name == "发改局2018年报送情况.xlsx" and book.sheetnames == ["全年报送情况"]
    assert_titled(sheet, "发改局2018年政务公开工作报送情况", season)
    assert header(sheet) == (
        "序号", "报送期", "事项", "状态", "截止日期", "首次报送", "是否按时", "退回次数", "审核通过", "任务数",
        "已完成", "退回原因",
    )  # fmt: skip
    form_ = "季度完成情况报送表"
    assert body(sheet) == [
        (1, "2018年第三季度", form_, "已通过", datetime.datetime(2018, 10, 10), shanghai("2018-10-08"), "按时", 0,
         shanghai("2018-10-09"), 17, 5, None),
        (2, "2018年第四季度", form_, "已通过", datetime.datetime(2019, 1, 10), shanghai("2019-01-05"), "按时", 0,
         shanghai("2019-01-06"), 17, 17, None),
        (3, "2018年下半年", "半年工作总结", "已报送", datetime.datetime(2019, 1, 15), shanghai("2019-01-12"), "按时",
         0, None, None, None, None),
    ]  # fmt: skip
    first = next(sheet.iter_rows(min_row=4, max_row=4))
    assert first[4].number_format == "yyyy-mm-dd" and first[5].number_format == "yyyy-mm-dd hh:mm"

    rows = body(opened(export("department", department="环保局")[1])["全年报送情况"])
    assert rows[0][3:8] == ("逾期未报", datetime.datetime(2018, 10, 16), shanghai("2018-10-08"), "按时", 1)
    assert rows[0][11] == "请补充佐证材料。"


def test_the_half_workbook_has_a_row_per_department_with_state_excerpt_and_document(season):
    name, data = export("half", half=2)
    sheet = opened(data)["半年工作总结"]

    assert name == "2018年下半年工作总结报送情况.xlsx"
    assert_titled(sheet, "2018年下半年政务公开工作总结报送情况", season)
    assert header(sheet)[:3] == ("序号", "部门", "状态") and header(sheet)[8:10] == ("总结摘要", "总结文件")
    rows = body(sheet)
    assert [r[1] for r in rows] == [d.name for d in plan_departments(season)]
    by_name = {r[1]: r for r in rows}
    fgj = by_name["发改局"]
    assert fgj[2:6] == ("已报送", datetime.datetime(2019, 1, 15), shanghai("2019-01-12"), "按时")
    assert fgj[8] == " ".join(FGJ_SUMMARY.split())[:120] + "……" and fgj[8].startswith("一、主要工作 推进")
    assert fgj[9] == PDF_NAME and fgj[10] == "王晓明 022-25201234"
    assert by_name["财政局"][2:6] == ("已报送", datetime.datetime(2019, 1, 15), shanghai("2019-01-18"), "迟报3天")
    states = {s.department.name: s.state for s in HalfYearSummary.query}
    assert {n for n, r in by_name.items() if r[2] == "逾期未报"} == {n for n, s in states.items() if s not in REPORTED}
    assert all(r[8] is None and r[9] is None for r in rows if r[2] == "逾期未报")


def sums_by_section(periods):
    """Return per section (in order) the (lines, 已完成) of the reported forms of ``periods``, by task."""
    result = []
    lines = [
        line
        for f in QuarterlyReturn.query.filter(QuarterlyReturn.period_id.in_([p.id for p in periods]))
        if f.state in REPORTED
        for line in f.lines
    ]
    for section in Section.query.order_by(Section.number):
        tasks = [t for t in Task.query.order_by(Task.position) if t.group.section_id == section.id]
        rows = []
        for t in tasks:
            mine = [line for line in lines if line.task_id == t.id]
            rows.append((t.code, t.title, len(mine), sum(line.status is LineStatus.DONE for line in mine)))
        result.append((f"{section.numeral}、{section.title}", rows))
    return result


def assert_brief_lists(brief, periods, forms):
    """Check the brief's most overdue departments and its chart data against the database."""
    rows = body(brief)
    first = [r[0] for r in rows].index("逾期最多的部门") + 1
    charted = [r[0] for r in rows].index("图表数据：各部门任务完成率（图一）；各季度信息报送数、发布数（图二）") + 1
    overdue = {}
    for f in forms:
        if f.state in (ReturnState.DRAFT, ReturnState.RETURNED) and f.due_on < TODAY:
            entry = overdue.setdefault(f.department.name, [0, 0])
            entry[0], entry[1] = entry[0] + 1, max(entry[1], (TODAY - f.due_on).days)
    listed = rows[first : charted - 1]
    assert len(listed) == min(10, len(overdue)) == 10
    for name, days, text, *_ in listed:
        assert (days, text) == (overdue[name][1], f"逾期未报 {overdue[name][0]} 张报送表，最长逾期 {days} 天")
    assert min(r[1] for r in listed) >= max(v[1] for k, v in overdue.items() if k not in {r[0] for r in listed})
    names = [d.name for d in plan_departments(Task.query.first().plan)]
    by_department = {name: [0, 0] for name in names}
    for f in forms:
        for line in f.lines if f.state in REPORTED else ():
            by_department[f.department.name][0] += 1
            by_department[f.department.name][1] += line.status is LineStatus.DONE
    assert rows[charted : charted + len(names)] == [
        (n, rate(*reversed(by_department[n])), None, None, None) for n in names
    ]
    counts = []
    for p in periods:
        values = [c for f in forms if f.period_id == p.id and f.state in REPORTED for c in f.counts]
        sums = [sum(c.value for c in values if c.kind is kind) for kind in CountKind]
        counts.append((p.label, *sums, None, None))
    assert rows[charted + len(names) :] == counts


@pytest.mark.parametrize(
    ("options", "quarters", "scope"),
    [({}, (3, 4), "2018年"), ({"quarter": 3}, (3,), "2018年第三季度"), ({"half": 2}, (3, 4), "2018年下半年")],
)
def test_the_summary_brief_rates_charts_and_section_sheets_match_the_database(season, options, quarters, scope):
    name, data = export("summary", **options)
    book = opened(data)
    brief = book["总体情况"]

    assert name == f"{scope}政务公开工作情况简报.xlsx"
    assert_titled(brief, f"{scope}政务公开工作情况简报", season)
    periods = [period(PeriodKind.QUARTER, q) for q in quarters]
    forms = QuarterlyReturn.query.filter(QuarterlyReturn.period_id.in_([p.id for p in periods])).all()
    submitted = [f for f in forms if f.first_submitted_at is not None]
    on_time = [f for f in submitted if not f.is_first_late]
    assert [r[:2] for r in body(brief)[:4]] == [
        ("应报送表数", len(forms)),
        ("已报送", len(submitted)),
        ("报送率", len(submitted) / len(forms)),
        ("按时报送率", len(on_time) / len(forms)),
    ]
    assert len(submitted) == (5 if quarters == (3,) else 7) and len(on_time) == len(submitted) - 1
    assert brief["B6"].number_format == "0%" and brief["B7"].number_format == "0%"
    assert_brief_lists(brief, periods, forms)
    sections = sums_by_section(periods)
    assert len(sections) == 5 and book.sheetnames == ["总体情况"] + [title[:31] for title, _ in sections]
    for (title, tasks), sheet in zip(sections, book.worksheets[1:], strict=True):
        assert sheet["A1"].value == f"{title}（{scope}）"
        assert header(sheet) == ("任务", "工作任务", "已报", "已完成", "完成率")
        rows = body(sheet)
        assert [r[:4] for r in rows[:-1]] == tasks
        assert all(r[4] == rate(r[3], r[2]) for r in rows)
        lines, done = sum(t[2] for t in tasks), sum(t[3] for t in tasks)
        assert rows[-1] == ("合计", None, lines, done, rate(done, lines))
    assert sum(sum(t[2] for t in tasks) for _, tasks in sections) == sum(
        len(f.lines) for f in forms if f.state in REPORTED
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        charts = sorted(n for n in archive.namelist() if n.startswith("xl/charts/chart"))
        assert charts == ["xl/charts/chart1.xml", "xl/charts/chart2.xml"]
        assert b'barDir val="bar"' in archive.read(charts[0]) and b'barDir val="col"' in archive.read(charts[1])
        # Both charts' bars start at zero (a small difference never looks large); rates end at 100%.
        assert b'<c:max val="1"/><c:min val="0"/>' in archive.read(charts[0])
        assert b'<c:min val="0"/>' in archive.read(charts[1])


# --- the command line -------------------------------------------------------------------------------


def test_the_export_command_writes_each_kind(season, runner, tmp_path):
    for args, first_sheet in [
        (["breakdown"], "任务分解表"),
        (["breakdown", "--quarter", "4"], "任务分解表"),
        (["quarter", "--quarter", "3"], "完成情况汇总"),
        (["department", "--department", "财政局"], "全年报送情况"),
        (["summary"], "总体情况"),
        (["summary", "--quarter", "4"], "总体情况"),
        (["summary", "--half", "2"], "总体情况"),
        (["half", "--half", "2"], "半年工作总结"),
    ]:
        out = tmp_path / f"{'-'.join(args)}.xlsx"

        result = runner.invoke(args=["export", args[0], "--year", "2018", *args[1:], "--out", str(out)])

        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"Wrote {out} (")
        assert openpyxl.load_workbook(out).sheetnames[0] == first_sheet


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["quarter", "--year", "2030", "--quarter", "3"], "no plan for 2030"),
        (["quarter", "--year", "2018", "--quarter", "1"], "the 2018 plan has no quarter 1"),
        (["breakdown", "--year", "2018", "--quarter", "1"], "the 2018 plan has no quarter 1"),
        (["department", "--year", "2018", "--department", "不存在局"], "no department '不存在局' in the 2018 plan"),
        (["summary", "--year", "2018", "--quarter", "3", "--half", "2"], "give a quarter or a half, not both"),
    ],
)
def test_the_export_command_refuses_in_english_and_writes_nothing(load_seed, runner, tmp_path, args, message):
    load_seed()
    out = tmp_path / "out.xlsx"

    result = runner.invoke(args=["export", *args, "--out", str(out)])

    assert result.exit_code == 1
    assert f"Error: {message}; nothing was written" in result.output
    assert not out.exists()


# --- the web ------------------------------------------------------------------------------------------


def signed_in(app, username):
    client = app.test_client()
    assert Auth(client).login(username).request.path != "/login"
    return client


def test_a_leader_downloads_the_summary_and_office_and_leaders_see_the_five_kinds(app, season):
    leader = signed_in(app, "leader1")

    with leader.get("/exports/summary.xlsx?year=2018&scope=&quarter=&half=") as response:
        assert response.status_code == 200 and response.mimetype == XLSX
        assert quote("2018年政务公开工作情况简报.xlsx") in response.headers["Content-Disposition"]
        book = opened(response.data)
    assert book.sheetnames[0] == "总体情况" and len(book.sheetnames) == 6
    assert book["总体情况"]["B4"].value == 42

    for client in (leader, signed_in(app, "office1")):
        page = BeautifulSoup(client.get("/exports").get_data(as_text=True), "html.parser")
        cards = page.select("#exports [data-kind]")
        assert [c["data-kind"] for c in cards] == ["breakdown", "quarter", "summary", "half", "department"]
        assert all(c.select_one("form")["action"] == f"/exports/{c['data-kind']}.xlsx" for c in cards)


@pytest.mark.parametrize(
    ("scope", "name"),
    [("q:3", "2018年第三季度政务公开工作情况简报.xlsx"), ("h:2", "2018年下半年政务公开工作情况简报.xlsx")],
)
def test_the_brief_is_chosen_by_the_one_scope_list_without_a_script(app, season, scope, name):
    leader = signed_in(app, "leader1")

    page = BeautifulSoup(leader.get("/exports").get_data(as_text=True), "html.parser")
    values = [o["value"] for o in page.select("[data-kind=summary] select[name=scope] option")]
    assert scope in values
    with leader.get(f"/exports/summary.xlsx?year=2018&scope={scope}") as response:
        assert response.status_code == 200
        assert quote(name) in response.headers["Content-Disposition"]


def test_a_download_without_a_year_is_explained_without_none(app, season):
    office = signed_in(app, "office1")

    response = office.get("/exports/quarter.xlsx?quarter=3", follow_redirects=True)

    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    messages = [a.get_text(" ", strip=True) for a in page.select("main .alert")]
    assert response.request.path == "/exports" and len(messages) == 1
    assert messages[0] == "请选择年度。"


def test_department_users_may_not_download_and_a_bad_choice_is_explained(app, season):
    fgj = signed_in(app, "u0")
    assert fgj.get("/exports").status_code == 403
    assert fgj.get("/exports/quarter.xlsx?year=2018&quarter=3").status_code == 403

    office = signed_in(app, "office1")
    response = office.get("/exports/quarter.xlsx?year=2018&quarter=1")

    assert response.status_code == 302 and response.headers["Location"] == "/exports?year=2018"
    page = BeautifulSoup(office.get(response.headers["Location"]).get_data(as_text=True), "html.parser")
    assert "2018年的工作安排没有第1季度的报送期。" in [a.get_text(" ", strip=True) for a in page.select("main .alert")]


# --- the archive and the modules ---------------------------------------------------------------------


def test_the_archived_quarter_workbook_has_the_four_sheets(app, season):
    run = run_job(job_by_id("archive"), "manual")

    assert run.status == "ok", run.summary
    archived = ArchiveFile.query.filter_by(kind="quarter_status").order_by(ArchiveFile.id).all()
    assert [a.filename for a in archived] == ["2018年第三季度完成情况汇总表.xlsx", "2018年第四季度完成情况汇总表.xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(storage.read(archived[0].stored_name)))
    assert book.sheetnames == QUARTER_SHEETS
    assert len(body(book["完成情况汇总"])) == 22 and len(body(book["逾期未报"])) == 17


def test_the_export_modules_import_on_their_own():
    for module in ("tracker.exports.operations", "tracker.archive", "tracker.jobs", "tracker.chase.operations"):
        result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True)

        assert result.returncode == 0, result.stderr.strip().splitlines()[-1]


# --- one rule for where a form stands -----------------------------------------------------------


def test_dashboard_exports_chase_and_brief_agree_on_every_form(app, season):
    """On days before, around and long after the due dates, with forms in every state (not yet due, a
    draft, submitted on time and late, returned with a correction date passed or not, accepted),
    the dashboard, the quarter workbook, the chase and the leaders' brief say the same of each form
    as :func:`tracker.workflow.standing`: its state, whether it is expected, submitted, on time, overdue."""
    states_seen = set()
    for day in ("2018-10-05", "2018-10-10", "2018-10-11", "2018-10-13", "2018-10-20", "2019-01-10", "2019-01-20"):
        at(app, day)
        states_seen |= agreed_states(season, datetime.date.fromisoformat(day))
    assert states_seen == {"not_due", "draft", "submitted", "returned", "accepted", "overdue"}


def agreed_states(plan, today_):
    """Check that every reader of Q3's and Q4's forms agrees with ``standing`` on ``today_``; return the states."""
    from tracker.briefs.operations import brief_figures, brief_for
    from tracker.chase.operations import open_items
    from tracker.exports.queries import quarter_data
    from tracker.returns.dashboard import compute_dashboard
    from tracker.workflow import CELL_LABELS, standing

    chased = {
        (item.period_id, item.department.name)
        for kind, item in open_items(today_, 0, plan_id=plan.id)
        if isinstance(item, QuarterlyReturn) and item.due_on < today_
    }
    states = set()
    for quarter in (3, 4):
        q = period(PeriodKind.QUARTER, quarter)
        truth = {
            f.department.name: standing(f, q.due_on, today_) for f in QuarterlyReturn.query.filter_by(period_id=q.id)
        }
        states |= {s.state for s in truth.values()}
        overdue = {name for name, s in truth.items() if s.state == "overdue"}

        board = compute_dashboard(plan, quarter=quarter)
        column = [p.number for p in board["periods"]].index(quarter)
        assert {r["department"].name: r["cells"][column]["state"] for r in board["matrix"] if r["cells"][column]} == {
            name: s.state for name, s in truth.items()
        }, today_
        sums = next(r for r in board["per_quarter"] if r["period"].number == quarter)
        counted = (sums["expected"], sums["submitted"], sums["on_time"])
        assert counted == tuple(
            sum(getattr(s, k) for s in truth.values()) for k in ("expected", "submitted", "on_time")
        )

        completion = quarter_data(plan, q, today_)["completion"]
        assert {r["department"]: r["state"] for r in completion} == {n: CELL_LABELS[s.state] for n, s in truth.items()}
        unsubmitted = {r["department"]: r["timeliness"] for r in completion if r["submitted_at"] is None}
        assert unsubmitted == {n: f"逾期{truth[n].overdue_days}天未报" if n in overdue else None for n in unsubmitted}

        assert {name for period_id, name in chased if period_id == q.id} == overdue, today_

        if today_ > q.due_on:  # before its due date the brief counts every form as expected, by design
            brief = brief_figures(brief_for(f"2018-Q{quarter}"), today_)
            assert (brief["expected"], brief["submitted"], brief["on_time"]) == counted
            assert {row["department"] for row in brief["overdue"]} == overdue
    return states


def test_a_breakdown_row_is_tall_enough_for_every_paragraph_of_its_tallest_text():
    from tracker.exports.styles import row_height

    # Three short paragraphs take three printed lines (they were counted as one: the longest).
    assert row_height([("第一段\n第二段\n第三段", 30), ("短", 10)]) == 3 * 15 + 4
    # 40 CJK characters are 80 width units; a column 10 wide holds 12 a line: 7 lines.
    assert row_height([("字" * 40, 10), (None, 5)]) == 7 * 15 + 4
