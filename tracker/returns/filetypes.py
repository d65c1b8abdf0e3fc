"""The kinds of file people upload, recognised by their content, and which the office allows.

Modern Office files, PDF and pictures are recognised by ``filetype``; the older Word and WPS
files are OLE2 compound files (one format for all of them, told apart by the name's suffix); an
OFD (GB/T 33190, the national format for official documents) is a zip with ``OFD.xml`` at its root.
"""

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import filetype

from ..extensions import db
from ..models import Setting
from ..transaction import commit

OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
#: The Office formats' MIME types, named once for uploads, checks and downloads alike.
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Kind:
    """A kind of file: its MIME type, the suffix it is stored under, and its name in Chinese."""

    key: str
    mime: str
    suffix: str
    label: str


KINDS = {
    k.key: k
    for k in (
        Kind("pdf", "application/pdf", ".pdf", "PDF"),
        Kind("docx", DOCX, ".docx", "Word（.docx）"),
        Kind("xlsx", XLSX, ".xlsx", "Excel（.xlsx）"),
        Kind("jpg", "image/jpeg", ".jpg", "JPG"),
        Kind("png", "image/png", ".png", "PNG"),
        Kind("doc", "application/msword", ".doc", "Word 97-2003（.doc）"),
        Kind("wps", "application/kswps", ".wps", "WPS文字（.wps）"),
        Kind("et", "application/kset", ".et", "WPS表格（.et）"),
        Kind("ofd", "application/ofd", ".ofd", "OFD版式文件（.ofd）"),
    )
}
BY_MIME = {k.mime: k for k in KINDS.values()}
#: What evidence may be; what a half-year summary's document may be (a text, not a table or a picture).
EVIDENCE_KINDS = tuple(KINDS)
DOCUMENT_KINDS = ("docx", "pdf", "doc", "wps", "ofd")
#: The OLE2 kinds, by the suffix of the name (the content is the same container for all).
OLE2_SUFFIXES = {".doc": "doc", ".wps": "wps", ".et": "et"}
SETTING = "upload_kinds"


def sniff(filename, data):
    """Return the MIME type ``data`` shows (the name decides only among OLE2 kinds), or None."""
    if data.startswith(OLE2):
        key = OLE2_SUFFIXES.get(Path(filename or "").suffix.lower())
        return KINDS[key].mime if key else None
    guessed = filetype.guess(data)
    mime = guessed.mime if guessed else None
    if mime == "application/zip" and _is_ofd(data):
        return KINDS["ofd"].mime
    return mime


def _is_ofd(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return "OFD.xml" in package.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return False


def allowed_keys():
    """Return the kinds the office allows (all, until it chooses)."""
    row = db.session.get(Setting, SETTING)
    chosen = row.value if row is not None and isinstance(row.value, list) else list(KINDS)
    return [key for key in KINDS if key in chosen]


def set_allowed_keys(keys):
    """Record which kinds may be uploaded (PDF always stays: every department can make one); commit."""
    chosen = [key for key in KINDS if key in set(keys) | {"pdf"}]
    row = db.session.get(Setting, SETTING) or Setting(key=SETTING)
    row.value = chosen
    db.session.add(row)
    commit()
    return chosen


def allowed_for(kinds):
    """Return the :class:`Kind` s of ``kinds`` the office allows now."""
    allowed = set(allowed_keys())
    return [KINDS[key] for key in kinds if key in allowed]


def labels(kinds):
    """Say which kinds may be uploaded: PDF、Word（.docx）…"""
    return "、".join(k.label for k in kinds)
