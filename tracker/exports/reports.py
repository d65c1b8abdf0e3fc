"""The report workbooks: a quarter's, a department's year, the leaders' summary, a half-year's summaries.

Pure builders: the data comes from :mod:`tracker.exports.queries`, a workbook
(:class:`~.book.Book`) goes out. Every workbook's first rows name the plan, the period and when it was made.
"""

import math

from ..models import Channel, CountKind
from ..timeutil import local_date
from .book import Book
from .sheet import Column, TableSheet


def _subtitle(info, produced):
    return f"{info['title']}　　制表时间：{produced:%Y-%m-%d %H:%M}"


def _rate(part, whole):
    return part / whole if whole else None


class _Sheets:
    """Add titled sheets with their header row to one workbook."""

    def __init__(self, book, title):
        self.book = book
        self.title = title

    def __call__(self, name, columns):
        """Start the sheet ``name``: title rows, then the header of ``columns``."""
        table = TableSheet(self.book, name, columns)
        table.title(*self.title(name))
        table.header()
        return table


COMPLETION_COLUMNS = [
    Column("序号", 6, "center"),
    Column("部门", 24),
    Column("任务数", 8, "number"),
    Column("已报任务", 9, "number"),
    Column("已完成", 8, "number"),
    Column("完成率", 8, "percent"),
    Column("报送状态", 10, "center"),
    Column("报送时间", 17, "datetime"),
    Column("是否按时", 12, "center"),
    Column("退回次数", 9, "number"),
]

PROGRESS_COLUMNS = [
    Column("任务", 9, "center"),
    Column("部门", 18),
    Column("职责", 7, "center"),
    Column("进展", 9, "center"),
    Column("完成情况", 48),
    Column("存在问题", 28),
    Column("下一步计划", 28),
]

OVERDUE_COLUMNS = [
    Column("序号", 6, "center"),
    Column("部门", 24),
    Column("情况", 14, "center"),
    Column("截止日期", 12, "date"),
    Column("逾期天数", 9, "number"),
    Column("已催办次数", 10, "number"),
    Column("最近催办", 17, "datetime"),
]


def build_quarter(info, period_label, data, produced):
    """Build the quarter workbook: 完成情况汇总, 任务进展, 信息报送发布统计, 逾期未报.

    It is not streamed: XlsxWriter writes it about a sixth faster held in memory (its repeated
    texts, 未报送 and the department names, are stored once), and a city's quarter stays well
    under 200 MB (see bench/export.py).
    """
    with Book(streamed=False) as book:
        sheets = _Sheets(book, lambda name: (f"{period_label}政务公开工作{name}", _subtitle(info, produced)))
        _completion_sheet(sheets("完成情况汇总", COMPLETION_COLUMNS), data["completion"])
        _progress_sheet(sheets("任务进展", PROGRESS_COLUMNS), data["progress"])
        _counts_sheet(sheets, data["counts"])
        _overdue_sheet(sheets("逾期未报", OVERDUE_COLUMNS), data["overdue"])
    return book


def _completion_sheet(summary, rows):
    """Fill 完成情况汇总: a row per department, then the totals."""
    totals = [0, 0, 0, 0]
    for number, row in enumerate(rows, 1):
        summary.row(
            [
                number,
                row["department"],
                row["tasks"],
                row["reported"],
                row["done"],
                _rate(row["done"], row["reported"]),
                row["state"],
                row["submitted_at"],
                row["timeliness"],
                row["returned"],
            ]
        )
        totals = [
            a + b for a, b in zip(totals, (row["tasks"], row["reported"], row["done"], row["returned"]), strict=True)
        ]
    summary.row(
        ["合计", None, totals[0], totals[1], totals[2], _rate(totals[2], totals[1]), None, None, None, totals[3]],
        style="total",
        merge=(1, 2),
        kinds=[None] * 5 + ["total_percent"] + [None] * 4,
    )
    summary.finish()


def _progress_sheet(progress, tasks):
    """Fill 任务进展: each task as a heading, then what each of its departments reported."""
    for task in tasks:
        progress.heading(f"{task['code']}　{task['title']}")
        for line in task["lines"]:
            progress.row(
                [
                    task["code"],
                    line["department"],
                    line["role"],
                    line["status"],
                    line["done"],
                    line["problems"],
                    line["next_steps"],
                ]
            )
    progress.finish()


def _counts_sheet(sheets, rows):
    """Add and fill 信息报送发布统计: each department's information submitted and published by channel, totals."""
    channels = list(Channel)
    counts = sheets(
        "信息报送发布统计",
        [Column("序号", 6, "center"), Column("部门", 22)]
        + [Column(f"报送·{c.label}", 11, "number") for c in channels]
        + [Column("报送合计", 9, "number")]
        + [Column(f"发布·{c.label}", 11, "number") for c in channels]
        + [Column("发布合计", 9, "number")],
    )
    sums = [0] * (2 * len(channels) + 2)
    for number, row in enumerate(rows, 1):
        values = []
        for kind in (CountKind.SUBMITTED, CountKind.PUBLISHED):
            part = [row["values"][(kind, c)] for c in channels]
            values += [*part, sum(part)]
        sums = [a + b for a, b in zip(sums, values, strict=True)]
        counts.row([number, row["department"], *values])
    counts.row(["合计", None, *sums], style="total", merge=(1, 2))
    counts.finish()


def _overdue_sheet(overdue, rows):
    """Fill 逾期未报: the departments whose form is overdue, with the chase so far."""
    for number, row in enumerate(rows, 1):
        overdue.row(
            [
                number,
                row["department"],
                row["state"],
                row["due_on"],
                row["days"],
                row["reminders"],
                row["last_reminder"],
            ]
        )
    if not rows:
        overdue.row(["无逾期未报的部门。", None, None, None, None, None, None], style="text", merge=(1, 7))
    overdue.finish()


def _listing(sheet_name, title, subtitle, fields, rows):
    """Build a one-sheet workbook numbering ``rows``: ``fields`` are ``(header, width, kind, key)``.

    ``key`` names the row's value (a dict key), or is a function of the row.
    """
    columns = [Column("序号", 6, "center")] + [Column(h, w, k) for h, w, k, _ in fields]
    with Book() as book:
        table = TableSheet(book, sheet_name, columns)
        table.title(title, subtitle)
        table.header()
        for number, row in enumerate(rows, 1):
            table.row([number, *(key(row) if callable(key) else row[key] for _, _, _, key in fields)])
        table.finish()
    return book


DEPARTMENT_FIELDS = [
    ("报送期", 16, "center", "period"),
    ("事项", 18, "text", "item"),
    ("状态", 10, "center", "state"),
    ("截止日期", 12, "date", "due_on"),
    ("首次报送", 17, "datetime", "submitted_at"),
    ("是否按时", 10, "center", "timeliness"),
    ("退回次数", 9, "number", "returned"),
    ("审核通过", 17, "datetime", "accepted_at"),
    ("任务数", 8, "number", "lines"),
    ("已完成", 8, "number", "done"),
    ("退回原因", 30, "text", "return_reason"),
]

HALF_FIELDS = [
    ("部门", 22, "text", "department"),
    ("状态", 10, "center", "state"),
    ("截止日期", 12, "date", "due_on"),
    ("报送时间", 17, "datetime", "submitted_at"),
    ("是否按时", 10, "center", "timeliness"),
    ("退回次数", 9, "number", "returned"),
    ("审核通过", 17, "datetime", "accepted_at"),
    ("总结摘要", 50, "text", "excerpt"),
    ("总结文件", 24, "text", "document"),
    ("填报人", 18, "text", "filled_by"),
]

#: The chase ledger (催办台账), read from ledger rows (ChaseEntry).
LEDGER_FIELDS = [
    ("催办日期", 12, "center", lambda e: local_date(e.at).isoformat()),
    ("部门", 20, "text", lambda e: e.department.name),
    ("报送期", 16, "center", lambda e: e.subject_zh),
    ("事项", 18, "text", lambda e: e.item.label),
    ("催办步骤", 22, "text", lambda e: e.step.name),
    ("截止日期", 12, "center", lambda e: e.due_on.isoformat()),
    ("接收人", 40, "text", lambda e: e.recipients_zh),
    ("方式", 14, "center", lambda e: e.channels_zh),
    ("结果", 14, "center", lambda e: e.result.label),
    ("说明", 30, "text", lambda e: e.detail),
]


def build_department(info, department, rows, produced):
    """Build one department's year: every quarterly form and half-year summary, with states and dates."""
    title = f"{department}{info['year']}年政务公开工作报送情况"
    return _listing("全年报送情况", title, _subtitle(info, produced), DEPARTMENT_FIELDS, rows)


def build_half(info, period_label, rows, produced):
    """Build the half-year summaries workbook: state, dates, an excerpt and the file of each department."""
    title = f"{period_label}政务公开工作总结报送情况"
    return _listing("半年工作总结", title, _subtitle(info, produced), HALF_FIELDS, rows)


def build_ledger(entries, today_):
    """Build the chase ledger download from ledger rows, as the ledger page shows them."""
    return _listing("催办台账", "政务公开工作催办台账", f"导出日期：{today_.isoformat()}", LEDGER_FIELDS, entries)


def build_summary(info, scope_label, data, produced):
    """Build the leaders' summary: a one-page brief with two charts, then a sheet per section."""
    with Book() as book:
        brief = TableSheet(book, "总体情况", BRIEF_COLUMNS)
        brief.title(f"{scope_label}政务公开工作情况简报", _subtitle(info, produced))
        brief.header()
        _brief_figures(brief, data)
        chart_rows = _brief_chart_data(brief, data)
        brief.finish()
        _brief_charts(brief, data, *chart_rows)
        sheets = _Sheets(book, lambda name: (f"{name}（{scope_label}）", _subtitle(info, produced)))
        for section in data["sections"]:
            _section_sheet(sheets(f"{section['numeral']}、{section['title']}", SECTION_COLUMNS), section)
    return book


BRIEF_COLUMNS = [Column("项目", 26), Column("数值", 12, "number"), Column("说明", 40), Column("", 4), Column("", 4)]


#: 应报送表数 says which forms count: all of them while the forms are still coming in.
EXPECTED_NOTE = {
    False: "截止日期已过或已报送的季度完成情况报送表",
    True: "全部季度完成情况报送表（报送尚未截止）",
}

SECTION_COLUMNS = [
    Column("任务", 9, "center"),
    Column("工作任务", 50),
    Column("已报", 8, "number"),
    Column("已完成", 8, "number"),
    Column("完成率", 9, "percent"),
]

_PERCENT = [None, "percent", None, None, None]


def _brief_figures(brief, data):
    """Write the brief's figures: the rates, each section's completion, the most overdue departments."""
    expected, submitted, on_time = data["expected"], data["submitted"], data["on_time"]
    note = EXPECTED_NOTE[bool(data.get("all_expected"))]
    brief.row(["应报送表数", expected, note, None, None], merge=(3, 5))
    brief.row(["已报送", submitted, None, None, None], merge=(3, 5))
    brief.row(["报送率", _rate(submitted, expected), "已报送 ÷ 应报送", None, None], merge=(3, 5), kinds=_PERCENT)
    brief.row(["按时报送率", _rate(on_time, expected), "按时报送 ÷ 应报送", None, None], merge=(3, 5), kinds=_PERCENT)
    brief.heading("各部分任务完成情况")
    for section in data["sections"]:
        brief.row(
            [
                f"{section['numeral']}、{section['title']}",
                _rate(section["done"], section["lines"]),
                f"已完成 {section['done']} / 已报 {section['lines']} 项",
                None,
                None,
            ],
            merge=(3, 5),
            kinds=_PERCENT,
        )
    brief.heading("逾期最多的部门")
    for row in data["overdue"][:10]:
        note = f"逾期未报 {row['forms']} 张报送表，最长逾期 {row['days']} 天"
        brief.row([row["department"], row["days"], note, None, None], merge=(3, 5))
    if not data["overdue"]:
        brief.row(["无逾期未报的部门", None, None, None, None], merge=(3, 5))


def _brief_chart_data(brief, data):
    """Write the rows the two charts read; return ``(first, last)`` of the departments' and the counts' first row."""
    brief.heading("图表数据：各部门任务完成率（图一）；各季度信息报送数、发布数（图二）")
    chart_start = brief.row_number + 1
    for row in data["departments"]:
        brief.row([row["department"], _rate(row["done"], row["lines"]), None, None, None], kinds=_PERCENT)
    chart_end = brief.row_number
    counts_start = brief.row_number + 1
    for row in data["counts"]:
        brief.row(
            [row["label"], row["submitted"], row["published"], None, None], kinds=[None, None, "number", None, None]
        )
    return chart_start, chart_end, counts_start


#: Centimetres to pixels (XlsxWriter sizes a chart in pixels of 1/96 inch).
PX_PER_CM = 96 / 2.54
#: Excel's default column width (64 pixels), as its dialog shows it.
EXCEL_COLUMN_WIDTH = 8.43


def _brief_charts(brief, data, chart_start, chart_end, counts_start):
    """Add the two charts beside the brief: each department's completion, each quarter's counts.

    ``chart_start`` and the others are row numbers from 1, as the brief counts its rows.
    """
    workbook, name = brief.book.workbook, brief.sheet.name
    # A chart is anchored to the cells it covers, measured with Excel's default column width: the
    # columns beside the brief have that width written out, so that a program whose default
    # columns are wider (LibreOffice's) does not draw the charts wider.
    brief.sheet.set_column(len(BRIEF_COLUMNS), 18, EXCEL_COLUMN_WIDTH)
    first_height = 0
    if data["departments"]:
        chart = workbook.add_chart({"type": "bar"})
        chart.add_series(
            {
                "categories": [name, chart_start - 1, 0, chart_end - 1, 0],
                "values": [name, chart_start - 1, 1, chart_end - 1, 1],
            }
        )
        chart.set_title({"name": "各部门任务完成率"})
        # A bar chart's values run along its x axis.
        chart.set_x_axis({"name": "完成率", "num_format": "0%", "min": 0, "max": 1})
        chart.set_legend({"none": True})
        first_height = max(7.5, 0.6 * len(data["departments"]))
        chart.set_size({"width": round(18 * PX_PER_CM), "height": round(first_height * PX_PER_CM)})
        brief.sheet.insert_chart("G3", chart)
    if data["counts"]:
        chart = workbook.add_chart({"type": "column"})
        last = counts_start + len(data["counts"]) - 1
        for column, title in ((1, "报送"), (2, "发布")):
            chart.add_series(
                {
                    "name": title,
                    "categories": [name, counts_start - 1, 0, last - 1, 0],
                    "values": [name, counts_start - 1, column, last - 1, column],
                }
            )
        chart.set_title({"name": "各季度信息报送、发布数"})
        chart.set_y_axis({"min": 0})  # bars start at zero, or a small difference looks large
        chart.set_size({"width": round(18 * PX_PER_CM), "height": round(7.5 * PX_PER_CM)})
        # Below the first chart: a default row is about 0.53 cm high.
        brief.sheet.insert_chart(f"G{4 + math.ceil(first_height / 0.53) + 2}", chart)


def _section_sheet(table, section):
    """Fill a section's sheet: each task's lines reported and done, then the section's totals."""
    for task in section["tasks"]:
        table.row([task["code"], task["title"], task["lines"], task["done"], _rate(task["done"], task["lines"])])
    table.row(
        ["合计", None, section["lines"], section["done"], _rate(section["done"], section["lines"])],
        style="total",
        merge=(1, 2),
        kinds=[None] * 4 + ["total_percent"],
    )
    table.finish()
