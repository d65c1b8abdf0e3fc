"""Who may do what: named predicates, and decorators that apply them to views.

Every check the UI, API and CLI make lives here, so that a rule is stated once and tested as a
plain function.
"""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .models import UserRole


def is_office(user):
    """Tell whether ``user`` works in the office that runs the plan."""
    return user.is_authenticated and user.role is UserRole.OFFICE


def is_leader(user):
    """Tell whether ``user`` is a leader (reads everything, writes nothing)."""
    return user.is_authenticated and user.role is UserRole.LEADER


def can_view_plan(user):
    """Everyone signed in may read the plan: departments need to see what they are asked to do."""
    return user.is_authenticated


def can_manage_plan(user):
    """Only the office corrects tasks and departments."""
    return is_office(user)


def can_download_exports(user):
    """The office and leaders download the spreadsheets."""
    return is_office(user) or is_leader(user)


def can_view_audit(user):
    """The office and leaders may read the audit trail."""
    return is_office(user) or is_leader(user)


def require(predicate):
    """View decorator: sign-in required, then 403 unless ``predicate(current_user)`` holds."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not predicate(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
