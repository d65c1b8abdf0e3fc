"""Pages: the briefs, the web brief of a period (made for a phone), one's subscription, and who gets what."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..models import Plan
from ..permissions import can_manage_users, can_read_briefs, is_leader, require
from ..timeutil import today
from . import bp
from .operations import (
    DEFAULTS,
    KINDS,
    BriefError,
    brief_figures,
    brief_for,
    briefs_of,
    deliveries,
    reset_subscription,
    set_subscription,
    set_subscription_defaults,
    subscription_defaults,
    subscription_of,
    subscriptions,
)


@bp.route("/")
@require(can_read_briefs)
def index():
    """List every plan's briefs, newest year first, with the reader's subscription."""
    plans = Plan.query.options(db.selectinload(Plan.periods)).order_by(Plan.year.desc()).all()
    return render_template(
        "briefs/index.html",
        years=[(plan, briefs_of(plan)) for plan in plans],
        today=today(),
        choice=subscription_of(current_user),
    )


@bp.route("/<scope>")
@require(can_read_briefs)
def show(scope):
    """Show a period's brief: the figures, progress by section as a chart, departments by on-time rate."""
    try:
        brief = brief_for(scope)
    except BriefError:
        abort(404)
    return render_template("briefs/brief.html", brief=brief, figures=brief_figures(brief, today()))


@bp.route("/subscription", methods=["GET", "POST"])
@require(can_read_briefs)
def subscription():
    """Choose which briefs to receive, and whether by e-mail too; or go back to the office's defaults."""
    if request.method == "POST":
        if request.form.get("action") == "reset":
            reset_subscription(current_user)
            flash("已恢复为办公室设定的默认订阅。" if is_leader(current_user) else "已取消简报订阅。", "success")
        else:
            set_subscription(current_user, request.form)
            flash("简报订阅已保存。", "success")
        return redirect(url_for("briefs.subscription"))
    return render_template("briefs/subscription.html", choice=subscription_of(current_user), kinds=KINDS)


@bp.route("/subscribers", methods=["GET", "POST"])
@require(can_manage_users)
def subscribers():
    """Set the defaults for leaders; see who gets which brief and how, and what was sent."""
    if request.method == "POST":
        set_subscription_defaults(request.form)
        flash("默认订阅已保存，未自行设置的领导将按此接收简报。", "success")
        return redirect(url_for("briefs.subscribers"))
    return render_template(
        "briefs/subscribers.html",
        defaults=subscription_defaults(),
        keys=DEFAULTS,
        people=subscriptions(),
        deliveries=deliveries(),
    )


@bp.errorhandler(BriefError)
def refused(exc):
    """Say in Chinese why a subscription was refused."""
    flash(exc.zh, "danger")
    return redirect(url_for("briefs.index"))
