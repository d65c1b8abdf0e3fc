"""Never lose reported work (issue 11): reloading a plan withdraws (撤销) the tasks forms report on
instead of deleting them with their lines, asks first where departments wrote something, and a dry
run shows what a load would do without writing anything.

"Today" is 2018-10-05 (``TRACKER_TODAY``): the third quarter is being reported, due 2018-10-10.
"""

import io
import json
from types import SimpleNamespace

import openpyxl
import pytest
from bs4 import BeautifulSoup
from conftest import SEED, Auth, page_of, quarterly_form
from sqlalchemy.exc import IntegrityError

from tracker.extensions import db
from tracker.models import ReturnLine, ReturnState, Task
from tracker.plans.operations import AffectedForm, WithdrawalNeedsConfirmation, load_plan
from tracker.plans.parser import parse_plan_file
from tracker.returns.operations import save_return, submit_return
from tracker.workflow import WorkflowError, review

SEED_TEXT = SEED.read_text(encoding="utf-8")
#: The 2018 notice cut down to its first task (1.1.1, for every department).
ONE_TASK = SEED_TEXT[: SEED_TEXT.index("    2.做好权责清单")] + SEED_TEXT[SEED_TEXT.index("    附件:1.") :]
#: The 2018 notice without task 1.3.3 (led by 发改局 alone).
WITHOUT_133 = (
    SEED_TEXT[: SEED_TEXT.index("    3.依托平台稳步开放数据")]
    + SEED_TEXT[SEED_TEXT.index("    (四)围绕稳定市场预期加强政策解读") :]
)

HEADER = {"filled_by_name": "王晓明", "filled_by_phone": "022-25201234", "approved_by": "李建国"}
#: What 发改局 and 财政局 report on besides 1.1.1, in the plan's order.
FGJ_OTHERS = "1.1.4, 1.2.4, 1.2.5, 1.3.1, 1.3.2, 1.3.3, 1.4.1, 1.4.2, 1.5.1, 1.5.2, 4.1, 4.2, 4.3, 5.1, 5.2, 5.3"
CZJ_OTHERS = "1.2.1, 1.2.2, 1.2.3, 1.2.4, 1.2.5, 1.4.2, 1.5.1, 1.5.2, 4.1, 4.2, 4.3, 5.1, 5.2, 5.3"
WITHDRAWN = [
    *("1.1.4", "1.2.1", "1.2.2", "1.2.3", "1.2.4", "1.2.5", "1.3.1", "1.3.2", "1.3.3", "1.4.1"),
    *("1.4.2", "1.5.1", "1.5.2", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3"),
]
REMOVED = ["1.1.2", "1.1.3", "1.1.5", "2.1.1", "2.1.2", "2.2.1", "2.2.2", "2.3.1", "2.3.2", "3.1", "3.2", "3.3", "4.4"]


# --- fixtures and helpers -------------------------------------------------------------------------


def fill_and_submit(report, user):
    """Fill in every line of a form (what was done names the task) and submit it."""
    lines = [
        {"task_code": line.task.code, "status": "in_progress", "done": f"{line.task.code}：本季度已推进。"}
        for line in report.lines
    ]
    save_return(report, {**HEADER, "lines": lines}, report.version)
    submit_return(report, user)
    return report


@pytest.fixture
def reported(app, load_seed, create_user):
    """The 2018 plan with 发改局's third quarter accepted, 财政局's submitted, and a line of 发改局's fourth begun."""
    app.config["TRACKER_TODAY"] = "2018-10-05"
    load_seed()
    office = create_user("office1", "office")
    accepted = fill_and_submit(quarterly_form("发改局"), create_user("fgj1", "department", "发改局"))
    review(accepted, office, "accept")
    submitted = fill_and_submit(quarterly_form("财政局"), create_user("czj1", "department", "财政局"))
    draft = quarterly_form("发改局", 4)
    save_return(draft, {"lines": [{"task_code": "1.1.4", "done": "已起草第四季度清单。"}]}, draft.version)
    return SimpleNamespace(accepted=accepted.id, submitted=submitted.id, draft=draft.id)


@pytest.fixture
def office(client, reported):
    """Return a client signed in as the office."""
    Auth(client).login("office1")
    return client


def load(runner, tmp_path, text, *options):
    """Run ``plan load`` on ``text`` saved as a notice file; return the result."""
    path = tmp_path / "revised.txt"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["plan", "load", str(path), *options])


def rows():
    """Return the number of rows of every table."""
    return {table.name: db.session.query(table).count() for table in db.metadata.sorted_tables}


def plan_rows(client):
    """Return the plan page's tasks as (code, title as shown, marked 撤销)."""
    return [
        (
            row["data-code"],
            row.select_one("a").get_text(strip=True),
            row.select_one(".withdrawn-mark") is not None,
        )
        for row in page_of(client, "/plans/2018").select("li.task-row")
    ]


def form_rows(client, report_id):
    """Return a form page's lines as (code, marked 撤销, 完成情况 shown or typed)."""
    lines = []
    for row in page_of(client, f"/returns/{report_id}").select("#lines tr.line-row"):
        text = row.select_one('textarea[name$="-done"]')
        cells = row.find_all("td")
        lines.append(
            (
                row["data-code"],
                row.select_one(".withdrawn-mark") is not None,
                text.get_text() if text is not None else cells[3].get_text(),
            )
        )
    return lines


def breakdown_rows(client):
    """Return the downloaded breakdown table's task rows as (序号, 工作任务)."""
    response = client.get("/plans/2018/breakdown.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return [(row[0], row[1]) for row in sheet.iter_rows(min_row=4, values_only=True) if row[1] is not None]


# --- a dry run -------------------------------------------------------------------------------------


def test_a_dry_run_prints_the_plan_as_read_and_what_would_change_and_writes_nothing(office, runner, tmp_path):
    before, plan_page = rows(), page_of(office, "/plans/2018").select_one("main").get_text()

    result = load(runner, tmp_path, ONE_TASK, "--dry-run")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:5] == [
        "2018年天津开发区政务公开重点工作安排 (2018, issued 2018-08-13)",
        "一、切实加强公开解读回应工作",
        "  (一)围绕建设法治政府全面推进政务公开",
        "    1.1.1  推进政府决策公开",
        "           lead: 工委(管委会)办公室; responsible: 管委会各部门",
    ]
    assert lines[5] == "Changes against the existing plan:"
    assert "  task 1.1.2: removed" in lines
    assert "  task 1.1.4: withdrawn, kept in 2 form(s)" in lines
    assert "  section 2: removed" in lines
    assert (
        "Plan 2018: 3 sections, 11 groups, 1 tasks + 19 withdrawn, 20 departments "
        "(tasks: 0 added, 0 updated, 1 unchanged, 13 removed, 19 withdrawn; 0 new departments)"
    ) in lines
    assert lines[-6:] == [
        f"Tasks {', '.join(WITHDRAWN)} would be withdrawn; they hold reported work in:",
        f"  2018 Q3 发改局 (accepted): tasks {FGJ_OTHERS}",
        f"  2018 Q3 财政局 (submitted): tasks {CZJ_OTHERS}",
        "  2018 Q4 发改局 (draft): tasks 1.1.4",
        "Loading it needs --confirm-withdrawal.",
        "Dry run: nothing was written.",
    ]
    db.session.expire_all()
    assert rows() == before
    assert page_of(office, "/plans/2018").select_one("main").get_text() == plan_page


def test_a_dry_run_of_a_new_plan_says_it_would_be_created_and_creates_nothing(app, runner):
    before = rows()

    result = runner.invoke(args=["plan", "load", str(SEED), "--dry-run"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "    5.3    加强督查考核" in lines
    assert lines[-3:] == [
        "There is no plan for 2018 yet; loading the file would create it.",
        "Plan 2018: 5 sections, 18 groups, 33 tasks, 21 departments "
        "(tasks: 33 added, 0 updated, 0 unchanged, 0 removed; 21 new departments)",
        "Dry run: nothing was written.",
    ]
    assert rows() == before
    assert runner.invoke(args=["plan", "show", "--year", "2018"]).exit_code != 0


def test_a_dry_run_prints_what_the_parser_warns_about(app, runner, monkeypatch):
    from tracker import cli
    from tracker.plans.parser import parse_plan_file

    def with_warnings(path):
        parsed = parse_plan_file(path)
        parsed.warnings = [SimpleNamespace(where="line 52", message="a department name is not known")]
        return parsed

    monkeypatch.setattr(cli, "parse_plan_file", with_warnings)

    result = runner.invoke(args=["plan", "load", str(SEED), "--dry-run"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[lines.index("warning: line 52: a department name is not known") + 1] == (
        "There is no plan for 2018 yet; loading the file would create it."
    )


# --- withdrawing tasks forms report on --------------------------------------------------------------


def test_a_smaller_file_is_refused_while_forms_report_on_the_tasks_it_leaves_out(office, runner, tmp_path, reported):
    before, plan = rows(), plan_rows(office)

    result = load(runner, tmp_path, ONE_TASK)

    assert result.exit_code != 0
    lines = result.output.splitlines()
    assert lines[:3] == [
        f"  2018 Q3 发改局 (accepted): tasks {FGJ_OTHERS}",
        f"  2018 Q3 财政局 (submitted): tasks {CZJ_OTHERS}",
        "  2018 Q4 发改局 (draft): tasks 1.1.4",
    ]
    assert "19 task(s) no longer in the file (1.1.4, 1.2.1," in result.output
    assert "hold reported work in 3 form(s). Rerun with --confirm-withdrawal" in result.output
    assert result.output.rstrip().endswith("nothing was loaded")
    db.session.expire_all()
    assert rows() == before
    assert plan_rows(office) == plan
    assert [marked for _, marked, _ in form_rows(office, reported.accepted)] == [False] * 17


def test_the_refusal_carries_the_forms_for_a_page_to_show_and_writes_nothing(reported, tmp_path):
    path = tmp_path / "one.txt"
    path.write_text(ONE_TASK, encoding="utf-8")
    before = rows()

    with pytest.raises(WithdrawalNeedsConfirmation) as refused:
        load_plan(parse_plan_file(path))

    assert refused.value.task_codes == WITHDRAWN
    assert refused.value.forms[0] == AffectedForm(
        department="发改局",
        period="2018 Q3",
        state=ReturnState.ACCEPTED,
        task_codes=tuple(FGJ_OTHERS.split(", ")),
        form_id=reported.accepted,
        period_zh="2018年第三季度",
    )
    assert [(f.period_zh, f.department, f.state.label) for f in refused.value.forms] == [
        ("2018年第三季度", "发改局", "已通过"),
        ("2018年第三季度", "财政局", "已报送"),
        ("2018年第四季度", "发改局", "填报中"),
    ]
    assert rows() == before


def test_confirmed_withdrawal_keeps_every_reported_line_and_marks_its_task(office, runner, tmp_path, reported):
    lines_before = {(line.return_id, line.task_id, line.done) for line in ReturnLine.query if line.done}

    result = load(runner, tmp_path, ONE_TASK, "--confirm-withdrawal")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "Plan 2018: 3 sections, 11 groups, 1 tasks + 19 withdrawn, 20 departments "
        "(tasks: 0 added, 0 updated, 1 unchanged, 13 removed, 19 withdrawn; 0 new departments)"
    )
    db.session.expire_all()
    assert {(line.return_id, line.task_id, line.done) for line in ReturnLine.query if line.done} == lines_before
    # The plan page lists the tasks kept, marked; the tasks nobody reported on are gone.
    shown = plan_rows(office)
    assert [code for code, _, marked in shown if not marked] == ["1.1.1"]
    assert [code for code, _, marked in shown if marked] == WITHDRAWN
    assert not Task.query.filter(Task.code.in_(REMOVED)).count()
    task = page_of(office, f"/tasks/{Task.query.filter_by(code='1.1.4').one().id}")
    # Seen as 撤销; read aloud as （撤销：已从工作安排中撤销）.
    assert task.select_one("h1 .withdrawn-mark").get_text() == "（撤销：已从工作安排中撤销）"
    assert "从工作安排中撤销" in task.select_one("#withdrawn").get_text()
    # The accepted form still shows every line as it was accepted, the withdrawn ones marked.
    accepted = form_rows(office, reported.accepted)
    assert accepted[0] == ("1.1.1", False, "1.1.1：本季度已推进。")
    assert accepted[1:] == [(code, True, f"{code}：本季度已推进。") for code in FGJ_OTHERS.split(", ")]
    history = page_of(office, f"/returns/{reported.accepted}/history")
    version = [
        (row.find("th").get_text(strip=True), row.select_one(".withdrawn-mark") is not None)
        for row in history.select(".version tbody tr")
    ]
    assert version == [("1.1.1", False)] + [
        (f"{code}（撤销：已从工作安排中撤销）", True) for code in FGJ_OTHERS.split(", ")
    ]
    # So do the breakdown table and the quarter's workbook.
    breakdown = dict(breakdown_rows(office))
    assert breakdown["1.1.1"] == "推进政府决策公开"
    assert breakdown["1.1.4"] == "【撤销】落实市场准入负面清单信息公开要求"
    assert sorted(breakdown) == sorted(["1.1.1", *WITHDRAWN])
    out = tmp_path / "q3.xlsx"
    assert (
        runner.invoke(args=["export", "quarter", "--year", "2018", "--quarter", "3", "--out", str(out)]).exit_code == 0
    )
    progress = [row[0] for row in openpyxl.load_workbook(out)["任务进展"].iter_rows(values_only=True)]
    assert "1.1.4　【撤销】落实市场准入负面清单信息公开要求" in progress
    # The plan as the CLI and the API give it has only the tasks still in it.
    shown = runner.invoke(args=["plan", "show", "--year", "2018", "--format", "json"])
    assert [task["code"] for task in json.loads(shown.output)["tasks"]] == ["1.1.1"]


def test_the_database_refuses_to_delete_a_task_that_form_lines_report_on(reported):
    task = Task.query.filter_by(code="1.1.4").one()

    with pytest.raises(IntegrityError):
        db.session.execute(db.delete(Task).where(Task.id == task.id))
    db.session.rollback()

    assert Task.query.filter_by(code="1.1.4").count() == 1
    assert ReturnLine.query.filter_by(task_id=task.id).count() == 4


def test_a_withdrawn_task_is_not_asked_about_in_forms_not_yet_reported(office, runner, tmp_path, reported, create_user):
    assert load(runner, tmp_path, ONE_TASK, "--confirm-withdrawal").exit_code == 0
    db.session.expire_all()

    # 经济运行局 had written nothing: its forms now ask only about 1.1.1.
    assert [code for code, _, _ in form_rows(office, quarterly_form("经济运行局").id)] == ["1.1.1"]
    assert [code for code, _, _ in form_rows(office, quarterly_form("经济运行局", 4).id)] == ["1.1.1"]
    # 发改局's fourth quarter keeps what it began on 1.1.4, marked, and can be submitted without it.
    assert form_rows(office, reported.draft) == [("1.1.1", False, ""), ("1.1.4", True, "已起草第四季度清单。")]
    draft = quarterly_form("发改局", 4)
    payload = {**HEADER, "lines": [{"task_code": "1.1.1", "status": "in_progress", "done": "已推进。"}]}
    save_return(draft, payload, draft.version)
    submit_return(draft, create_user("fgj2", "department", "发改局"))
    assert quarterly_form("发改局", 4).state.value == "submitted"


def test_a_later_revision_asks_nothing_more_about_tasks_already_withdrawn(office, runner, tmp_path, reported):
    assert load(runner, tmp_path, ONE_TASK, "--confirm-withdrawal").exit_code == 0
    before = rows()

    again = load(runner, tmp_path, ONE_TASK.replace("推进政府决策公开。", "推进政府决策公开(修订)。"))

    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [
        "  plan: source_sha256 changed",
        "  task 1.1.1: text, title changed",
        "Plan 2018: 3 sections, 11 groups, 1 tasks + 19 withdrawn, 20 departments "
        "(tasks: 0 added, 1 updated, 0 unchanged, 0 removed; 0 new departments)",
    ]
    db.session.expire_all()
    assert {k: v for k, v in rows().items() if k != "audit_entries"} == {
        k: v for k, v in before.items() if k != "audit_entries"
    }


def test_a_withdrawn_task_that_comes_back_is_in_the_plan_again(office, runner, tmp_path, reported, create_user):
    assert load(runner, tmp_path, ONE_TASK, "--confirm-withdrawal").exit_code == 0
    withdrawn_id = Task.query.filter_by(code="1.1.4").one().id

    result = load(runner, tmp_path, SEED_TEXT + "\n")

    assert result.exit_code == 0, result.output
    assert "  task 1.1.4: back in the plan (was withdrawn)" in result.output.splitlines()
    assert result.output.splitlines()[-1] == (
        "Plan 2018: 5 sections, 18 groups, 33 tasks, 21 departments "
        "(tasks: 13 added, 0 updated, 1 unchanged, 0 removed, 19 restored; 0 new departments)"
    )
    db.session.expire_all()
    assert Task.query.filter_by(code="1.1.4").one().id == withdrawn_id
    assert [marked for _, _, marked in plan_rows(office)] == [False] * 33
    accepted = form_rows(office, reported.accepted)
    assert [(code, marked) for code, marked, _ in accepted] == [
        (code, False) for code in ["1.1.1", *FGJ_OTHERS.split(", ")]
    ]
    # 经济运行局 is asked about 1.1.4 again, and cannot submit without it.
    lines = form_rows(office, quarterly_form("经济运行局").id)
    assert [code for code, _, _ in lines][:2] == ["1.1.1", "1.1.4"]
    report = quarterly_form("经济运行局")
    payload = {**HEADER, "lines": [{"task_code": "1.1.1", "status": "in_progress", "done": "已推进。"}]}
    save_return(report, payload, report.version)
    with pytest.raises(WorkflowError, match=r"lines\[1\]\.status: required \(task 1\.1\.4\)"):
        submit_return(report, create_user("jjyxj1", "department", "经济运行局"))


# --- removing tasks nobody reported on ----------------------------------------------------------------


def test_a_task_nobody_reported_on_is_removed_without_a_question_with_its_empty_lines(
    app, load_seed, create_user, client, runner, tmp_path
):
    app.config["TRACKER_TODAY"] = "2018-10-05"
    load_seed()
    create_user("office1", "office")
    Auth(client).login("office1")
    assert "1.3.3" in [code for code, _, _ in form_rows(client, quarterly_form("发改局").id)]

    result = load(runner, tmp_path, WITHOUT_133)

    assert result.exit_code == 0, result.output
    assert "  task 1.3.3: removed" in result.output.splitlines()
    assert "withdrawn" not in result.output
    db.session.expire_all()
    assert "1.3.3" not in [code for code, _, _ in plan_rows(client)]
    for quarter in (3, 4):  # 发改局 alone leads it
        assert "1.3.3" not in [code for code, _, _ in form_rows(client, quarterly_form("发改局", quarter).id)]
    assert Task.query.filter_by(code="1.3.3").count() == 0


def test_the_refusal_names_only_the_forms_with_work_on_the_tasks_left_out(office, runner, tmp_path, reported):
    result = load(runner, tmp_path, WITHOUT_133)

    assert result.exit_code != 0
    assert result.output.splitlines()[0] == "  2018 Q3 发改局 (accepted): tasks 1.3.3"
    assert "1 task(s) no longer in the file (1.3.3) hold reported work in 1 form(s)" in result.output


def test_the_exported_breakdown_loaded_back_leaves_withdrawn_tasks_withdrawn(office, runner, tmp_path, reported):
    assert load(runner, tmp_path, ONE_TASK, "--confirm-withdrawal").exit_code == 0
    exported = tmp_path / "breakdown.xlsx"
    exported.write_bytes(office.get("/plans/2018/breakdown.xlsx").data)
    before = rows()

    result = runner.invoke(args=["plan", "load", str(exported), "--year", "2018"])

    assert result.exit_code == 0, result.output
    assert "0 added" in result.output and "0 restored" not in result.output and "restored" not in result.output
    db.session.expire_all()
    assert Task.query.filter_by(code="1.1.4").one().is_withdrawn
    assert Task.query.filter_by(code="1.1.4").one().title == "落实市场准入负面清单信息公开要求"
    assert rows()["tasks"] == before["tasks"] and rows()["return_lines"] == before["return_lines"]


def test_the_web_import_shows_the_forms_a_reload_would_touch_and_asks_first(office, reported):
    from conftest import preview_form, upload_plan

    response = upload_plan(office, ONE_TASK.encode(), "2018.txt")
    preview = office.get(response.headers["Location"])
    soup = BeautifulSoup(preview.get_data(as_text=True), "html.parser")
    impact = soup.find(id="impact").get_text()
    assert "删除13项、撤销19项" in impact
    listed = soup.find(string=lambda s: s and "将被撤销、已有填报内容的任务" in s).find_parent("div").get_text()
    assert "发改局，2018年第三季度，已通过" in listed and "财政局，2018年第三季度，已报送" in listed
    form = preview_form(soup)
    before = rows()

    refused = office.post(preview.request.path, data=form)

    assert refused.status_code == 409
    alert = BeautifulSoup(refused.get_data(as_text=True), "html.parser").find(role="alert").get_text()
    assert "请查看下列报送表，并勾选“确认撤销”后再导入" in alert
    assert rows()["tasks"] == before["tasks"] and rows()["return_lines"] == before["return_lines"]

    form["confirm_withdrawal"] = "y"
    done = office.post(preview.request.path, data=form, follow_redirects=True)
    assert "已导入2018年工作安排：1项任务（新增0项，修改0项，撤销19项）。" in done.get_data(as_text=True)
    db.session.expire_all()
    assert Task.query.filter_by(code="1.1.4").one().is_withdrawn
    assert rows()["return_lines"] <= before["return_lines"]
    kept = {(line.return_id, line.task_id) for line in ReturnLine.query if line.done}
    assert len(kept) == len([line for line in ReturnLine.query if line.done])
