"""The annual report's tables: Table 2 as entered, Tables 3 and 4 computed, and every identity checked.

Table 3 is computed from the register for year Y: an application received before Y and not
answered by 1 January Y is 上年结转; one received in Y counts in 本年新收; one answered in Y counts
under its outcome; one not answered by 31 December Y is 结转下年度. Nothing is ever adjusted to
make the identities hold: a failure is reported as it is.
"""

import datetime

from ..extensions import db
from ..models import (
    AnnualReport,
    ApplicantType,
    Application,
    CaseKind,
    CaseResult,
    Department,
    DisclosureFigures,
    HalfYearSummary,
    ReportingPeriod,
    ReviewCase,
)
from ..models.disclosure import OUTCOME_GROUPS, outcome_codes
from ..workflow import REPORTED

#: Table 3's columns, in order; the last is 总计.
COLUMNS = [*list(ApplicantType), "total"]

#: Table 3's rows: new, carried in, each outcome, the outcomes' total, carried out.
ROWS = ["new", "carried_in", *outcome_codes(), "answered_total", "carried_out"]

#: Table 2's layouts: sections of (title, column headers, rows of (label, value keys)).
TABLE2_LAYOUTS = {
    "2021": [
        (
            "第二十条第（一）项",
            ["本年制发件数", "本年废止件数", "现行有效件数"],
            [
                ("规章", ["rules_made", "rules_repealed", "rules_in_force"]),
                ("行政规范性文件", ["norms_made", "norms_repealed", "norms_in_force"]),
            ],
        ),
        ("第二十条第（五）项", ["本年处理决定数量"], [("行政许可", ["licensing_decisions"])]),
        (
            "第二十条第（六）项",
            ["本年处理决定数量"],
            [("行政处罚", ["penalty_decisions"]), ("行政强制", ["enforcement_decisions"])],
        ),
        ("第二十条第（八）项", ["本年收费金额（单位：万元）"], [("行政事业性收费", ["fees_amount"])]),
    ],
    "2019": [
        (
            "第二十条第（一）项",
            ["本年新制作数量", "本年新公开数量", "对外公开总数量"],
            [
                ("规章", ["rules_made", "rules_published", "rules_total"]),
                ("规范性文件", ["norms_made", "norms_published", "norms_total"]),
            ],
        ),
        (
            "第二十条第（五）项",
            ["上一年项目数量", "本年增/减", "处理决定数量"],
            [
                ("行政许可", ["licensing_previous", "licensing_change", "licensing_decisions"]),
                ("其他对外管理服务事项", ["services_previous", "services_change", "services_decisions"]),
            ],
        ),
        (
            "第二十条第（六）项",
            ["上一年项目数量", "本年增/减", "处理决定数量"],
            [
                ("行政处罚", ["penalty_previous", "penalty_change", "penalty_decisions"]),
                ("行政强制", ["enforcement_previous", "enforcement_change", "enforcement_decisions"]),
            ],
        ),
        (
            "第二十条第（八）项",
            ["上一年项目数量", "本年增/减"],
            [("行政事业性收费", ["fees_previous", "fees_change"])],
        ),
        (
            "第二十条第（九）项",
            ["采购项目数量", "采购总金额"],
            [("政府集中采购", ["procurement_count", "procurement_amount"])],
        ),
    ],
}


def default_layout(year):
    """Return the layout the year's report uses: the current one from 2021, the 2019-2020 one before."""
    return "2021" if year >= 2021 else "2019"


def table2_keys(layout):
    """Return every value key of a Table 2 layout, in order."""
    return [key for _, _, rows in TABLE2_LAYOUTS[layout] for _, keys in rows for key in keys]


def table2(year, layout):
    """Return the office's Table 2 figures of ``year`` (key → text; blanks where none were entered)."""
    figures = DisclosureFigures.query.filter_by(year=year).one_or_none()
    values = figures.values if figures is not None and figures.layout == layout else {}
    return {key: values.get(key, "") for key in table2_keys(layout)}


def _table3_rows(application, first, last):
    """Return the Table 3 rows ``application`` counts in, for the year from ``first`` to ``last``."""
    received, answered = application.received_on, application.answered_on
    rows = []
    if first <= received:
        rows.append("new")
    elif answered is None or answered >= first:
        rows.append("carried_in")
    if answered is not None and first <= answered <= last:
        if application.outcome in ROWS:
            rows.append(application.outcome)
        rows.append("answered_total")
    if answered is None or answered > last:
        rows.append("carried_out")
    return rows


def table3(year):
    """Compute Table 3 of ``year`` from the register: row → column → count."""
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    table = {row: dict.fromkeys(COLUMNS, 0) for row in ROWS}
    applications = Application.query.filter(Application.received_on <= last).filter(
        (Application.answered_on.is_(None)) | (Application.answered_on >= first)
    )
    for application in applications:
        for row in _table3_rows(application, first, last):
            table[row][application.applicant_type] += 1
            table[row]["total"] += 1
    return table


def table4(year):
    """Count Table 4 of ``year``: the cases received in the year by kind and result, with totals."""
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    table = {kind: {**dict.fromkeys(CaseResult, 0), "total": 0} for kind in CaseKind}
    for case in ReviewCase.query.filter(ReviewCase.received_on.between(first, last)):
        table[case.kind][case.result] += 1
        table[case.kind]["total"] += 1
    return table


def row_label(row):
    """Return the Chinese label of a Table 3 row key, as the checks name it."""
    if row == "new":
        return "一、本年新收"
    if row == "carried_in":
        return "二、上年结转"
    if row == "answered_total":
        return "三、（七）总计"
    if row == "carried_out":
        return "四、结转下年度继续办理"
    group, _, number = row.partition(":")
    title, reasons = OUTCOME_GROUPS[group]
    return f"三、{title}" + (f"{number}.{reasons[int(number) - 1]}" if number else "")


def column_label(column):
    """Return the Chinese label of a Table 3 column key."""
    return "总计" if column == "total" else column.label


def _column_failures(t3):
    """Check each Table 3 column: 一 + 二 = 三(七) + 四, and 三(七) is the sum of the outcomes."""
    failures = []
    outcomes = outcome_codes()
    for column in COLUMNS:
        name = column_label(column)
        left = t3["new"][column] + t3["carried_in"][column]
        right = t3["answered_total"][column] + t3["carried_out"][column]
        if left != right:
            failures.append(
                f"表三“{name}”列：一（{t3['new'][column]}）+ 二（{t3['carried_in'][column]}）= {left}，"
                f"不等于 三（七）（{t3['answered_total'][column]}）+ 四（{t3['carried_out'][column]}）= {right}。"
            )
        outcome_sum = sum(t3[row][column] for row in outcomes)
        if outcome_sum != t3["answered_total"][column]:
            failures.append(
                f"表三“{name}”列：各项办理结果之和为 {outcome_sum}，"
                f"不等于 三（七）总计 {t3['answered_total'][column]}。"
            )
    return failures


def _row_failures(t3):
    """Check each Table 3 row: 总计 is the sum of the six applicant columns."""
    failures = []
    for row in ROWS:
        parts = sum(t3[row][c] for c in ApplicantType)
        if parts != t3[row]["total"]:
            failures.append(f"表三“{row_label(row)}”行：各类申请人之和为 {parts}，不等于总计 {t3[row]['total']}。")
    return failures


def _carried_in_failures(year, t3):
    """Check this year's 二 against last year's 四 as finalised; nothing to check if it was not."""
    previous = AnnualReport.query.filter_by(year=year - 1).one_or_none()
    if previous is None:  # without it, last year's 四 would be computed from the same rows: no check
        return []
    failures = []
    before = previous.tables["table3"]["carried_out"]
    for column in COLUMNS:
        was = before.get(str(column), 0)
        if was != t3["carried_in"][column]:
            failures.append(
                f"表三“{column_label(column)}”列：本年“二、上年结转”为 {t3['carried_in'][column]}，"
                f"与{year - 1}年定稿报告“四、结转下年度继续办理” {was} 不一致。"
            )
    return failures


def _finalised_failures(year, t3):
    """Report every Table 3 cell that differs from this year's finalised report, if there is one."""
    this = AnnualReport.query.filter_by(year=year).one_or_none()
    if this is None:
        return []
    failures = []
    kept = this.tables["table3"]
    for row in ROWS:
        for column in COLUMNS:
            was = kept.get(row, {}).get(str(column), 0)
            if was != t3[row][column]:
                failures.append(
                    f"表三“{row_label(row)}”行“{column_label(column)}”列：定稿后台账有改动，"
                    f"现为 {t3[row][column]}，定稿时为 {was}。"
                )
    return failures


def _table4_failures(t4):
    """Check Table 4: each 总计 is the sum of the four results before it."""
    failures = []
    for kind, results in t4.items():
        parts = sum(results[r] for r in CaseResult)
        if parts != results["total"]:
            failures.append(
                f"表四“{kind.label}”：结果维持、纠正、其他、尚未审结之和为 {parts}，不等于总计 {results['total']}。"
            )
    return failures


def check(year, t3, t4):
    """Check every identity of the year's tables; return the failures, each a Chinese sentence.

    - Table 3, per column: 一 + 二 = 三(七) + 四; 三(七) is the sum of the outcomes; 总计 is the
      sum of the six applicant columns.
    - Table 3: this year's 二 equals last year's 四 (as finalised, if it was).
    - Table 4: each 总计 is the sum of the four results before it.
    """
    return [
        *_column_failures(t3),
        *_row_failures(t3),
        *_carried_in_failures(year, t3),
        *_finalised_failures(year, t3),
        *_table4_failures(t4),
    ]


def annual_tables(year, layout=None):
    """Return everything the annual report shows: layout, Tables 2-4 and the check's failures."""
    layout = layout or default_layout(year)
    t3, t4 = table3(year), table4(year)
    notes = []
    if AnnualReport.query.filter_by(year=year - 1).one_or_none() is None:
        notes.append(
            f"{year - 1}年报告未在本系统定稿，本年“二、上年结转”无法与上年公布的“四、结转下年度继续办理”核对，"
            f"请对照已公布的{year - 1}年报告人工核对。"
        )
    return {
        "year": year,
        "layout": layout,
        "table2": table2(year, layout),
        "table3": t3,
        "table4": t4,
        "failures": check(year, t3, t4),
        "notes": notes,
    }


def snapshot(tables):
    """Return Tables 2-4 as plain JSON values (keys as strings), for a finalised report."""
    return {
        "layout": tables["layout"],
        "table2": tables["table2"],
        "table3": {row: {str(c): v for c, v in columns.items()} for row, columns in tables["table3"].items()},
        "table4": {str(k): {str(r): v for r, v in results.items()} for k, results in tables["table4"].items()},
    }


def year_summaries(year):
    """Return (department name, text) of the year's submitted and accepted half-year summaries, by half."""
    rows = (
        HalfYearSummary.query.join(ReportingPeriod)
        .join(Department)
        .filter(
            db.extract("year", ReportingPeriod.starts_on) == year,
            HalfYearSummary.state.in_(REPORTED),
            HalfYearSummary.text != "",
        )
        .order_by(ReportingPeriod.starts_on, Department.id)
        .all()
    )
    return [(s.department.name, s.text) for s in rows]
