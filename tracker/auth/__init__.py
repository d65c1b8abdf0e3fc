"""Sign-in and sign-out (登录)."""

from flask import Blueprint, flash, jsonify, redirect, request
from flask_login import login_url

from ..extensions import login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "warning"


@login_manager.user_loader
def load_user(user_id):
    """Return the signed-in user, or None once the session has ended or the account is disabled."""
    from .operations import user_for_session

    return user_for_session(user_id)


@login_manager.unauthorized_handler
def unauthorized():
    """Answer 401 in JSON on the API; send people to the sign-in page elsewhere."""
    if request.path.startswith("/api/") or request.headers.get("X-Requested-With") == "fetch":
        # The API, and the pages' scripts (autosave): a status they can act on, not a sign-in page.
        return jsonify(error="unauthorized", message="sign in, or send Authorization: Bearer TOKEN"), 401
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, next_url=request.url))


from . import routes  # noqa: E402, F401 - routes attach themselves to bp
