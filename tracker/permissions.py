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


def can_manage_users(user):
    """Only the office creates, edits, disables accounts and resets their passwords."""
    return is_office(user)


def can_download_exports(user):
    """The office and leaders download the spreadsheets."""
    return is_office(user) or is_leader(user)


def can_read_briefs(user):
    """The office and leaders read the leaders' briefs and subscribe to them; departments do not."""
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


def can_view_return(user, report):
    """The office and leaders see every form; a department user only its own department's."""
    if not user.is_authenticated:
        return False
    if user.role is UserRole.DEPARTMENT:
        return user.department_id == report.department_id
    return True


def can_view_dashboard(user):
    """The office and leaders see the dashboard of every department."""
    return is_office(user) or is_leader(user)


def visible_return_or_404(user, report):
    """Return ``report`` if ``user`` may see it, else 404: another department's form is not even confirmed."""
    if report is None or not can_view_return(user, report):
        abort(404)
    return report


def can_run_jobs(user):
    """The office sees the scheduled jobs, runs them now, edits the chase ladder and reads the chase ledger."""
    return is_office(user)


def can_view_overdue_list(user):
    """The office and leaders see the overdue list (逾期名单)."""
    return is_office(user) or is_leader(user)


def can_manage_register(user):
    """The office keeps the register of applications, the cases, Table 2's figures and the calendar."""
    return is_office(user)


def can_view_register(user):
    """Everyone signed in may open the register: departments see the applications they handle."""
    return user.is_authenticated


def can_view_application(user, application):
    """The office and leaders see every application; a department only those it handles."""
    if not user.is_authenticated:
        return False
    if user.role is UserRole.DEPARTMENT:
        return application.department_id is not None and user.department_id == application.department_id
    return True


def can_view_annual_report(user):
    """The office and leaders read the annual report's tables and download them."""
    return is_office(user) or is_leader(user)
