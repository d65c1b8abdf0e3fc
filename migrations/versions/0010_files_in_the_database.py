"""files in the database: evidence, summary documents and archived workbooks move from the
UPLOAD_DIR and ARCHIVE_DIR folders into stored_files, each checked against the SHA-256 its row
recorded; the folders are left as they were (remove them once the upgrade is verified)

A file a row refers to that is missing on disk, or whose checksum differs, stops the upgrade
with the list of such files, and nothing changes. Set MIGRATE_MISSING_FILES=skip to upgrade
anyway without them (their downloads then answer 404).

Downgrading writes every stored file back to its folder.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:20:00

"""

import hashlib
import os
from pathlib import Path

from alembic import op
import sqlalchemy as sa
from flask import current_app

from tracker.timeutil import system_now


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


stored_files = sa.table(
    "stored_files",
    sa.column("name", sa.String),
    sa.column("size", sa.Integer),
    sa.column("sha256", sa.String),
    sa.column("data", sa.LargeBinary),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _folder(key, default):
    return Path(current_app.config.get(key) or Path(current_app.instance_path) / default)


def _referenced(bind):
    """Yield ``(folder key, name, sha256 or None)`` for every file a row refers to."""
    for name, sha in bind.execute(sa.text("SELECT stored_name, sha256 FROM evidence")):
        yield "UPLOAD_DIR", name, sha
    for name, sha in bind.execute(
        sa.text(
            "SELECT document_stored_name, document_sha256 FROM half_year_summaries WHERE document_stored_name IS NOT NULL"
        )
    ):
        yield "UPLOAD_DIR", name, sha
    content = sa.table("summary_versions", sa.column("content", sa.JSON))
    for (kept,) in bind.execute(sa.select(content.c.content)):
        if kept and kept.get("document_stored_name"):
            yield "UPLOAD_DIR", kept["document_stored_name"], kept.get("document_sha256")
    for name, sha in bind.execute(sa.text("SELECT stored_name, sha256 FROM archive_files")):
        yield "ARCHIVE_DIR", name, sha


def upgrade():
    bind = op.get_bind()
    folders = {"UPLOAD_DIR": _folder("UPLOAD_DIR", "uploads"), "ARCHIVE_DIR": _folder("ARCHIVE_DIR", "archive")}
    # Every file is checked before anything changes, so a refused upgrade leaves the database as it was.
    found, problems, seen = {}, [], set()
    for key, name, expected in list(_referenced(bind)):
        if name in seen:
            continue
        seen.add(name)
        path = folders[key] / name
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        sha = _sha256(path)
        if expected and sha != expected:
            problems.append(f"{path}: SHA-256 {sha} differs from the recorded {expected}")
            continue
        found[name] = (path, sha)
    if problems and os.environ.get("MIGRATE_MISSING_FILES") != "skip":
        shown = "\n  ".join(problems[:20]) + (f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise RuntimeError(
            f"{len(problems)} stored file(s) could not be moved into the database:\n  {shown}\n"
            "Put the files back (UPLOAD_DIR, ARCHIVE_DIR) and upgrade again, or set MIGRATE_MISSING_FILES=skip "
            "to upgrade without them."
        )
    op.create_table(
        "stored_files",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stored_files")),
    )
    now = system_now()
    try:
        for name, (path, sha) in found.items():
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != sha:
                raise RuntimeError(f"{path} changed while it was being moved into the database; upgrade again")
            bind.execute(
                stored_files.insert().values(name=name, size=len(data), sha256=sha, data=data, created_at=now)
            )
    except Exception:
        # PostgreSQL rolls the whole upgrade back; SQLite has already kept the new table: drop it,
        # so that the database is as it was and the next upgrade can run.
        if bind.dialect.name == "sqlite":
            op.drop_table("stored_files")
        raise


def _sha256(path):
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def downgrade():
    bind = op.get_bind()
    archived = {name for (name,) in bind.execute(sa.text("SELECT stored_name FROM archive_files"))}
    folders = {"UPLOAD_DIR": _folder("UPLOAD_DIR", "uploads"), "ARCHIVE_DIR": _folder("ARCHIVE_DIR", "archive")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    rows = bind.execution_options(stream_results=True, yield_per=20).execute(
        sa.select(stored_files.c.name, stored_files.c.data)
    )
    for name, data in rows:  # a few files' bytes in memory at a time
        folder = folders["ARCHIVE_DIR" if name in archived else "UPLOAD_DIR"]
        (folder / name).write_bytes(data)
    op.drop_table("stored_files")
