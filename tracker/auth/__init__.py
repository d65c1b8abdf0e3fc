"""Sign-in and sign-out (登录)."""

from flask import Blueprint

from ..extensions import db, login_manager
from ..models import User

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "warning"


@login_manager.user_loader
def load_user(user_id):
    """Return the signed-in user, or None once the account is disabled."""
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None


from . import routes  # noqa: E402, F401 - routes attach themselves to bp
