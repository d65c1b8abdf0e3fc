"""Sign-in and sign-out views."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..handoff import events_for, preferences, set_preferences
from ..models.tokens import hash_token
from . import bp
from .forms import ChangePasswordForm, LoginForm
from .operations import (
    SignInRefused,
    UserError,
    authenticate,
    change_own_password,
    device_key,
    device_token,
    end_session,
    live_sessions,
    sign_out_everywhere,
    start_session,
)

#: The cookie that marks a browser the account signed in on before (see operations.device_key).
DEVICE_COOKIE = "tracker_device"

MESSAGES = {
    "invalid": "用户名或密码错误。",
    "disabled": "该账号已停用，请联系办公室。",
    "throttled": "登录失败次数过多，请{wait}后再试。",
}


def _wait_zh(seconds):
    """Say a wait in Chinese: 30秒, 4分钟."""
    return f"{seconds}秒" if seconds < 60 else f"{(seconds + 59) // 60}分钟"


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
            user = authenticate(
                form.username.data, form.password.data, request.remote_addr, request.cookies.get(DEVICE_COOKIE)
            )
        except SignInRefused as refused:
            flash(MESSAGES[refused.reason].format(wait=_wait_zh(refused.seconds or 0)), "danger")
        else:
            start_session(
                user,
                remember=form.remember.data,
                remote_addr=request.remote_addr,
                user_agent=request.user_agent.string,
            )
            login_user(user, remember=form.remember.data)
            response = redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
            if device_key(request.cookies.get(DEVICE_COOKIE), user.username) is None:
                response.set_cookie(
                    DEVICE_COOKIE,
                    device_token(user),
                    max_age=current_app.config["DEVICE_DAYS"] * 86400,
                    httponly=True,
                    samesite="Lax",
                    secure=current_app.config["SESSION_COOKIE_SECURE"],
                )
            return response
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign the current user out: this browser's session ends, and its cookies no longer sign anyone in."""
    end_session(current_user)
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Show the signed-in user's account: change the password, see and end sessions."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_own_password(
                current_user,
                form.current.data,
                form.new.data,
                remote_addr=request.remote_addr,
                user_agent=request.user_agent.string,
            )
        except UserError as exc:
            field = form.current if exc.field == "current" else form.new
            field.errors = [*field.errors, exc.zh]
        else:
            # The old sessions have ended; this browser carries on under the new one.
            login_user(current_user._get_current_object(), remember=False)
            flash("密码已修改。其他设备上的登录已全部退出。", "success")
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html",
        form=form,
        sessions=live_sessions(current_user),
        session_hash=hash_token,
        events=events_for(current_user),
        by_email=preferences(current_user),
    )


@bp.route("/account/notifications", methods=["POST"])
@login_required
def notifications():
    """Choose, per hand-off, the bell only or the bell and e-mail."""
    chosen = {event for event in events_for(current_user) if request.form.get(f"email-{event}")}
    set_preferences(current_user, chosen)
    flash("通知方式已保存。", "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_all():
    """End every session of the signed-in user, on every browser, this one included."""
    sign_out_everywhere(current_user)
    logout_user()
    flash("已在所有设备上退出登录。", "info")
    return redirect(url_for("auth.login"))
