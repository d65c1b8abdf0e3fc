"""Half-year summary pages: a department's list, the summary itself, its document, review, history."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import storage
from ..extensions import db
from ..models import HalfYearSummary, UserRole
from ..permissions import can_view_dashboard, can_view_plan, require
from ..permissions import visible_return_or_404 as visible_or_404
from ..returns.filetypes import DOCUMENT_KINDS, allowed_for
from ..returns.periods import plan_for_year
from ..timeutil import today
from ..workflow import CELL_LABELS, WorkflowError, can_edit, can_review
from ..workflow_pages import autosaved, reopen_posted, review_posted, save_posted
from . import bp
from .operations import (
    MAX_SUMMARY_TEXT,
    attach_document,
    department_summaries,
    half_periods,
    remove_document,
    save_and_submit_summary,
    save_summary,
    summaries_of,
    summary_counts,
)

FIELDS = ("text", "filled_by_name", "filled_by_phone", "approved_by")


def _summary_or_404(summary_id):
    return visible_or_404(current_user, db.session.get(HalfYearSummary, summary_id))


@bp.route("/summaries")
@require(can_view_plan)
def index():
    """Show a department its summaries; show the office and leaders every department's for a half."""
    if current_user.role is UserRole.DEPARTMENT:
        summaries = department_summaries(current_user.department)
        return render_template("summaries/mine.html", summaries=summaries, labels=CELL_LABELS)
    if not can_view_dashboard(current_user):
        abort(403)
    plan = plan_for_year(request.args.get("year", type=int))
    if plan is None:
        return render_template("main/empty.html")
    periods = half_periods(plan)
    chosen = _chosen_half(periods, request.args.get("period", type=int))
    summaries = summaries_of(chosen) if chosen else []
    return render_template(
        "summaries/overview.html",
        plan=plan,
        periods=periods,
        chosen=chosen,
        summaries=summaries,
        counts=summary_counts(summaries, today()),
    )


def _chosen_half(periods, asked):
    """Return the half-year the overview shows: the one ``asked`` (an id), else the latest due, else the first."""
    chosen = next((p for p in periods if p.id == asked), None)
    return chosen or next((p for p in reversed(periods) if p.due_on <= today()), periods[0] if periods else None)


@bp.route("/summaries/<int:summary_id>", methods=["GET", "POST"])
@require(can_view_plan)
def edit(summary_id):
    """Show a summary; its department writes it, uploads it as a document, saves and submits it here."""
    summary = _summary_or_404(summary_id)
    errors, posted, unsaved = {}, None, None
    if request.method == "POST":
        if not can_edit(current_user, summary):
            abort(403)
        posted = request.form
        payload = {field: request.form.get(field, "") for field in FIELDS}
        error = save_posted(summary, payload, save_summary, save_and_submit_summary, "工作总结")
        if error is None:
            return redirect(url_for("summaries.edit", summary_id=summary.id))
        errors = error.fields
        if error.code == "conflict":
            # Show what the other person saved, and keep this user's own text beside it to copy from.
            posted = None
            unsaved = payload["text"] if payload["text"].strip() != summary.text else None
    return render_template(
        "summaries/form.html",
        summary=summary,
        editable=can_edit(current_user, summary),
        reviewable=can_review(current_user),
        errors=errors,
        posted=posted,
        unsaved=unsaved,
        max_text=MAX_SUMMARY_TEXT,
        allowed=allowed_for(DOCUMENT_KINDS),
        today=today(),
    )


@bp.route("/summaries/<int:summary_id>/autosave", methods=["POST"])
@require(can_view_plan)
def autosave(summary_id):
    """Save the draft the page's script sends after a pause in typing (the same save and version check)."""
    summary = _summary_or_404(summary_id)
    return autosaved(summary, save_summary, {field: request.form.get(field, "") for field in FIELDS})


@bp.route("/summaries/<int:summary_id>/document", methods=["GET", "POST"])
@require(can_view_plan)
def document(summary_id):
    """Download the summary's document; its department uploads (or replaces) it with POST."""
    summary = _summary_or_404(summary_id)
    if request.method == "GET":
        if not summary.document_stored_name:
            abort(404)
        return storage.send(summary.document_stored_name, summary.document_type, summary.document_name)
    if not can_edit(current_user, summary):
        abort(403)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要上传的文件。", "danger")
    else:
        try:
            attach_document(summary, upload.filename, upload.read(), current_user)
        except WorkflowError as error:
            flash(error.zh, "danger")
        else:
            flash(f"已上传“{summary.document_name}”。", "success")
    return redirect(url_for("summaries.edit", summary_id=summary.id))


@bp.route("/summaries/<int:summary_id>/document/delete", methods=["POST"])
@require(can_view_plan)
def delete_document(summary_id):
    """Remove the document from a summary that can still be changed."""
    summary = _summary_or_404(summary_id)
    if not can_edit(current_user, summary):
        abort(403)
    try:
        remove_document(summary)
    except WorkflowError as error:
        flash(error.zh, "danger")
    else:
        flash("已删除文件。", "success")
    return redirect(url_for("summaries.edit", summary_id=summary.id))


@bp.route("/summaries/<int:summary_id>/versions/<int:number>/document")
@require(can_view_plan)
def version_document(summary_id, number):
    """Download the document as it was in a submitted version."""
    summary = _summary_or_404(summary_id)
    version = next((v for v in summary.versions if v.number == number), None)
    if version is None or not version.content.get("document_stored_name"):
        abort(404)
    content = version.content
    return storage.send(content["document_stored_name"], content.get("document_type"), content["document"])


@bp.route("/summaries/<int:summary_id>/review", methods=["POST"])
@require(can_review)
def review(summary_id):
    """Accept a submitted summary, or return it with a reason and a new due date."""
    summary = _summary_or_404(summary_id)
    review_posted(summary)
    return redirect(url_for("summaries.edit", summary_id=summary.id))


@bp.route("/summaries/<int:summary_id>/reopen", methods=["POST"])
@require(can_review)
def reopen(summary_id):
    """Reopen an accepted summary for correction."""
    summary = _summary_or_404(summary_id)
    reopen_posted(summary)
    return redirect(url_for("summaries.edit", summary_id=summary.id))


@bp.route("/summaries/<int:summary_id>/history")
@require(can_view_plan)
def history(summary_id):
    """Show a summary's workflow events and every submitted version."""
    return render_template("summaries/history.html", summary=_summary_or_404(summary_id))
