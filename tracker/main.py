"""The home page and the health check."""

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from .extensions import db
from .models import AuditEntry, Plan, UserRole
from .permissions import can_view_audit, require
from .timeutil import today
from .todo import department_todo, leader_brief, office_todo

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def index():
    """Show the user's to-do page (待办): what a department owes, the office's day, the leaders' brief."""
    plan = Plan.query.order_by(Plan.year.desc()).first()
    if plan is None:
        return render_template("main/empty.html")
    role = current_user.role
    if role is UserRole.DEPARTMENT:
        return render_template("todo/department.html", plan=plan, **department_todo(current_user.department, today()))
    if role is UserRole.OFFICE:
        return render_template("todo/office.html", plan=plan, **office_todo(today()))
    return render_template("todo/leader.html", plan=plan, brief=leader_brief(today()))


@bp.route("/plan")
@login_required
def plan():
    """Send the user to the newest plan."""
    plan = Plan.query.order_by(Plan.year.desc()).first()
    if plan is None:
        return redirect(url_for("main.index"))
    return redirect(url_for("plans.show", year=plan.year))


@bp.route("/healthz")
def healthz():
    """Answer 200 once the database answers; 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return jsonify(status="error", database=exc.__class__.__name__), 503
    return jsonify(status="ok", database="ok")


@bp.route("/audit")
@require(can_view_audit)
def audit():
    """List the audit trail, newest first, filtered by table and actor."""
    query = db.select(AuditEntry)
    entity = request.args.get("entity") or None
    actor = request.args.get("actor") or None
    if entity:
        query = query.filter_by(entity=entity)
    if actor:
        query = query.filter_by(actor=actor)
    page = db.paginate(query.order_by(AuditEntry.id.desc()), per_page=50, error_out=False)
    return render_template("main/audit.html", page=page, entity=entity, actor=actor, entities=ENTITY_LABELS)


#: Chinese names of the audited tables, for the audit page.
ENTITY_LABELS = {
    "plans": "工作安排",
    "sections": "部分",
    "task_groups": "分组",
    "tasks": "任务",
    "task_departments": "任务部门",
    "departments": "部门",
    "department_aliases": "部门别名",
    "users": "用户",
    "reporting_periods": "报送期",
    "quarterly_returns": "季度报送表",
    "return_lines": "报送表任务行",
    "return_counts": "信息报送发布数",
    "evidence": "佐证材料",
    "half_year_summaries": "半年工作总结",
    "chase_steps": "催办规则",
}
