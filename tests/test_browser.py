"""A person signs in with headless Chromium and opens the plan."""

import shutil
import threading

import pytest
from conftest import PASSWORD
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
]


@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free loopback port in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser.new_page(locale="zh-CN")
        browser.close()


def test_sign_in_and_open_the_plan(live_server, page, load_seed, create_user, tmp_path):
    load_seed()
    create_user("office1", "office", display_name="王办公")

    page.goto(f"{live_server}/plans/2018")
    assert "/login" in page.url  # anonymous users are sent to sign in
    page.fill("input[name=username]", "office1")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server}/plans/2018")

    assert page.locator("h1").inner_text() == "2018年天津开发区政务公开重点工作安排"
    assert page.locator(".task-row").count() == 33
    assert page.locator("h2.section-title").all_inner_texts()[2] == "三、切实推进政务公开平台建设"
    row = page.locator(".task-row[data-code='1.1.4']")
    assert "落实市场准入负面清单信息公开要求" in row.inner_text()
    assert "发改局" in row.inner_text()
    # Bootstrap is served by the app itself: the navbar is styled, not a bare list.
    assert page.locator("nav.navbar").evaluate("e => getComputedStyle(e).display") == "flex"

    page.select_option("#department", label="发改局")
    page.select_option("#role", value="lead")
    page.click("text=筛选")
    page.wait_for_url("**role=lead**")
    assert page.locator(".task-row").evaluate_all("rows => rows.map(r => r.dataset.code)") == [
        "1.1.4",
        "1.3.1",
        "1.3.2",
        "1.3.3",
    ]
    page.click("text=落实市场准入负面清单信息公开要求")
    assert "及时梳理地方禁止和限制准入管理事项" in page.content()
    page.screenshot(path=str(tmp_path / "task.png"), full_page=True)
