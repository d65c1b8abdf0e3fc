"""Users and sign-in: creating and disabling accounts, checking passwords with throttling."""

import re
import secrets
from datetime import timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address

from flask import current_app

from ..extensions import db
from ..models import ApiToken, Department, LoginAttempt, User, UserRole
from ..models.base import utcnow
from ..models.tokens import hash_token


class UserError(ValueError):
    """A user operation was refused; the message says why (English, for the CLI)."""


class SignInRefused(Exception):
    """A sign-in failed; ``reason`` is ``invalid``, ``disabled`` or ``throttled``."""

    def __init__(self, reason, minutes=None):
        super().__init__(reason)
        self.reason = reason
        self.minutes = minutes


def generate_password():
    """Return a random password that is easy to type from a printout."""
    alphabet = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


#: One @, a dot in the host, nothing that would split or quote an address.
EMAIL_PATTERN = r"[^@\s<>,;\"()\[\]]+@[^@\s<>,;\"()\[\]]+\.[^@\s<>,;\"()\[\]]+"


def is_valid_email(address):
    """Tell whether ``address`` is a plain e-mail address a message can be sent to (user@host.domain)."""
    if not isinstance(address, str) or len(address) > 200 or not re.fullmatch(EMAIL_PATTERN, address):
        return False
    try:
        Address(addr_spec=address)
    except (ValueError, HeaderParseError):
        return False
    return True


def create_user(username, role, password, department=None, email=None, display_name=""):
    """Create a user; a department user must belong to a department, others must not."""
    username = (username or "").strip()
    if not username or len(username) > 64:
        raise UserError("a username of 1 to 64 characters is required")
    try:
        role = UserRole(role)
    except ValueError:
        raise UserError(f"unknown role '{role}'; use office, department or leader") from None
    if role is UserRole.DEPARTMENT and department is None:
        raise UserError("a department user needs --department")
    if role is not UserRole.DEPARTMENT and department is not None:
        raise UserError("only department users belong to a department")
    if len(password or "") < 8:
        raise UserError("the password must have at least 8 characters")
    if email and not is_valid_email(email):
        raise UserError(f"'{email}' is not an e-mail address")
    if User.query.filter_by(username=username).first():
        raise UserError(f"user '{username}' already exists")
    user = User(
        username=username,
        role=role,
        department=department,
        email=email or None,
        display_name=display_name or (department.short_name if department else ""),
    )
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def find_department(name):
    """Return the department called ``name`` (name or alias), or raise UserError."""
    department = Department.lookup(name)
    if department is None:
        raise UserError(f"no department called '{name}'")
    return department


def set_password(user, password):
    """Give ``user`` a new password."""
    if len(password or "") < 8:
        raise UserError("the password must have at least 8 characters")
    user.set_password(password)
    db.session.commit()


def disable_user(user):
    """Stop ``user`` from signing in; the account and its history are kept."""
    user.is_active = False
    db.session.commit()


def _recent_failures(since, **filters):
    return LoginAttempt.query.filter_by(is_success=False, **filters).filter(LoginAttempt.at >= since).count()


def authenticate(username, password, remote_addr):
    """Return the user whose credentials these are, or raise SignInRefused.

    Failed attempts are counted in the database per account and per address, so the limit
    holds however many workers serve the site. A throttled account is refused even with the
    right password until the window has passed.
    """
    config = current_app.config
    window = config["LOGIN_THROTTLE_MINUTES"]
    since = utcnow() - timedelta(minutes=window)
    username = (username or "").strip()
    remote_addr = remote_addr or "unknown"
    if (
        _recent_failures(since, username=username) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or _recent_failures(since, remote_addr=remote_addr) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    ):
        raise SignInRefused("throttled", minutes=window)
    user = User.query.filter_by(username=username).first()
    ok = user is not None and user.check_password(password or "")
    db.session.add(LoginAttempt(username=username[:64], remote_addr=remote_addr[:64], is_success=ok))
    if ok and user.is_active:
        user.last_login_at = utcnow()
    db.session.commit()
    if not ok:
        raise SignInRefused("invalid")
    if not user.is_active:
        raise SignInRefused("disabled")
    return user


def create_token(user):
    """Create an API token for ``user``; return the token, which is shown once and stored only hashed."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=hash_token(token)))
    db.session.commit()
    return token


def revoke_tokens(user):
    """Revoke every API token of ``user``; return how many were revoked."""
    tokens = ApiToken.query.filter_by(user_id=user.id, revoked_at=None).all()
    for token in tokens:
        token.revoked_at = utcnow()
    db.session.commit()
    return len(tokens)


def user_for_token(token):
    """Return the active user an unrevoked token belongs to, or None."""
    if not token:
        return None
    row = ApiToken.query.filter_by(token_hash=hash_token(token), revoked_at=None).one_or_none()
    if row is None or not row.user.is_active:
        return None
    return row.user
