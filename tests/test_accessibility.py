"""Every page, as every role sees it, meets WCAG 2.1 A and AA as axe-core checks it in Chromium.

The demo season is loaded (forms in every state, summaries, the register), then each role signs in
and follows every link it is shown, one page per kind of address, running axe-core on each. Forms
are also checked in error, after a refused save. Any violation fails, with where and why.
"""

import re

import pytest
from conftest import PASSWORD, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <_io.FileIO name='.*/static/:pytest.PytestUnraisableExceptionWarning"
    ),
]

#: The WCAG 2.1 A and AA rules (GB/T 37668-2019 follows WCAG 2.1 AA).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: Links that are not pages: downloads, the API, sign-out, health checks.
NOT_PAGES = re.compile(
    r"\.(xlsx|pdf|docx|json|txt)$|/logout$|/evidence/|/document$|/metrics$|/healthz$|/readyz$|^/api/"
)


def kind_of(path):
    """Return the kind of address a path is: its numbers replaced (one page of each kind is enough)."""
    return re.sub(r"\d+", "N", path.split("#")[0])


def violations(page):
    """Return axe-core's WCAG 2.1 A/AA violations on the page, as readable lines."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": TAGS}})
    return [
        f"{page.url}: {v['id']} ({v['impact']}) at {node['target']}: {node['failureSummary']}"
        for v in result.response["violations"]
        for node in v["nodes"]
    ]


def crawl(page, base, limit=120):
    """Visit every kind of page reachable by links from the landing page; return the violations found."""
    found, seen, queue = [], set(), ["/"]
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if kind_of(path) in seen:
            continue
        seen.add(kind_of(path))
        response = page.goto(base + path)
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        found += violations(page)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            if href and href.startswith("/") and not NOT_PAGES.search(href.split("?")[0]):
                queue.append(href.split("#")[0])
    return found, seen


@pytest.fixture
def season(app, load_seed):
    """The demo season: forms in every state, half-year summaries, the register; its accounts' names."""
    from tracker.auth.operations import set_password
    from tracker.demo import create_demo_accounts, fill_realistic, fill_register
    from tracker.models import Plan, User

    load_seed()
    plan = Plan.query.one()
    accounts = create_demo_accounts(plan)
    for username, _password, _department in accounts:
        set_password(User.query.filter_by(username=username).one(), PASSWORD)
    fill_realistic(plan)
    fill_register(plan)
    app.config["TRACKER_TODAY"] = "2018-10-15"
    return [username for username, _password, _department in accounts]


@pytest.mark.parametrize("username", ["office", "leader", "dept03", "dept13"])
def test_every_page_a_role_can_reach_has_no_wcag_violation(app, live_server, page, season, username):
    sign_in(page, live_server, username)
    found, seen = crawl(page, live_server)
    assert len(seen) >= 8, seen  # the crawl reached the role's pages
    assert found == [], "\n".join(found)


def test_the_login_page_and_a_refused_sign_in_have_no_wcag_violation(live_server, page, season):
    page.goto(f"{live_server}/login")
    assert violations(page) == []
    page.fill("input[name=username]", "office")
    page.fill("input[name=password]", "wrong password")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    assert violations(page) == []


def test_a_form_refused_for_a_missing_field_has_no_wcag_violation(app, live_server, page, season):
    from conftest import quarterly_form

    report = quarterly_form("商务局", quarter=4)
    sign_in(page, live_server, "dept13")
    page.goto(f"{live_server}/returns/{report.id}")
    page.fill("input[name=filled_by_name]", "")
    page.click("button[value=submit]")
    page.wait_for_load_state()
    assert page.locator(".is-invalid").count() > 0  # it was refused, and says where
    assert violations(page) == []


def tab_to(page, selector, limit=400):
    """Press Tab until the element ``selector`` names has the focus (as a keyboard user would); fail if never."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_a_department_fills_and_submits_its_form_by_keyboard_alone(app, live_server, page, load_seed, create_user):
    """From the landing page to a submitted form with the keyboard only: a refused submit puts the focus
    on the field that is missing, marked for screen readers, and the second submit goes through."""
    load_seed()
    app.config["TRACKER_TODAY"] = "2018-10-08"
    create_user("fgj1", "department", "发改局")
    page.goto(f"{live_server}/login")
    tab_to(page, "input[name=username]")
    page.keyboard.type("fgj1")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/")

    tab_to(page, "main a[href^='/returns/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/returns/*")
    for select in page.locator("select[name$='status']").all():
        tab_to(page, f"select[name='{select.get_attribute('name')}']")
        page.keyboard.press("ArrowDown")  # 已完成 … the first choice after the empty one
        page.keyboard.press("Tab")  # to 完成情况
        page.keyboard.type("已按计划完成。")
    for field, text in (("filled_by_phone", "25201234"), ("approved_by", "王主任")):  # 填报人 left empty
        tab_to(page, f"#{field}")
        page.keyboard.type(text)
    tab_to(page, "button[value=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the confirmation is answered 确定 (the page fixture)

    focused = page.evaluate(
        "() => [document.activeElement.id, document.activeElement.getAttribute('aria-invalid'),"
        " document.getElementById(document.activeElement.getAttribute('aria-describedby') || '-')?.textContent]"
    )
    assert focused == ["filled_by_name", "true", "请填写填报人"]
    page.keyboard.type("李娜")
    tab_to(page, "button[value=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "已报送，等待办公室审核" in page.inner_text("main")
