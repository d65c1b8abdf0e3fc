"""The office runs the system from the browser (issue 13, item 4): accounts and departments, audited."""

import pytest
from conftest import PASSWORD, Auth, csrf_token, department, soup

from tracker.models import AuditEntry, Department, User, UserRole


@pytest.fixture
def office(app, load_seed, create_user):
    load_seed()
    create_user("office1")
    client = app.test_client()
    Auth(client).login("office1")
    return client


def add_user(client, **fields):
    token = csrf_token(client.get("/users").get_data(as_text=True))
    data = {"user-csrf_token": token, "user-role": "department", "user-department": "0", **fields}
    return client.post("/users", data={f"user-{k}" if not k.startswith("user-") else k: v for k, v in data.items()})


def test_the_office_creates_an_account_whose_first_password_is_shown_once_and_works(app, office):
    fgj = department("发改局")

    page = soup(
        add_user(office, username="fgj-zhang", display_name="张三", department=str(fgj.id), email="zhang@teda.example"),
        status=None,
    )

    password = page.select_one("#new-password code").get_text()
    user = User.query.filter_by(username="fgj-zhang").one()
    assert (user.role, user.department.name, user.display_name, user.email) == (
        UserRole.DEPARTMENT,
        "发改局",
        "张三",
        "zhang@teda.example",
    )
    assert password not in str(office.get_cookie("session").value)
    assert "#new-password" and soup(office.get(f"/users/{user.id}"), status=None).select_one("#new-password") is None
    newcomer = app.test_client()
    assert Auth(newcomer).login("fgj-zhang", password).request.path == "/"
    assert AuditEntry.query.filter_by(entity="users", action="insert", entity_id=user.id).count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"username": "张三"}, "user-username", "用户名须为1至64个英文字母、数字或 . _ -。"),
        ({"username": "office1", "role": "office"}, "user-username", "用户名“office1”已被使用。"),
        ({"username": "nodept"}, "user-department", "部门用户须选择所属部门。"),
        ({"username": "leader2", "role": "leader", "email": "not-an-address"}, "user-email", "请填写有效的邮箱地址。"),
    ],
)
def test_a_wrong_account_is_refused_at_its_field(office, fields, field, message):
    before = User.query.count()

    page = soup(add_user(office, **fields), status=None)

    invalid = page.select_one(f"#{field}")
    assert invalid["aria-invalid"] == "true"
    assert message in page.select_one(f"#{field}-error").get_text()
    assert User.query.count() == before


def test_moving_a_user_to_another_department_ends_their_sessions(app, office, create_user):
    user = create_user("fgj1", "department", "发改局")
    theirs = app.test_client()
    Auth(theirs).login("fgj1")
    page = soup(office.get(f"/users/{user.id}"), status=None)
    token = page.select_one("#user-form input[name=user-csrf_token]")["value"]

    office.post(
        f"/users/{user.id}",
        data={
            "user-csrf_token": token,
            "user-display_name": "张三",
            "user-role": "department",
            "user-department": str(department("财政局").id),
            "user-email": "",
        },
    )

    assert User.query.filter_by(username="fgj1").one().department.name == "财政局"
    assert theirs.get("/returns").status_code == 302  # signed out: the old department's forms are not theirs


def test_the_office_disables_enables_and_resets_a_password(app, office, create_user):
    user = create_user("leader1", "leader")
    token = csrf_token(office.get(f"/users/{user.id}").get_data(as_text=True))

    office.post(f"/users/{user.id}/disable", data={"csrf_token": token})
    assert not User.query.filter_by(username="leader1").one().is_active
    office.post(f"/users/{user.id}/enable", data={"csrf_token": token})
    page = soup(office.post(f"/users/{user.id}/password", data={"csrf_token": token}), status=None)

    password = page.select_one("#new-password code").get_text()
    assert User.query.filter_by(username="leader1").one().is_active
    assert Auth(app.test_client()).login("leader1", PASSWORD).request.path == "/login"
    assert Auth(app.test_client()).login("leader1", password).request.path == "/"


def test_only_the_office_manages_accounts(app, load_seed, create_user):
    load_seed()
    create_user("leader1", "leader")
    client = app.test_client()
    Auth(client).login("leader1")

    assert client.get("/users").status_code == 403


def test_the_office_adds_a_department_and_a_name_in_use_is_refused(office):
    token = csrf_token(office.get("/departments").get_data(as_text=True))

    added = office.post("/departments/new", data={"new-csrf_token": token, "new-name": "数据局", "new-short_name": ""})
    taken = office.post("/departments/new", data={"new-csrf_token": token, "new-name": "发改局"})

    assert added.status_code == 302
    assert Department.lookup("数据局").short_name == "数据局"
    assert taken.status_code == 400
    assert "“发改局”已是发改局的名称或别名。" in soup(taken, status=None).select_one("#new-name-error").get_text()
    assert AuditEntry.query.filter_by(entity="departments", action="insert").count() >= 1
