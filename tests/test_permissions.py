"""Who may do what: the predicates as plain functions, and the pages that apply them."""

import io
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import csrf_token, department, task
from flask_login import AnonymousUserMixin
from openpyxl import load_workbook

from tracker import permissions
from tracker.extensions import db
from tracker.models import AuditEntry, Department, Task

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

PREDICATES = ("is_office", "is_leader", "can_view_plan", "can_manage_plan", "can_download_exports", "can_view_audit")

#: What each kind of user may do, in the order of PREDICATES.
EXPECTED = {
    "office": (True, False, True, True, True, True),
    "leader": (False, True, True, False, True, True),
    "department": (False, False, True, False, False, False),
    "anonymous": (False, False, False, False, False, False),
    "disabled-office": (False, False, False, False, False, False),
}


def assignments(task_):
    """Return a task's departments as (name, role) pairs, fresh from the database."""
    db.session.expire_all()
    return [(a.department.name, a.role.value) for a in db.session.get(Task, task_.id).assignments]


def form_data(html, selector="main form"):
    """Return what a browser would submit for the form ``selector`` of ``html``, as a dict."""
    form = BeautifulSoup(html, "html.parser").select_one(selector)
    assert form is not None, f"no form {selector!r} in the page"
    data = {}
    for field in form.find_all(["input", "textarea", "select"]):
        name = field.get("name")
        if not name or field.get("type") == "submit":
            continue
        if field.name == "textarea":
            data[name] = field.get_text()
        elif field.name == "select":
            chosen = field.find("option", selected=True) or field.find("option")
            data[name] = chosen.get("value", "") if chosen else ""
        elif field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                data[name] = field.get("value", "on")
        else:
            data[name] = field.get("value", "")
    return data


def badges(html, label):
    """Return the department names shown under ``label`` (牵头部门 / 负责落实部门) on a task page."""
    soup = BeautifulSoup(html, "html.parser")
    heading = soup.find("div", string=label)
    assert heading is not None, label
    return [a.get_text(strip=True) for a in heading.parent.select("a.badge")]


# --- the predicates -------------------------------------------------------------------------------


@pytest.fixture
def users(load_seed, create_user):
    """Return one user of each kind, keyed as in EXPECTED."""
    load_seed()
    disabled = create_user("office2")
    disabled.is_active = False
    db.session.commit()
    return {
        "office": create_user("office1"),
        "leader": create_user("leader1", role="leader"),
        "department": create_user("dept1", role="department", department="发改局"),
        "anonymous": AnonymousUserMixin(),
        "disabled-office": disabled,
    }


@pytest.mark.parametrize("kind", EXPECTED)
def test_predicates(users, kind):
    user = users[kind]

    actual = tuple(getattr(permissions, name)(user) for name in PREDICATES)

    assert dict(zip(PREDICATES, actual, strict=True)) == dict(zip(PREDICATES, EXPECTED[kind], strict=True))


def test_predicates_answer_booleans(users):
    for kind, user in users.items():
        for name in PREDICATES:
            assert isinstance(getattr(permissions, name)(user), bool), (kind, name)


# --- pages that need sign-in --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/plans/2018",
        "/tasks/{task}",
        "/departments",
        "/departments/{department}",
        "/tasks/{task}/edit",
        "/departments/{department}/edit",
        "/plans/2018/breakdown.xlsx",
        "/audit",
        "/",
    ],
)
def test_anonymous_users_are_sent_to_sign_in(load_seed, client, path):
    load_seed()
    path = path.format(task=task("1.2.2").id, department=department("发改局").id)

    response = client.get(path)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": [path]}
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "请先登录。" in page.get_data(as_text=True)


def test_anonymous_post_to_edit_changes_nothing(load_seed, client):
    load_seed()
    before = assignments(task("1.1.4"))
    entries = AuditEntry.query.count()

    response = client.post(f"/tasks/{task('1.1.4').id}/edit", data={f"role-{department('财政局').id}": "lead"})

    assert response.status_code in (302, 400)
    assert assignments(task("1.1.4")) == before
    assert AuditEntry.query.count() == entries


@pytest.mark.parametrize("role", ["department", "leader"])
def test_only_the_office_may_open_the_task_editor(load_seed, create_user, auth, client, role):
    load_seed()
    create_user("reader", role=role, department="发改局" if role == "department" else None)
    auth.login("reader")
    target = task("1.1.4")

    page = client.get(f"/tasks/{target.id}")
    assert page.status_code == 200
    assert "修改部门" not in page.get_data(as_text=True)

    response = client.get(f"/tasks/{target.id}/edit")

    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "没有权限" in html
    assert "role-" not in html


@pytest.mark.parametrize("role", ["department", "leader"])
def test_a_post_to_the_task_editor_by_others_changes_nothing(load_seed, create_user, auth, client, role):
    load_seed()
    create_user("reader", role=role, department="发改局" if role == "department" else None)
    auth.login("reader")
    target = task("1.1.4")
    before = assignments(target)
    entries = AuditEntry.query.count()
    token = csrf_token(client.get(f"/tasks/{target.id}").get_data(as_text=True))

    response = client.post(
        f"/tasks/{target.id}/edit",
        data={
            "csrf_token": token,
            f"role-{department('发改局').id}": "",
            f"role-{department('经济运行局').id}": "",
            f"role-{department('财政局').id}": "lead",
            "is_all_departments": "y",
            "deadline": "明天",
        },
    )

    assert response.status_code == 403
    assert "没有权限" in response.get_data(as_text=True)
    assert assignments(target) == before == [("发改局", "lead"), ("经济运行局", "lead")]
    refreshed = db.session.get(Task, target.id)
    assert (refreshed.is_all_departments, refreshed.deadline) == (False, "")
    assert AuditEntry.query.count() == entries


# --- the breakdown download -------------------------------------------------------------------------


def test_a_department_user_cannot_download_the_breakdown(load_seed, create_user, auth, client):
    load_seed()
    create_user("dept1", role="department", department="发改局")
    auth.login("dept1")

    assert "下载任务分解表" not in client.get("/plans/2018").get_data(as_text=True)
    response = client.get("/plans/2018/breakdown.xlsx")

    assert response.status_code == 403
    assert "没有权限" in response.get_data(as_text=True)
    assert response.mimetype != XLSX


@pytest.mark.parametrize("role", ["office", "leader"])
def test_office_and_leaders_download_the_breakdown(load_seed, create_user, auth, client, role):
    load_seed()
    create_user("reader", role=role)
    auth.login("reader")
    assert "下载任务分解表" in client.get("/plans/2018").get_data(as_text=True)

    with client.get("/plans/2018/breakdown.xlsx") as response:
        assert response.status_code == 200
        assert response.mimetype == XLSX
        disposition = response.headers["Content-Disposition"]
        body = response.get_data()

    assert disposition.startswith("attachment")
    assert "2018年天津开发区政务公开重点工作安排任务分解表.xlsx" in unquote(disposition)
    workbook = load_workbook(io.BytesIO(body))
    assert workbook.sheetnames == ["任务分解表"]
    sheet = workbook["任务分解表"]
    assert sheet["A1"].value == "2018年天津开发区政务公开重点工作安排任务分解表"
    assert [c.value for c in sheet[3]] == ["序号", "工作任务", "具体要求", "牵头部门", "责任部门", "完成时限"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=4, values_only=True) if row[1]}
    assert len(rows) == 33
    assert rows["1.1.4"][1] == "落实市场准入负面清单信息公开要求"
    assert rows["1.1.4"][3] == "发改局、经济运行局"
    assert rows["1.2.2"][4] == "行政审批局、规国局、建交局、科工局、安监局、财政局、环保局等相关部门"
    assert rows["5.1"][4] == "各部门"


# --- the office corrects a task's departments ------------------------------------------------------


def edit_task(client, target, changes):
    """Open the task editor, change some fields as a user would, and save; return the final page."""
    page = client.get(f"/tasks/{target.id}/edit")
    assert page.status_code == 200
    data = form_data(page.get_data(as_text=True))
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)  # an unticked checkbox is not submitted
        else:
            data[name] = value
    return client.post(f"/tasks/{target.id}/edit", data=data, follow_redirects=True)


def test_the_task_editor_shows_the_current_departments(load_seed, create_user, auth, client):
    load_seed()
    create_user("office1")
    auth.login("office1")

    data = form_data(client.get(f"/tasks/{task('1.2.2').id}/edit").get_data(as_text=True))

    assert data["csrf_token"]
    assert data[f"role-{department('行政审批局').id}"] == "responsible"
    assert data[f"role-{department('发改局').id}"] == ""
    assert data["is_and_related"] == "y"
    assert "is_all_departments" not in data
    assert len([name for name in data if name.startswith("role-")]) == Department.query.count() == 21


def test_the_office_edits_a_tasks_departments(load_seed, create_user, auth, client):
    load_seed()
    office = create_user("office1")
    auth.login("office1")
    target = task("1.1.4")
    fgj, jyj, scj = department("发改局"), department("经济运行局"), department("市场监管局")

    response = edit_task(
        client,
        target,
        {
            f"role-{jyj.id}": "responsible",
            f"role-{scj.id}": "responsible",
            "is_and_related": "y",
            "deadline": "2018年12月底前",
        },
    )

    assert response.status_code == 200
    assert response.request.path == f"/tasks/{target.id}"
    html = response.get_data(as_text=True)
    assert "已保存。" in html
    assert badges(html, "牵头部门") == ["发改局"]
    assert badges(html, "负责落实部门") == ["经济运行局", "市场监管局"]
    assert "等相关部门" in html
    assert "2018年12月底前" in html
    assert assignments(target) == [("发改局", "lead"), ("经济运行局", "responsible"), ("市场监管局", "responsible")]

    # The plan page shows the change too.
    plan_html = client.get("/plans/2018", query_string={"department": scj.id}).get_data(as_text=True)
    assert 'data-code="1.1.4"' in plan_html

    # The audit trail says who changed what, with the values before and after.
    entries = AuditEntry.query.filter(
        AuditEntry.entity.in_(["tasks", "task_departments"]), AuditEntry.actor == "office1"
    )
    entries = entries.order_by(AuditEntry.id).all()
    assert entries, "no audit entries by office1"
    assert all(e.user_id == office.id for e in entries)
    task_update = [e for e in entries if e.entity == "tasks"]
    assert len(task_update) == 1
    assert task_update[0].action == "update"
    assert task_update[0].entity_id == target.id
    assert task_update[0].before == {"is_and_related": False, "deadline": ""}
    assert task_update[0].after == {"is_and_related": True, "deadline": "2018年12月底前"}
    inserted = [e for e in entries if e.entity == "task_departments" and e.action == "insert"]
    assert all(e.before == {} for e in inserted)
    assert {(e.after["task_id"], e.after["department_id"], e.after["role"], e.after["position"]) for e in inserted} == {
        (target.id, fgj.id, "lead", 1),
        (target.id, jyj.id, "responsible", 2),
        (target.id, scj.id, "responsible", 3),
    }


def test_removing_a_department_from_a_task_is_audited(load_seed, create_user, auth, client):
    load_seed()
    create_user("office1")
    auth.login("office1")
    target = task("1.1.4")
    jyj = department("经济运行局")

    response = edit_task(client, target, {f"role-{jyj.id}": ""})

    assert badges(response.get_data(as_text=True), "牵头部门") == ["发改局"]
    assert assignments(target) == [("发改局", "lead")]
    deleted = AuditEntry.query.filter_by(entity="task_departments", action="delete", actor="office1").all()
    assert {(e.before["task_id"], e.before["department_id"], e.before["role"]) for e in deleted} >= {
        (target.id, jyj.id, "lead")
    }
    assert all(e.after == {} for e in deleted)


def test_audit_entries_of_new_rows_name_the_row(load_seed, create_user, auth, client):
    """An inserted row's audit entry must say which row it was, as updates and deletes do."""
    load_seed()
    create_user("office1")
    auth.login("office1")
    target = task("1.1.4")

    edit_task(client, target, {f"role-{department('市场监管局').id}": "responsible"})

    inserted = AuditEntry.query.filter_by(entity="task_departments", action="insert", actor="office1").all()
    assert len(inserted) == 3
    new_ids = {a.id for a in db.session.get(Task, target.id).assignments}
    assert {e.entity_id for e in inserted} == new_ids
    assert {e.after["id"] for e in inserted} == new_ids


def test_saving_an_unchanged_task_changes_nothing(load_seed, create_user, auth, client):
    load_seed()
    create_user("office1")
    auth.login("office1")
    target = task("1.2.2")
    before = assignments(target)
    entries = AuditEntry.query.count()

    response = edit_task(client, target, {})

    assert "没有改动。" in response.get_data(as_text=True)
    assert assignments(target) == before
    assert AuditEntry.query.count() == entries


def test_the_office_marks_a_task_for_all_departments(load_seed, create_user, auth, client):
    load_seed()
    create_user("office1")
    auth.login("office1")
    target = task("1.3.1")
    fgj = department("发改局")

    response = edit_task(client, target, {"is_all_departments": "y"})

    assert '<span class="badge text-bg-warning dept-badge">各部门</span>' in response.get_data(as_text=True)
    assert db.session.get(Task, target.id).is_all_departments is True
    # Every department now carries it out; the lead department still leads it.
    other = department("财政局")
    html = client.get("/plans/2018", query_string={"department": other.id, "role": "responsible"}).get_data(
        as_text=True
    )
    assert 'data-code="1.3.1"' in html
    html = client.get("/plans/2018", query_string={"department": fgj.id, "role": "responsible"}).get_data(as_text=True)
    assert 'data-code="1.3.1"' not in html


def test_an_unknown_role_value_is_refused(load_seed, create_user, auth, client):
    load_seed()
    create_user("office1")
    auth.login("office1")
    target = task("1.1.4")
    before = assignments(target)
    entries = AuditEntry.query.count()

    response = edit_task(client, target, {f"role-{department('财政局').id}": "boss"})

    assert response.status_code == 400
    assert "请求有误" in response.get_data(as_text=True)
    assert assignments(target) == before
    assert AuditEntry.query.count() == entries


def test_a_too_long_deadline_is_refused(load_seed, create_user, auth, client):
    load_seed()
    create_user("office1")
    auth.login("office1")
    target = task("1.1.4")

    response = edit_task(client, target, {"deadline": "年" * 101, f"role-{department('财政局').id}": "lead"})

    assert response.status_code == 200
    assert "完成时限不能超过100个字" in response.get_data(as_text=True)
    assert assignments(target) == [("发改局", "lead"), ("经济运行局", "lead")]
    assert db.session.get(Task, target.id).deadline == ""


def test_the_task_editor_keeps_the_users_choices_when_it_refuses(load_seed, create_user, auth, client):
    """When the form is refused, the radio buttons show what the user chose, not the saved roles."""
    load_seed()
    create_user("office1")
    auth.login("office1")
    target = task("1.1.4")
    czj = department("财政局")

    response = edit_task(client, target, {"deadline": "年" * 101, f"role-{czj.id}": "lead"})

    assert form_data(response.get_data(as_text=True))[f"role-{czj.id}"] == "lead"


# --- the office corrects a department -----------------------------------------------------------------


def edit_department(client, target, changes):
    page = client.get(f"/departments/{target.id}/edit")
    assert page.status_code == 200
    data = form_data(page.get_data(as_text=True))
    data.update(changes)
    return client.post(f"/departments/{target.id}/edit", data=data, follow_redirects=True)


def test_the_office_adds_aliases_and_renames_a_department(load_seed, create_user, auth, client):
    load_seed()
    office = create_user("office1")
    auth.login("office1")
    fgj = department("发改局")
    fgj_id = fgj.id

    response = edit_department(
        client,
        fgj,
        {"name": "发展改革局", "short_name": "发改局", "head_name": "张三", "aliases": "发改局\n发展和改革局\n"},
    )

    assert response.request.path == f"/departments/{fgj_id}"
    html = response.get_data(as_text=True)
    assert "已保存。" in html
    assert '<h1 class="h4 mb-1">发展改革局</h1>' in html
    shown = BeautifulSoup(html, "html.parser").find(string=lambda s: s and s.strip().startswith("别名："))
    assert shown is not None
    assert sorted(shown.strip().removeprefix("别名：").split("　")[0].split("、")) == ["发展和改革局", "发改局"]
    assert "负责人：张三" in html
    assert Department.lookup("发展改革局").id == fgj_id
    assert Department.lookup("发改局").id == fgj_id
    assert Department.lookup("发展和改革局").id == fgj_id
    assert Department.lookup(" 发展和改革局 ").id == fgj_id
    # The task pages use the new name.
    assert badges(client.get(f"/tasks/{task('1.3.1').id}").get_data(as_text=True), "牵头部门") == ["发展改革局"]
    # The edit form shows the aliases one a line.
    data = form_data(client.get(f"/departments/{fgj_id}/edit").get_data(as_text=True))
    assert sorted(data["aliases"].split()) == ["发展和改革局", "发改局"]
    entry = AuditEntry.query.filter_by(entity="departments", action="update", entity_id=fgj_id).one()
    assert (entry.actor, entry.user_id) == ("office1", office.id)
    assert entry.before == {"name": "发改局", "head_name": None}
    assert entry.after == {"name": "发展改革局", "head_name": "张三"}
    aliases = AuditEntry.query.filter_by(entity="department_aliases", action="insert", actor="office1").all()
    assert sorted(e.after["alias"] for e in aliases) == ["发展和改革局", "发改局"]


@pytest.mark.parametrize(
    ("field", "value", "taken", "owner"),
    [
        ("aliases", "财政局", "财政局", "财政局"),
        ("aliases", "发展和改革局\n经信局", "经信局", "经济运行局"),
        ("aliases", "工委（管委会）办公室", "工委(管委会)办公室", "工委(管委会)办公室"),
        ("name", "经信局", "经信局", "经济运行局"),
        ("name", "财政局", "财政局", "财政局"),
    ],
    ids=[
        "alias-is-a-name",
        "alias-is-an-alias",
        "alias-with-full-width-brackets",
        "name-is-an-alias",
        "name-is-a-name",
    ],
)
def test_a_name_or_alias_of_another_department_is_refused(
    load_seed, create_user, auth, client, field, value, taken, owner
):
    load_seed()
    create_user("office1")
    auth.login("office1")
    jyj = department("经济运行局")
    edit_department(client, jyj, {"aliases": "经信局"})
    assert Department.lookup("经信局").id == jyj.id
    fgj = department("发改局")
    fgj_id = fgj.id
    entries = AuditEntry.query.count()

    response = edit_department(client, fgj, {field: value})

    assert response.status_code == 200
    assert response.request.path == f"/departments/{fgj_id}/edit"
    html = response.get_data(as_text=True)
    assert f"“{taken}”已是{owner}的名称或别名。" in html
    assert "已保存。" not in html
    db.session.expire_all()
    unchanged = db.session.get(Department, fgj_id)
    assert unchanged.name == "发改局"
    assert unchanged.alias_names == []
    assert Department.lookup("发展和改革局") is None
    assert Department.lookup(taken).name == owner
    assert AuditEntry.query.count() == entries


def test_only_the_office_may_edit_a_department(load_seed, create_user, auth, client):
    load_seed()
    create_user("dept1", role="department", department="发改局")
    auth.login("dept1")
    fgj = department("发改局")
    fgj_id = fgj.id
    page = client.get(f"/departments/{fgj_id}")
    assert "修改名称和别名" not in page.get_data(as_text=True)
    token = csrf_token(page.get_data(as_text=True))

    assert client.get(f"/departments/{fgj_id}/edit").status_code == 403
    response = client.post(
        f"/departments/{fgj_id}/edit", data={"csrf_token": token, "name": "改名局", "aliases": "别名局"}
    )

    assert response.status_code == 403
    assert "没有权限" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Department, fgj_id).name == "发改局"
    assert Department.lookup("别名局") is None
    assert Department.lookup("改名局") is None
