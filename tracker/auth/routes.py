"""Sign-in and sign-out views."""

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from . import bp
from .forms import LoginForm
from .operations import SignInRefused, authenticate

MESSAGES = {
    "invalid": "用户名或密码错误。",
    "disabled": "该账号已停用，请联系办公室。",
    "throttled": "登录失败次数过多，请{minutes}分钟后再试。",
}


def _safe_next(target):
    """Return ``target`` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign a user in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data, request.remote_addr)
        except SignInRefused as refused:
            flash(MESSAGES[refused.reason].format(minutes=refused.minutes), "danger")
        else:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign the current user out."""
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))
