"""工作安排 → 导入: upload a real arrangement, preview and correct it, confirm; refusals change nothing."""

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, counted, department, preview_form, upload_plan

from tracker.models import AuditEntry, Department, Plan, PlanImport, Task

NOTICES = ROOT / "tests" / "data" / "notices"
#: A complete real task table (广东省卫生健康委2021年政务公开工作重点任务台账).
TABLE = NOTICES / "t03-guangdong-weijian-2021.xlsx"


@pytest.fixture
def office(create_user, auth):
    """Sign in as the office of an empty system."""
    create_user("office1")
    auth.login("office1")


def upload(client, path):
    return upload_plan(client, path.read_bytes(), path.name)


def test_an_empty_system_offers_the_upload(client, office):
    page = BeautifulSoup(client.get("/", follow_redirects=True).get_data(as_text=True), "html.parser")
    link = page.find("a", string="导入工作安排")
    assert link is not None and link["href"] == "/plans/import"
    assert "flask" not in page.get_text()


def test_a_cut_document_is_refused_in_chinese_and_nothing_is_kept(client, office):
    response = upload(client, NOTICES / "p01-beijing-2018.txt")
    assert response.status_code == 400
    alert = BeautifulSoup(response.get_data(as_text=True), "html.parser").find(role="alert")
    assert "第9行：第1.1项在句子中间中断，文件可能不完整" in alert.get_text()
    assert PlanImport.query.count() == 0 and Plan.query.count() == 0


def test_a_file_of_another_kind_is_refused(client, office):
    response = upload_plan(client, b"%PDF-1.4", "a.pdf")
    assert response.status_code == 400
    assert "请上传.txt、.html、.docx或.xlsx文件" in response.get_data(as_text=True)
    assert PlanImport.query.count() == 0


def test_preview_writes_nothing_then_confirm_loads_what_was_corrected(client, office):
    response = upload(client, TABLE)
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    html = preview.get_data(as_text=True)
    page = BeautifulSoup(html, "html.parser")
    assert page.h1.get_text() == "导入预览：广东省卫生健康委2021年政务公开工作重点任务台账"
    assert page.find("input", {"name": "year"})["value"] == "2021"
    # The names the table uses, each new, and the tasks with their departments.
    names = [row.th.get_text() for row in page.find(id="departments-h").find_next("tbody").find_all("tr")]
    assert names[:3] == ["应急处", "监督处", "医政医管处"]
    assert page.find("input", {"name": "responsible-1.3"})["value"] == "宣传处会办公室"
    assert Plan.query.count() == 0 and Department.query.count() == 0

    form = preview_form(page)
    form["responsible-1.3"] = "宣传处、办公室"  # the table's 会 means "together with"
    form.pop("confirm_withdrawal", None)
    response = client.post(preview.request.path, data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/plans/2021"
    plan = client.get("/plans/2021").get_data(as_text=True)
    assert "提高新冠肺炎疫情信息发布规范化水平" in plan
    note = BeautifulSoup(plan, "html.parser").find(id="last-import").get_text()
    assert " 由 t03-guangdong-weijian-2021.xlsx 导入；导入时修改了1项任务的部门，对应了0个部门名称。" in note
    corrected = Task.query.filter_by(code="1.3").one()
    assert [d.name for d in corrected.responsible_departments] == ["宣传处", "办公室"]
    record = PlanImport.query.one()
    assert record.corrections["tasks"]["1.3"]["before"]["responsible"] == ["宣传处会办公室"]
    assert record.plan.year == 2021
    assert AuditEntry.query.filter_by(entity="plan_imports").count() >= 2
    # Confirming again loads nothing twice.
    again = client.post(preview.request.path, data=form, follow_redirects=True)
    assert "该文件已经导入" in again.get_data(as_text=True)


def test_a_new_name_is_matched_to_an_existing_department_as_its_alias(client, office, app):
    from tracker.extensions import db

    existing = Department(name="委办公室", short_name="办公室")
    db.session.add(existing)
    db.session.commit()
    preview = client.get(upload(client, TABLE).headers["Location"])
    page = BeautifulSoup(preview.get_data(as_text=True), "html.parser")
    index = next(
        i
        for i, row in enumerate(page.find(id="departments-h").find_next("tbody").find_all("tr"))
        if row.th.get_text() == "办公室"
    )
    select = page.find("select", {"name": f"match-{index}"})
    assert select.find("option", selected=True) is None or select.find("option", selected=True)["value"] == ""
    assert "委办公室" in select.find("optgroup", label="名称相近").get_text()
    form = preview_form(page)
    form[f"match-{index}"] = str(existing.id)
    assert client.post(preview.request.path, data=form).status_code == 302
    assert department("办公室").id == existing.id
    task_24 = Task.query.filter_by(code="2.4").one()
    assert [d.name for d in task_24.responsible_departments] == ["委办公室"]


def test_a_year_is_compared_with_the_previous_one(client, office, load_seed):
    from conftest import SEED

    load_seed()
    load_seed(SEED, "--year", "2019")
    page = BeautifulSoup(client.get("/plans/2019/compare").get_data(as_text=True), "html.parser")
    assert "与2018年" in page.find(id="summary").get_text()
    assert "新增 0 项，延续 33 项" in page.find(id="summary").get_text()
    rows = page.find(id="continued-h").find_next("tbody").find_all("tr")
    assert rows[0].find_all("td")[2].get_text() == "100%"
    # The plan page links to it; the earliest year has nothing to compare with.
    assert "/plans/2019/compare" in client.get("/plans/2019").get_data(as_text=True)
    assert "无可比较" in client.get("/plans/2018/compare").get_data(as_text=True)


def test_a_different_arrangement_is_new_and_the_old_tasks_dropped(client, office, load_seed):
    load_seed()
    load_seed(TABLE, "--year", "2021")
    text = BeautifulSoup(client.get("/plans/2021/compare").get_data(as_text=True), "html.parser").get_text()
    assert "新增 8 项，延续 0 项，不再列入 33 项" in text


def test_a_table_without_title_or_year_asks_for_them(client, office):
    """池州市信访局's task list: the page holds the table alone, with no title or year."""
    preview = client.get(upload(client, NOTICES / "c01-chizhou-xinfang-undated.html").headers["Location"])
    page = BeautifulSoup(preview.get_data(as_text=True), "html.parser")
    warnings = page.find(id="warnings-h").find_next("ul").get_text()
    assert "表格上方没有“2018年…工作安排”这样的标题，请填写计划的标题和年度" in warnings
    assert not page.find("input", {"name": "title"}).get("value")  # none was found: the office writes it
    assert not page.find("input", {"name": "year"}).get("value")
    form = preview_form(page)
    refused = client.post(preview.request.path, data=form)
    assert refused.status_code == 400
    alert = BeautifulSoup(refused.get_data(as_text=True), "html.parser").find(role="alert")
    assert "请填写标题" in alert.get_text() and "请填写年度" in alert.get_text() and alert.has_attr("autofocus")
    year_field = BeautifulSoup(refused.get_data(as_text=True), "html.parser").find("input", {"name": "year"})
    assert year_field["aria-invalid"] == "true" and year_field["aria-describedby"] == "year-error"
    assert Plan.query.count() == 0
    form.update(year="2024", title="池州市信访局2024年政务公开重点任务清单")
    assert client.post(preview.request.path, data=form).headers["Location"] == "/plans/2024"
    plan = Plan.query.one()
    assert plan.title == "池州市信访局2024年政务公开重点任务清单" and len(plan.tasks) == 8
    assert [t.is_all_departments for t in plan.tasks][:3] == [False, True, True]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("responsible-1.3", "宣传处。" + "很长的一段话" * 10, "第1.3项：“宣传处。很长的一段话"),
        ("lead-1.1", "应急处\x00", "提交的内容中有无法处理的不可见控制字符"),
        ("lead-1.1", "应急处\x07", "提交的内容中有无法处理的不可见控制字符"),
        ("title", "标题\x0b", "标题中有无法显示的控制字符"),
        ("title", "标" * 201, "标题不超过200字（现有201字）。"),
        ("match-0", "999999", "所选的部门不存在，请重新选择。"),
    ],
)
def test_forged_or_wrong_corrections_are_refused_in_chinese_and_change_nothing(client, office, field, value, message):
    preview = client.get(upload(client, TABLE).headers["Location"])
    page = BeautifulSoup(preview.get_data(as_text=True), "html.parser")
    form = preview_form(page)
    form[field] = value
    response = client.post(preview.request.path, data=form)
    assert response.status_code == 400
    assert message in BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text()
    assert Plan.query.count() == 0 and Department.query.count() == 0
    assert PlanImport.query.one().loaded_at is None


def test_the_words_for_every_department_are_shown_as_the_notice_writes_them(client, office, load_seed):
    load_seed()
    page = BeautifulSoup(client.get("/plans/2018").get_data(as_text=True), "html.parser")

    def badges(code):
        return [b.get_text() for b in page.select(f".task-row[data-code='{code}'] .text-bg-warning")]

    assert badges("1.1.1") == ["管委会各部门"]
    assert badges("5.1") == ["各部门"]  # 各部门要把政务公开工作纳入重要议事日程…
    task_page = client.get(f"/tasks/{Task.query.filter_by(code='1.1.1').one().id}").get_data(as_text=True)
    assert "管委会各部门</span>" in task_page


def test_matching_names_takes_the_same_queries_however_many_names(app, load_seed):

    from tracker.plans.intake import name_matches
    from tracker.plans.parser import parse_plan_file

    load_seed()  # 21 departments to match against
    small = parse_plan_file(NOTICES / "c01-chizhou-xinfang-undated.html")  # 2 names
    big = parse_plan_file(TABLE)  # 10 names, none known

    small_matches, few = counted(lambda: name_matches(small))
    big_matches, many = counted(lambda: name_matches(big))
    assert [m.name for m in small_matches] == ["办公室"] and len(big_matches) == 10
    assert [d.name for d in small_matches[0].suggestions][:1] == ["工委(管委会)办公室"]
    assert len(few) == len(many) == 2


def test_the_comparison_leaves_withdrawn_tasks_out_and_matches_a_reworded_task(client, office, load_seed, tmp_path):
    from conftest import SEED

    load_seed()
    text = SEED.read_text(encoding="utf-8").replace("推进政府决策公开。", "全面推进政府决策公开。", 1)
    revised = tmp_path / "2019.txt"
    revised.write_text(text, encoding="utf-8")
    load_seed(revised, "--year", "2019")
    from tracker.extensions import db
    from tracker.timeutil import now_utc

    Task.query.join(Plan).filter(Plan.year == 2018, Task.code == "5.3").one().withdrawn_at = now_utc()
    db.session.commit()
    page = BeautifulSoup(client.get("/plans/2019/compare").get_data(as_text=True), "html.parser")
    assert "新增 1 项，延续 32 项，不再列入 0 项" in page.find(id="summary").get_text()
    continued = {
        row["data-code"]: row.find_all("td")[1].get_text() for row in page.select("#continued-h + table tr[data-code]")
    }
    assert continued["1.1.1"].startswith("1.1.1") and "推进政府决策公开" in continued["1.1.1"]


def test_corrections_survive_an_error_and_apply_to_a_file_already_loaded(client, office, load_seed):
    from conftest import SEED

    load_seed()
    preview = client.get(upload(client, SEED).headers["Location"])
    page = BeautifulSoup(preview.get_data(as_text=True), "html.parser")
    assert "2018年已有工作安排《2018年天津开发区政务公开重点工作安排》" in page.get_text()
    form = preview_form(page)
    form["lead-3.3"] = "商务局"
    form["year"] = ""
    again = BeautifulSoup(client.post(preview.request.path, data=form).get_data(as_text=True), "html.parser")
    assert again.find("input", {"name": "lead-3.3"})["value"] == "商务局"  # what was typed, not the file's
    form["year"] = "2018"
    assert client.post(preview.request.path, data=form).status_code == 302
    assert [d.name for d in Task.query.filter_by(code="3.3").one().lead_departments] == ["商务局"]


def test_another_arrangement_for_a_year_with_a_plan_needs_a_confirmation(client, office, load_seed):
    load_seed()
    preview = client.get(upload(client, TABLE).headers["Location"])
    form = preview_form(BeautifulSoup(preview.get_data(as_text=True), "html.parser"))
    form["year"] = "2018"
    refused = client.post(preview.request.path, data=form)
    assert refused.status_code == 409
    page = BeautifulSoup(refused.get_data(as_text=True), "html.parser")
    assert (
        "2018年已有工作安排《2018年天津开发区政务公开重点工作安排》，与本文件的标题不同"
        in page.find(role="alert").get_text()
    )
    assert page.find("input", {"name": "confirm_replace"}) is not None
    assert Plan.query.one().title == "2018年天津开发区政务公开重点工作安排"


@pytest.mark.parametrize("year", ["99999999999999999999", "-5", "1e5"])
def test_an_impossible_year_is_refused_not_a_server_error(client, office, year):
    preview = client.get(upload(client, TABLE).headers["Location"])
    form = preview_form(BeautifulSoup(preview.get_data(as_text=True), "html.parser"))
    form["year"] = year
    response = client.post(preview.request.path, data=form)
    assert response.status_code == 400
    assert Plan.query.count() == 0


def test_typed_departments_read_as_the_notice_reads_them(client, office):
    preview = client.get(upload(client, TABLE).headers["Location"])
    form = preview_form(BeautifulSoup(preview.get_data(as_text=True), "html.parser"))
    form["responsible-2.1"] = "政法处、各部门"
    form["lead-1.2"] = "疾控处、疾控处"
    assert client.post(preview.request.path, data=form).status_code == 302
    task21 = Task.query.filter_by(code="2.1").one()
    assert [d.name for d in task21.responsible_departments] == ["政法处"] and task21.is_all_departments
    assert task21.all_wording == "各部门"
    assert Department.lookup("各部门") is None
    task12 = Task.query.filter_by(code="1.2").one()
    assert [d.name for d in task12.lead_departments] == ["疾控处"] and task12.responsible_departments == []


def test_two_names_of_one_department_in_a_task_are_one_assignment(client, office, load_seed, runner):
    from conftest import SEED

    load_seed()
    assert runner.invoke(args=["department", "merge", "发改局", "--into", "经济运行局"]).exit_code == 0
    preview = client.get(upload(client, SEED).headers["Location"])
    assert preview.status_code == 200
    form = preview_form(BeautifulSoup(preview.get_data(as_text=True), "html.parser"))
    form["year"] = "2020"
    assert client.post(preview.request.path, data=form).status_code == 302
    task = Task.query.join(Plan).filter(Plan.year == 2020, Task.code == "1.1.4").one()
    assert [d.name for d in task.lead_departments] == ["经济运行局"]


def test_of_two_confirmations_at_once_only_one_loads(client, office, app):
    from sqlalchemy.orm.attributes import set_committed_value

    from tracker.extensions import db
    from tracker.plans.intake import IntakeRefused, confirm_import

    record = db.session.get(PlanImport, int(upload(client, TABLE).headers["Location"].rsplit("/", 1)[1]))
    confirm_import(record, year=2021)
    # The second request read the import before the first committed: it still sees it open.
    set_committed_value(record, "loaded_at", None)
    with pytest.raises(IntakeRefused) as refused:
        confirm_import(record, year=2021)
    assert refused.value.zh == "该文件已经导入。"
    assert Plan.query.count() == 1 and len(Plan.query.one().tasks) == 8


def test_a_word_97_file_is_refused_with_how_to_save_it_and_a_unicode_text_file_is_read(client, office):
    from conftest import SEED

    doc = upload_plan(client, b"\xd0\xcf\x11\xe0", "通知.doc")
    assert "不支持.doc文件，请在Word或WPS中另存为.docx后上传" in doc.get_data(as_text=True)
    unicode_text = SEED.read_text(encoding="utf-8").encode("utf-16")  # Notepad's "Unicode"
    response = upload_plan(client, unicode_text, "通知.txt")
    assert response.status_code == 302
    assert "共5个部分、33项任务" in client.get(response.headers["Location"]).get_data(as_text=True)
