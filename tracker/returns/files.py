"""Evidence files: checked by content, stored in the database under generated names (:mod:`tracker.storage`)."""

from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from .. import storage
from ..extensions import db
from ..models import Department, Evidence, HalfYearSummary, QuarterlyReturn, ReturnLine
from ..transaction import commit, committed
from ..workflow import WorkflowError, check_editable
from .filetypes import BY_MIME, EVIDENCE_KINDS, allowed_for, labels, sniff
from .inspect import Refused, inspect


def _clean_name(name):
    return Path((name or "").replace("\\", "/")).name.strip() or "附件"


def checked_upload(filename, data, kinds=EVIDENCE_KINDS):
    """Return ``(mime, clean name)`` of an upload, or refuse it: empty, too large, a kind not among
    ``kinds`` the office allows (read from the content, never the name alone), or holding what it must not.
    """
    if not data:
        raise WorkflowError("invalid", "the file is empty", "上传的文件是空的。", {"file": "empty"})
    if len(_clean_name(filename)) > 255:
        raise WorkflowError(
            "invalid",
            "the file name may have at most 255 characters",
            f"文件名过长（{len(_clean_name(filename))}个字符，最多255个），请改短后重新上传。",
            {"file": "name too long"},
        )
    if len(data) > current_app.config["MAX_CONTENT_LENGTH"]:
        raise WorkflowError("too_large", "the file is too large", "上传的文件超过大小限制。", {"file": "too large"})
    allowed = allowed_for(kinds)
    mime = sniff(filename, data)
    name = _clean_name(filename)
    if mime not in {k.mime for k in allowed}:
        names = ", ".join(k.suffix.lstrip(".") for k in allowed)
        raise WorkflowError(
            "invalid",
            f"'{name}' is not a {names} file (its content says {mime or 'unknown'})",
            f"“{name}”不是允许的文件类型。只能上传{labels(allowed)}文件（按文件内容判断，而不是文件名）。",
            {"file": "type not allowed"},
        )
    try:
        inspect(mime, data)
    except Refused as refused:
        raise WorkflowError(
            "invalid", f"'{name}': {refused}", f"“{name}”：{refused.zh}", {"file": str(refused)}
        ) from None
    return mime, name


def suffix_of(mime):
    """Return the suffix a file of ``mime`` is stored under."""
    return BY_MIME[mime].suffix


def department_usage(department_id):
    """Return the bytes a department's evidence files and summary documents take."""
    evidence = db.session.scalar(
        select(func.coalesce(func.sum(Evidence.size), 0))
        .join(ReturnLine, ReturnLine.id == Evidence.line_id)
        .join(QuarterlyReturn, QuarterlyReturn.id == ReturnLine.return_id)
        .where(QuarterlyReturn.department_id == department_id)
    )
    documents = db.session.scalar(
        select(func.coalesce(func.sum(HalfYearSummary.document_size), 0)).where(
            HalfYearSummary.department_id == department_id
        )
    )
    return int(evidence) + int(documents)


def check_quota(department_id, size):
    """Refuse an upload of ``size`` bytes that would take a department past DEPARTMENT_QUOTA_MB.

    Locks the department's row until the caller commits.
    """
    quota = current_app.config["DEPARTMENT_QUOTA_MB"] * 1024 * 1024
    # Two uploads at once must not both fit under the quota: they queue on the department's row.
    db.session.execute(select(Department.id).where(Department.id == department_id).with_for_update())
    used = department_usage(department_id)
    if used + size > quota:
        mb = 1024 * 1024
        raise WorkflowError(
            "too_large",
            f"the department's files would take {(used + size) / mb:.1f} MB, over its quota of {quota / mb:g} MB",
            f"本部门已上传的文件共{used / mb:.1f} MB，再上传这个文件将超过{quota / mb:g} MB的存储限额。"
            "请删除不再需要的附件，或联系办公室调整限额。",
            {"file": "over quota"},
        )


def add_evidence(line, filename, data, user):
    """Attach a file to a form line; refuse anything but pdf, docx, xlsx, jpg or png by its content."""
    if not line.report.is_editable:
        raise WorkflowError(
            "not_editable", "the form can no longer be changed", "该报送表当前不能修改，不能再上传附件。"
        )
    mime, name = checked_upload(filename, data)
    # Checking a large file takes a while: the form may have been submitted meanwhile. Lock it and look again.
    check_editable(line.report, None)
    check_quota(line.report.department_id, len(data))
    with committed():
        stored = storage.put(data, suffix_of(mime))
        evidence = Evidence(
            line=line,
            original_name=name,
            stored_name=stored.name,
            content_type=mime,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by_id=user.id if user else None,
        )
        db.session.add(evidence)
    return evidence


def remove_evidence(evidence):
    """Remove an evidence file from a form that can still be changed."""
    if not evidence.line.report.is_editable:
        raise WorkflowError("not_editable", "the form can no longer be changed", "该报送表当前不能修改。")
    check_editable(evidence.line.report, None)  # locked, and still editable
    storage.discard(evidence.stored_name)
    db.session.delete(evidence)
    commit()
