"""State changes of the disclosure register, cases, Table 2 figures, the calendar and finalised reports.

Each function checks everything first and writes in one transaction; a refused change raises
:class:`DisclosureError` (English ``message`` for the CLI, Chinese ``zh`` for the pages, and the
file's row numbers for an import) and leaves the database as it was.
"""

import contextlib
import datetime
import io
import re
import zipfile

from openpyxl import load_workbook

from ..errors import TrackerError
from ..extensions import db
from ..models import (
    AnnualReport,
    ApplicantType,
    Application,
    CalendarException,
    CaseKind,
    CaseResult,
    Department,
    DisclosureFigures,
    ReceiptChannel,
    ReviewCase,
)
from ..models.disclosure import APPLICANT_LABELS, outcome_codes, outcome_from_label
from ..textinput import from_excel
from ..timeutil import now_utc, today
from ..transaction import commit, committed
from .tables import TABLE2_LAYOUTS, annual_tables, snapshot, table2_keys

#: The register's file columns (a contract): the import finds them by name, the export writes them.
REGISTER_COLUMNS = ["编号", "收到日期", "申请方式", "申请人类型", "申请内容", "办理部门", "答复日期", "办理结果"]
CASE_COLUMNS = ["编号", "类别", "收到日期", "结果"]
MAX_REQUEST = 5000
#: Characters a spreadsheet cannot hold (tab and line breaks are fine).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class DisclosureError(TrackerError):
    """A change was refused. ``rows`` lists (row number, reason in English, reason in Chinese) for an import."""

    def __init__(self, message, zh, rows=None, fields=None):
        super().__init__(message, zh, fields=fields)
        self.rows = rows or []


#: The application form's field for each name an error gives (the form's labels).
APPLICATION_FIELDS = {
    "编号": "number",
    "收到日期": "received_on",
    "申请方式": "channel",
    "申请人类型": "applicant_type",
    "申请内容": "request",
    "办理部门": "department",
    "补正通知日期": "correction_sent_on",
    "补正答复日期": "correction_answered_on",
    "收到补正日期": "correction_answered_on",
    "延期批准日期": "extended_on",
    "征求第三方意见天数": "third_party_days",
    "答复日期": "answered_on",
    "办理结果": "outcome",
}


# --- reading values ------------------------------------------------------------------------


#: Dates the register can hold: the Regulations on open government information date from 2008;
#: nothing is received or answered more than a year ahead.
EARLIEST = datetime.date(2000, 1, 1)


def _sensible(day, field, errors):
    """Return ``day`` if a register could hold it, else note why not and return None."""
    latest = today() + datetime.timedelta(days=366)
    if EARLIEST <= day <= latest:
        return day
    errors.append(
        (
            field,
            f"{field}: {day} is not between {EARLIEST} and {latest}",
            f"“{field}”（{day}）不在{EARLIEST.year}年至{latest.year}年之间，请检查年份是否填错",
        )
    )
    return None


def _date(value, field, errors):
    """Return a date from a cell or a form field (date, 2026-01-05, 2026/1/5, 2026年1月5日), or None if blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime.datetime):
        return _sensible(value.date(), field, errors)
    if isinstance(value, datetime.date):
        return _sensible(value, field, errors)
    match = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*", str(value))
    day = None
    if match:
        with contextlib.suppress(ValueError):  # 2026-02-30 is not a date
            day = datetime.date(*map(int, match.groups()))
    if day is None:
        errors.append((field, f"{field}: not a date ({value})", f"“{field}”不是有效日期（{value}）"))
        return None
    return _sensible(day, field, errors)


def _text(value):
    return "" if value is None else str(value).strip()


CHANNELS = {c.label: c for c in ReceiptChannel}
APPLICANTS = {label: kind for kind, label in APPLICANT_LABELS.items()}


def _department(name, errors):
    if not name:
        return None
    found = Department.lookup(name)
    if found is None:
        errors.append(("办理部门", f"unknown department '{name}'", f"没有“{name}”这个部门"))
    return found


def _application_values(raw):
    """Check an application's fields (the form's or a file row's); return ``(values, errors)``.

    Each error is ``(field, English, Chinese)``, in the order the form shows the fields.
    """
    errors = []
    values = {"number": _text(raw.get("number"))}
    if not values["number"] or len(values["number"]) > 50:
        errors.append(("编号", "a number of 1 to 50 characters is required", "编号必填，不超过50个字符"))
    values["received_on"] = _date(raw.get("received_on"), "收到日期", errors)
    if values["received_on"] is None and not _names(errors, "收到日期"):
        errors.append(("收到日期", "the date received is required", "收到日期必填"))
    values["channel"] = _member(raw.get("channel"), CHANNELS, ReceiptChannel)
    if values["channel"] is None:
        unknown = _text(raw.get("channel"))
        errors.append(("申请方式", f"unknown channel '{unknown}'", "申请方式须为当面、邮寄、网络或传真"))
    values["applicant_type"] = _member(raw.get("applicant_type"), APPLICANTS, ApplicantType)
    if values["applicant_type"] is None:
        unknown = _text(raw.get("applicant_type"))
        errors.append(("申请人类型", f"unknown applicant type '{unknown}'", APPLICANT_CHOICES_ZH))
    values["request"] = _text(raw.get("request"))
    if len(values["request"]) > MAX_REQUEST:
        has = len(values["request"])
        errors.append(
            (
                "申请内容",
                f"the request may have at most {MAX_REQUEST} characters (it has {has})",
                f"申请内容不超过{MAX_REQUEST}字（现有{has}字）",
            )
        )
    values["department"] = _department(_text(raw.get("department")), errors)
    for key, name in OPTIONAL_DATES:
        if key in raw:
            values[key] = _date(raw.get(key), name, errors)
    _third_party_days(raw.get("third_party_days", 0), values, errors)
    values["outcome"] = _outcome(raw.get("outcome"), errors)
    _check_dates(values, errors)
    return values, errors


#: The dates an application may carry besides its receipt, with the form's names for them.
OPTIONAL_DATES = (
    ("correction_sent_on", "补正通知日期"),
    ("correction_answered_on", "补正答复日期"),
    ("extended_on", "延期批准日期"),
    ("answered_on", "答复日期"),
)

#: The dates that cannot lie in the future, with the names the errors give them.
PAST_DATES = (
    ("received_on", "收到日期"),
    ("answered_on", "答复日期"),
    ("correction_sent_on", "补正通知日期"),
    ("correction_answered_on", "收到补正日期"),
    ("extended_on", "延期批准日期"),
)

APPLICANT_CHOICES_ZH = "申请人类型须为自然人、商业企业、科研机构、社会公益组织、法律服务机构或其他"


def _names(errors, field):
    return any(error[0] == field for error in errors)


def _member(value, labels, enum):
    """Return the member of ``enum`` that ``value`` names (its Chinese label, its value, or the member), or None."""
    if isinstance(value, enum):
        return value
    text = _text(value)
    return labels.get(text) or (enum(text) if text in enum._value2member_map_ else None)


def _third_party_days(days, values, errors):
    """Set the days spent consulting third parties (0 to 365), or note why they are refused."""
    try:
        values["third_party_days"] = int(days or 0)
        if not 0 <= values["third_party_days"] <= 365:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(("征求第三方意见天数", "third-party days must be 0 to 365", "征求第三方意见天数须为0到365的整数"))


def _outcome(text, errors):
    """Return the outcome's code (Table 3's wording or the code itself), None if blank; note one not in Table 3."""
    if not _text(text):
        return None
    code = text if text in outcome_codes() else outcome_from_label(text)
    if code is None:
        errors.append(("办理结果", f"unknown outcome '{_text(text)}'", f"办理结果“{_text(text)}”不是表三中的情形"))
    return code


def _check_dates(values, errors):
    """Note dates in the future, dates out of order, and an answer without its outcome (or the other way)."""
    _check_future(values, errors)
    received, answered, code = values["received_on"], values.get("answered_on"), values["outcome"]
    if received and answered and answered < received:
        errors.append(("答复日期", "answered before it was received", "答复日期早于收到日期"))
    if answered and not code and not _names(errors, "办理结果"):
        errors.append(("办理结果", "an answered application needs its outcome", "已答复的申请须填写办理结果"))
    if code and not answered and not _names(errors, "答复日期"):
        errors.append(("答复日期", "an outcome needs the date answered", "填写办理结果时须填写答复日期"))
    _check_correction(values, received, errors)


def _check_future(values, errors):
    """Note dates later than today, and control characters in the request (in the order the form shows them)."""
    for key, name in PAST_DATES:
        if values.get(key) and values[key] > today():
            errors.append((name, f"{name}: in the future", f"{name}不能晚于今天"))
    if CONTROL.search(values["request"]):
        errors.append(
            ("申请内容", "the request holds control characters", "申请内容含有不可见的控制字符，请删除后重新填写")
        )


def _check_correction(values, received, errors):
    """Note a correction dated before receipt or answered before it was asked; then the extension's date."""
    sent, back = values.get("correction_sent_on"), values.get("correction_answered_on")
    if sent and received and sent < received:
        errors.append(("补正通知日期", "correction notice before receipt", "补正通知日期早于收到日期"))
    if back and not sent:
        errors.append(
            ("收到补正日期", "a correction answered needs the notice's date", "填写收到补正日期时须填写补正通知日期")
        )
    elif back and back < sent:
        errors.append(("收到补正日期", "correction answered before it was sent", "收到补正日期不得早于补正通知日期"))
    _check_extension(values, received, errors)


def _check_extension(values, received, errors):
    """Note an extension approved before the application was received."""
    if values.get("extended_on") and received and values["extended_on"] < received:
        errors.append(("延期批准日期", "extension before receipt", "延期批准日期早于收到日期"))


def save_application(application, raw):
    """Create (``application`` None) or change an application; audited."""
    values, errors = _application_values(raw)
    clash = Application.query.filter_by(number=values["number"]).one_or_none()
    if clash is not None and clash is not application:
        errors.append(("编号", f"number {values['number']} is taken", f"编号“{values['number']}”已存在"))
    if errors:
        raise DisclosureError(
            "; ".join(e[1] for e in errors),
            "；".join(e[2] for e in errors) + "。",
            [(None, e[1], e[2]) for e in errors],
            fields=_by_field(errors, APPLICATION_FIELDS),
        )
    with committed():
        if application is None:
            application = Application()
            db.session.add(application)
        for key, value in values.items():
            setattr(application, key, value)
    return application


def _by_field(errors, names):
    """Return ``{form field: Chinese messages}`` of ``(name, English, Chinese)`` errors, in order."""
    fields = {}
    for name, _english, chinese in errors:
        field = names.get(name, name)
        fields[field] = f"{fields[field]}；{chinese}" if field in fields else chinese
    return fields


# --- files ---------------------------------------------------------------------------------


def _rows(data, columns, what):
    """Read an .xlsx upload's first sheet; return ``[(row number, {column: value})]`` by the header's names."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DisclosureError(
            f"the file is not an .xlsx workbook ({type(exc).__name__})", "文件不是有效的 Excel（.xlsx）工作簿。"
        ) from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        index = _header_index(next(rows, ()), columns, what)
        return [
            (number, {c: from_excel(row[i]) if i < len(row) else None for c, i in index.items()})
            for number, row in enumerate(rows, 2)
            if not _is_blank(row)
        ]
    finally:
        book.close()


def _header_index(header_row, columns, what):
    """Return ``{column: position}`` of ``columns`` in the header row; refuse a header that lacks any."""
    header = [_text(v) for v in header_row]
    missing = [c for c in columns if c not in header]
    if missing:
        raise DisclosureError(
            f"the {what} file's header lacks: {', '.join(missing)}",
            f"文件表头缺少：{'、'.join(missing)}。表头须包含：{' | '.join(columns)}。",
        )
    return {c: header.index(c) for c in columns}


def _is_blank(row):
    """Tell whether a sheet row is missing or holds only empty cells (skipped, not refused)."""
    return row is None or all(v is None or _text(v) == "" for v in row)


def _import(rows, parse, model, kept=()):
    """Check every row with ``parse``, then add new numbers and update known ones, in one transaction.

    ``kept`` names fields the file does not carry: a known row keeps what the office entered.
    Returns ``(added, updated)``; any bad row refuses the whole file, naming each row and reason.
    """
    parsed, seen = _parse_all(rows, parse)
    existing = {row.number: row for row in model.query.filter(model.number.in_(list(seen)))}
    return _store(model, parsed, existing, kept)


def _parse_all(rows, parse):
    """Check every row with ``parse``; return ``(values per row, {number: first row})``.

    Refuse the file if any row is bad (each row and reason named), a number repeats, or there are no rows.
    """
    problems, parsed, seen = [], [], {}
    for number, row in rows:
        values, errors = parse(row)
        key = values["number"]
        if key and key in seen:
            errors.append(("编号", f"number {key} also on row {seen[key]}", f"编号“{key}”与第{seen[key]}行重复"))
        seen.setdefault(key, number)
        problems.extend((number, e[1], e[2]) for e in errors)
        parsed.append(values)
    if problems:
        raise DisclosureError(
            "; ".join(f"row {n}: {en}" for n, en, _ in problems) + "; nothing was imported",
            "；".join(f"第{n}行：{zh}" for n, _, zh in problems) + "。文件中的内容均未导入。",
            problems,
        )
    if not parsed:
        raise DisclosureError("the file has no rows", "文件中没有记录。")
    return parsed, seen


def _store(model, parsed, existing, kept):
    """Add a row per new number and update ``existing`` ones (but not their ``kept`` fields); commit once."""
    added = updated = 0
    with committed():
        for values in parsed:
            target = existing.get(values["number"])
            if target is None:
                target = model()
                db.session.add(target)
                added += 1
            else:
                updated += 1
            for key, value in values.items():
                if key not in kept or target.id is None:
                    setattr(target, key, value)
    return added, updated


def import_applications(data):
    """Import a register file (see REGISTER_COLUMNS): add new numbers, update known ones; all or nothing.

    Returns ``(added, updated)``. A bad row is reported with its row number and reason, and
    nothing of the file is imported.
    """

    def parse(row):
        return _application_values(
            {
                "number": row["编号"],
                "received_on": row["收到日期"],
                "channel": row["申请方式"],
                "applicant_type": row["申请人类型"],
                "request": row["申请内容"],
                "department": row["办理部门"],
                "answered_on": row["答复日期"],
                "outcome": row["办理结果"],
            }
        )

    return _import(_rows(data, REGISTER_COLUMNS, "register"), parse, Application, kept=("third_party_days",))


CASE_KINDS = {k.label: k for k in CaseKind} | {f"行政诉讼/{k.label}": k for k in CaseKind}
CASE_RESULTS = (
    {r.label: r for r in CaseResult} | {f"结果{r.label}": r for r in CaseResult} | {"其他结果": CaseResult.OTHER}
)


def _case_values(raw):
    """Read a case from a form or a file row; return ``(values, errors)`` as ``_application_values`` does."""
    errors = []
    number = _text(raw.get("number"))
    if not number or len(number) > 50:
        errors.append(("编号", "a number of 1 to 50 characters is required", "编号必填，不超过50个字符"))
    kind = _case_kind(raw.get("kind"), errors)
    received = _date(raw.get("received_on"), "收到日期", errors)
    if received is None and not any(e[0] == "收到日期" for e in errors):
        errors.append(("收到日期", "the date received is required", "收到日期必填"))
    result = _case_result(raw.get("result"), errors)
    return {"number": number, "kind": kind, "received_on": received, "result": result}, errors


def _case_kind(raw, errors):
    """Return the CaseKind given or named by its label; note an unknown one in ``errors``."""
    kind = raw if isinstance(raw, CaseKind) else CASE_KINDS.get(_text(raw))
    if kind is None:
        errors.append(("类别", f"unknown kind '{_text(raw)}'", "类别须为行政复议、未经复议直接起诉或复议后起诉"))
    return kind


def _case_result(raw, errors):
    """Return the CaseResult given or named (blank: 尚未审结); note an unknown one in ``errors``."""
    result = raw if isinstance(raw, CaseResult) else CASE_RESULTS.get(_text(raw) or "尚未审结")
    if result is None:
        errors.append(("结果", f"unknown result '{_text(raw)}'", "结果须为维持、纠正、其他或尚未审结"))
    return result


def save_case(case, raw):
    """Create (``case`` None) or change a review or litigation case; audited."""
    values, errors = _case_values(raw)
    clash = ReviewCase.query.filter_by(number=values["number"]).one_or_none()
    if clash is not None and clash is not case:
        errors.append(("编号", f"number {values['number']} is taken", f"编号“{values['number']}”已存在"))
    if errors:
        raise DisclosureError("; ".join(e[1] for e in errors), "；".join(e[2] for e in errors) + "。")
    if case is None:
        case = ReviewCase()
        db.session.add(case)
    for key, value in values.items():
        setattr(case, key, value)
    commit()
    return case


def import_cases(data):
    """Import cases (header 编号 | 类别 | 收到日期 | 结果), all or nothing; return ``(added, updated)``."""

    def parse(row):
        return _case_values(
            {"number": row["编号"], "kind": row["类别"], "received_on": row["收到日期"], "result": row["结果"]}
        )

    return _import(_rows(data, CASE_COLUMNS, "cases"), parse, ReviewCase)


# --- Table 2, the calendar, finalising -----------------------------------------------------


def save_figures(year, layout, raw):
    """Save the office's Table 2 figures of ``year`` in ``layout``: numbers, or text such as 增6 / 减15 / 284.26万元."""
    if layout not in TABLE2_LAYOUTS:
        raise DisclosureError(f"unknown layout {layout}", "没有这种表格格式。")
    values, errors = {}, []
    for key in table2_keys(layout):
        value = _text(raw.get(key))
        if len(value) > 50 or "\x00" in value:
            errors.append(key)
        values[key] = value
    if errors:
        raise DisclosureError("some figures are too long", "部分数字填写有误（每项不超过50个字符）。")
    figures = DisclosureFigures.query.filter_by(year=year).one_or_none() or DisclosureFigures(year=year)
    figures.layout, figures.values = layout, values
    db.session.add(figures)
    commit()
    return figures


def set_calendar_exception(day, is_workday, note=""):
    """Mark ``day`` as a working day or a holiday in the office's calendar, whatever the library says."""
    note = (note or "").strip()
    if len(note) > 100:
        raise DisclosureError(
            f"the note may have at most 100 characters (it has {len(note)})", f"说明不超过100字（现有{len(note)}字）。"
        )
    exception = CalendarException.query.filter_by(day=day).one_or_none() or CalendarException(day=day)
    exception.is_workday, exception.note = bool(is_workday), note
    db.session.add(exception)
    commit()
    return exception


def remove_calendar_exception(exception):
    """Remove an exception from the office's calendar."""
    db.session.delete(exception)
    commit()


def finalise_annual_report(year, layout, user):
    """Keep the year's tables as finalised (定稿); the next year's check compares against them.

    Only a year that is over can be finalised; finalising again replaces the snapshot.
    """
    if year >= today().year:
        raise DisclosureError(f"{year} is not over yet", f"{year}年尚未结束，不能定稿。")
    tables = annual_tables(year, layout)
    report = AnnualReport.query.filter_by(year=year).one_or_none() or AnnualReport(year=year)
    report.layout, report.tables = tables["layout"], snapshot(tables)
    report.finalised_at, report.finalised_by_id = now_utc(), user.id if user else None
    db.session.add(report)
    commit()
    return report
