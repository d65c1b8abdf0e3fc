"""Sessions that end: signing out, a password change, disabling, "sign out everywhere", expiry."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import PASSWORD, ROOT, Auth, csrf_token

from tracker.auth.operations import create_token
from tracker.extensions import db
from tracker.models import ApiToken, User, UserSession


def signed_in(client):
    """Tell whether ``client`` may open the plan page."""
    response = client.get("/plans/2018")
    if response.status_code == 302:
        assert urlsplit(response.headers["Location"]).path == "/login"
        return False
    assert response.status_code == 200
    return True


def cookie(client, name):
    found = client.get_cookie(name)
    return found.value if found else None


def sign_in(app, username, remember=False):
    client = app.test_client()
    page = client.get("/login")
    form = {"username": username, "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))}
    if remember:
        form["remember"] = "y"
    response = client.post("/login", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def replay(app, **cookies):
    """Return a fresh client carrying only ``cookies`` (as a thief who copied them would)."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


@pytest.fixture
def office(load_seed, create_user):
    load_seed()
    return create_user("office1")


def test_a_copied_session_cookie_stops_working_after_signing_out(app, office):
    client = sign_in(app, "office1")
    stolen = cookie(client, "session")
    assert signed_in(replay(app, session=stolen))

    Auth(client).logout()

    assert not signed_in(client)
    assert not signed_in(replay(app, session=stolen))


def test_a_remember_cookie_signs_in_until_signing_out(app, office):
    client = sign_in(app, "office1", remember=True)
    remembered = cookie(client, "remember_token")
    assert remembered
    assert signed_in(replay(app, remember_token=remembered))

    Auth(client).logout()

    assert not signed_in(replay(app, remember_token=remembered))


def test_each_sign_in_gets_its_own_remember_cookie(app, office):
    first = cookie(sign_in(app, "office1", remember=True), "remember_token")
    second = cookie(sign_in(app, "office1", remember=True), "remember_token")

    assert first != second
    assert not first.startswith(f"{office.id}|")  # not the user id with a fixed signature


def test_signing_out_ends_only_that_browser(app, office):
    laptop = sign_in(app, "office1")
    desktop = sign_in(app, "office1")

    Auth(laptop).logout()

    assert not signed_in(laptop)
    assert signed_in(desktop)


def test_a_cookie_naming_only_the_user_id_signs_nobody_in(app, office):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(office.id)
        session["_fresh"] = True

    assert not signed_in(client)


def test_a_session_ends_after_its_hours_and_a_remembered_one_after_its_days(app, office, monkeypatch):
    """Sessions last real hours: the machine's clock, which the office clock pinned by demos does not move."""
    from tracker.auth import operations

    start = datetime(2019, 3, 4, 1, 0, tzinfo=UTC)
    monkeypatch.setattr(operations, "system_now", lambda: start)
    plain = sign_in(app, "office1")
    remembered = cookie(sign_in(app, "office1", remember=True), "remember_token")
    app.config["TRACKER_NOW"] = start + timedelta(days=400)  # the office clock: no effect on sessions
    assert signed_in(plain)

    later = start + timedelta(hours=app.config["SESSION_HOURS"], minutes=1)
    monkeypatch.setattr(operations, "system_now", lambda: later)
    assert not signed_in(plain)
    assert signed_in(replay(app, remember_token=remembered))

    much_later = start + timedelta(days=app.config["REMEMBER_DAYS"], minutes=1)
    monkeypatch.setattr(operations, "system_now", lambda: much_later)
    assert not signed_in(replay(app, remember_token=remembered))


def test_the_office_setting_a_password_ends_every_session_and_api_token(app, office, runner):
    browser = sign_in(app, "office1")
    remembered = cookie(sign_in(app, "office1", remember=True), "remember_token")
    token = create_token(office)
    assert app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    result = runner.invoke(args=["user", "password", "office1", "--password-stdin"], input="brand-new-pass\n")

    assert result.exit_code == 0, result.output
    assert not signed_in(browser)
    assert not signed_in(replay(app, remember_token=remembered))
    response = app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert ApiToken.query.filter_by(revoked_at=None).count() == 0


def test_disabling_ends_remembered_sessions_too(app, office, runner):
    remembered = cookie(sign_in(app, "office1", remember=True), "remember_token")

    assert runner.invoke(args=["user", "disable", "office1"]).exit_code == 0

    assert not signed_in(replay(app, remember_token=remembered))
    assert UserSession.query.filter_by(revoked_at=None).count() == 0


# --- 我的账号: the user's own password and sessions ------------------------------------------------------


def account_page(client):
    response = client.get("/account")
    assert response.status_code == 200
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def change_password(client, current, new, confirm=None):
    page = account_page(client)
    form = {
        "csrf_token": page.select_one("input[name=csrf_token]")["value"],
        "current": current,
        "new": new,
        "confirm": new if confirm is None else confirm,
    }
    return client.post("/account", data=form, follow_redirects=True)


def test_the_account_page_lists_the_signed_in_browsers(app, office):
    sign_in(app, "office1", remember=True)
    client = sign_in(app, "office1")

    page = account_page(client)

    rows = page.select("table tbody tr")
    assert len(rows) == 2
    assert sum("当前" in row.get_text() for row in rows) == 1
    assert sum("记住我" in row.get_text() for row in rows) == 1
    assert page.select_one("a[href='/account']").get_text(strip=True).startswith("office1")


def test_a_user_changes_her_own_password_and_other_browsers_are_signed_out(app, office):
    client = sign_in(app, "office1")
    other = sign_in(app, "office1", remember=True)
    remembered = cookie(other, "remember_token")

    response = change_password(client, PASSWORD, "a-new-long-pass-2")

    assert response.request.path == "/account"
    assert "密码已修改。其他设备上的登录已全部退出。" in response.get_data(as_text=True)
    assert signed_in(client)
    assert not signed_in(other)
    assert not signed_in(replay(app, remember_token=remembered))
    db.session.expire_all()
    user = User.query.filter_by(username="office1").one()
    assert user.check_password("a-new-long-pass-2")
    assert not user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "message"),
    [
        ("wrong-password", "a-new-long-pass-2", None, "current", "当前密码不正确。"),
        (PASSWORD, "short", None, "new", "密码至少需要10个字符。"),
        (PASSWORD, "1234567890", None, "new", "这个密码过于常见"),
        (PASSWORD, "office1office1", None, "new", "密码不能与用户名相同"),
        (PASSWORD, "a-new-long-pass-2", "a-new-long-pass-3", "confirm", "两次输入的新密码不一致"),
        (PASSWORD, PASSWORD, None, "new", "新密码不能与当前密码相同。"),
    ],
    ids=["wrong-current", "short", "common", "username", "mismatch", "same"],
)
def test_a_refused_password_change_says_why_at_the_field_and_changes_nothing(
    app, office, current, new, confirm, field, message
):
    client = sign_in(app, "office1")
    other = sign_in(app, "office1")

    response = change_password(client, current, new, confirm)

    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    invalid = page.select_one(f"#{field}")
    assert invalid["aria-invalid"] == "true"
    assert message in page.select_one(f"#{invalid['aria-describedby']}").get_text()
    assert signed_in(other)
    db.session.expire_all()
    assert User.query.filter_by(username="office1").one().check_password(PASSWORD)


def test_sign_out_everywhere_ends_every_browser(app, office):
    client = sign_in(app, "office1")
    remembered = cookie(sign_in(app, "office1", remember=True), "remember_token")
    token = csrf_token(client.get("/account").get_data(as_text=True))

    response = client.post("/account/sign-out-everywhere", data={"csrf_token": token}, follow_redirects=True)

    assert response.request.path == "/login"
    assert "已在所有设备上退出登录。" in response.get_data(as_text=True)
    assert not signed_in(client)
    assert not signed_in(replay(app, remember_token=remembered))


def test_in_production_the_cookies_are_secure():
    env = {**os.environ, "TRACKER_ENV": "production", "SECRET_KEY": "x" * 32}
    env.pop("SESSION_COOKIE_SECURE", None)
    code = "from config import Config; print(Config.SESSION_COOKIE_SECURE, Config.REMEMBER_COOKIE_SECURE)"

    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.stdout.split() == ["True", "True"], result.stderr


def test_the_nightly_clean_up_removes_sessions_ended_a_month_ago(app, office):
    from tracker.jobs import job_by_id, run_job
    from tracker.models.tokens import hash_token
    from tracker.timeutil import system_now

    now = system_now()
    ages = {"ended long ago": 40, "ended last week": 7}
    for key, days in ages.items():
        then = now - timedelta(days=days)
        db.session.add(
            UserSession(user=office, key_hash=hash_token(key), created_at=then, expires_at=then, revoked_at=then)
        )
    db.session.commit()
    live = sign_in(app, "office1")

    assert run_job(job_by_id("housekeeping"), "manual").status == "ok"

    kept = {row.key_hash for row in UserSession.query}
    assert hash_token("ended long ago") not in kept
    assert hash_token("ended last week") in kept
    assert len(kept) == 2
    assert signed_in(live)


def test_guessing_the_current_password_on_the_account_page_is_slowed_down(app, office):
    """Someone at an unattended desk cannot try passwords at full speed through 修改密码."""
    client = sign_in(app, "office1")
    for attempt in range(5):
        page = BeautifulSoup(change_password(client, f"guess-{attempt}", "a-new-long-pass-2").data, "html.parser")
        assert "当前密码不正确。" in page.get_text(), attempt

    page = BeautifulSoup(change_password(client, PASSWORD, "a-new-long-pass-2").data, "html.parser")

    assert "当前密码输错次数过多" in page.select_one("#current-error").get_text()
    db.session.expire_all()
    assert User.query.filter_by(username="office1").one().check_password(PASSWORD)
