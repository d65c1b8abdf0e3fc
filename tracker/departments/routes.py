"""Department list, page and edit views."""

from flask import flash, redirect, render_template, request, url_for

from ..extensions import db
from ..models import Department, Plan, Role
from ..permissions import can_manage_plan, can_view_plan, require
from ..plans.operations import NameTaken, plan_outline, update_department
from . import bp
from .forms import DepartmentForm


def _current_plan():
    year = request.args.get("year", type=int)
    query = Plan.query.filter_by(year=year) if year else Plan.query.order_by(Plan.year.desc())
    return query.first()


@bp.route("/departments")
@require(can_view_plan)
def list():  # noqa: A001 - endpoint names are verbs/nouns of the UI, not Python builtins in use
    """List every department."""
    departments = Department.query.options(db.selectinload(Department.aliases)).order_by(Department.id).all()
    return render_template("departments/list.html", departments=departments)


@bp.route("/departments/<int:department_id>")
@require(can_view_plan)
def show(department_id):
    """Show a department's tasks as lead and as responsible in a plan."""
    department = db.get_or_404(Department, department_id)
    plan = _current_plan()
    lead = plan_outline(plan, department, Role.LEAD) if plan else []
    responsible = plan_outline(plan, department, Role.RESPONSIBLE) if plan else []
    return render_template(
        "departments/show.html",
        department=department,
        plan=plan,
        plans=Plan.query.order_by(Plan.year.desc()).all(),
        lead=lead,
        responsible=responsible,
    )


@bp.route("/departments/<int:department_id>/edit", methods=["GET", "POST"])
@require(can_manage_plan)
def edit(department_id):
    """Let the office correct a department's name, short name, head (and the head's e-mail) and aliases."""
    department = db.get_or_404(Department, department_id)
    form = DepartmentForm(obj=department)
    if request.method == "GET":
        form.aliases.data = "\n".join(department.alias_names)
    if form.validate_on_submit():
        try:
            update_department(
                department,
                form.name.data,
                form.short_name.data,
                form.aliases.data.splitlines(),
                form.head_name.data,
                form.head_email.data,
            )
        except NameTaken as exc:
            form.name.errors.append(f"“{exc.name}”已是{exc.other}的名称或别名。")
        else:
            flash("已保存。", "success")
            return redirect(url_for("departments.show", department_id=department.id))
    return render_template("departments/edit.html", department=department, form=form)
