"""The password rules: long enough, not the user name, not a well-known password, not blank."""

import itertools
from functools import cache
from pathlib import Path

from .errors import UserError

MIN_LENGTH = 10
MAX_LENGTH = 128
LIST = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"


@cache
def common_passwords():
    """Return the shipped list of well-known passwords, lower-cased."""
    lines = LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _is_run(password):
    """Tell whether ``password`` is one character repeated or a plain ascending/descending run (abcdef…, 98765…)."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(password)}
    return len(steps) == 1 and steps <= {-1, 0, 1}


def _is_like_name(lowered, username):
    """Tell whether ``lowered`` is the user name, or little more than it (the name at least half of it)."""
    name = (username or "").strip().lower()
    return bool(name) and (lowered == name or (name in lowered and len(name) * 2 >= len(lowered)))


def _check_length(password):
    """Raise UserError if ``password`` is blank, too short or too long."""
    if not password.strip():
        raise UserError("the password must not be empty or only spaces", "密码不能为空，也不能只有空格。")
    if len(password) < MIN_LENGTH:
        raise UserError(f"the password must have at least {MIN_LENGTH} characters", f"密码至少需要{MIN_LENGTH}个字符。")
    if len(password) > MAX_LENGTH:
        raise UserError(f"the password may have at most {MAX_LENGTH} characters", f"密码最多{MAX_LENGTH}个字符。")


def check_password(password, username=""):
    """Raise UserError (English and Chinese) if ``password`` breaks a rule; return it unchanged otherwise."""
    password = password or ""
    _check_length(password)
    lowered = password.lower()
    if _is_like_name(lowered, username):
        raise UserError("the password must not be the user name", "密码不能与用户名相同或只是在用户名上加几个字符。")
    if lowered in common_passwords() or _is_run(lowered):
        raise UserError(
            "the password is too common; choose one that is hard to guess",
            "这个密码过于常见，容易被猜到，请换一个。",
        )
    return password
