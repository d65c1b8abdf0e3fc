"""What the pages of quarterly forms and half-year summaries share (see :mod:`tracker.workflow`).

The department's save, save-and-submit and autosave, and the office's review and reopen, are the
same on both pages; each helper here reads what the page posted, calls the one operation, and says
what happened in a flashed message (or JSON for the autosave). The views keep only what differs:
which record, which page to show next.
"""

from flask import flash, jsonify, request
from flask_login import current_user

from . import workflow
from .timeutil import local_time, now_utc
from .workflow import WorkflowError, can_edit


def save_posted(record, payload, save, save_and_submit, submitted_zh):
    """Save what the edit page posted, or save and submit it when 保存并报送 was pressed.

    ``save(record, payload, version)`` and ``save_and_submit(record, payload, version, user)`` are
    the record's operations; ``submitted_zh`` names it in the message, e.g. 完成情况报送表. Return
    None when it was done, else the refusal (rolled back, its message flashed).
    """
    version = request.form.get("version", type=int)
    try:
        if version is None:  # without the version read, a save could overwrite someone's text
            raise WorkflowError("invalid", "the version read is missing", "页面不完整，请刷新后重新填写。")
        if request.form.get("action") == "submit":
            save_and_submit(record, payload, version, current_user)
            flash(f"{record.period.label}{submitted_zh}已报送，等待办公室审核。", "success")
        else:
            save(record, payload, version)
            flash("已保存草稿。", "success")
    except WorkflowError as error:
        flash(error.zh, "danger")
        return error
    return None


def autosaved(record, save, payload):
    """Answer an autosave from the page's script in JSON: the new version, or why it was not saved.

    ``save(record, payload, version)`` is the record's save operation.
    """
    if not can_edit(current_user, record):
        return jsonify(error="not_editable", message=f"该{record.noun_zh}当前不能修改，自动保存已停止。"), 409
    version = request.form.get("version", type=int)
    if version is None:
        return jsonify(error="invalid", message="页面不完整，请刷新后重新填写。"), 422
    try:
        save(record, payload, version)
    except WorkflowError as error:
        return jsonify(error=error.code, message=error.zh, fields=sorted(error.fields)), (
            409 if error.code in ("conflict", "not_editable") else 422
        )
    return jsonify(version=record.version, saved_at=local_time(now_utc()))


def review_posted(record, line_comments=None):
    """Accept the record, or return it with the reason and due date posted; return the refusal or None.

    ``line_comments`` ({task code: text}) go beside a returned form's lines.
    """
    decision = request.form.get("decision")
    try:
        workflow.review(
            record,
            current_user,
            decision,
            request.form.get("reason"),
            request.form.get("due_on") or None,
            line_comments,
        )
    except WorkflowError as error:
        flash(error.zh, "danger")
        return error
    flash("已审核通过。" if decision == "accept" else "已退回修改。", "success")
    return None


def reopen_posted(record):
    """Reopen an accepted record with the reason and due date posted; flash what happened."""
    try:
        workflow.reopen(record, current_user, request.form.get("reason"), request.form.get("due_on") or None)
    except WorkflowError as error:
        flash(error.zh, "danger")
    else:
        flash("已重新打开，等待部门修改。", "success")
