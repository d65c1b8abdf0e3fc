"""Signing in and out, throttling, the session cookie, stored passwords and the ``user`` commands."""

import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from conftest import PASSWORD, csrf_token

from config import TestingConfig
from tracker import create_app
from tracker.auth.operations import ANY_NAME, SignInRefused, authenticate
from tracker.extensions import db
from tracker.models import AuditEntry, LoginAttempt, LoginThrottle, User, UserRole

PLAN_TITLE = "2018年天津开发区政务公开重点工作安排"
#: What only a signed-in page has: the 退出 button's form in the navigation bar.
SIGNED_IN = 'action="/logout"'


def post_login(client, username, password, url="/login", follow_redirects=False, **data):
    """Fill in the sign-in form at ``url`` and submit it, as a browser does."""
    page = client.get(url)
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    form = {"username": username, "password": password, "csrf_token": token, **data}
    return client.post(url, data=form, follow_redirects=follow_redirects)


def is_signed_in(client):
    """Tell whether ``client`` may open a page that needs sign-in (the home page)."""
    response = client.get("/")
    if response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login":
        return False
    assert response.status_code in (200, 302), response.status_code
    return True


def failures(username=None, remote_addr=None):
    """Return the failed sign-in attempts recorded in the database."""
    query = LoginAttempt.query.filter_by(is_success=False)
    if username is not None:
        query = query.filter_by(username=username)
    if remote_addr is not None:
        query = query.filter_by(remote_addr=remote_addr)
    return query.count()


def invoke(runner, *args, input=None):  # noqa: A002 - Click's name for standard input
    return runner.invoke(args=list(args), input=input)


# --- signing in through the form ------------------------------------------------------------------


def test_sign_in_lands_on_the_to_do_page(load_seed, create_user, client):
    load_seed()
    create_user("office1", display_name="王主任")

    response = post_login(client, "office1", PASSWORD, follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == "/"
    html = response.get_data(as_text=True)
    assert '<h1 class="h4 mb-3">办公室 · 今日待办</h1>' in html  # the office lands on its to-do page
    assert "王主任（办公室）" in html
    assert "用户名或密码错误" not in html
    attempt = LoginAttempt.query.one()
    assert (attempt.username, attempt.remote_addr, attempt.is_success) == ("office1", "127.0.0.1", True)
    assert User.query.filter_by(username="office1").one().last_login_at is not None


def test_sign_in_ignores_spaces_around_the_username(load_seed, create_user, client):
    load_seed()
    create_user("office1")

    response = post_login(client, "  office1 ", PASSWORD, follow_redirects=True)

    assert response.request.path == "/"
    assert SIGNED_IN in response.get_data(as_text=True)


def test_the_login_page_is_in_chinese_and_has_a_csrf_token(client):
    response = client.get("/login")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in html
    assert "用户名" in html and "密码" in html and "记住我" in html
    assert csrf_token(html)


@pytest.mark.parametrize(
    ("username", "password"),
    [("office1", "wrong-password"), ("nobody", PASSWORD), ("office1", "")],
    ids=["wrong-password", "unknown-user", "empty-password"],
)
def test_wrong_credentials_are_refused(load_seed, create_user, client, username, password):
    load_seed()
    create_user("office1")

    response = post_login(client, username, password, follow_redirects=True)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.request.path == "/login"
    if password:
        assert "用户名或密码错误。" in html
        assert failures(username=username) == 1
    else:
        assert "请输入密码" in html  # the form itself refuses an empty password
        assert LoginAttempt.query.count() == 0
    assert SIGNED_IN not in html
    assert not is_signed_in(client)


def test_a_disabled_user_cannot_sign_in(load_seed, create_user, runner, client):
    load_seed()
    create_user("dept1", role="department", department="发改局")

    result = invoke(runner, "user", "disable", "dept1")
    assert result.exit_code == 0, result.output
    assert "Disabled dept1" in result.output

    response = post_login(client, "dept1", PASSWORD, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.request.path == "/login"
    assert "该账号已停用" in html
    assert "用户名或密码错误" not in html
    assert not is_signed_in(client)
    assert User.query.filter_by(username="dept1").one().is_active is False
    assert User.query.filter_by(username="dept1").one().last_login_at is None


def test_a_disabled_user_with_a_wrong_password_is_not_told_the_account_exists(load_seed, create_user, runner, client):
    load_seed()
    create_user("dept1", role="department", department="发改局")
    assert invoke(runner, "user", "disable", "dept1").exit_code == 0

    html = post_login(client, "dept1", "wrong-password", follow_redirects=True).get_data(as_text=True)

    assert "用户名或密码错误" in html
    assert "该账号已停用" not in html


def test_disabling_a_signed_in_user_ends_the_session(load_seed, create_user, runner, client):
    load_seed()
    create_user("dept1", role="department", department="发改局")
    assert post_login(client, "dept1", PASSWORD).status_code == 302
    assert client.get("/plans/2018").status_code == 200

    assert invoke(runner, "user", "disable", "dept1").exit_code == 0

    response = client.get("/plans/2018")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


def test_unknown_user_for_disable_is_an_error(runner):
    result = invoke(runner, "user", "disable", "ghost")

    assert result.exit_code != 0
    assert "no user called 'ghost'" in result.output


# --- throttling -------------------------------------------------------------------------------------

NOON = datetime(2019, 1, 16, 4, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """Set the machine's clock as the sign-in throttle reads it (its waits are real time); return a setter."""
    from tracker.auth import operations

    now = {"at": NOON}
    monkeypatch.setattr(operations, "system_now", lambda: now["at"])

    def set_to(moment):
        now["at"] = moment

    return set_to


def from_address(app, address):
    """Return a new client whose requests come from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_five_failures_make_the_next_attempt_from_that_address_wait(app, load_seed, create_user, client, clock):
    load_seed()
    create_user("office1")
    assert app.config["LOGIN_FREE_FAILURES"] == 5

    for attempt in range(1, 6):
        html = post_login(client, "office1", f"wrong-{attempt}", follow_redirects=True).get_data(as_text=True)
        assert "用户名或密码错误" in html, attempt
        assert failures(username="office1") == attempt

    response = post_login(client, "office1", PASSWORD, follow_redirects=True)

    html = response.get_data(as_text=True)
    assert response.request.path == "/login"
    assert "登录失败次数过多，请15秒后再试。" in html
    assert not is_signed_in(client)
    # The refused attempt never reached the password check: no sixth row.
    assert LoginAttempt.query.filter_by(username="office1").count() == 5


def test_the_wait_doubles_with_each_further_failure_and_ends(app, load_seed, create_user, client, clock):
    load_seed()
    create_user("office1")
    for attempt in range(5):
        post_login(client, "office1", f"wrong-{attempt}")

    waits = []
    now = NOON
    for attempt in range(3):
        html = post_login(client, "office1", "wrong-again", follow_redirects=True).get_data(as_text=True)
        waits.append(html.split("登录失败次数过多，请")[1].split("后再试")[0])
        delay = {0: 15, 1: 30, 2: 60}[attempt]
        now += timedelta(seconds=delay)
        clock(now)
        html = post_login(client, "office1", "wrong-again", follow_redirects=True).get_data(as_text=True)
        assert "用户名或密码错误" in html, attempt  # the wait is over: the password is checked again

    assert waits == ["15秒", "30秒", "1分钟"]
    clock(now + timedelta(minutes=2))
    response = post_login(client, "office1", PASSWORD, follow_redirects=True)
    assert response.request.path == "/"


def test_the_longest_wait_is_the_configured_limit(app, load_seed, create_user, client, clock):
    load_seed()
    create_user("office1")
    db.session.add(LoginThrottle(username="office1", remote_addr="127.0.0.1", failures=30, updated_at=NOON))
    db.session.commit()

    post_login(client, "office1", "wrong-again")
    html = post_login(client, "office1", PASSWORD, follow_redirects=True).get_data(as_text=True)

    assert "登录失败次数过多，请15分钟后再试。" in html


def test_four_failures_do_not_slow_the_account(load_seed, create_user, client):
    load_seed()
    create_user("office1")
    for attempt in range(4):
        post_login(client, "office1", f"wrong-{attempt}")

    response = post_login(client, "office1", PASSWORD, follow_redirects=True)

    assert response.request.path == "/"
    assert SIGNED_IN in response.get_data(as_text=True)


def test_a_success_clears_the_count(app, load_seed, create_user, client):
    load_seed()
    create_user("office1")
    for attempt in range(4):
        post_login(client, "office1", f"wrong-{attempt}")
    assert post_login(client, "office1", PASSWORD, follow_redirects=True).request.path == "/"
    sign_out(client)

    for attempt in range(4):
        html = post_login(client, "office1", f"wrong-{attempt}", follow_redirects=True).get_data(as_text=True)
        assert "用户名或密码错误" in html, attempt


def test_a_stranger_guessing_cannot_lock_the_owner_out(app, load_seed, create_user):
    """Failures count per account and address: the owner at her own desk signs in at once."""
    load_seed()
    create_user("office1")
    stranger = from_address(app, "10.9.9.9")
    for attempt in range(12):
        post_login(stranger, "office1", f"guess-{attempt}")
    assert "登录失败次数过多" in post_login(stranger, "office1", PASSWORD, follow_redirects=True).get_data(as_text=True)

    owner = from_address(app, "10.0.0.7")
    response = post_login(owner, "office1", PASSWORD, follow_redirects=True)

    assert response.request.path == "/"
    assert SIGNED_IN in response.get_data(as_text=True)


def test_guessing_many_names_from_one_address_slows_new_browsers_there_but_not_the_owners(
    app, load_seed, create_user, client
):
    """Past LOGIN_ADDRESS_FREE_FAILURES (30) failures from an address, a browser new to it waits; a browser
    that signed in to the account before carries a device cookie and is counted on its own."""
    load_seed()
    create_user("office1")
    assert app.config["LOGIN_ADDRESS_FREE_FAILURES"] == 30
    assert post_login(client, "office1", PASSWORD, follow_redirects=True).request.path == "/"
    assert client.get_cookie("tracker_device") is not None
    sign_out(client)
    guesser = app.test_client()
    for i in range(31):
        post_login(guesser, f"guess{i}", "wrong-password")

    newcomer = post_login(app.test_client(), "office1", PASSWORD, follow_redirects=True)
    owner = post_login(client, "office1", PASSWORD, follow_redirects=True)

    assert "登录失败次数过多" in newcomer.get_data(as_text=True)
    assert owner.request.path == "/"


def test_a_device_cookie_keeps_the_owner_in_even_when_the_proxy_hides_every_address(app, load_seed, create_user):
    """Behind a proxy with TRUSTED_PROXY_COUNT unset everyone shares one address: a stranger's guesses
    at the account slow the stranger, not the owner's browser."""
    load_seed()
    create_user("office1")
    owner = app.test_client()
    assert post_login(owner, "office1", PASSWORD, follow_redirects=True).request.path == "/"
    sign_out(owner)
    stranger = app.test_client()  # the same address: 127.0.0.1
    for attempt in range(8):
        post_login(stranger, "office1", f"guess-{attempt}")
    assert "登录失败次数过多" in post_login(stranger, "office1", PASSWORD, follow_redirects=True).get_data(as_text=True)

    assert post_login(owner, "office1", PASSWORD, follow_redirects=True).request.path == "/"


def test_a_forged_device_cookie_counts_for_nothing(app, load_seed, create_user):
    load_seed()
    create_user("office1")
    stranger = app.test_client()
    stranger.set_cookie("tracker_device", "eyJ1Ijoib2ZmaWNlMSIsImQiOiJ4In0.forged.signature")
    for attempt in range(6):
        post_login(stranger, "office1", f"guess-{attempt}")

    html = post_login(stranger, "office1", PASSWORD, follow_redirects=True).get_data(as_text=True)

    assert "登录失败次数过多" in html


def test_account_throttling_does_not_slow_other_accounts(load_seed, create_user, client):
    load_seed()
    create_user("office1")
    create_user("leader1", role="leader")
    for attempt in range(6):
        post_login(client, "office1", f"wrong-{attempt}")

    response = post_login(client, "leader1", PASSWORD, follow_redirects=True)

    assert response.request.path == "/"
    assert SIGNED_IN in response.get_data(as_text=True)


def test_throttling_holds_across_workers(app, load_seed, create_user, client, tmp_path):
    """Failures on one worker slow the next attempt on another: they are counted in the database."""
    load_seed()
    create_user("office1")
    for attempt in range(5):
        post_login(client, "office1", f"wrong-{attempt}")

    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
    config.INSTANCE_DIR = tmp_path / "worker2"
    other_worker = create_app(config)
    try:
        other_client = other_worker.test_client()
        response = post_login(other_client, "office1", PASSWORD, follow_redirects=True)
        html = response.get_data(as_text=True)
        assert response.request.path == "/login"
        assert "登录失败次数过多" in html
        assert SIGNED_IN not in html
    finally:
        with other_worker.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.dates
@pytest.mark.parametrize(("hours_ago", "waits"), [(1, True), (25, False)])
def test_failures_are_forgotten_after_a_quiet_day(app, load_seed, create_user, client, clock, hours_ago, waits):
    """Past failures count until LOGIN_FORGET_HOURS (24) pass without an attempt."""
    load_seed()
    create_user("office1")
    db.session.add(
        LoginThrottle(
            username="office1", remote_addr="127.0.0.1", failures=7, updated_at=NOON - timedelta(hours=hours_ago)
        )
    )
    db.session.commit()

    post_login(client, "office1", "wrong-password")
    html = post_login(client, "office1", PASSWORD, follow_redirects=True).get_data(as_text=True)

    assert ("登录失败次数过多" in html) is waits
    assert (SIGNED_IN in html) is not waits


def test_an_unknown_name_costs_a_password_check_like_a_real_one(app, load_seed, create_user, client, monkeypatch):
    """No quick answer for names that do not exist (user enumeration by timing)."""
    from tracker.auth import operations

    load_seed()
    create_user("office1")
    checked = []
    real_check = operations.check_password_hash
    monkeypatch.setattr(operations, "check_password_hash", lambda h, p: checked.append(h) or real_check(h, p))

    html = post_login(client, "nobody", "wrong-password", follow_redirects=True).get_data(as_text=True)

    assert "用户名或密码错误。" in html
    assert len(checked) == 1
    assert checked[0].startswith(app.config["PASSWORD_HASH_METHOD"].split(":")[0])


def sign_in_at_once(app, attempts):
    """Run ``authenticate(username, password, address)`` for each attempt, all released at one moment
    on their own connections; return what each came to: the username, or the refusal's reason."""
    barrier = threading.Barrier(len(attempts))
    results = []

    def attempt(username, password, address):
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                try:
                    results.append(authenticate(username, password, address).username)
                except SignInRefused as refused:
                    results.append(refused.reason)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported by the caller's assertions
            results.append(repr(error))

    threads = [threading.Thread(target=attempt, args=args) for args in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.postgres  # SQLite serialises writers; the race needs two connections at once
def test_parallel_attempts_get_no_more_password_checks_than_the_limit(app, load_seed, create_user):
    load_seed()
    create_user("office1")
    db.session.commit()

    results = sign_in_at_once(app, [("office1", f"wrong-{i}", "10.1.1.1") for i in range(20)])

    assert sorted(set(results)) == ["invalid", "throttled"], results
    assert results.count("invalid") == 5
    assert failures(username="office1", remote_addr="10.1.1.1") == 5


@pytest.mark.postgres  # SQLite serialises writers; the race needs two connections at once
def test_an_office_behind_one_address_signs_in_all_at_once_without_being_throttled(app, load_seed, create_user):
    """Deadline morning: 20 people behind one NAT sign in at the same moment; every one gets in."""
    load_seed()
    for i in range(20):
        create_user(f"staff{i}", "office")
    db.session.commit()

    results = sign_in_at_once(app, [(f"staff{i}", PASSWORD, "10.2.2.2") for i in range(20)])

    assert sorted(results) == sorted(f"staff{i}" for i in range(20)), results
    address = LoginThrottle.query.filter_by(username=ANY_NAME, remote_addr="10.2.2.2").one()
    assert (address.failures, address.wait_until) == (0, None)  # the cap counts failures only


@pytest.mark.parametrize(("proxies", "seen"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_the_forwarded_address_is_believed_only_from_a_trusted_proxy(app, tmp_path, proxies, seen):
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
    config.INSTANCE_DIR = tmp_path / "behind-proxy"
    config.TRUSTED_PROXY_COUNT = proxies
    proxied = create_app(config)
    try:
        client = proxied.test_client()
        page = client.get("/login")
        token = csrf_token(page.get_data(as_text=True))
        form = {"username": "nobody", "password": "wrong-password", "csrf_token": token}
        client.post("/login", data=form, headers={"X-Forwarded-For": "203.0.113.9"})
    finally:
        with proxied.app_context():
            db.session.remove()
            db.engine.dispose()

    assert LoginAttempt.query.one().remote_addr == seen


# --- cookies and passwords ------------------------------------------------------------------------------


def cookie_header(response, name):
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert headers, f"no {name} cookie set"
    return headers[-1]


def test_the_session_cookie_is_httponly_and_samesite_lax(create_user, client):
    create_user("office1")

    response = post_login(client, "office1", PASSWORD)

    assert response.status_code == 302
    attributes = [part.strip().lower() for part in cookie_header(response, "session").split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_the_remember_cookie_is_httponly_and_samesite_lax(create_user, client):
    create_user("office1")

    response = post_login(client, "office1", PASSWORD, remember="y")

    assert response.status_code == 302
    attributes = [part.strip().lower() for part in cookie_header(response, "remember_token").split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_passwords_are_stored_hashed(create_user):
    first = create_user("office1")
    second = create_user("leader1", role="leader")

    stored = db.session.execute(db.select(User.password_hash).order_by(User.id)).scalars().all()

    assert len(stored) == 2
    assert all(PASSWORD not in value for value in stored)
    assert stored[0] != stored[1]  # salted: the same password gives different hashes
    assert first.check_password(PASSWORD)
    assert second.check_password(PASSWORD)
    assert not first.check_password("wrong-password")
    assert not first.check_password(PASSWORD.upper())


def test_the_audit_trail_never_holds_a_password_hash(create_user, runner):
    user = create_user("office1")
    result = invoke(runner, "user", "password", "office1", "--password-stdin", input="another-pass-7\n")
    assert result.exit_code == 0, result.output
    db.session.refresh(user)

    entries = AuditEntry.query.filter_by(entity="users").order_by(AuditEntry.id).all()

    assert [e.action for e in entries] == ["insert", "update"]
    assert entries[0].after["password_hash"] == "***"
    assert entries[1].before == {"password_hash": "***"}
    assert entries[1].after == {"password_hash": "***"}
    assert all(user.password_hash not in str(e.before) + str(e.after) for e in entries)


# --- the user commands ------------------------------------------------------------------------------


def test_user_add_reads_the_password_from_stdin(load_seed, runner, client):
    load_seed()

    result = invoke(runner, "user", "add", "office1", "--role", "office", "--password-stdin", input="s3cret-pass\n")

    assert result.exit_code == 0, result.output
    assert "Created office user office1" in result.output
    user = User.query.filter_by(username="office1").one()
    assert user.role is UserRole.OFFICE
    assert user.department is None
    assert user.password_hash != "s3cret-pass"
    assert user.check_password("s3cret-pass")
    response = post_login(client, "office1", "s3cret-pass", follow_redirects=True)
    assert SIGNED_IN in response.get_data(as_text=True)


def test_user_add_a_department_user(load_seed, runner):
    load_seed()

    result = invoke(
        runner,
        "user",
        "add",
        "office-dept",
        "--role",
        "department",
        "--department",
        "工委（管委会）办公室",  # full-width brackets name the same department
        "--name",
        "办公室填报人",
        "--email",
        "tb@example.org",
        "--password-stdin",
        input="s3cret-pass\n",
    )

    assert result.exit_code == 0, result.output
    assert "Created department user office-dept (工委(管委会)办公室)" in result.output
    user = User.query.filter_by(username="office-dept").one()
    assert user.role is UserRole.DEPARTMENT
    assert user.department.name == "工委(管委会)办公室"
    assert user.display_name == "办公室填报人"
    assert user.email == "tb@example.org"


def test_user_add_a_department_user_needs_a_department(load_seed, runner):
    load_seed()

    result = invoke(runner, "user", "add", "dept1", "--role", "department", "--password-stdin", input="s3cret-pass\n")

    assert result.exit_code != 0
    assert "a department user needs --department" in result.output
    assert User.query.count() == 0


def test_user_add_refuses_a_department_for_other_roles(load_seed, runner):
    load_seed()

    result = invoke(
        runner,
        "user",
        "add",
        "boss",
        "--role",
        "leader",
        "--department",
        "发改局",
        "--password-stdin",
        input="s3cret-pass\n",
    )

    assert result.exit_code != 0
    assert "only department users belong to a department" in result.output
    assert User.query.count() == 0


def test_user_add_refuses_an_unknown_department(load_seed, runner):
    load_seed()

    result = invoke(
        runner,
        "user",
        "add",
        "dept1",
        "--role",
        "department",
        "--department",
        "不存在局",
        "--password-stdin",
        input="s3cret-pass\n",
    )

    assert result.exit_code != 0
    assert "no department called '不存在局'" in result.output
    assert User.query.count() == 0


def test_user_add_refuses_a_duplicate_username(create_user, runner):
    create_user("office1")

    result = invoke(runner, "user", "add", "office1", "--role", "leader", "--password-stdin", input="other-pass-1\n")

    assert result.exit_code != 0
    assert "user 'office1' already exists" in result.output
    user = User.query.filter_by(username="office1").one()
    assert user.role is UserRole.OFFICE
    assert user.check_password(PASSWORD)
    assert not user.check_password("other-pass-1")


def test_user_add_refuses_a_short_password(runner):
    result = invoke(runner, "user", "add", "office1", "--role", "office", "--password-stdin", input="short\n")

    assert result.exit_code != 0
    assert "the password must have at least 10 characters" in result.output
    assert User.query.count() == 0


def test_user_add_refuses_an_unknown_role(runner):
    result = invoke(runner, "user", "add", "office1", "--role", "admin", "--password-stdin", input="s3cret-pass\n")

    assert result.exit_code != 0
    assert "admin" in result.output
    assert User.query.count() == 0


def test_user_list_shows_every_account(load_seed, create_user, runner):
    load_seed()
    create_user("office1")
    create_user("leader1", role="leader")
    create_user("dept1", role="department", department="发改局")
    assert invoke(runner, "user", "disable", "leader1").exit_code == 0

    result = invoke(runner, "user", "list")

    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if line.strip()]
    assert rows == [
        ["office1", "office", "active", "-"],
        ["leader1", "leader", "disabled", "-"],
        ["dept1", "department", "active", "发改局"],
    ]


def test_user_password_changes_the_password(create_user, runner, client):
    create_user("office1")

    result = invoke(runner, "user", "password", "office1", "--password-stdin", input="brand-new-pass\n")

    assert result.exit_code == 0, result.output
    assert "Password of office1 changed" in result.output
    assert "用户名或密码错误" in post_login(client, "office1", PASSWORD, follow_redirects=True).get_data(as_text=True)
    assert not is_signed_in(client)
    post_login(client, "office1", "brand-new-pass")
    assert is_signed_in(client)


def test_user_password_refuses_a_short_password(create_user, runner):
    user = create_user("office1")

    result = invoke(runner, "user", "password", "office1", "--password-stdin", input="short\n")

    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_user_password_of_an_unknown_user(runner):
    result = invoke(runner, "user", "password", "ghost", "--password-stdin", input="brand-new-pass\n")

    assert result.exit_code != 0
    assert "no user called 'ghost'" in result.output


# --- signing out ------------------------------------------------------------------------------------------


def sign_out(client):
    """Press 退出 in the navigation bar of the plan page."""
    page = client.get("/plans/2018")
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    return client.post("/logout", data={"csrf_token": token}, follow_redirects=True)


def test_logout_by_post_with_csrf(load_seed, create_user, auth, client):
    load_seed()
    create_user("office1")
    auth.login("office1")
    assert client.get("/plans/2018").status_code == 200

    response = sign_out(client)

    assert response.status_code == 200
    assert response.request.path == "/login"
    assert "已退出登录。" in response.get_data(as_text=True)
    after = client.get("/plans/2018")
    assert after.status_code == 302
    assert urlsplit(after.headers["Location"]).path == "/login"


def test_logout_without_csrf_is_refused(load_seed, create_user, auth, client):
    load_seed()
    create_user("office1")
    auth.login("office1")

    response = client.post("/logout")

    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert client.get("/plans/2018").status_code == 200


def test_logout_by_get_is_not_allowed(load_seed, create_user, auth, client):
    load_seed()
    create_user("office1")
    auth.login("office1")

    response = client.get("/logout")

    assert response.status_code == 405
    assert "不支持的操作" in response.get_data(as_text=True)
    assert client.get("/plans/2018").status_code == 200


# --- CSRF and the next parameter -------------------------------------------------------------------------


@pytest.mark.parametrize("visit_first", [True, False], ids=["with-session", "without-session"])
def test_login_without_csrf_token_is_refused(load_seed, create_user, client, visit_first):
    load_seed()
    create_user("office1")
    if visit_first:
        client.get("/login")

    response = client.post("/login", data={"username": "office1", "password": PASSWORD})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "页面已过期" in html
    assert '<html lang="zh-CN">' in html
    assert LoginAttempt.query.count() == 0
    assert not is_signed_in(client)


def test_login_with_a_forged_csrf_token_is_refused(create_user, client):
    create_user("office1")
    client.get("/login")

    response = client.post("/login", data={"username": "office1", "password": PASSWORD, "csrf_token": "forged"})

    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_a_page_that_needs_sign_in_is_reached_after_sign_in(load_seed, create_user, client):
    plan = load_seed()
    create_user("dept1", role="department", department="发改局")
    task = next(t for t in plan.tasks if t.code == "1.3.1")

    first = client.get(f"/tasks/{task.id}")
    assert first.status_code == 302
    login_url = first.headers["Location"]
    assert login_url == f"/login?next=%2Ftasks%2F{task.id}"

    response = post_login(client, "dept1", PASSWORD, url=login_url, follow_redirects=True)

    assert response.request.path == f"/tasks/{task.id}"
    assert "建立统一开放平台" in response.get_data(as_text=True)


def test_next_is_followed_for_a_local_path(load_seed, create_user, client):
    load_seed()
    create_user("office1")

    response = post_login(client, "office1", PASSWORD, url="/login?next=%2Fdepartments%3Fyear%3D2018")

    assert response.status_code == 302
    assert response.headers["Location"] == "/departments?year=2018"


@pytest.mark.parametrize(
    "target",
    [
        "http://evil.example/",
        "https://evil.example/login",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_next_never_leaves_the_site(load_seed, create_user, client, target):
    load_seed()
    create_user("office1")

    page = client.get("/login", query_string={"next": target})
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "office1", "password": PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil.example" not in urlsplit(urljoin("http://localhost/", location.replace("\\", "/"))).netloc
    assert not location.startswith("//")
    if "\\" not in target:
        assert location == "/"
    assert is_signed_in(client)
