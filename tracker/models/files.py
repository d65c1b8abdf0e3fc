"""The files people upload and the spreadsheets the archive keeps, stored in the database itself.

A file is written in the same transaction as the row that refers to it (an evidence file, a summary
document, an archived workbook), so every web host sees it, an interrupted upload leaves nothing
behind, and a database backup holds every file.
"""

from sqlalchemy import orm

from ..extensions import db
from ..timeutil import system_now


class StoredFile(db.Model):
    """One file's bytes under its generated name (``Evidence.stored_name`` and the like refer to it)."""

    __tablename__ = "stored_files"

    #: A generated name: 32 hex digits and the suffix its content was recognised as.
    name = db.Column(db.String(64), primary_key=True)
    size = db.Column(db.Integer, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    #: The bytes; loaded only when asked for, so lists of files never read them.
    data = orm.deferred(db.Column(db.LargeBinary, nullable=False))
    #: The machine's clock, not the office's (which TRACKER_NOW may move): it ages the file for the clean-up.
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=system_now)
