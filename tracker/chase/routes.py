"""Pages: the notices of the bell (提醒), and marking them read."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Notification
from . import bp
from .operations import (
    mark_read,
    notifications_of,
)


@bp.route("/notifications")
@login_required
def notifications():
    """List the user's notices, newest first."""
    page = notifications_of(current_user).paginate(per_page=30, error_out=False)
    return render_template("chase/notifications.html", page=page)


@bp.route("/notifications/<int:notification_id>", methods=["GET", "POST"])
@login_required
def open_notification(notification_id):
    """Go where a notice leads; opening it from the list (a POST) also marks it read. A GET (a
    link followed, a page prefetched) changes nothing."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    if request.method == "POST":
        mark_read(current_user, notification)
    target = notification.url if notification.url.startswith("/") and not notification.url.startswith("//") else "/"
    return redirect(target)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    """Mark every notice of the user read."""
    mark_read(current_user)
    flash("已全部标为已读。", "success")
    return redirect(url_for("chase.notifications"))
