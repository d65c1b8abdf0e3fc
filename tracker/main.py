"""The home page and the health check."""

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from .audit_text import ENTITY_LABELS, audit_filters, describe
from .extensions import db
from .metrics import metrics_view
from .models import AuditEntry, Department, LoginAttempt, Plan, User, UserRole
from .permissions import can_view_audit, require
from .search import MAX_QUERY, search
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


@bp.route("/search")
@login_required
def search_view():
    """Find words in tasks, forms, summaries, the register and one's notices (only what the user may open)."""
    q = request.args.get("q", "")
    return render_template("main/search.html", q=q.strip()[:MAX_QUERY], results=search(current_user, q))


@bp.route("/readyz")
def readyz():
    """Answer 200 when the database answers and its schema is the code's (migrations current); 503 otherwise.

    For a load balancer deciding whether to send a host requests: a host started before
    ``flask db upgrade`` ran, or against a database another version upgraded, is not ready.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from . import ROOT

    try:
        with db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return jsonify(status="error", database=exc.__class__.__name__), 503
    expected = ScriptDirectory(str(ROOT / "migrations")).get_heads()
    if set(current) != set(expected):
        return jsonify(status="error", migrations={"database": sorted(current), "code": sorted(expected)}), 503
    return jsonify(status="ok", migrations=sorted(current))


bp.add_url_rule("/metrics", view_func=metrics_view)


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
    """List the audit trail as sentences, newest first; filter by kind, person, department and dates.

    ``?view=signins`` lists the sign-in attempts instead.
    """
    args = request.args
    if args.get("view") == "signins":
        query = db.select(LoginAttempt)
        if args.get("actor"):
            query = query.filter_by(username=args["actor"])
        page = db.paginate(query.order_by(LoginAttempt.id.desc()), per_page=50, error_out=False)
        return render_template("main/signins.html", page=page, actor=args.get("actor"))
    filters = audit_filters(args)
    page = db.paginate(filters.query().order_by(AuditEntry.id.desc()), per_page=50, error_out=False)
    return render_template(
        "main/audit.html",
        page=page,
        lines=describe(page.items),
        filters=filters,
        entities=ENTITY_LABELS,
        users=User.query.order_by(User.username).all(),
        departments=Department.query.order_by(Department.name).all(),
    )
