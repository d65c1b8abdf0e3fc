"""The arrangement parser: the seed, its variants (full-width brackets, HTML, .docx, breakdown
tables), department phrases, and files it must refuse."""

import io
import re
import zipfile

import docx
import pytest
from conftest import SEED

from tracker.plans.parser import (
    PlanFormatError,
    is_department_phrase,
    parse_department_phrase,
    parse_plan_bytes,
    split_trailing_bracket,
)

SEED_TEXT = SEED.read_text(encoding="utf-8")


def summary(plan):
    """Return what the json contract holds of a parsed plan, but its title and source."""
    return {
        "year": plan.year,
        "issued_on": plan.issued_on,
        "departments": plan.departments(),
        "tasks": [(t.code, t.title, t.lead, t.responsible, t.all_departments, t.and_related) for t in plan.tasks()],
        "structure": [(s.number, s.title, [(g.number, g.title) for g in s.groups]) for s in plan.sections],
    }


@pytest.fixture(scope="module")
def seed_plan():
    return parse_plan_bytes(SEED.read_bytes(), SEED.name)


def task(plan, code):
    return next(t for t in plan.tasks() if t.code == code)


def test_seed_has_33_tasks_in_five_sections(seed_plan):
    assert seed_plan.title == "2018年天津开发区政务公开重点工作安排"
    assert seed_plan.year == 2018
    assert str(seed_plan.issued_on) == "2018-08-13"
    assert seed_plan.issuing_office == "中共天津经济技术开发区工作委员会(天津经济技术开发区管理委员会)办公室"
    per_section = [sum(len(g.tasks) for g in s.groups) for s in seed_plan.sections]
    assert per_section == [17, 6, 3, 4, 3]
    assert [s.title for s in seed_plan.sections] == [
        "切实加强公开解读回应工作",
        "切实提升政务服务工作实效",
        "切实推进政务公开平台建设",
        "切实推进政务公开制度化规范化",
        "切实提高公开质量和实效",
    ]


def test_seed_departments_in_document_order(seed_plan):
    assert seed_plan.departments() == [
        "工委(管委会)办公室",
        "党建工作部",
        "发改局",
        "经济运行局",
        "市场监管局",
        "财政局",
        "行政审批局",
        "规国局",
        "建交局",
        "科工局",
        "安监局",
        "环保局",
        "商务局",
        "审计局",
        "国资局",
        "人社局",
        "公安开发分局",
        "投促局",
        "新经济局",
        "贸促局",
        "金融局",
    ]


def test_seed_tasks_named_in_acceptance(seed_plan):
    t = task(seed_plan, "1.1.1")
    assert (t.lead, t.responsible, t.all_departments, t.and_related) == (["工委(管委会)办公室"], [], True, False)
    t = task(seed_plan, "1.1.4")
    assert t.title == "落实市场准入负面清单信息公开要求"
    assert (t.lead, t.responsible) == (["发改局", "经济运行局"], [])
    assert t.details.startswith("及时梳理地方禁止和限制准入管理事项")
    assert not t.details.endswith(")")
    t = task(seed_plan, "1.2.2")
    assert t.responsible == ["行政审批局", "规国局", "建交局", "科工局", "安监局", "财政局", "环保局"]
    assert (t.lead, t.and_related, t.all_departments) == ([], True, False)
    t = task(seed_plan, "3.2")
    assert (t.title, t.lead, t.responsible) == ("用好“两微一端”新平台", [], ["工委(管委会)办公室"])
    t = task(seed_plan, "5.1")
    assert (t.title, t.lead, t.responsible, t.all_departments) == ("加强组织领导", [], [], True)
    assert t.text.startswith("各部门要把政务公开工作纳入重要议事日程")


def test_group_tasks_keep_their_group_heading_as_title(seed_plan):
    t = task(seed_plan, "3.1")
    assert t.title == "强化政府网站建设管理"
    assert t.details.startswith("根据《天津市政府网站管理办法》")
    assert t.lead == ["工委(管委会)办公室"]


def full_width(text):
    return text.replace("(", "（").replace(")", "）")


def test_full_width_brackets_give_the_same_plan(seed_plan):
    variant = parse_plan_bytes(full_width(SEED_TEXT).encode("utf-8"), "notice.txt")
    assert summary(variant) == summary(seed_plan)
    assert "（" in task(variant, "1.1.1").text  # the text itself is kept as written


def test_gb18030_text_is_read(seed_plan):
    variant = parse_plan_bytes(SEED_TEXT.encode("gb18030"), "notice.txt")
    assert summary(variant) == summary(seed_plan)


def html_page(text):
    """Build an HTML page of the notice the way a government site would serve it."""
    paragraphs = []
    for line in text.splitlines():
        line = line.replace(" ", "&nbsp;")
        if "牵头落实" in line:  # inline markup inside a paragraph must not split it
            line = line.replace("牵头落实", "<span style='color:red'>牵头</span><b>落实</b>", 1)
        paragraphs.append(f"<p style='text-indent:2em'>\u3000{line}</p>")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>通知</title>"
        "<style>p{margin:0}</style><script>var a = '一、不是标题';</script></head>"
        f"<body><div class='content'>{''.join(paragraphs)}</div></body></html>"
    ).encode()


def test_html_page_gives_the_same_plan(seed_plan):
    variant = parse_plan_bytes(html_page(SEED_TEXT), "notice.html")
    assert summary(variant) == summary(seed_plan)


def docx_bytes(paragraphs, table=None):
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=0, cols=len(table[0]))
        for row in table:
            cells = grid.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_of_the_notice_gives_the_same_plan(seed_plan):
    lines = [line.replace(" ", "\u3000") for line in full_width(SEED_TEXT).splitlines()]
    variant = parse_plan_bytes(docx_bytes(lines), "notice.docx")
    assert summary(variant) == summary(seed_plan)


def test_docx_breakdown_table_with_header_variants(seed_plan):
    header = ["序号", "主要任务", "工作要求", "牵头单位", "责任单位", "时限要求"]
    rows = [header, ["一、切实加强公开解读回应工作"] * 6, ["(一)围绕建设法治政府全面推进政务公开"] * 6]
    rows.append(["1", "推进政府决策公开", "坚持以公开为常态。", "工委（管委会）办公室", "管委会各部门", "2018年12月"])
    rows.append(["2", "做好权责清单调整和公开", "根据上级机关。", "党建工作部", "", "长期"])
    rows.append(["", "推进建议提案办理结果公开", "按照原则。", "", "发改局、财政局等相关部门", ""])
    plan = parse_plan_bytes(docx_bytes(["附件1", "2019年某区政务公开工作要点任务分解表"], rows), "table.docx")
    assert plan.title == "2019年某区政务公开工作要点"
    assert plan.year == 2019
    got = [(t.code, t.title, t.lead, t.responsible, t.all_departments, t.and_related, t.deadline) for t in plan.tasks()]
    assert got == [
        ("1.1.1", "推进政府决策公开", ["工委(管委会)办公室"], [], True, False, "2018年12月"),
        ("1.1.2", "做好权责清单调整和公开", ["党建工作部"], [], False, False, "长期"),
        ("1.1.3", "推进建议提案办理结果公开", [], ["发改局", "财政局"], False, True, ""),
    ]


@pytest.mark.parametrize(
    ("phrase", "lead", "responsible", "all_departments", "and_related"),
    [
        ("工委(管委会)办公室牵头、管委会各部门负责落实", ["工委(管委会)办公室"], [], True, False),
        ("工委（管委会）办公室牵头落实", ["工委(管委会)办公室"], [], False, False),
        ("发改局、经济运行局牵头落实", ["发改局", "经济运行局"], [], False, False),
        ("环保局、规国局、人社局等相关部门负责落实", [], ["环保局", "规国局", "人社局"], False, True),
        ("工委(管委会)办公室负责落实", [], ["工委(管委会)办公室"], False, False),
        ("财政局牵头，审计局配合", ["财政局"], ["审计局"], False, False),
        ("发改局、商务局分别牵头落实", ["发改局", "商务局"], [], False, False),
        ("各部门", [], [], True, False),
        ("各科室负责落实", [], [], True, False),
        ("办公室牵头，各科室配合", ["办公室"], [], True, False),
        ("人力资源和社会保障局 、 财政局负责落实", [], ["人力资源和社会保障局", "财政局"], False, False),
    ],
)
def test_department_phrases(phrase, lead, responsible, all_departments, and_related):
    assert is_department_phrase(phrase)
    result = parse_department_phrase(phrase)
    assert (result.lead, result.responsible, result.all_departments, result.and_related) == (
        lead,
        responsible,
        all_departments,
        and_related,
    )


def test_bracket_that_is_no_department_phrase():
    assert not is_department_phrase("津政办发〔2017〕100号")


def test_trailing_bracket_with_nested_brackets():
    body, inner = split_trailing_bracket("推进公开。(工委（管委会)办公室牵头、管委会各部门负责落实)")
    assert body == "推进公开。"
    assert inner == "工委（管委会)办公室牵头、管委会各部门负责落实"
    assert split_trailing_bracket("没有括号。") == ("没有括号。", None)


def test_unknown_role_in_a_bracket_is_refused():
    with pytest.raises(ValueError, match="cannot tell the role"):
        parse_department_phrase("发改局牵头，财政局")


def refused(data, name="notice.txt"):
    with pytest.raises(PlanFormatError) as info:
        parse_plan_bytes(data, name)
    return str(info.value)


def test_truncated_notice_is_refused_naming_the_line():
    cut = SEED_TEXT.index("减证照,清理各类")
    message = refused(SEED_TEXT[:cut].encode("utf-8"))
    assert message.startswith("line ")
    assert "2.2.2" in message
    assert "cut short" in message


def test_truncated_inside_the_departments_bracket_is_refused():
    cut = SEED_TEXT.index("(行政审批局、科工局、商务局")
    message = refused(SEED_TEXT[: cut + 12].encode("utf-8"))
    assert "1.2.3" in message
    assert "bracket" in message


def test_missing_item_is_refused():
    start = SEED_TEXT.index("    3.推进建议提案办理结果公开")
    end = SEED_TEXT.index("    4.落实市场准入负面清单")
    message = refused((SEED_TEXT[:start] + SEED_TEXT[end:]).encode("utf-8"))
    assert "item 4 follows item 2; expected 3" in message
    line = SEED_TEXT[:start].count("\n") + 1
    assert message.startswith(f"line {line}:")


def test_garbled_files_are_refused():
    assert "neither UTF-8 nor GB18030" in refused(bytes(range(128, 256)) * 20)
    assert "no title line" in refused("随便写的一段文字。\n没有标题。".encode())
    assert "not a readable .docx" in refused(b"PK\x03\x04 not really a zip", "notice.docx")
    assert "not a readable .xlsx" in refused(b"garbage", "table.xlsx")
    assert "unsupported file type '.pdf'" in refused(b"%PDF-1.4", "notice.pdf")
    assert "empty" in refused(b"  \n", "notice.txt")


def test_title_without_sections_is_refused():
    assert "no section heading" in refused("2018年某区政务公开工作要点\n总体要求。".encode())


@pytest.mark.parametrize("name", ["t02-jiangmen-weijian-2021.docx", "t03-guangdong-weijian-2021.xlsx"])
def test_a_package_broken_inside_is_refused_not_a_crash(name):
    from conftest import ROOT

    data = bytearray((ROOT / "tests" / "data" / "notices" / name).read_bytes())
    # Damage the compressed body of the package's largest part, keeping the zip directory intact.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as package:
        part = max(package.infolist(), key=lambda i: i.compress_size)
    start = part.header_offset + 30 + len(part.filename.encode()) + len(part.extra)
    for offset in range(start + 10, start + part.compress_size - 10, 7):
        data[offset] ^= 0x5A
    suffix = name.rsplit(".", 1)[1]
    assert f"not a readable .{suffix} file" in refused(bytes(data), name)


def test_a_package_that_unpacks_too_large_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("word/document.xml", b"\0" * (101 * 1024 * 1024))
    assert "unpacks to more than 100 MB" in refused(buffer.getvalue(), "bomb.docx")


def test_a_saved_page_with_its_footer_is_read_to_the_end(seed_plan):
    body = SEED_TEXT[: SEED_TEXT.index("附件:1.2018年")]
    # Lines a browser saves after the text; none of them starts a known trailer (附件, 扫一扫, …).
    footer = "\n".join(["", "网站地图 | 使用帮助", "天津经济技术开发区管理委员会 主办", "2018-08-14 17:10", ""])
    assert summary(parse_plan_bytes((body + footer).encode(), "page.txt")) == summary(seed_plan)


def test_items_and_groups_numbered_on_across_their_parents(seed_plan):
    # Renumber section 1's items to run on from group to group (1.-5., then 6.-10., …).
    lines, number, section = SEED_TEXT.splitlines(), 0, 0
    renumbered = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("一、", "二、")):
            section += 1
        item = re.match(r"^(\s*)(\d{1,2})\.(.*)$", line)
        if item and section == 1:
            number += 1
            line = f"{item.group(1)}{number}.{item.group(3)}"
        renumbered.append(line)
    plan = parse_plan_bytes("\n".join(renumbered).encode(), "notice.txt")
    codes = [t.code for t in plan.tasks()][:7]
    assert codes == ["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.2.6", "1.2.7"]
    assert [t.title for t in plan.tasks()] == [t.title for t in seed_plan.tasks()]


def test_a_year_in_chinese_numerals():
    text = SEED_TEXT.replace(
        "\n    2018年天津开发区政务公开重点工作安排", "\n    二〇一八年天津开发区政务公开重点工作安排"
    )
    plan = parse_plan_bytes(text.encode(), "notice.txt")
    assert plan.year == 2018 and len(plan.tasks()) == 33


def test_a_list_inside_an_item_stays_part_of_it(seed_plan):
    # Item 1.1.2 given a list of its own points (1., 2.) before its bracket.
    bracket = SEED_TEXT.index("(党建工作部牵头落实)")
    points = "具体包括：\n    1.调整权责清单；\n    2.公开调整结果。"
    plan = parse_plan_bytes((SEED_TEXT[:bracket] + points + SEED_TEXT[bracket:]).encode(), "notice.txt")
    assert [t.code for t in plan.tasks()] == [t.code for t in seed_plan.tasks()]
    task = plan.tasks()[1]
    assert task.text.endswith("具体包括：1.调整权责清单；2.公开调整结果。(党建工作部牵头落实)")
    assert task.lead == ["党建工作部"]


def test_a_bracket_whose_roles_cannot_all_be_told_is_a_warning_not_a_refusal(seed_plan):
    text = SEED_TEXT.replace("(发改局、经济运行局牵头落实)", "(发改局牵头，经济运行局)", 1)
    plan = parse_plan_bytes(text.encode(), "notice.txt")
    task = next(t for t in plan.tasks() if t.code == "1.1.4")
    assert (task.lead, task.responsible) == (["发改局"], ["经济运行局"])
    assert [w.message_zh for w in plan.warnings] == [
        "第1.1.4项：括号“(发改局牵头，经济运行局)”中有的部门看不出是牵头还是负责落实，按负责落实读取，请核对"
    ]


def test_people_in_a_labelled_bracket_are_not_departments():
    result = parse_department_phrase("牵头单位：市政府办公室；责任领导：张副市长；配合单位：市财政局")
    assert (result.lead, result.responsible) == (["市政府办公室"], ["市财政局"])


def test_the_task_sheet_is_found_behind_a_cover_sheet():
    import openpyxl

    from tracker.plans.parser.model import describe_zh

    workbook = openpyxl.Workbook()
    workbook.active.title = "说明"
    workbook.active.append(["本表由办公室汇总。"])
    sheet = workbook.create_sheet("任务")
    sheet.append(["2019年某区政务公开工作要点任务分解表"])
    sheet.append(["序号", "工作任务", "责任单位"])
    sheet.append(["1", "推进政府决策公开。", "区政府办公室"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    plan = parse_plan_bytes(buffer.getvalue(), "table.xlsx")
    assert plan.title == "2019年某区政务公开工作要点" and plan.tasks()[0].responsible == ["区政府办公室"]
    with pytest.raises(PlanFormatError) as info:
        parse_plan_bytes(b"\xd0\xcf\x11\xe0", "notice.doc")
    assert describe_zh(info.value) == "不支持.doc文件，请在Word或WPS中另存为.docx后上传"


def test_control_characters_never_reach_the_plan(seed_plan):
    text = SEED_TEXT.replace("推进政府决策公开", "推进政府\x00决策\x1f公开", 1)
    for data, name in ((text.encode(), "notice.txt"), (f"<p>{text}</p>".replace("\n", "</p><p>").encode(), "n.html")):
        plan = parse_plan_bytes(data, name)
        assert not any(ch in t.text for t in plan.tasks() for ch in "\x00\x1f")
        assert plan.tasks()[0].title.replace(" ", "") == "推进政府决策公开"


@pytest.mark.parametrize(
    "signature",
    [
        "北京市政务服务管理局\n2020年3月1日\n（此件公开发布）",
        "北京市人民政府办公厅 2020年3月1日\n（此件公开发布）",
        "北京市人民政府办公厅\n2020年3月1日印发",
        "某区人民政府办公室\n二〇二〇年三月一日\n抄送：区委办公室",
        "北京市人民政府办公厅\n（2020年3月1日）",
    ],
)
def test_a_closing_signature_ends_the_notice(seed_plan, signature):
    body = SEED_TEXT[: SEED_TEXT.index("附件:1.2018年")]
    plan = parse_plan_bytes(f"{body}\n{signature}\n".encode(), "notice.txt")
    assert summary(plan)["tasks"] == summary(seed_plan)["tasks"]
    assert str(plan.issued_on) == "2020-03-01"


def test_a_bracket_before_the_full_stop_closes_its_task():
    group = "（一）公开规划。公开规划信息（甲局负责落实）。推进协同发展（乙局负责落实）。"
    text = f"2019年某区政务公开工作要点\n一、重点领域\n{group}\n"
    plan = parse_plan_bytes(text.encode(), "notice.txt")
    assert [(t.title, t.responsible) for t in plan.tasks()] == [("公开规划", ["甲局"]), ("推进协同发展", ["乙局"])]


def test_a_numbered_heading_naming_a_year_is_no_title(seed_plan):
    text = SEED_TEXT.replace("(二)围绕重点领域加大主动公开力度。", "(二)围绕2018年重点领域加大主动公开工作安排", 1)
    plan = parse_plan_bytes(text.encode(), "notice.txt")
    assert plan.title == "2018年天津开发区政务公开重点工作安排" and len(plan.tasks()) == 33


@pytest.mark.parametrize(
    ("phrase", "lead", "responsible", "wording"),
    [
        ("市民政局、市残联负责", [], ["市民政局", "市残联"], ""),
        ("北京海关、市商务局负责", [], ["北京海关", "市商务局"], ""),
        ("市科协牵头", ["市科协"], [], ""),
        ("市政府办公厅（市政务公开办）牵头，各区负责", ["市政府办公厅(市政务公开办)"], [], "各区"),
        ("市政府办公厅牵头，市司法局、市政务服务局协同", ["市政府办公厅"], ["市司法局", "市政务服务局"], ""),
        ("市政府办公厅会同市委宣传部负责", [], ["市政府办公厅", "市委宣传部"], ""),
        ("市政府办公厅指导，各区负责", ["市政府办公厅"], [], "各区"),
        ("市直部门负责", [], [], "市直部门"),
        ("区政府组成部门负责", [], [], "区政府组成部门"),
        ("有关区政府负责", [], [], "有关区政府"),
        ("区属国有企业负责", [], [], "区属国有企业"),
    ],
)
def test_more_ways_of_naming_who_does_it(phrase, lead, responsible, wording):
    assert is_department_phrase(phrase)
    result = parse_department_phrase(phrase)
    assert (result.lead, result.responsible, result.all_wording) == (lead, responsible, wording)


@pytest.mark.parametrize("bracket", ["落实情况纳入年度绩效考核", "街道", "信息来源：北京市政务服务管理局", "试行"])
def test_brackets_that_name_no_one_are_part_of_the_text(bracket):
    assert not is_department_phrase(bracket)


def test_labelled_lines_after_a_task_belong_to_it():
    text = "\n".join(
        [
            "2019年某区政务公开工作要点",
            "一、重点工作",
            "（一）推进决策公开",
            "1.推进决策公开。做好预公开。（区政府办公室负责）",
            "完成时限：2019年12月底前。",
            "2.推进解读。做好解读。",
            "牵头单位：区政府办公室",
            "3.做好回应。回应关切。",
            "牵头单位：区政府办公室。同时要加强对各街道的指导，确保公开到位。",
            "（联系人：张三，联系电话：12345678）",
        ]
    )
    plan = parse_plan_bytes(text.encode(), "notice.txt")
    got = [(t.code, t.title, t.lead, t.responsible, t.deadline) for t in plan.tasks()]
    assert got == [
        ("1.1.1", "推进决策公开", [], ["区政府办公室"], "2019年12月底前"),
        ("1.1.2", "推进解读", ["区政府办公室"], [], ""),
        ("1.1.3.1", "做好回应", ["区政府办公室"], [], ""),
        ("1.1.3.2", "同时要加强对各街道的指导，确保公开到位", [], [], ""),
    ]


def test_a_complete_table_with_uneven_punctuation_and_a_long_cell_is_read():
    header = ["序号", "工作任务", "责任单位"]
    rows = [
        header,
        ["1", "推进政府决策公开。", "区政府办公室"],
        ["2", "做好权责清单调整和公开。", "区委编办"],
        ["3", "推进建议提案办理结果公开", "中共天津经济技术开发区工作委员会(天津经济技术开发区管理委员会)办公室"],
        [
            "4",
            "做好公开",
            "区政府办公室负责做好本单位建议提案办理结果的公开工作，及时更新，并且接受社会各界的监督和评议",
        ],
        ["5", "开放查阅", "区档案馆。区图书馆"],
    ]
    plan = parse_plan_bytes(docx_bytes(["2019年某区政务公开工作要点任务分解表"], rows), "table.docx")
    titles = ["推进政府决策公开", "做好权责清单调整和公开", "推进建议提案办理结果公开", "做好公开", "开放查阅"]
    assert [t.title for t in plan.tasks()] == titles
    assert plan.tasks()[2].responsible == ["中共天津经济技术开发区工作委员会(天津经济技术开发区管理委员会)办公室"]
    assert plan.tasks()[3].responsible == ["区政府办公室"]
    assert plan.tasks()[4].responsible == []
    assert "部门单元格“区档案馆。区图书馆”读不出部门，请在预览中指定" in [w.message_zh for w in plan.warnings]


def test_an_exported_breakdown_with_four_part_codes_is_read_back():
    rows = [["序号", "工作任务", "责任单位"], ["一、重点领域"] * 3, ["(一)公开规划"] * 3]
    rows += [
        ["1.1.1.1", "公开规划信息。", "甲局"],
        ["1.1.1.2", "推进协同发展。", "乙局"],
        ["1.1.2", "公开建设。", "丙局"],
    ]
    plan = parse_plan_bytes(docx_bytes(["2019年某区政务公开工作要点任务分解表"], rows), "table.docx")
    assert [(t.code, t.responsible) for t in plan.tasks()] == [
        ("1.1.1.1", ["甲局"]),
        ("1.1.1.2", ["乙局"]),
        ("1.1.2", ["丙局"]),
    ]


def test_a_list_inside_the_first_item_and_longer_than_its_number():
    text = "\n".join(
        [
            "2019年某区政务公开工作要点",
            "一、重点工作",
            "（一）推进决策公开",
            "1.推进重大决策公开。具体包括：",
            "1.公开决策草案；",
            "2.公开征求意见情况；",
            "3.公开决策结果。（甲局牵头）",
            "2.推进解读。（乙局负责）",
            "3.做好回应。（丙局负责）",
            "二、平台建设",
            "（一）网站",
            "(1)加强网站建设。（丁局负责）",
            "三、保障",
            "（一）组织",
            "1.加强组织领导。（戊局负责）",
            "2.加强培训。（己局负责）",
        ]
    )
    plan = parse_plan_bytes(text.encode(), "notice.txt")
    got = [(t.code, t.title, t.lead + t.responsible) for t in plan.tasks()]
    assert got == [
        ("1.1.1", "推进重大决策公开", ["甲局"]),
        ("1.1.2", "推进解读", ["乙局"]),
        ("1.1.3", "做好回应", ["丙局"]),
        ("2.1.1", "加强网站建设", ["丁局"]),
        ("3.1.1", "加强组织领导", ["戊局"]),
        ("3.1.2", "加强培训", ["己局"]),
    ]


def test_files_built_to_be_slow_are_read_quickly_or_refused(seed_plan):
    from tracker.plans.parser.model import describe_zh

    # 30,000 nested <div> around the notice: read in one pass, not in time that grows with depth.
    deep = "<div>" * 30000 + "".join(f"<p>{line}</p>" for line in SEED_TEXT.splitlines()) + "</div>" * 30000
    assert summary(parse_plan_bytes(deep.encode(), "deep.html"))["tasks"] == summary(seed_plan)["tasks"]
    # Cells spanning 500 × 500 each: refused before the grid is built.
    cells = "".join('<td colspan="500" rowspan="500">x</td>' for _ in range(200))
    page = "<table><tr><th>工作任务</th><th>责任单位</th></tr>" + f"<tr>{cells}</tr>" * 10 + "</table>"
    with pytest.raises(PlanFormatError) as info:
        parse_plan_bytes(page.encode(), "span.html")
    assert describe_zh(info.value) == "网页中的表格超过200000个单元格，无法读取"
    # A sheet whose used range reaches XFD1048576: read to the rows and columns a table has.
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["序号", "工作任务", "责任单位"])
    workbook.active.append(["1", "推进公开。", "甲局"])
    workbook.active.cell(row=1048576, column=16384, value=" ")
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert [t.responsible for t in parse_plan_bytes(buffer.getvalue(), "far.xlsx").tasks()] == [["甲局"]]


def test_a_project_column_naming_each_row_is_the_task_not_a_section():
    rows = [["序号", "项目", "具体要求", "责任单位"]]
    rows += [[str(n), f"第{n}项公开工作", f"做好第{n}项工作的公开。", "区政府办公室"] for n in range(1, 121)]
    plan = parse_plan_bytes(docx_bytes(["2019年某区政务公开重点任务清单"], rows), "table.docx")
    assert len(plan.sections) == 1 and len(plan.tasks()) == 120
    assert plan.tasks()[119].title == "第120项公开工作"
    # Each row is a group of its own: numbers past 99 are written in digits on the pages.
    from tracker.models.plan import chinese_numeral

    assert [chinese_numeral(n) for n in (99, 100, 120)] == ["九十九", "100", "120"]


def test_parts_and_right_bracket_items():
    text = "\n".join(
        [
            "2020年某县政务公开工作要点",
            "第一部分 重点领域公开",
            "（一）财政信息",
            "1）公开预决算。（县财政局负责）",
            "2）公开专项资金。（县财政局、县审计局负责）",
            "第二部分 保障措施",
            "（一）加强领导。各乡镇、各部门要加强领导。",
        ]
    )
    plan = parse_plan_bytes(text.encode(), "notice.txt")
    assert [s.title for s in plan.sections] == ["重点领域公开", "保障措施"]
    got = [(t.code, t.title, t.responsible, t.all_departments) for t in plan.tasks()]
    assert got == [
        ("1.1.1", "公开预决算", ["县财政局"], False),
        ("1.1.2", "公开专项资金", ["县财政局", "县审计局"], False),
        ("2.1", "加强领导", [], True),
    ]


def test_a_docx_numbered_by_word_lists_gives_the_same_plan(seed_plan):
    """Sections, groups and items numbered by Word's lists (the numbers are not text)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    numbering = document.part.numbering_part.element
    levels = [("chineseCounting", "%1、"), ("chineseCounting", "(%2)"), ("decimal", "%3.")]
    abstract = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="{text}"/></w:lvl>'
        for i, (fmt, text) in enumerate(levels)
    )
    numbering.append(parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">{abstract}</w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    patterns = [
        re.compile(r"^[一二三四五六七八九十]+、"),
        re.compile(r"^\([一二三四五六七八九十]+\)"),
        re.compile(r"^\d+\."),
    ]
    for line in SEED_TEXT.splitlines():
        text = line.strip()
        level = next((i for i, p in enumerate(patterns) if p.match(text)), None)
        if level is None or text.startswith("附件"):
            document.add_paragraph(text)
            continue
        paragraph = document.add_paragraph(patterns[level].sub("", text))
        paragraph._p.get_or_add_pPr().append(
            parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>')
        )
    buffer = io.BytesIO()
    document.save(buffer)
    assert summary(parse_plan_bytes(buffer.getvalue(), "notice.docx")) == summary(seed_plan)


@pytest.mark.parametrize(("suffix", "part"), [("xlsx", "xl/workbook.xml"), ("docx", "word/document.xml")])
def test_entity_bombs_and_external_entities_are_refused_quickly(suffix, part):
    """Issue 12, item 7: a package whose XML declares entities is refused, never expanded."""
    from conftest import ROOT

    from tracker.plans.parser.model import describe_zh

    source = (ROOT / "tests" / "data" / "notices").glob(f"*.{suffix}")
    data = next(iter(sorted(source))).read_bytes()
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    hostile = f'<?xml version="1.0"?><!DOCTYPE x [{lol}<!ENTITY ext SYSTEM "file:///etc/passwd">]>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as original, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in original.infolist():
            body = original.read(item.filename)
            if item.filename == part:
                body = re.sub(rb"^<\?xml[^>]*\?>", b"", body.lstrip())
                body = hostile.encode() + re.sub(rb"(<[a-z:]+Pr?\b)", rb"\1", body, count=1).replace(
                    b">", b">&l9;&ext;", 1
                )
            copy.writestr(item, body)
    with pytest.raises(PlanFormatError) as info:
        parse_plan_bytes(buffer.getvalue(), f"hostile.{suffix}")
    assert describe_zh(info.value) == f"不是可读取的.{suffix}文件"
