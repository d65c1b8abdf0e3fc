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
#: Rules on tables beyond the tags (axe marks some experimental or best practice): every data cell has a
#: header, every header heads data, ``headers`` and ``scope`` are valid, no header is empty.
TABLE_RULES = ["td-has-header", "th-has-data-cells", "td-headers-attr", "scope-attr-valid", "empty-table-header"]
#: Links that are not pages: downloads, the API, sign-out, health checks.
NOT_PAGES = re.compile(
    r"\.(xlsx|pdf|docx|json|txt)$|/logout$|/evidence/|/document$|/metrics$|/healthz$|/readyz$|^/api/"
)


#: Pages reached by a form rather than a link: the menu's search, with results.
FORM_PAGES = ["/search?q=公开"]


def kind_of(path):
    """Return the kind of address a path is: its numbers replaced (one page of each kind is enough)."""
    return re.sub(r"\d+", "N", path.split("#")[0])


def violations(page):
    """Return axe-core's WCAG 2.1 A/AA violations on the page, as readable lines."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": TAGS}, "rules": {rule: {"enabled": True} for rule in TABLE_RULES}}
    result = Axe().run(page, options=options)
    return [
        f"{page.url}: {v['id']} ({v['impact']}) at {node['target']}: {node['failureSummary']}"
        for v in result.response["violations"]
        for node in v["nodes"]
    ]


def crawl(page, base, check=None, limit=120):
    """Visit every kind of page reachable by links from the landing page; return what ``check`` (by
    default axe-core's violations) finds on them, and the kinds of page seen."""
    check = check or violations
    found, seen, queue = [], set(), ["/", *FORM_PAGES]
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if kind_of(path) in seen:
            continue
        seen.add(kind_of(path))
        response = page.goto(base + path)
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        found += check(page)
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
    page.wait_for_function("() => document.activeElement !== document.body")

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


#: The header cells of a data cell, as a browser gives them to assistive technology for tables whose
#: headers all have ``scope="col"`` or ``scope="row"`` (as ours do): each cell is placed in the grid its
#: row and column spans make (the HTML table model); a cell's headers are the column headers above it
#: in the columns it spans and the row headers to its left in the rows it spans. ``colgroup`` and
#: ``rowgroup`` scopes, which need <colgroup> and <tbody> groups, are not modelled, and count as none.
HEADERS_OF = """cell => {
  const table = cell.closest('table'), grid = [];
  [...table.rows].forEach((row, r) => {
    let c = 0;
    for (const each of row.cells) {
      while (grid[r] && grid[r][c]) c++;
      for (let i = 0; i < each.rowSpan; i++)
        for (let j = 0; j < each.colSpan; j++) (grid[r + i] = grid[r + i] || [])[c + j] = each;
      c += each.colSpan;
    }
  });
  const r = grid.findIndex(row => row.includes(cell)), c = grid[r].indexOf(cell);
  const found = (cells, scopes) => [...new Set(cells)].filter(
    h => h && h !== cell && h.tagName === 'TH' && scopes.includes(h.getAttribute('scope'))
  ).map(h => h.textContent.trim());
  const above = [], left = [];
  for (let i = 0; i < r; i++) for (let j = c; j < c + cell.colSpan; j++) above.push(grid[i][j]);
  for (let i = r; i < r + cell.rowSpan; i++) for (let j = 0; j < c; j++) left.push(grid[i][j]);
  return [found(above, ['col']), found(left, ['row'])];
}"""


def headers_of(page, selector):
    """Return the column headers and the row headers a screen reader announces with the cell."""
    return page.locator(selector).first.evaluate(HEADERS_OF)


def accessibility_tables(page):
    """Return Chromium's accessibility tree of the page's tables: name → rows of (role, name) per cell."""
    cdp = page.context.new_cdp_session(page)
    nodes = {node["nodeId"]: node for node in cdp.send("Accessibility.getFullAXTree")["nodes"]}

    def role(node):
        return node.get("role", {}).get("value")

    def name(node):
        return node.get("name", {}).get("value", "")

    def rows(node):
        for child in filter(None, map(nodes.get, node.get("childIds", []))):
            if role(child) == "row":
                cells = filter(None, map(nodes.get, child.get("childIds", [])))
                yield [(role(c), name(c)) for c in cells if role(c) in {"cell", "columnheader", "rowheader"}]
            elif role(child) != "table":
                yield from rows(child)

    return {name(node): list(rows(node)) for node in nodes.values() if role(node) == "table"}


def test_the_dashboard_matrix_reads_as_department_by_quarter(live_server, page, season):
    """Each state in the matrix is announced with its department and its quarter."""
    sign_in(page, live_server, "office")
    page.goto(f"{live_server}/dashboard")
    matrix = accessibility_tables(page)["各部门各季度报送情况"]
    assert matrix[0] == [("columnheader", n) for n in ("部门", "第三季度", "第四季度", "报送率", "按时率")]
    departments = page.locator("#matrix tbody tr").evaluate_all("rows => rows.map(r => r.dataset.department)")
    assert [row[0] for row in matrix[1:]] == [("rowheader", d) for d in departments]
    assert all(role == "cell" for row in matrix[1:] for role, _name in row[1:])
    assert headers_of(page, "#matrix tr[data-department='发改局'] td[data-period]") == [["第三季度"], ["发改局"]]


def test_the_annual_report_tables_read_with_their_merged_headers(live_server, page, season):
    """Table 3's counts are announced under 申请人情况 › 法人或其他组织 › the kind of applicant, and
    beside 三、本年度办理结果 › （三）不予公开 › the reason, whichever row of a merged group they are in;
    Table 4's under 行政诉讼 › 复议后起诉 › the result."""
    sign_in(page, live_server, "office")
    page.goto(f"{live_server}/annual-report/2018")
    tables = accessibility_tables(page)
    table3 = tables["收到和处理政府信息公开申请情况"]
    assert {role for role, _ in table3[0] + table3[1] + table3[2]} == {"columnheader"}
    assert table3[3][0] == ("rowheader", "一、本年新收政府信息公开申请数量")
    assert [role for role, _ in table3[3][1:]] == ["cell"] * 7

    new = "#table3 tr[data-row=new] td"
    assert headers_of(page, f"{new} >> nth=0") == [["申请人情况", "自然人"], ["一、本年新收政府信息公开申请数量"]]
    assert headers_of(page, f"{new} >> nth=1") == [
        ["申请人情况", "法人或其他组织", "商业企业"],
        ["一、本年新收政府信息公开申请数量"],
    ]
    for reason in ("1.属于国家秘密", "3.危及“三安全一稳定”"):  # first and middle row of the merged group
        row = page.locator("#table3 tr", has=page.locator("th", has_text=reason))
        assert row.locator("td").first.evaluate(HEADERS_OF) == [
            ["申请人情况", "自然人"],
            ["三、本年度办理结果", "（三）不予公开", reason],
        ]
    carried = "#table3 tr[data-row=carried_out] td >> nth=-1"
    assert headers_of(page, carried) == [["申请人情况", "总计"], ["四、结转下年度继续办理"]]

    assert [role for role, _ in tables["政府信息公开行政复议、行政诉讼情况"][3]] == ["cell"] * 15
    assert headers_of(page, "#table4 td >> nth=10") == [["行政诉讼", "复议后起诉", "结果维持"], []]
    assert headers_of(page, "#table4 td >> nth=4") == [["行政复议", "总计"], []]


def refused_forms():
    """The forms of the product shown in error: (who, the page, the form's fields to set, its submit
    button, what the refusal says). Each is sent with the browser's own checks off, as a server sees
    a request it must refuse; ``{…}`` in a path is filled from the demo season."""
    return [
        ("office", "/users", {"#user-username": ""}, "#add-user [type=submit]", "请填写用户名"),
        ("office", "/users/{user}", {"#user-email": "不是邮箱"}, "#user-form [type=submit]", "邮箱"),
        ("office", "/departments", {"#new-name": ""}, "#add-department [type=submit]", "请填写部门名称"),
        ("office", "/departments/{department}/edit", {"#name": ""}, "main form [type=submit] >> nth=0", "部门名称"),
        ("office", "/applications/new", {"#number": "", "#received_on": ""}, "#application-form [type=submit]", "编号"),
        ("office", "/cases", {"#case-number": ""}, "form:has(#case-number) [type=submit]", "编号"),
        ("office", "/calendar", {"#day": ""}, "form:has(#day) [type=submit]", "日期"),
        (
            "office",
            "/jobs",
            {"[form=step-new][name=offset_days]": "3", "[form=step-new][name=name]": ""},
            "[form=step-new][type=submit]",
            "名称",
        ),
        ("office", "/returns/{submitted}", {"#reason": ""}, "#return-form [type=submit]", "退回原因"),
        ("dept13", "/account", {"#current": "不是这个密码"}, "form:has(#current) [type=submit]", "密码"),
        (
            "dept13",
            "/summaries/{summary}",
            {"#text": "上半年工作总结。", "#filled_by_name": ""},
            "button[value=submit]",
            "请填写填报人",
        ),
    ]


@pytest.fixture
def season_ids(season):
    """The records the refused forms are shown on, by the names their paths use."""
    from conftest import department, half_year_summary

    from tracker.models import QuarterlyReturn, ReturnState, User

    submitted = QuarterlyReturn.query.filter_by(state=ReturnState.SUBMITTED).first()
    return {
        "user": User.query.filter_by(username="dept03").one().id,
        "department": department("商务局").id,
        "submitted": submitted.id,
        "summary": half_year_summary("商务局", half=2).id,
    }


@pytest.mark.parametrize(
    "who, path, fields, submit, says", refused_forms(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_form_shown_in_error_has_no_wcag_violation_and_takes_the_focus(
    live_server, page, season_ids, who, path, fields, submit, says
):
    sign_in(page, live_server, who)
    page.goto(live_server + path.format(**season_ids))
    page.evaluate("() => document.querySelectorAll('form').forEach(form => { form.noValidate = true })")
    for selector, value in fields.items():
        page.fill(selector, value)
    with page.expect_navigation():
        page.click(submit)
    page.wait_for_function("() => document.activeElement !== document.body")
    # The refusal is on the page, and the focus is on it: the field at fault (which names its
    # message) or, for a refusal that names no field, the message itself.
    focused = page.evaluate(
        """() => { const e = document.activeElement;
          const message = e.matches('.alert') ? e
            : document.getElementById(e.getAttribute('aria-describedby') || '-');
          return [e.matches('.is-invalid[aria-invalid=true], .alert-danger[role=alert]'),
                  message ? message.textContent : ''] }"""
    )
    assert focused[0], page.evaluate("() => document.activeElement.outerHTML")
    assert says in focused[1]
    assert violations(page) == []


#: Text cut off on the page: text in an element whose box, or one of whose boxes around it, hides
#: what overflows (overflow hidden or clip) and is too small for it. Visually hidden text (for
#: screen readers) and what is not shown (a closed menu) are not text on the page.
CLIPPED_TEXT = """() => {
  const hides = s => ['hidden', 'clip'].includes(s.overflowX) || ['hidden', 'clip'].includes(s.overflowY);
  const cut = [];
  for (const e of document.body.querySelectorAll('*')) {
    if (!e.getClientRects().length) continue;
    if (e.closest('.visually-hidden, .visually-hidden-focusable, [aria-hidden=true]')) continue;
    if (![...e.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) continue;
    const box = e.getBoundingClientRect();
    for (let a = e; a && a !== document.body; a = a.parentElement) {
      if (!hides(getComputedStyle(a))) continue;
      const edge = a.getBoundingClientRect();
      const inside = box.left >= edge.left - 1 && box.right <= edge.right + 1
        && box.top >= edge.top - 1 && box.bottom <= edge.bottom + 1;
      if (!inside || a.scrollWidth > a.clientWidth + 1 || a.scrollHeight > a.clientHeight + 1) {
        const classes = e.className ? '.' + String(e.className).trim().split(/ +/).join('.') : '';
        cut.push(e.tagName.toLowerCase() + classes + ': ' + e.textContent.trim().slice(0, 30));
        break;
      }
    }
  }
  return cut;
}"""


#: The page runs off its window sideways (a wide table scrolls in its own box instead).
RUNS_OFF = """() => document.documentElement.scrollWidth > window.innerWidth + 1
  ? ['the page runs off its window sideways'] : []"""


def clipped_at_200_percent(page):
    """Return the text cut off on the page at 200%, zoomed (a 1280×800 window shows 640×400 CSS
    pixels) and with only the text enlarged (the root font size doubled, at full width), and
    whether the page then runs off its window sideways."""
    found = []
    page.set_viewport_size({"width": 640, "height": 400})
    found += [f"{page.url} (zoom 200%): {text}" for text in page.evaluate(CLIPPED_TEXT) + page.evaluate(RUNS_OFF)]
    page.set_viewport_size({"width": 1280, "height": 800})
    page.evaluate("() => { document.documentElement.style.fontSize = '200%' }")
    found += [f"{page.url} (text 200%): {text}" for text in page.evaluate(CLIPPED_TEXT) + page.evaluate(RUNS_OFF)]
    return found


@pytest.mark.parametrize("username", ["office", "leader", "dept03"])
def test_text_enlarged_to_200_percent_is_never_cut_off(live_server, page, season, username):
    """适老化: every page a role reaches, zoomed to 200% or with its text alone enlarged to 200%,
    shows all its text (WCAG 1.4.4)."""
    sign_in(page, live_server, username)
    found, seen = crawl(page, live_server, check=clipped_at_200_percent)
    assert len(seen) >= 8, seen
    assert found == [], "\n".join(found)
