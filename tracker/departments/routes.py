"""Department list, page and edit views."""

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectChoice

from ..extensions import db
from ..models import Department, Plan, Role
from ..permissions import can_manage_plan, can_view_plan, require
from ..plans.operations import NameTaken, plan_outline, update_department
from . import bp
from .forms import DepartmentForm, MergeForm, NewDepartmentForm
from .operations import MergeRefused, add_department, department_usage, merge_departments


def _current_plan():
    year = request.args.get("year", type=int)
    query = Plan.query.filter_by(year=year) if year else Plan.query.order_by(Plan.year.desc())
    return query.first()


@bp.route("/departments")
@require(can_view_plan)
def list():  # noqa: A001 - endpoint names are verbs/nouns of the UI, not Python builtins in use
    """List every department (the office adds one here)."""
    return _list(NewDepartmentForm(prefix="new"))


def _list(form, status=200):
    departments = Department.query.options(db.selectinload(Department.aliases)).order_by(Department.id).all()
    return render_template("departments/list.html", departments=departments, form=form), status


@bp.route("/departments/new", methods=["POST"])
@require(can_manage_plan)
def add():
    """Add a department the plan does not name yet."""
    form = NewDepartmentForm(prefix="new")
    if form.validate_on_submit():
        try:
            department = add_department(form.name.data, form.short_name.data)
        except NameTaken as exc:
            form.name.errors.append(f"“{exc.name}”已是{exc.other}的名称或别名。")
        else:
            flash(f"已添加部门“{department.name}”。", "success")
            return redirect(url_for("departments.edit", department_id=department.id))
    return _list(form, 400)


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
                # A form sent without the field keeps the aliases (the form holds the rows then).
                form.aliases.data.splitlines() if isinstance(form.aliases.data, str) else department.alias_names,
                form.head_name.data,
                form.head_email.data,
            )
        except NameTaken as exc:
            form.name.errors.append(f"“{exc.name}”已是{exc.other}的名称或别名。")
        else:
            flash("已保存。", "success")
            return redirect(url_for("departments.show", department_id=department.id))
    return render_template("departments/edit.html", department=department, form=form, **_merge_context(department))


def _merge_context(department, merge_form=None, merge_error=None):
    merge_form = merge_form or MergeForm(prefix="merge")
    merge_form.target.choices = [SelectChoice(0, "（请选择）")] + [
        SelectChoice(d.id, d.name) for d in Department.query.order_by(Department.name) if d.id != department.id
    ]
    return {
        "merge_form": merge_form,
        "merge_error": merge_error,
        "usage": department_usage(department),
    }


@bp.route("/departments/<int:department_id>/merge", methods=["POST"])
@require(can_manage_plan)
def merge(department_id):
    """Merge the department into another one the office chose (机构改革)."""
    department = db.get_or_404(Department, department_id)
    merge_form = MergeForm(prefix="merge")
    merge_form.target.choices = [SelectChoice(0, "")]
    error = None
    chosen = merge_form.target.data if merge_form.validate_on_submit() else None
    target = db.session.get(Department, chosen) if chosen and 0 < chosen < 2**31 else None
    if target is None:
        error = "请选择要合并到的部门。"
    elif not merge_form.confirm.data:
        error = "请勾选“确认合并”。"
    else:
        name = department.name
        try:
            merge_departments(department, target)
        except (StaleDataError, IntegrityError):  # merged by another request at the same moment
            flash("该部门刚刚已被合并或修改，请查看部门列表。", "warning")
            return redirect(url_for("departments.list"))
        except MergeRefused as exc:
            periods = "、".join(exc.periods)
            error = (
                f"无法合并：两个部门在{periods}都已填写了报送表（不只是空白草稿），两份报送表无法合为一份。"
                "请先处理其中一个部门的报送表（如请其清空草稿），再合并。"
                if periods
                else "无法合并：不能把部门合并到它自己。"
            )
        else:
            flash(f"已将“{name}”合并到“{target.name}”，“{name}”成为其别名。", "success")
            return redirect(url_for("departments.show", department_id=target.id))
    form = DepartmentForm(obj=department)
    form.aliases.data = "\n".join(department.alias_names)
    context = _merge_context(department, merge_form, error)
    return render_template("departments/edit.html", department=department, form=form, **context), 400
