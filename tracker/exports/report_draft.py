"""A .docx draft of the whole annual report (政府信息公开工作年度报告), for the office to edit.

Six parts; Tables 2, 3 and 4 filled in from :func:`tracker.disclosure.tables.annual_tables`;
parts 一 and 五 seeded from the departments' half-year summaries of the year. Pure builder.
"""

import re

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from ..disclosure.tables import TABLE2_LAYOUTS
from ..models import ApplicantType, CaseKind, CaseResult
from ..models.disclosure import OUTCOME_GROUPS
from .annual import NOTE

#: Sentences of a summary that speak of problems or improvements, for part 五.
PROBLEM_WORDS = re.compile("问题|不足|短板|差距|改进|下一步|整改")


def xml_text(text):
    """Return ``text`` as a Word document can hold it: Word's soft line break (\\x0b) and a page
    break (\\x0c) become line breaks, other control characters (NUL …) are left out."""
    return re.sub(r"[\x00-\x08\x0e-\x1f\x7f]", "", re.sub(r"[\x0b\x0c]", "\n", text or ""))


def _font(run, size=12, bold=False, name="仿宋"):
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = name
    run._element.rPr.rFonts.set(qn("w:eastAsia"), name)
    return run


def _paragraph(document, text, size=12, bold=False, name="仿宋", center=False, indent=True):
    paragraph = document.add_paragraph()
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    _font(paragraph.add_run(xml_text(text)), size, bold, name)
    return paragraph


def _table(document, rows, columns):
    table = document.add_table(rows=rows, cols=columns)
    table.style = "Table Grid"
    return table


def _put(table, row, column, value, bold=False):
    cell = table.cell(row, column)
    cell.text = ""
    run = cell.paragraphs[0].add_run("" if value is None else xml_text(str(value)))
    _font(run, 10, bold, "宋体")
    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    return cell


def _merge(table, first, last, value, bold=True):
    merged = table.cell(*first).merge(table.cell(*last))
    merged.text = ""
    run = merged.paragraphs[0].add_run(xml_text(value))
    _font(run, 10, bold, "宋体")
    merged.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    return merged


def _table2(document, tables):
    for title, columns, rows in TABLE2_LAYOUTS[tables["layout"]]:
        table = _table(document, 2 + len(rows), 1 + len(columns))
        _merge(table, (0, 0), (0, len(columns)), title)
        _put(table, 1, 0, "信息内容", bold=True)
        for index, column in enumerate(columns, 1):
            _put(table, 1, index, column, bold=True)
        for number, (label, keys) in enumerate(rows, 2):
            _put(table, number, 0, label)
            for index, key in enumerate(keys, 1):
                _put(table, number, index, tables["table2"].get(key, "") or "")
        document.add_paragraph()


def _table3(document, tables):
    t3 = tables["table3"]
    columns = [*ApplicantType, "total"]
    outcome_rows = sum(len(reasons) or 1 for _, reasons in OUTCOME_GROUPS.values()) + 1
    table = _table(document, 3 + 2 + outcome_rows + 1, 10)
    _merge(table, (0, 0), (2, 2), NOTE)
    _merge(table, (0, 3), (0, 9), "申请人情况")
    _merge(table, (1, 3), (2, 3), "自然人")
    _merge(table, (1, 4), (1, 8), "法人或其他组织")
    _merge(table, (1, 9), (2, 9), "总计")
    for index, kind in enumerate(list(ApplicantType)[1:]):
        _put(table, 2, 4 + index, kind.label, bold=True)

    def counts(row, key):
        for index, column in enumerate(columns):
            _put(table, row, 3 + index, t3[key][column])

    _merge(table, (3, 0), (3, 2), "一、本年新收政府信息公开申请数量", bold=False)
    counts(3, "new")
    _merge(table, (4, 0), (4, 2), "二、上年结转政府信息公开申请数量", bold=False)
    counts(4, "carried_in")
    row = 5
    for group, (title, reasons) in OUTCOME_GROUPS.items():
        if reasons:
            _merge(table, (row, 1), (row + len(reasons) - 1, 1), title, bold=False)
            for number, reason in enumerate(reasons, 1):
                _put(table, row, 2, f"{number}.{reason}")
                counts(row, f"{group}:{number}")
                row += 1
        else:
            _merge(table, (row, 1), (row, 2), title, bold=False)
            counts(row, group)
            row += 1
    _merge(table, (row, 1), (row, 2), "（七）总计", bold=False)
    counts(row, "answered_total")
    _merge(table, (5, 0), (row, 0), "三、本年度办理结果", bold=False)
    row += 1
    _merge(table, (row, 0), (row, 2), "四、结转下年度继续办理", bold=False)
    counts(row, "carried_out")


def _table4(document, tables):
    t4 = tables["table4"]
    table = _table(document, 4, 15)
    _merge(table, (0, 0), (0, 4), "行政复议")
    _merge(table, (0, 5), (0, 14), "行政诉讼")
    _merge(table, (1, 5), (1, 9), "未经复议直接起诉")
    _merge(table, (1, 10), (1, 14), "复议后起诉")
    names = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    for block, kind in enumerate(CaseKind):
        for index, (name, key) in enumerate(zip(names, [*CaseResult, "total"], strict=True)):
            if block == 0:
                _merge(table, (1, index), (2, index), name)
            else:
                _put(table, 2, 5 * block + index, name, bold=True)
            _put(table, 3, 5 * block + index, t4[kind][key])


def _heading(document, text):
    """Write a part's heading (一、总体情况 …)."""
    _paragraph(document, text, 16, True, "黑体", indent=False)


def _failures(document, failures):
    """Warn in red, under the title, of every identity the tables fail."""
    if not failures:
        return
    warning = _paragraph(document, "注意：以下表格未通过勾稽关系校验，发布前须核实台账：", 12, True, indent=False)
    warning.runs[0].font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    for failure in failures:
        _paragraph(document, failure, 11, indent=False).runs[0].font.color.rgb = RGBColor(0xC0, 0x00, 0x00)


def _overview(document, year, summaries):
    """Write part 一's body: the summaries' non-blank lines, each department named once, or a prompt."""
    if not summaries:
        _paragraph(document, f"（{year}年尚无已报送的半年工作总结，请办公室填写。）")
        return
    _paragraph(document, f"（以下内容摘自各部门{year}年半年工作总结，请提炼为本机关的总体情况。）", 12)
    for name, text in summaries:
        for number, line in enumerate(line for line in text.splitlines() if line.strip()):
            _paragraph(document, (f"【{name}】" if number == 0 else "") + line.strip())


def _problems(document, summaries):
    """Write part 五's body: the summaries' sentences about problems and improvements, or a prompt."""
    problems = [
        (name, sentence.strip())
        for name, text in summaries
        for sentence in re.split(r"(?<=[。；])|\n", text)
        if sentence.strip() and PROBLEM_WORDS.search(sentence)
    ]
    if not problems:
        _paragraph(document, "（请办公室填写存在的主要问题及改进情况。）")
        return
    _paragraph(document, "（以下内容摘自各部门半年工作总结中的问题和改进措施，请归纳。）")
    for name, sentence in problems:
        _paragraph(document, f"【{name}】{sentence}")


def build_report_draft(organisation, tables, summaries):
    """Build the draft: ``summaries`` is a list of (department name, summary text) of the year."""
    document = Document()
    year = tables["year"]
    _paragraph(document, f"{organisation}{year}年政府信息公开工作年度报告", 18, True, "黑体", center=True)
    _paragraph(document, "（草稿，由系统生成，请办公室修改完善后发布）", 12, center=True)
    _failures(document, tables["failures"])
    _paragraph(
        document,
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）第五十条规定编制。报告全文包括总体情况、"
        f"主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、存在的主要问题及"
        f"改进情况、其他需要报告的事项。本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。",
    )
    _heading(document, "一、总体情况")
    _overview(document, year, summaries)
    _heading(document, "二、主动公开政府信息情况")
    _table2(document, tables)
    _heading(document, "三、收到和处理政府信息公开申请情况")
    _table3(document, tables)
    _heading(document, "四、政府信息公开行政复议、行政诉讼情况")
    _table4(document, tables)
    _heading(document, "五、存在的主要问题及改进情况")
    _problems(document, summaries)
    _heading(document, "六、其他需要报告的事项")
    _paragraph(document, "（如收取信息处理费等情况，请办公室填写；没有的写“无”。）")
    return document
