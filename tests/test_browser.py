"""A person signs in with headless Chromium and opens the plan."""

import pytest
from conftest import CHROMIUM, PASSWORD, sign_in, submit_form

pytestmark = [
    pytest.mark.browser,
    # The browser may leave a page while a static file is still being sent: the test server then drops
    # the file without closing it, which is the server's business, not the page's.
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <_io.FileIO name='.*/static/:pytest.PytestUnraisableExceptionWarning"
    ),
]


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
    page.wait_for_url("**/tasks/*")
    page.wait_for_load_state()
    assert "及时梳理地方禁止和限制准入管理事项" in page.locator("main").inner_text()
    page.screenshot(path=str(tmp_path / "task.png"), full_page=True)


def contrast(foreground, background):
    """Return the WCAG contrast ratio of two CSS ``rgb(…)`` colours."""

    def luminance(css):
        channels = [int(float(v)) / 255 for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def sign_out(page):
    page.click("text=退出")
    page.wait_for_url("**/login")


def test_quarterly_form_round_trip(app, live_server, page, load_seed, create_user):
    """A department fills and submits; the office returns it; the department corrects; the office accepts."""
    load_seed()
    app.config["TRACKER_TODAY"] = "2018-10-08"  # two days before the Q3 form is due
    create_user("djb", "department", "党建工作部", display_name="党建工作部填报人")
    create_user("office1", "office", display_name="办公室")

    sign_in(page, live_server, "djb")
    page.click("text=我的报送")
    row = page.locator(".return-row[data-period='Q3']")
    assert "2018年10月10日" in row.inner_text()
    row.locator("text=填报").click()
    lines = page.locator(".line-row")
    assert lines.count() == 11  # 1.1.2 it leads, and the ten tasks for all departments
    for i in range(lines.count()):
        line = lines.nth(i)
        line.locator("select").select_option(label="已完成")
        line.locator("textarea").first.fill(f"已完成第{i + 1}项工作，公开信息3条。")
    page.fill("input[name=count-submitted-portal]", "12")
    page.fill("input[name=count-published-portal]", "9")
    page.fill("#filled_by_name", "王伟")
    page.fill("#filled_by_phone", "25201234")
    page.fill("#approved_by", "赵主任")
    page.click("button[value=submit]")
    assert "已报送，等待办公室审核" in page.inner_text(".alert-success")
    sign_out(page)

    sign_in(page, live_server, "office1")
    page.goto(f"{live_server}/dashboard?year=2018")
    cell = page.locator("tr[data-department='党建工作部'] td[data-period='Q3']")
    assert cell.get_attribute("data-state") == "submitted"
    cell.locator("a").click()
    page.fill("#reason", "1.1.2 请补充权责清单调整的具体事项数量。")
    page.fill("#due_on", "2018-10-20")
    page.click("button:has-text('退回修改')")
    assert "已退回修改" in page.inner_text(".alert-success")
    sign_out(page)

    sign_in(page, live_server, "djb")
    page.click("text=我的报送")
    assert "1.1.2 请补充权责清单调整的具体事项数量" in page.inner_text(".return-row[data-period='Q3']")
    page.locator(".return-row[data-period='Q3'] >> text=填报").click()
    assert "请补充权责清单调整" in page.inner_text("#return-reason")
    page.locator(".line-row[data-code='1.1.2'] textarea").first.fill("调整权责清单事项23项，已全部公开。")
    page.click("button[value=submit]")
    assert "已报送" in page.inner_text(".alert-success")
    sign_out(page)

    sign_in(page, live_server, "office1")
    page.goto(f"{live_server}/dashboard?year=2018")
    page.locator("tr[data-department='党建工作部'] td[data-period='Q3'] a").click()
    assert "调整权责清单事项23项" in page.inner_text(".line-row[data-code='1.1.2']")
    page.click("button:has-text('审核通过')")
    assert "已审核通过" in page.inner_text(".alert-success")
    page.goto(f"{live_server}/dashboard?year=2018")
    cell = page.locator("tr[data-department='党建工作部'] td[data-period='Q3']")
    assert cell.get_attribute("data-state") == "accepted"
    assert cell.locator(".late-mark").count() == 0  # submitted before the due date
    quarter = page.locator(".quarter-card[data-period='Q3']").inner_text()
    assert "已报 1（按时 1，迟报 0）" in quarter
    assert page.inner_text("#total-submitted") == "12"


def test_a_reminder_in_the_bell_leads_to_the_missing_summary(app, live_server, page, load_seed, create_user, runner):
    """The chase tells 发改局 its half-year summary is overdue; its user follows the notice and hands it in."""
    load_seed()
    create_user("fgj", "department", "发改局", display_name="发改局填报人")
    result = runner.invoke(args=["chase", "--today", "2019-01-16"])
    assert result.exit_code == 0, result.output
    app.config["TRACKER_TODAY"] = "2019-01-16"

    sign_in(page, live_server, "fgj")
    bell = page.locator("#bell")
    assert bell.locator("#unread-count").inner_text() == "3"  # the summary and the two overdue quarterly forms
    bell.click()
    notice = page.locator("button.notification", has_text="2018年下半年工作总结")
    assert notice.inner_text().startswith("未读【催办】2018年下半年工作总结已逾期1天")
    notice.click()

    page.wait_for_url("**/summaries/*")
    assert page.locator("h1").inner_text() == "2018年下半年政务公开工作总结"
    assert page.locator("#unread-count").inner_text() == "2"
    page.fill("#text", "一、主要工作……\n二、存在问题……\n三、下一步计划……")
    page.fill("#filled_by_name", "王伟")
    page.fill("#filled_by_phone", "25201234")
    page.fill("#approved_by", "赵主任")
    page.click("button[value=submit]")
    assert "工作总结已报送，等待办公室审核" in page.inner_text(".alert-success")
    assert "迟报" in page.inner_text("#timeliness")


def test_a_leader_downloads_the_summary_from_the_download_page(live_server, load_seed, create_user, tmp_path):
    from playwright.sync_api import sync_playwright

    load_seed()
    create_user("leader1", "leader", display_name="分管领导")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(locale="zh-CN", accept_downloads=True)
        refused = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        sign_in(page, live_server, "leader1")
        page.click("text=报表下载")
        page.wait_for_url("**/exports**")
        page.wait_for_load_state("load")  # tracker.js, at the end of the page, is listening
        # Choosing a year reloads the page for it (a script file, allowed by the policy).
        with page.expect_navigation():
            page.locator("#year").dispatch_event("change")
        assert "year=2018" in page.url
        card = page.locator("[data-kind=summary]")
        card.locator("select").select_option(label="第三季度")
        with page.expect_download() as download:
            card.locator("button").click()
        assert download.value.suggested_filename == "2018年第三季度政务公开工作情况简报.xlsx"
        path = tmp_path / "summary.xlsx"
        download.value.save_as(path)
        browser.close()
    assert refused == [], refused

    import openpyxl

    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames[0] == "总体情况"
    assert workbook["总体情况"]["A1"].value == "2018年第三季度政务公开工作情况简报"
    assert len(workbook.sheetnames) == 6  # the brief, then one sheet per section


def test_upload_a_notice_correct_a_department_and_see_it_on_the_plan(live_server, page, create_user, tmp_path):
    from conftest import SEED

    create_user("office1", "office", display_name="王办公")
    sign_in(page, live_server, "office1")
    page.click("text=导入工作安排")  # an empty system offers the upload
    page.set_input_files("input[name=file]", str(SEED))
    page.click("text=上传并预览")
    page.wait_for_url("**/plans/import/*")
    assert page.locator("h1").inner_text() == "导入预览：2018年天津开发区政务公开重点工作安排"
    assert page.locator("#tasks-h + p + h3").inner_text() == "一、切实加强公开解读回应工作"
    field = page.get_by_label("1.1.4 牵头部门")
    assert field.input_value() == "发改局、经济运行局"
    field.fill("发改局")
    page.get_by_label("1.1.4 负责落实部门").fill("经济运行局")
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)
    # Links and the navbar's links are readable on their backgrounds (WCAG 2.1 AA: 4.5:1).
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert contrast(page.locator("text=重新上传").evaluate("e => getComputedStyle(e).color"), background) >= 4.5
    nav = page.locator("nav.navbar .nav-link").first
    assert contrast(nav.evaluate("e => getComputedStyle(e).color"), "rgb(166, 27, 27)") >= 4.5
    page.click("text=确认导入")
    page.wait_for_url(f"{live_server}/plans/2018")
    assert "已导入2018年工作安排：33项任务" in page.locator("[role=alert]").first.inner_text()
    assert page.locator(".task-row").count() == 33
    page.click(".task-row[data-code='1.1.4'] a")
    assert page.locator("li", has_text="牵头部门").locator(".dept-badge").all_inner_texts() == ["发改局"]
    assert page.locator("li", has_text="负责落实部门").locator(".dept-badge").all_inner_texts() == ["经济运行局"]
    page.screenshot(path=str(tmp_path / "task.png"), full_page=True)


# --- nothing typed is lost (issue 13, item 3) --------------------------------------------------------

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
TYPED = "已建成统一的政府数据开放平台，上线数据集120个"


def fgj_form(create_user):
    from conftest import department

    from tracker.models import PeriodKind, QuarterlyReturn, ReportingPeriod

    create_user("fgj1", "department", "发改局")
    return (
        QuarterlyReturn.query.join(ReportingPeriod)
        .filter(
            ReportingPeriod.kind == PeriodKind.QUARTER,
            ReportingPeriod.number == 3,
            QuarterlyReturn.department_id == department("发改局").id,
        )
        .one()
    )


def expect(locator):
    """Playwright's assertion that waits (no script string: the page's policy forbids eval)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def done_field(page):
    return page.locator('tr.line-row[data-code="1.3.1"] textarea[name$="-done"]')


def saved_text(report_id):
    from tracker.extensions import db
    from tracker.models import QuarterlyReturn

    db.session.expire_all()
    report = db.session.get(QuarterlyReturn, report_id)
    return next(line.done for line in report.lines if line.task.code == "1.3.1")


def test_text_typed_just_before_an_upload_is_still_there_after_it(live_server, page, load_seed, create_user, tmp_path):
    load_seed()
    report_id = fgj_form(create_user).id
    sign_in(page, live_server, "fgj1")
    page.goto(f"{live_server}/returns/{report_id}")
    pdf = tmp_path / "第三季度会议纪要.pdf"
    pdf.write_bytes(MINIMAL_PDF)

    done_field(page).fill(TYPED)  # and at once, before any pause, an upload
    page.set_input_files("form[data-save-first] input[type=file]", str(pdf))
    with page.expect_navigation():
        page.click("form[data-save-first] button[type=submit]")

    assert "已上传“第三季度会议纪要.pdf”" in page.inner_text("main")
    assert done_field(page).input_value() == TYPED
    assert saved_text(report_id) == TYPED


def test_text_typed_when_the_session_expired_is_kept_and_saved_after_signing_in_again(
    live_server, page, load_seed, create_user
):
    from tracker.auth.operations import sign_out_everywhere
    from tracker.models import User

    load_seed()
    report_id = fgj_form(create_user).id
    sign_in(page, live_server, "fgj1")
    page.goto(f"{live_server}/returns/{report_id}")
    sign_out_everywhere(User.query.filter_by(username="fgj1").one())  # the session ends, as after a day away

    done_field(page).fill(TYPED)
    expect(page.locator("#autosave-status")).to_contain_text("登录已过期", timeout=15000)
    assert saved_text(report_id) == ""

    page.goto(f"{live_server}/login")  # signing in again (the form's warning about leaving is answered)
    sign_in(page, live_server, "fgj1")
    page.goto(f"{live_server}/returns/{report_id}")
    expect(page.locator("#autosave-status")).to_contain_text("已自动保存", timeout=15000)

    assert done_field(page).input_value() == TYPED
    assert saved_text(report_id) == TYPED


def test_a_pause_in_typing_saves_the_draft(live_server, page, load_seed, create_user):
    load_seed()
    report_id = fgj_form(create_user).id
    sign_in(page, live_server, "fgj1")
    page.goto(f"{live_server}/returns/{report_id}")

    done_field(page).fill(TYPED)
    expect(page.locator("#autosave-status")).to_contain_text("已自动保存", timeout=15000)

    assert saved_text(report_id) == TYPED
    page.reload()
    assert done_field(page).input_value() == TYPED


# --- the office runs it from the browser (issue 13, item 4) ------------------------------------------


def test_the_office_creates_an_account_and_a_department_and_merges_two_departments(
    live_server, page, load_seed, create_user
):
    from tracker.models import Department, User

    load_seed()
    create_user("office1")
    sign_in(page, live_server, "office1")

    page.goto(f"{live_server}/departments")
    page.fill("#new-name", "数据局")
    with page.expect_navigation():
        page.click("#add-department button[type=submit]")
    assert "已添加部门“数据局”" in page.inner_text("main")

    page.goto(f"{live_server}/users")
    page.fill("#user-username", "data-li")
    page.fill("#user-display_name", "李四")
    page.select_option("#user-role", label="部门")
    page.select_option("#user-department", label="数据局")
    with page.expect_navigation():
        page.click("#add-user button[type=submit]")
    password = page.inner_text("#new-password code")
    assert User.query.filter_by(username="data-li").one().department.name == "数据局"

    source = Department.lookup("数据局")
    page.goto(f"{live_server}/departments/{source.id}/edit")
    page.select_option("#merge-target", label="发改局")
    page.check("#merge-confirm")
    with page.expect_navigation():
        page.click("form[action$='/merge'] [type=submit]")
    assert Department.lookup("数据局").name == "发改局"  # its name is an alias of the department it joined
    assert User.query.filter_by(username="data-li").one().department.name == "发改局"

    sign_out(page)
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "data-li")
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("input[type=submit]")
    assert page.inner_text("h1") == "发改局 · 待办"


# --- hand-offs in the browser (issue 13, items 2 and 5) ---------------------------------------------


def fill_and_submit(page, base, report_id):
    page.goto(f"{base}/returns/{report_id}")
    for row in page.locator("tr.line-row").all():
        row.locator("select").select_option("done")
        row.locator('textarea[name$="-done"]').fill("已完成。")
    page.fill("input[name=filled_by_name]", "王晓明")
    page.fill("input[name=filled_by_phone]", "022-25201234")
    page.fill("input[name=approved_by]", "李建国")
    with page.expect_navigation():
        page.click("button[value=submit]")


def test_a_department_submits_the_office_bell_shows_it_and_a_line_comment_goes_back(
    app, live_server, page, load_seed, create_user
):
    load_seed()
    app.config["TRACKER_TODAY"] = "2018-10-08"
    report_id = fgj_form(create_user).id
    create_user("office1")
    sign_in(page, live_server, "fgj1")
    fill_and_submit(page, live_server, report_id)
    assert "已报送" in page.inner_text("main")
    sign_out(page)

    sign_in(page, live_server, "office1")
    expect(page.locator("#unread-count")).to_have_text("1")
    page.click("#bell")
    with page.expect_navigation():
        page.click("text=【待审核】发改局报送了2018年第三季度完成情况报送表")
    page.locator('tr.line-row[data-code="1.3.1"] textarea[form="return-form"]').fill("请补充开放数据集的数量")
    page.fill("#reason", "部分任务需补充")
    page.fill("#due_on", "2018-10-19")
    with page.expect_navigation():
        page.click("#return-form button[type=submit]")
    sign_out(page)

    sign_in(page, live_server, "fgj1")
    expect(page.locator("#owed")).to_contain_text("退回原因：部分任务需补充")
    page.click("#owed a")
    comment = page.locator('tr.line-row[data-code="1.3.1"] .line-comment')
    expect(comment).to_have_text("办公室意见：请补充开放数据集的数量")


# --- each role's landing page (issue 13, item 1) -------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "role", "dept", "heading"),
    [
        ("office1", "office", None, "办公室 · 今日待办"),
        ("leader1", "leader", None, "2018年第三季度政务公开工作简报"),
        ("fgj1", "department", "发改局", "发改局 · 待办"),
    ],
)
@pytest.mark.parametrize("width", [1366, 390])
def test_each_role_lands_on_its_page_without_sideways_scrolling(
    app, live_server, page, load_seed, create_user, username, role, dept, heading, width
):
    load_seed()
    app.config["TRACKER_TODAY"] = "2018-10-15"
    create_user(username, role, dept)
    page.set_viewport_size({"width": width, "height": 900})

    sign_in(page, live_server, username)

    assert page.url == f"{live_server}/"
    assert page.inner_text("h1") == heading
    scroll = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert scroll <= 0, f"{scroll}px of sideways scrolling at {width}px"
    if role == "leader":
        bars = page.locator("[role=progressbar]")
        assert bars.count() == 5
        assert bars.first.bounding_box()["width"] > 0.8 * width - 40  # the chart fills the phone's width


def test_a_department_is_one_click_from_signing_in_to_its_open_form(app, live_server, page, load_seed, create_user):
    load_seed()
    app.config["TRACKER_TODAY"] = "2018-10-05"
    report_id = fgj_form(create_user).id
    sign_in(page, live_server, "fgj1")

    with page.expect_navigation():
        page.click("#owed a")  # the one click

    assert page.url == f"{live_server}/returns/{report_id}"
    assert page.locator("#return-form[data-autosave]").count() == 1


def test_a_kept_draft_never_overwrites_a_colleagues_newer_save(live_server, page, load_seed, create_user):
    """The browser keeps what the user changed; if the form moved on meanwhile, it lists it instead of restoring."""
    from tracker.auth.operations import sign_out_everywhere
    from tracker.models import User
    from tracker.returns.operations import save_return

    load_seed()
    report = fgj_form(create_user)
    sign_in(page, live_server, "fgj1")
    page.goto(f"{live_server}/returns/{report.id}")
    sign_out_everywhere(User.query.filter_by(username="fgj1").one())
    done_field(page).fill(TYPED)
    expect(page.locator("#autosave-status")).to_contain_text("登录已过期")
    lines = [{"task_code": line.task.code, "status": None, "done": ""} for line in report.lines]
    lines[0]["done"] = "同事随后保存的内容"
    save_return(report, {"lines": lines}, report.version)  # a colleague saves another line meanwhile

    sign_in(page, live_server, "fgj1")
    page.goto(f"{live_server}/returns/{report.id}")

    first = page.locator(f'tr.line-row[data-code="{report.lines[0].task.code}"] textarea[name$="-done"]')
    expect(page.locator("#kept-draft")).to_contain_text(TYPED)
    assert first.input_value() == "同事随后保存的内容"
    assert done_field(page).input_value() == ""  # not put back over the newer form: listed to copy from
    assert saved_text(report.id) == ""


def test_cancelling_a_confirmation_keeps_the_autosave_going(live_server, page, load_seed, create_user):
    load_seed()
    report_id = fgj_form(create_user).id
    careful = page.context.browser.new_page(locale="zh-CN")  # answers 取消
    careful.on("dialog", lambda dialog: dialog.dismiss())
    sign_in(careful, live_server, "fgj1")
    careful.goto(f"{live_server}/returns/{report_id}")

    careful.locator('tr.line-row[data-code="1.3.1"] textarea[name$="-done"]').fill(TYPED)
    careful.click("button[value=submit]")  # 确定报送？ 取消

    expect(careful.locator("#autosave-status")).to_contain_text("已自动保存", timeout=15000)
    assert saved_text(report_id) == TYPED


def test_a_leader_reads_the_brief_on_a_phone_and_prints_it_on_one_a4_page(
    app, live_server, page, load_seed, create_user, tmp_path
):
    load_seed()
    app.config["TRACKER_TODAY"] = "2018-10-15"
    create_user("leader1", "leader")
    submit_form("发改局", create_user("fgj1", "department", "发改局"))
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "leader1")

    page.goto(f"{live_server}/briefs/2018-Q3")

    assert page.inner_text("h1") == "2018年第三季度政务公开工作简报"
    scroll = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert scroll <= 0, f"{scroll}px of sideways scrolling at 390px"
    chart = page.locator("#section-chart")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["width"] > 300 and box["height"] > 150
    bars = page.locator("#section-chart rect.bar")
    assert bars.count() >= 1 and bars.first.bounding_box()["width"] > 0
    assert page.locator("#ranking li").first.inner_text().startswith("1\n发改局")
    page.screenshot(path=str(tmp_path / "brief-390.png"), full_page=True)

    page.emulate_media(media="print")
    assert page.locator("nav.navbar").is_hidden()
    pdf = page.pdf(format="A4", print_background=True)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages == 1, f"the brief prints on {pages} A4 pages"
