"""Plan, task and breakdown-download views."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..models import Department, Plan, PlanImport, Role, Task, UserRole
from ..models.plan import plan_departments
from ..permissions import can_manage_plan, can_view_plan, require
from . import bp
from .forms import TaskForm
from .operations import DepartmentConflict, plan_outline, update_task


def _plan_or_404(year):
    return Plan.query.filter_by(year=year).first_or_404()


@bp.route("/plans/<int(min=1900, max=2999):year>")
@require(can_view_plan)
def show(year):
    """Show the plan as sections → groups → tasks, filtered by department and role."""
    plan = _plan_or_404(year)
    if "department" not in request.args and current_user.role is UserRole.DEPARTMENT:
        department = current_user.department  # a department opens the plan on its own tasks
    else:
        department = db.session.get(Department, request.args.get("department", type=int) or 0)
    role = request.args.get("role") if request.args.get("role") in {r.value for r in Role} else None
    outline = plan_outline(plan, department=department, role=Role(role) if role else None)
    return render_template(
        "plans/show.html",
        plan=plan,
        plans=Plan.query.order_by(Plan.year.desc()).all(),
        outline=outline,
        departments=plan_departments(plan),
        department=department,
        role=role,
        task_count=sum(len(g["tasks"]) for s in outline for g in s["groups"]),
        last_import=PlanImport.query.filter_by(plan_id=plan.id).order_by(PlanImport.loaded_at.desc()).first(),
    )


@bp.route("/tasks/<int:task_id>")
@require(can_view_plan)
def task(task_id):
    """Show a task's full text and its departments by role."""
    task = db.get_or_404(Task, task_id)
    return render_template("plans/task.html", task=task, plan=task.plan)


#: What a department's field on the edit page may say: no role, lead (牵头) or responsible (负责落实).
ROLE_VALUES = ("", "lead", "responsible")


def _chosen_roles(departments):
    """Return the role the form gives each department, by id (``""`` for none)."""
    return {d.id: request.form.get(f"role-{d.id}", "") for d in departments}


def _by_role(task, departments, chosen):
    """Return ``(lead, responsible)`` as ``chosen``, each in the document's order, then new ones by id."""
    # Keep the document's order for departments already named; new ones follow.
    order = [a.department for a in task.assignments] + departments
    ordered = list(dict.fromkeys(order))
    lead = [d for d in ordered if chosen[d.id] == "lead"]
    responsible = [d for d in ordered if chosen[d.id] == "responsible"]
    return lead, responsible


@bp.route("/tasks/<int:task_id>/edit", methods=["GET", "POST"])
@require(can_manage_plan)
def edit_task(task_id):
    """Let the office correct a task's departments, flags and deadline."""
    task = db.get_or_404(Task, task_id)
    departments = Department.query.order_by(Department.id).all()
    form = TaskForm(obj=task)
    roles = {a.department_id: a.role.value for a in task.assignments}
    if form.validate_on_submit():
        chosen = _chosen_roles(departments)
        if any(value not in ROLE_VALUES for value in chosen.values()):
            abort(400)
        lead, responsible = _by_role(task, departments, chosen)
        try:
            changed = update_task(
                task, lead, responsible, form.is_all_departments.data, form.is_and_related.data, form.deadline.data
            )
        except DepartmentConflict:
            flash("同一部门不能既牵头又负责落实。", "danger")
        else:
            flash("已保存。" if changed else "没有改动。", "success")
            return redirect(url_for("plans.task", task_id=task.id))
    if request.method == "POST":  # a refused form shows what the user chose, not what is saved
        roles = _chosen_roles(departments)
    return render_template("plans/edit_task.html", task=task, form=form, departments=departments, roles=roles)
