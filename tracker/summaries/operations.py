"""State changes of half-year summaries (半年工作总结).

A summary follows the quarterly form's workflow (see :mod:`tracker.returns.operations`): the
department saves and submits it, the office accepts it or returns it with a reason and a new
due date, and every submission is kept as a version. Each function validates first, then
writes and commits once; a refused change raises :class:`WorkflowError` and changes nothing.
"""

from .. import storage
from ..extensions import db
from ..models import Department, HalfYearSummary, PeriodKind, ReportingPeriod
from ..returns.files import check_quota, checked_upload, suffix_of
from ..returns.filetypes import DOCUMENT_KINDS
from ..returns.operations import MAX_TEXT
from ..timeutil import now_utc
from ..workflow import WorkflowError, cell_state, check_editable, record_submission, writing

#: A summary's document: Word or PDF, recognised by its content.
#: A summary's text may be longer than a form line's.
MAX_SUMMARY_TEXT = 4 * MAX_TEXT


def _validated(data):
    errors, values = {}, {}
    for field, limit in (
        ("text", MAX_SUMMARY_TEXT),
        ("filled_by_name", 50),
        ("filled_by_phone", 30),
        ("approved_by", 50),
    ):
        if field not in data:
            continue
        value = data[field]
        if not isinstance(value, str) or "\x00" in value:
            errors[field] = "must be text"
        else:
            # Browsers send a line break as CRLF but count it as one character against maxlength.
            value = value.replace("\r\n", "\n").strip()
            if len(value) > limit:
                errors[field] = f"at most {limit} characters"
            else:
                values[field] = value
    if errors:
        raise WorkflowError.invalid(errors)
    return values


def _apply(summary, data, expected_version):
    check_editable(summary, expected_version)
    for field, value in _validated(data).items():
        setattr(summary, field, value)
    summary.updated_at = now_utc()


def save_summary(summary, data, expected_version):
    """Save a draft summary (text, 填报人, 联系电话); refused if it moved on since ``expected_version``."""
    with writing(summary.noun_zh):
        _apply(summary, data, expected_version)
    return summary


def summary_missing(summary):
    """Return what a summary lacks before it can be submitted, by field."""
    errors = {}
    if not summary.filled_by_name:
        errors["filled_by_name"] = "required (填报人)"
    if not summary.filled_by_phone:
        errors["filled_by_phone"] = "required (联系电话)"
    if not summary.approved_by:
        errors["approved_by"] = "required (审核人)"
    if not summary.text and not summary.document_stored_name:
        errors["text"] = "write the summary or upload it as a document"
    return errors


def summary_content(summary):
    """Return what a version keeps of a summary."""
    return {
        "filled_by_name": summary.filled_by_name,
        "filled_by_phone": summary.filled_by_phone,
        "approved_by": summary.approved_by,
        "text": summary.text,
        "document": summary.document_name,
        "document_stored_name": summary.document_stored_name,
        "document_type": summary.document_type,
        "document_sha256": summary.document_sha256,
    }


def save_and_submit_summary(summary, data, expected_version, user):
    """Save what the summary says and submit it, in one transaction: if it is incomplete, nothing is saved."""
    with writing(summary.noun_zh):
        _apply(summary, data, expected_version)
        db.session.flush()
        record_submission(summary, user, summary_missing(summary), summary_content)
    return summary


def _kept_by_a_version(summary, stored_name):
    return any(v.content.get("document_stored_name") == stored_name for v in summary.versions)


def attach_document(summary, filename, data, user):
    """Attach the summary as a document (docx or pdf, by content), replacing the one before.

    The file a submitted version refers to is kept, so every version can still be downloaded.
    """
    if not summary.is_editable:
        check_editable(summary, None)  # says why it cannot be changed
    mime, name = checked_upload(filename, data, DOCUMENT_KINDS)
    check_editable(summary, None)  # locked only now: the file's check can take a while
    # The document it replaces stops counting against the quota.
    check_quota(summary.department_id, len(data) - (summary.document_size or 0))
    old = summary.document_stored_name
    with writing(summary.noun_zh):
        stored = storage.put(data, suffix_of(mime))
        summary.document_name = name
        summary.document_stored_name = stored.name
        summary.document_type = mime
        summary.document_size = stored.size
        summary.document_sha256 = stored.sha256
        summary.updated_at = now_utc()
        if old and not _kept_by_a_version(summary, old):
            storage.discard(old)
    return summary


def remove_document(summary):
    """Remove the document from a summary that can still be changed."""
    check_editable(summary, None)
    old = summary.document_stored_name
    with writing(summary.noun_zh):
        summary.document_name = summary.document_stored_name = summary.document_type = None
        summary.document_size = summary.document_sha256 = None
        summary.updated_at = now_utc()
        if old and not _kept_by_a_version(summary, old):
            storage.discard(old)


def department_summaries(department):
    """Return a department's half-year summaries, newest half first."""
    return (
        HalfYearSummary.query.join(ReportingPeriod)
        .filter(HalfYearSummary.department_id == department.id)
        .order_by(ReportingPeriod.starts_on.desc())
        .all()
    )


def half_periods(plan):
    """Return the plan's half-years, in order."""
    return ReportingPeriod.query.filter_by(plan_id=plan.id, kind=PeriodKind.HALF).order_by(ReportingPeriod.number).all()


def summaries_of(period):
    """Return every department's summary for a half-year, in the order the plan names the departments."""
    return (
        HalfYearSummary.query.filter_by(period_id=period.id)
        .join(Department)
        .options(db.contains_eager(HalfYearSummary.department))
        .order_by(Department.id)
        .all()
    )


def summary_counts(summaries, today_):
    """Return how many summaries are in each dashboard state (see :func:`cell_state`)."""
    counts = {}
    for summary in summaries:
        state = cell_state(summary, today_)
        counts[state] = counts.get(state, 0) + 1
    return counts
