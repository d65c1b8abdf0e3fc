"""Account pages: the list with a form to add one, and each account's page."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from ..auth.operations import (
    UserError,
    check_not_self_lockout,
    create_user,
    disable_user,
    enable_user,
    generate_password,
    reset_password,
)
from ..auth.operations import update_user as update
from ..extensions import db
from ..models import Department, User, UserRole
from ..permissions import can_manage_users, require
from ..returns.filetypes import KINDS, allowed_keys, set_allowed_keys
from . import bp
from .forms import UserForm


def _form(user=None):
    form = UserForm(obj=user, prefix="user")
    if user is not None and request.method == "GET":
        form.role.data = user.role.value
        form.department.data = user.department_id or 0
    form.department.choices = [SelectChoice(0, "（不属于部门）")] + [
        SelectChoice(d.id, d.name) for d in Department.query.order_by(Department.name)
    ]
    return form


def _department(form):
    return db.session.get(Department, form.department.data) if form.department.data else None


def _show_errors(form, error):
    field = getattr(form, error.field or "", None) or form.username
    field.errors = [*field.errors, error.zh]


@bp.route("/users", methods=["GET", "POST"])
@require(can_manage_users)
def list():  # noqa: A001 - endpoint names are the UI's nouns
    """List every account; add one (its first password is generated and shown once)."""
    form = _form()
    if form.validate_on_submit():
        password = generate_password()
        try:
            user = create_user(
                form.username.data, form.role.data, password, _department(form), form.email.data, form.display_name.data
            )
        except UserError as error:
            _show_errors(form, error)
        else:
            # Shown once, in this answer only: a password never travels in a cookie or a URL.
            flash(f"已创建账号“{user.username}”。", "success")
            return render_template("users/edit.html", user=user, form=_form(user), password=password)
    users = db.paginate(
        db.select(User).options(db.joinedload(User.department)).order_by(User.role, User.username),
        per_page=100,
        error_out=False,
    )
    return render_template("users/list.html", users=users, form=form, roles=UserRole)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require(can_manage_users)
def edit(user_id):
    """Edit an account's name, role, department and e-mail; disable, enable or reset its password here."""
    user = db.get_or_404(User, user_id)
    form = _form(user)
    form.username.data = user.username  # the name people sign in with does not change
    if form.validate_on_submit():
        try:
            update(user, form.role.data, _department(form), form.email.data, form.display_name.data, current_user)
        except UserError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            flash("已保存。", "success")
            return redirect(url_for("users.edit", user_id=user.id))
    return render_template("users/edit.html", user=user, form=form, password=None)


@bp.route("/users/<int:user_id>/<action>", methods=["POST"])
@require(can_manage_users)
def act(user_id, action):
    """Disable or enable an account, or give it a new password (shown once; its sessions and tokens end)."""
    user = db.get_or_404(User, user_id)
    if action == "disable":
        try:
            check_not_self_lockout(user, current_user)
        except UserError as error:
            flash(error.zh, "danger")
            return redirect(url_for("users.edit", user_id=user.id))
        disable_user(user)
        flash(f"已停用“{user.username}”，其所有登录已退出。", "info")
    elif action == "enable":
        enable_user(user)
        flash(f"已启用“{user.username}”。", "success")
    elif action == "password":
        password = reset_password(user)
        flash(f"已为“{user.username}”生成新密码，其所有登录和接口令牌已失效。", "success")
        return render_template("users/edit.html", user=user, form=_form(user), password=password)
    else:
        return render_template("errors/error.html", code=404, title="页面不存在", message="没有这个操作。"), 404
    return redirect(url_for("users.edit", user_id=user.id))


@bp.route("/settings/uploads", methods=["GET", "POST"])
@require(can_manage_users)
def upload_settings():
    """Choose which kinds of file departments may upload as evidence and summary documents."""
    if request.method == "POST":
        chosen = set_allowed_keys(request.form.getlist("kind"))
        flash("已保存：可以上传" + "、".join(KINDS[key].label for key in chosen) + "。", "success")
        return redirect(url_for("users.upload_settings"))
    return render_template("users/uploads.html", kinds=KINDS.values(), allowed=set(allowed_keys()))
