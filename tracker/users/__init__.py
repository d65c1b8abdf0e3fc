"""Accounts (账号管理): the office creates, edits, disables and resets users from the browser."""

from flask import Blueprint

bp = Blueprint("users", __name__)

from . import routes  # noqa: E402, F401 - routes attach themselves to bp
