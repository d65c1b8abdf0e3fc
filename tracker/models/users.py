"""People who sign in, and the record of sign-in attempts."""

import enum

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import orm
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import enum_column_type, utcnow


class UserRole(enum.StrEnum):
    """What a user is: the office runs the plan, departments report, leaders read."""

    OFFICE = "office"  #: 工委(管委会)办公室
    DEPARTMENT = "department"  #: 部门填报人
    LEADER = "leader"  #: 领导

    @property
    def label(self):
        """Return the Chinese label."""
        return {"office": "办公室", "department": "部门", "leader": "领导"}[self.value]


class User(UserMixin, db.Model):
    """A person who signs in."""

    __tablename__ = "users"
    __audited__ = True
    #: Never copied into the audit trail.
    __audit_exclude__ = frozenset({"password_hash"})
    __table_args__ = (
        db.CheckConstraint("role != 'department' OR department_id IS NOT NULL", name="department_user_has_department"),
    )

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), nullable=False, unique=True)
    display_name = db.Column(db.String(100), nullable=False, default="")
    role = db.Column(
        enum_column_type(UserRole),
        nullable=False,
    )
    #: The department a department user belongs to (and may fill in forms for).
    department_id = db.Column(db.Integer, db.ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    email = db.Column(db.String(200))
    password_hash = db.Column(db.String(255), nullable=False)
    #: A disabled user cannot sign in; users are never deleted, so the audit trail keeps its names.
    is_active = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    last_login_at = db.Column(db.DateTime(timezone=True))

    department = orm.relationship("Department")

    #: The key of the session this request is signed in with (set on sign-in and by the user loader).
    session_key = None

    def __repr__(self):
        return f"<User {self.username}>"

    def get_id(self):
        """Return what the session and remember-me cookies carry: the user and the session's key."""
        return f"{self.id}:{self.session_key}"

    def set_password(self, password):
        """Store a salted hash of ``password`` (``PASSWORD_HASH_METHOD``: Werkzeug's scrypt unless configured)."""
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password):
        """Tell whether ``password`` is this user's password."""
        return check_password_hash(self.password_hash, password)

    @property
    def name(self):
        """Return the name to show."""
        return self.display_name or self.username


class LoginAttempt(db.Model):
    """One sign-in attempt, kept so that throttling holds across workers."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        db.Index("ix_login_attempts_username_at", "username", "at"),
        db.Index("ix_login_attempts_remote_addr_at", "remote_addr", "at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), nullable=False)
    remote_addr = db.Column(db.String(64), nullable=False)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    is_success = db.Column(db.Boolean, nullable=False)


class UserSession(db.Model):
    """One signed-in browser: its cookie names this row, so signing out or a password change ends it.

    The session and remember-me cookies carry ``user_id:key``; only the key's SHA-256 is stored.
    """

    __tablename__ = "user_sessions"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    #: SHA-256 of the random key in the cookie.
    key_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    #: A remembered session lasts REMEMBER_DAYS, another SESSION_HOURS; after that it is refused.
    expires_at = db.Column(db.DateTime(timezone=True), nullable=False)
    #: Set by signing out, a password change, disabling the account or "sign out everywhere".
    revoked_at = db.Column(db.DateTime(timezone=True))
    is_remembered = db.Column(db.Boolean, nullable=False, default=False)
    remote_addr = db.Column(db.String(64), nullable=False, default="")
    user_agent = db.Column(db.String(200), nullable=False, default="")

    user = orm.relationship("User")


class LoginThrottle(db.Model):
    """Failed sign-ins for one account from one address, and when the next attempt may be made.

    Counting per pair means a stranger guessing a name slows down only himself: the owner, signing
    in from another address, is never locked out.
    """

    __tablename__ = "login_throttles"

    username = db.Column(db.String(64), primary_key=True)
    remote_addr = db.Column(db.String(64), primary_key=True)
    #: Attempts since the last success (an attempt counts before its password is checked).
    failures = db.Column(db.Integer, nullable=False, default=0)
    #: No attempt for this pair is checked before this moment.
    wait_until = db.Column(db.DateTime(timezone=True))
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
