"""Users and sign-in: accounts, passwords, sessions that can be revoked, and throttled sign-in."""

import re
import secrets
from datetime import timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address
from functools import cache

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .. import transaction
from ..extensions import db
from ..models import ApiToken, Department, LoginAttempt, LoginThrottle, User, UserRole, UserSession
from ..models.base import utcnow
from ..models.tokens import hash_token
from ..timeutil import as_utc, system_now
from .errors import SignInRefused, UserError
from .passwords import check_password

__all__ = ["SignInRefused", "UserError"]


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


#: What a user name may hold: letters, digits and . _ - (it is typed at every sign-in).
USERNAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _checked_profile(role, department, email, display_name):
    """Return ``(role, email, display_name)`` checked, or raise UserError (English and Chinese)."""
    role = _checked_role(role, department)
    email = (email or "").strip() or None
    if email and not is_valid_email(email):
        raise UserError(f"'{email}' is not an e-mail address", "请填写有效的邮箱地址。", field="email")
    display_name = (display_name or "").strip()
    if len(display_name) > 100:
        raise UserError("the name may have at most 100 characters", "姓名不超过100个字。", field="display_name")
    return role, email, display_name


def _checked_role(role, department):
    """Return the :class:`UserRole` ``role`` names, if ``department`` fits it (department users only have one)."""
    try:
        role = UserRole(role)
    except ValueError:
        raise UserError(f"unknown role '{role}'; use office, department or leader", "请选择角色。") from None
    if role is UserRole.DEPARTMENT and department is None:
        raise UserError("a department user needs --department", "部门用户须选择所属部门。", field="department")
    if role is not UserRole.DEPARTMENT and department is not None:
        raise UserError(
            "only department users belong to a department", "只有部门用户属于某个部门。", field="department"
        )
    return role


def create_user(username, role, password, department=None, email=None, display_name=""):
    """Create a user; a department user must belong to a department, others must not."""
    username = (username or "").strip()
    if not USERNAME.fullmatch(username):
        raise UserError(
            "a username of 1 to 64 letters, digits, '.', '_' or '-' is required",
            "用户名须为1至64个英文字母、数字或 . _ -。",
            field="username",
        )
    role, email, display_name = _checked_profile(role, department, email, display_name)
    check_password(password, username)
    if User.query.filter_by(username=username).first():
        raise UserError(f"user '{username}' already exists", f"用户名“{username}”已被使用。", field="username")
    user = User(
        username=username,
        role=role,
        department=department,
        email=email,
        display_name=display_name or (department.short_name if department else ""),
    )
    user.set_password(password)
    db.session.add(user)
    transaction.commit()
    return user


def _last_office_user(user):
    """Tell whether ``user`` is the only active office user (who alone can run the system from the browser)."""
    others = User.query.filter(User.role == UserRole.OFFICE, User.is_active.is_(True), User.id != user.id).count()
    return user.role is UserRole.OFFICE and user.is_active and others == 0


def check_not_self_lockout(user, actor):
    """Refuse to disable or demote oneself, or the last active office user (only the CLI could undo it)."""
    if actor is not None and user.id == actor.id:
        raise UserError(
            "you cannot disable yourself or change your own role", "不能停用自己的账号或改变自己的角色。", field="role"
        )
    if _last_office_user(user):
        raise UserError(
            "this is the last active office user",
            "这是最后一个启用的办公室账号，不能停用或改为其他角色。",
            field="role",
        )


def update_user(user, role, department=None, email=None, display_name="", actor=None):
    """Change a user's role, department, e-mail and name (audited); a new role or department ends their sessions.

    Whoever held the old role must not keep acting in it from a browser already signed in.
    """
    role, email, display_name = _checked_profile(role, department, email, display_name)
    if role is not user.role:
        check_not_self_lockout(user, actor)
    moved = role is not user.role or (department.id if department else None) != user.department_id
    user.role, user.department, user.email = role, department, email
    user.display_name = display_name or (department.short_name if department else user.username)
    if moved:
        revoke_sessions(user)
    transaction.commit()
    return user


def enable_user(user):
    """Let a disabled user sign in again."""
    user.is_active = True
    transaction.commit()


def reset_password(user):
    """Give ``user`` a new generated password (the office hands it over); return it. Sessions and tokens end."""
    password = generate_password()
    set_password(user, password)
    return password


def find_department(name):
    """Return the department called ``name`` (name or alias), or raise UserError."""
    department = Department.lookup(name)
    if department is None:
        raise UserError(f"no department called '{name}'")
    return department


def set_password(user, password):
    """Give ``user`` a new password (the office resetting it): every session and API token of the user ends."""
    check_password(password, user.username)
    user.set_password(password)
    revoke_sessions(user)
    revoke_tokens(user, commit=False)
    transaction.commit()


def change_own_password(user, old_password, new_password, *, remote_addr="", user_agent=""):
    """Change the signed-in user's password; return the new session key for the browser that asked.

    Every session of the user ends, the asking browser's included; it is given a fresh one so that
    it stays signed in. API tokens are kept: they are the user's own, made on purpose.
    """
    try:  # someone at an unattended desk must not try passwords at full speed here either
        with transaction.independently():  # counted even though a wrong password is refused
            _claim_attempt(user.username, PASSWORD_CHANGE)
    except SignInRefused as refused:
        raise UserError(
            "too many wrong current passwords; wait and try again",
            f"当前密码输错次数过多，请{refused.seconds}秒后再试。",
            field="current",
        ) from None
    if not user.check_password(old_password or ""):
        raise UserError("the current password is wrong", "当前密码不正确。", field="current")
    _clear_attempts(user.username, PASSWORD_CHANGE)
    if old_password == new_password:
        raise UserError("the new password is the same as the current one", "新密码不能与当前密码相同。")
    check_password(new_password, user.username)
    user.set_password(new_password)
    revoke_sessions(user)
    return start_session(user, remember=False, remote_addr=remote_addr, user_agent=user_agent)


def disable_user(user):
    """Stop ``user`` from signing in and end every session; the account and its history are kept."""
    user.is_active = False
    revoke_sessions(user)
    transaction.commit()


# --- sessions ---------------------------------------------------------------------------------------
# A session's hours are real hours: they run on the machine's clock, not the office clock that the
# demo and the tests may fix (a session begun under a fixed 2018 clock must not end when it is lifted).


def start_session(user, *, remember, remote_addr, user_agent):
    """Record a new signed-in session for ``user`` and commit; set and return its key (kept in the cookie)."""
    config = current_app.config
    lifetime = timedelta(days=config["REMEMBER_DAYS"]) if remember else timedelta(hours=config["SESSION_HOURS"])
    key = secrets.token_urlsafe(32)
    now = system_now()
    db.session.add(
        UserSession(
            user=user,
            key_hash=hash_token(key),
            created_at=now,
            expires_at=now + lifetime,
            is_remembered=bool(remember),
            remote_addr=(remote_addr or "")[:64],
            user_agent=(user_agent or "")[:200],
        )
    )
    transaction.commit()
    user.session_key = key
    return key


def user_for_session(cookie_value):
    """Return the active user a session cookie's ``user_id:key`` names, if that session is live; else None."""
    user_id, _, key = (cookie_value or "").partition(":")
    if not user_id.isdecimal() or not key:
        return None  # a cookie from before sessions were recorded, or forged
    row = db.session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.key_hash == hash_token(key),
            UserSession.user_id == int(user_id),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > system_now(),
            User.is_active.is_(True),
        )
    ).first()
    if row is None:
        return None
    user = row.User
    user.session_key = key
    return user


def end_session(user):
    """End the session ``user`` is signed in with in this request (signing out)."""
    if user.session_key:
        db.session.execute(
            update(UserSession)
            .where(UserSession.key_hash == hash_token(user.session_key), UserSession.revoked_at.is_(None))
            .values(revoked_at=system_now())
        )
        transaction.commit()


def revoke_sessions(user, *, except_key=None):
    """End every live session of ``user`` (remember-me cookies included), except the one keyed ``except_key``.

    Flushes; the caller commits. Returns how many ended.
    """
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if except_key:
        query = query.where(UserSession.key_hash != hash_token(except_key))
    return db.session.execute(query.values(revoked_at=system_now())).rowcount


def sign_out_everywhere(user):
    """End every session of ``user`` on every browser, this one included; commit and return how many ended."""
    ended = revoke_sessions(user)
    transaction.commit()
    return ended


def live_sessions(user):
    """Return ``user``'s sessions that are still live, newest first."""
    return (
        UserSession.query.filter(
            UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.expires_at > system_now()
        )
        .order_by(UserSession.created_at.desc(), UserSession.id.desc())
        .all()
    )


# --- signing in -------------------------------------------------------------------------------------


@cache
def _dummy_hash(method):
    """A hash to check unknown names against, so that they take as long as real ones."""
    return generate_password_hash(secrets.token_hex(8), method=method)


def throttle_delay(failures, free=None):
    """Return how long to wait after ``failures`` failed attempts (the first ``free`` cost nothing).

    ``free`` defaults to LOGIN_FREE_FAILURES; each failure after doubles the wait from
    LOGIN_DELAY_SECONDS, up to LOGIN_THROTTLE_MINUTES.
    """
    config = current_app.config
    free = config["LOGIN_FREE_FAILURES"] if free is None else free
    if failures < free:
        return timedelta(0)
    seconds = config["LOGIN_DELAY_SECONDS"] * 2 ** min(failures - free, 20)
    return timedelta(seconds=min(seconds, config["LOGIN_THROTTLE_MINUTES"] * 60))


#: The username of an address's row in login_throttles: failures against any name from it.
ANY_NAME = "*"
#: The address part of the key that throttles changing one's own password (its old password).
PASSWORD_CHANGE = "password-change"


def _claim_attempt(username, remote_addr, free=None):
    """Count an attempt for (username, address) before its password is checked, atomically.

    One ``UPDATE … RETURNING`` raises the count and, from the ``free``-th attempt on, sets the wait
    that follows, unless a wait is already running (then the attempt is refused). Attempts made in
    parallel queue on the row and each takes its own step, so never more password checks go
    through than the limits allow, however many workers answer; and attempts below the limit never
    get in each other's way (an office behind one address signing in at 08:30). Raises
    SignInRefused("throttled") while waiting. Waits are real time (the machine's clock), whatever
    the office clock says.
    """
    config = current_app.config
    free = config["LOGIN_FREE_FAILURES"] if free is None else free
    now = system_now()
    forgotten = now - timedelta(hours=config["LOGIN_FORGET_HOURS"])
    first_wait = throttle_delay(free, free)
    key = and_(LoginThrottle.username == username, LoginThrottle.remote_addr == remote_addr)
    for _ in range(3):
        count = case((LoginThrottle.updated_at < forgotten, 1), else_=LoginThrottle.failures + 1)
        claimed = db.session.execute(
            update(LoginThrottle)
            .where(key, or_(LoginThrottle.wait_until.is_(None), LoginThrottle.wait_until <= now))
            .values(failures=count, wait_until=case((count >= free, now + first_wait), else_=None), updated_at=now)
            .returning(LoginThrottle.failures)
        ).scalar()
        if claimed is not None:
            wait = throttle_delay(claimed, free)
            if wait > first_wait:  # each failure past the limit doubles the wait this attempt set
                db.session.execute(update(LoginThrottle).where(key).values(wait_until=now + wait))
            transaction.commit()
            return
        waiting = db.session.execute(select(LoginThrottle.wait_until).where(key)).first()
        db.session.rollback()
        if waiting is None:  # the first attempt for this key
            db.session.add(
                LoginThrottle(
                    username=username,
                    remote_addr=remote_addr,
                    failures=1,
                    wait_until=now + first_wait if free <= 1 else None,
                    updated_at=now,
                )
            )
            try:
                transaction.commit()
                return
            except IntegrityError:  # another attempt inserted the row first: take the next step
                db.session.rollback()
                continue
        until = as_utc(waiting.wait_until)
        if until is not None and until > now:
            raise SignInRefused("throttled", seconds=max(1, int((until - now).total_seconds() + 0.999)))
    raise SignInRefused("throttled", seconds=1)


def _clear_attempts(username, remote_addr):
    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.username == username, LoginThrottle.remote_addr == remote_addr)
        .values(failures=0, wait_until=None, updated_at=system_now())
    )


def _forgive_one(remote_addr):
    """Take a successful attempt back off its address's count: the cap counts failures only."""
    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.username == ANY_NAME, LoginThrottle.remote_addr == remote_addr, LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1)
    )


# --- known devices ----------------------------------------------------------------------------------
# OWASP's device cookie: a browser that has signed in to an account before carries a signed token
# naming it. Its attempts are counted under the device, not the address, so neither a stranger at
# the same address (an office behind one NAT, or a proxy with TRUSTED_PROXY_COUNT unset) nor one
# guessing from elsewhere can slow the owner down.


def _device_serializer():
    return URLSafeTimedSerializer(current_app.secret_key, salt="tracker-device")


def device_token(user):
    """Return a new device token for a browser that ``user`` just signed in on."""
    return _device_serializer().dumps({"u": user.username, "d": secrets.token_urlsafe(12)})


def device_key(token, username):
    """Return the throttle key of a device token issued for ``username``, or None if it is not one."""
    if not token or len(token) > 500:
        return None
    try:
        data = _device_serializer().loads(token, max_age=current_app.config["DEVICE_DAYS"] * 86400)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("u") != username or not isinstance(data.get("d"), str):
        return None
    return f"device:{data['d'][:40]}"


def authenticate(username, password, remote_addr, device=None):
    """Return the user whose credentials these are, or raise SignInRefused.

    Failures are counted in the database (:func:`_claim_attempt`) per account and address, and per
    address across every name (LOGIN_ADDRESS_FREE_FAILURES), so a stranger guessing slows only
    himself down and the limit holds across workers; a browser the account signed in on before
    (``device``, its device cookie) is counted on its own. An unknown name is checked against a
    dummy hash, so it takes as long as a real one.
    """
    username = (username or "").strip()[:64]
    remote_addr = (remote_addr or "unknown")[:64]
    known = device_key(device, username)
    with transaction.independently():  # the attempt is counted even though the sign-in is refused
        key = _count_attempt(username, remote_addr, known)
        user, ok = _check_credentials(username, password)
        db.session.add(LoginAttempt(username=username, remote_addr=remote_addr, is_success=ok))
        if ok and user.is_active:
            _clear_attempts(username, key)
            if known is None:
                _forgive_one(remote_addr)
            user.last_login_at = utcnow()
    if not ok:
        raise SignInRefused("invalid")
    if not user.is_active:
        raise SignInRefused("disabled")
    return user


def _count_attempt(username, remote_addr, known):
    """Claim an attempt for ``username`` from the device ``known`` (its key), else from ``remote_addr``; return the key.

    An attempt from no known device also counts against the address across every name.
    """
    if known is None:
        _claim_attempt(ANY_NAME, remote_addr, current_app.config["LOGIN_ADDRESS_FREE_FAILURES"])
    key = known or remote_addr
    _claim_attempt(username, key)
    return key


def _check_credentials(username, password):
    """Return ``(user or None, whether the password is theirs)``; an unknown name takes as long as a real one."""
    user = User.query.filter_by(username=username).first()
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password or "")
        return None, False
    return user, user.check_password(password or "")


def create_token(user):
    """Create an API token for ``user``; return the token, which is shown once and stored only hashed."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=hash_token(token)))
    transaction.commit()
    return token


def revoke_tokens(user, *, commit=True):
    """Revoke every API token of ``user``; return how many were revoked."""
    tokens = ApiToken.query.filter_by(user_id=user.id, revoked_at=None).all()
    for token in tokens:
        token.revoked_at = utcnow()
    if commit:
        transaction.commit()
    return len(tokens)


def user_for_token(token):
    """Return the active user an unrevoked token belongs to, or None."""
    if not token:
        return None
    row = (
        ApiToken.query.options(db.joinedload(ApiToken.user))  # one query for both
        .filter_by(token_hash=hash_token(token), revoked_at=None)
        .one_or_none()
    )
    if row is None or not row.user.is_active:
        return None
    return row.user
