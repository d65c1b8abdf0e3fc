"""Evidence files: checked by content, stored under generated names outside the web root."""

import hashlib
import secrets
from pathlib import Path

import filetype
from flask import current_app

from ..extensions import db
from ..models import Evidence
from .operations import ReturnError

#: What may be uploaded, by the type its content shows, with the suffix it is stored under.
ALLOWED = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "image/jpeg": ".jpg",
    "image/png": ".png",
}
ALLOWED_ZH = "PDF、Word（.docx）、Excel（.xlsx）、JPG、PNG"


def upload_dir():
    """Return the folder evidence files are kept in (config UPLOAD_DIR, default instance/uploads)."""
    path = Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _clean_name(name):
    name = Path((name or "").replace("\\", "/")).name.strip()
    return name[:255] or "附件"


def checked_upload(filename, data, allowed=ALLOWED, allowed_zh=ALLOWED_ZH):
    """Return ``(mime, clean name)`` of an upload, or refuse it: empty, too large, or a type not in ``allowed``.

    The type is read from the content, never from the name.
    """
    if not data:
        raise ReturnError("invalid", "the file is empty", "上传的文件是空的。", {"file": "empty"})
    if len(data) > current_app.config["MAX_CONTENT_LENGTH"]:
        raise ReturnError("too_large", "the file is too large", "上传的文件超过大小限制。", {"file": "too large"})
    kind = filetype.guess(data)
    mime = kind.mime if kind else None
    if mime not in allowed:
        names = ", ".join(suffix.lstrip(".") for suffix in allowed.values())
        raise ReturnError(
            "invalid",
            f"'{_clean_name(filename)}' is not a {names} file (its content says {mime or 'unknown'})",
            f"“{_clean_name(filename)}”不是允许的文件类型。只能上传{allowed_zh}文件（按文件内容判断，而不是文件名）。",
            {"file": "type not allowed"},
        )
    return mime, _clean_name(filename)


def store_upload(data, suffix):
    """Write an upload under a new random name in :func:`upload_dir`; return ``(name, path)``."""
    stored = secrets.token_hex(16) + suffix
    path = upload_dir() / stored
    path.write_bytes(data)
    return stored, path


def add_evidence(line, filename, data, user):
    """Attach a file to a form line; refuse anything but pdf, docx, xlsx, jpg or png by its content."""
    if not line.report.is_editable:
        raise ReturnError("not_editable", "the form can no longer be changed", "该报送表当前不能修改，不能再上传附件。")
    mime, name = checked_upload(filename, data)
    stored, path = store_upload(data, ALLOWED[mime])
    try:
        evidence = Evidence(
            line=line,
            original_name=name,
            stored_name=stored,
            content_type=mime,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by_id=user.id if user else None,
        )
        db.session.add(evidence)
        db.session.commit()
    except Exception:
        db.session.rollback()
        path.unlink(missing_ok=True)
        raise
    return evidence


def remove_evidence(evidence):
    """Remove an evidence file from a form that can still be changed."""
    if not evidence.line.report.is_editable:
        raise ReturnError("not_editable", "the form can no longer be changed", "该报送表当前不能修改。")
    path = upload_dir() / evidence.stored_name
    db.session.delete(evidence)
    db.session.commit()
    path.unlink(missing_ok=True)


def evidence_path(evidence):
    """Return where an evidence file is stored."""
    return upload_dir() / evidence.stored_name
