"""`plan load`, `plan show`, `export breakdown` and `demo` through the CLI, as the office runs them."""

import json

import openpyxl
import pytest
from conftest import SEED

from tracker.extensions import db
from tracker.models import AuditEntry, Department, Plan, Task, TaskDepartment, User
from tracker.plans.operations import update_task

SEED_TEXT = SEED.read_text(encoding="utf-8")


def show(runner, year=2018):
    result = runner.invoke(args=["plan", "show", "--year", str(year), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def counts():
    return {
        model.__name__: db.session.query(model).count()
        for model in (Plan, Task, TaskDepartment, Department, AuditEntry)
    }


def test_load_prints_one_line_of_counts(runner):
    result = runner.invoke(args=["plan", "load", str(SEED)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [
        "Plan 2018: 5 sections, 18 groups, 33 tasks, 21 departments "
        "(tasks: 33 added, 0 updated, 0 unchanged, 0 removed; 21 new departments)"
    ]


def test_show_json_contract(runner, load_seed):
    load_seed()
    data = show(runner)
    assert data["year"] == 2018
    assert data["title"] == "2018年天津开发区政务公开重点工作安排"
    assert data["issued_on"] == "2018-08-13"
    assert len(data["tasks"]) == 33
    assert len(data["departments"]) == 21
    assert data["departments"][:4] == ["工委(管委会)办公室", "党建工作部", "发改局", "经济运行局"]
    tasks = {t["code"]: t for t in data["tasks"]}
    assert [t["code"] for t in data["tasks"]][:6] == ["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.2.1"]
    assert tasks["1.1.1"]["lead"] == ["工委(管委会)办公室"]
    assert tasks["1.1.1"]["all_departments"] is True
    assert tasks["1.1.4"] | {"deadline": ""} == {
        "code": "1.1.4",
        "title": "落实市场准入负面清单信息公开要求",
        "section": "切实加强公开解读回应工作",
        "group": "围绕建设法治政府全面推进政务公开",
        "lead": ["发改局", "经济运行局"],
        "responsible": [],
        "all_departments": False,
        "and_related": False,
        "deadline": "",
    }
    assert tasks["1.2.2"]["responsible"] == ["行政审批局", "规国局", "建交局", "科工局", "安监局", "财政局", "环保局"]
    assert tasks["1.2.2"]["and_related"] is True
    assert tasks["3.2"]["responsible"] == ["工委(管委会)办公室"]
    assert tasks["3.2"]["group"] == "用好“两微一端”新平台"
    assert tasks["5.1"]["all_departments"] is True
    assert (tasks["5.1"]["lead"], tasks["5.1"]["responsible"]) == ([], [])


def test_show_table(runner, load_seed):
    load_seed()
    result = runner.invoke(args=["plan", "show", "--year", "2018"])
    assert result.exit_code == 0
    assert "1.1.4  落实市场准入负面清单信息公开要求" in result.output
    assert "lead: 发改局、经济运行局" in result.output
    assert result.output.strip().endswith("33 tasks, 21 departments")


def test_show_unknown_year(runner):
    result = runner.invoke(args=["plan", "show", "--year", "2030"])
    assert result.exit_code != 0
    assert "no plan for 2030" in result.output


def test_loading_twice_adds_nothing(runner, load_seed):
    load_seed()
    before = counts()
    result = runner.invoke(args=["plan", "load", str(SEED)])
    assert result.exit_code == 0
    assert "0 added, 0 updated, 33 unchanged, 0 removed" in result.output
    assert counts() == before


def test_load_is_audited_as_the_cli(load_seed):
    load_seed()
    entry = AuditEntry.query.filter_by(entity="tasks", action="insert").order_by(AuditEntry.id).first()
    assert entry.actor.startswith("cli:")
    assert entry.after["code"] == "1.1.1"


def test_revised_file_updates_in_place(tmp_path, runner, load_seed):
    load_seed()
    kept_id = Task.query.filter_by(code="2.1.2").one().id
    # Retitle 2.1.2 and add an item 3 at the end of group 2.1.
    revised = SEED_TEXT.replace("2.公开网上服务事项清单。", "2.公开网上服务事项清单(修订)。").replace(
        "    (二)优化审批办事服务。", "    3.新增一项任务。按要求落实。(商务局牵头落实)\n    (二)优化审批办事服务。"
    )
    path = tmp_path / "revised.txt"
    path.write_text(revised, encoding="utf-8")
    result = runner.invoke(args=["plan", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "  task 2.1.2: text, title changed" in result.output
    assert "  task 2.1.3: added" in result.output
    assert "1 added, 1 updated, 32 unchanged, 0 removed" in result.output
    task = Task.query.filter_by(code="2.1.2").one()
    assert task.id == kept_id
    assert task.title == "公开网上服务事项清单(修订)"
    tasks = {t["code"]: t for t in show(runner)["tasks"]}
    assert tasks["2.1.3"]["lead"] == ["商务局"]
    assert list(tasks).index("2.1.3") == list(tasks).index("2.1.2") + 1


def test_removed_task_is_reported(tmp_path, runner, load_seed):
    load_seed()
    start = SEED_TEXT.index("    3.依托平台稳步开放数据")
    end = SEED_TEXT.index("    (四)围绕稳定市场预期加强政策解读")
    path = tmp_path / "shorter.txt"
    path.write_text(SEED_TEXT[:start] + SEED_TEXT[end:], encoding="utf-8")
    result = runner.invoke(args=["plan", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "  task 1.3.3: removed" in result.output
    assert len(show(runner)["tasks"]) == 32


def test_office_correction_survives_a_revision_elsewhere(tmp_path, runner, load_seed):
    load_seed()
    task = Task.query.filter_by(code="1.3.1").one()
    update_task(task, [Department.lookup("发改局"), Department.lookup("财政局")], [], False, False, "2018年底")
    path = tmp_path / "revised.txt"
    path.write_text(SEED_TEXT.replace("加强业务培训。", "加强业务学习培训。"), encoding="utf-8")
    result = runner.invoke(args=["plan", "load", str(path)])
    assert result.exit_code == 0, result.output
    tasks = {t["code"]: t for t in show(runner)["tasks"]}
    assert tasks["1.3.1"]["lead"] == ["发改局", "财政局"]
    assert tasks["1.3.1"]["deadline"] == "2018年底"
    assert tasks["5.2"]["title"] == "加强业务学习培训"


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (SEED_TEXT[: SEED_TEXT.index("减证照,清理")], "cut.txt", "cut.txt: line "),
        ("二、没有第一部分\n", "bad.txt", "no title line"),
        (bytes(range(200, 256)) * 10, "noise.txt", "neither UTF-8 nor GB18030"),
        (b"PK\x03\x04broken", "broken.docx", "not a readable .docx file"),
        (b"%PDF-1.4", "notice.pdf", "unsupported file type '.pdf'"),
    ],
)
def test_bad_file_changes_nothing(tmp_path, runner, load_seed, content, name, expected):
    load_seed()
    before_json, before_counts = show(runner), counts()
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = runner.invoke(args=["plan", "load", str(path)])
    assert result.exit_code != 0
    assert expected in result.output
    assert "nothing was loaded" in result.output
    assert show(runner) == before_json
    assert counts() == before_counts


def test_failure_during_the_write_rolls_back(tmp_path, runner, load_seed, monkeypatch):
    load_seed()
    before_json, before_counts = show(runner), counts()
    from tracker.plans import operations

    calls = []
    original = operations._set_assignments

    def fail_late(*args):
        calls.append(args)
        if len(calls) > 1:
            raise RuntimeError("disk full")
        return original(*args)

    monkeypatch.setattr(operations, "_set_assignments", fail_late)
    path = tmp_path / "revised.txt"
    path.write_text(SEED_TEXT.replace("(发改局牵头落实)", "(发改局、财政局牵头落实)"), encoding="utf-8")
    with pytest.raises(RuntimeError):
        runner.invoke(args=["plan", "load", str(path)], catch_exceptions=False)
    db.session.expire_all()
    assert show(runner) == before_json
    assert counts() == before_counts


def test_missing_file(runner):
    result = runner.invoke(args=["plan", "load", "/nonexistent/plan.txt"])
    assert result.exit_code != 0
    assert "cannot read /nonexistent/plan.txt" in result.output


def test_year_option_overrides_the_title(runner, load_seed):
    load_seed(SEED, "--year", "2019")
    assert show(runner, 2019)["title"] == "2018年天津开发区政务公开重点工作安排"
    assert runner.invoke(args=["plan", "show", "--year", "2018"]).exit_code != 0


def test_breakdown_workbook(tmp_path, runner, load_seed):
    load_seed()
    out = tmp_path / "breakdown.xlsx"
    result = runner.invoke(args=["export", "breakdown", "--year", "2018", "--out", str(out)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out).active
    assert sheet.title == "任务分解表"
    assert sheet["A1"].value == "2018年天津开发区政务公开重点工作安排任务分解表"
    assert "A1:F1" in {str(r) for r in sheet.merged_cells.ranges}
    assert "印发日期：2018年8月13日" in sheet["A2"].value
    assert [c.value for c in sheet[3]] == ["序号", "工作任务", "具体要求", "牵头部门", "责任部门", "完成时限"]
    assert sheet.freeze_panes == "A4"
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    # Fitted to one page wide (an absent fitToWidth is 1), as many pages long as it takes.
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth or 1) == 1 and sheet.page_setup.fitToHeight == 0
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    task_rows = [r for r in rows if r[1] is not None]
    assert len(task_rows) == 33
    assert rows[0][0] == "一、切实加强公开解读回应工作"
    assert rows[1][0] == "(一)围绕建设法治政府全面推进政务公开"
    by_code = {r[0]: r for r in task_rows}
    assert by_code["1.1.4"][1:5] == (
        "落实市场准入负面清单信息公开要求",
        by_code["1.1.4"][2],
        "发改局、经济运行局",
        None,
    )
    assert by_code["1.1.1"][4] == "各部门"
    assert by_code["1.2.2"][4] == "行政审批局、规国局、建交局、科工局、安监局、财政局、环保局等相关部门"
    assert by_code["5.1"][3:5] == (None, "各部门")
    cell = sheet.cell(row=4 + rows.index(by_code["1.2.2"]), column=3)
    assert cell.alignment.wrap_text
    assert cell.border.left.style == "thin"
    assert sheet.column_dimensions["C"].width > sheet.column_dimensions["A"].width * 4


def test_breakdown_spreadsheet_loads_as_the_same_plan(tmp_path, runner, load_seed):
    load_seed()
    out = tmp_path / "breakdown.xlsx"
    runner.invoke(args=["export", "breakdown", "--year", "2018", "--out", str(out)])
    original = show(runner)
    result = runner.invoke(args=["plan", "load", str(out), "--year", "2017"])
    assert result.exit_code == 0, result.output
    copy = show(runner, 2017)
    for data in (original, copy):
        data.pop("year")
        data.pop("source")
    assert copy == original


def test_user_text_is_never_a_formula(tmp_path, runner, load_seed):
    load_seed()
    task = Task.query.filter_by(code="1.1.2").one()
    update_task(task, task.lead_departments, [], False, False, '=HYPERLINK("http://x","y")')
    out = tmp_path / "breakdown.xlsx"
    runner.invoke(args=["export", "breakdown", "--year", "2018", "--out", str(out)])
    sheet = openpyxl.load_workbook(out).active
    cell = next(row[5] for row in sheet.iter_rows(min_row=4) if row[0].value == "1.1.2")
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://x","y")'


def test_demo_accounts_are_created_once(app, runner, load_seed):
    load_seed()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines() if line.startswith("  ")]
    assert [line[0].strip() for line in lines[:3]] == ["office", "leader", "dept01"]
    assert len(lines) == 23
    office_password = lines[0][1]
    assert User.query.filter_by(username="office").one().check_password(office_password)
    assert User.query.filter_by(username="dept03").one().department.name == "发改局"
    again = runner.invoke(args=["demo"])
    assert "already exist" in again.output
    assert office_password not in again.output
    assert User.query.count() == 23
