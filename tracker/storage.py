"""Files kept in the database (:class:`~tracker.models.StoredFile`): evidence, summary documents and
archived workbooks.

A file is added to the session with the row that refers to it and committed with it: nothing is
written anywhere else, so a failed or interrupted request leaves no file behind, every web host
serves the same files, and a backup of the database holds them all.
"""

import datetime
import hashlib
import io
import secrets

from flask import abort, send_file
from sqlalchemy import delete, select

from .extensions import db
from .models import ArchiveFile, Evidence, HalfYearSummary, StoredFile, SummaryVersion


def put(data, suffix):
    """Add ``data`` to the session under a new generated name ending in ``suffix``; return the
    :class:`StoredFile` (its ``name``, ``size`` and ``sha256`` for the row that refers to it).

    It is written when the caller commits, together with that row.
    """
    stored = StoredFile(
        name=secrets.token_hex(16) + suffix, size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data
    )
    db.session.add(stored)
    return stored


def read(name):
    """Return the bytes stored under ``name``, or None if there is no such file."""
    return db.session.scalar(select(StoredFile.data).where(StoredFile.name == name))


def send(name, mimetype, download_name):
    """Answer a download of the file stored under ``name`` (404 if it is not there)."""
    data = read(name)
    if data is None:
        abort(404)
    return attachment(data, mimetype, download_name)


def attachment(data, mimetype, download_name):
    """Answer ``data`` as a file to save under ``download_name``."""
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=download_name)


def saved(document):
    """Return the bytes of a workbook or document (anything with ``save(file)``), as it would be saved."""
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def discard(name):
    """Delete the file stored under ``name`` when the caller commits."""
    db.session.execute(delete(StoredFile).where(StoredFile.name == name))


def referenced_names():
    """Return the name of every file a row refers to: evidence, summaries and their versions, the archive."""
    names = set(db.session.scalars(select(Evidence.stored_name)))
    names.update(db.session.scalars(select(ArchiveFile.stored_name)))
    names.update(
        db.session.scalars(
            select(HalfYearSummary.document_stored_name).where(HalfYearSummary.document_stored_name.is_not(None))
        )
    )
    for content in db.session.scalars(select(SummaryVersion.content)):
        if content and content.get("document_stored_name"):
            names.add(content["document_stored_name"])
    return names


def remove_unreferenced(now):
    """Delete files that no row has referred to for a day (a plan removed with its archive, say); return how many.

    ``now`` is the machine's clock (:func:`~tracker.timeutil.system_now`), as files are stamped with.

    A file younger than a day is left alone: it and its row may have been committed after the
    references were read.
    """
    referenced = referenced_names()
    cutoff = now - datetime.timedelta(days=1)
    stale = [
        name
        for name in db.session.scalars(select(StoredFile.name).where(StoredFile.created_at < cutoff))
        if name not in referenced
    ]
    for start in range(0, len(stale), 500):
        db.session.execute(delete(StoredFile).where(StoredFile.name.in_(stale[start : start + 500])))
    return len(stale)
