"""API tokens for ``Authorization: Bearer`` access to /api/v1."""

import hashlib

from sqlalchemy import orm

from ..extensions import db
from .base import utcnow


def hash_token(token):
    """Return the SHA-256 of a token; only the hash is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    """A token that acts as its user on the API; revocable."""

    __tablename__ = "api_tokens"
    __audited__ = True

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    #: SHA-256 of the token; the token itself is shown once and never stored.
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    revoked_at = db.Column(db.DateTime(timezone=True))

    user = orm.relationship("User")
