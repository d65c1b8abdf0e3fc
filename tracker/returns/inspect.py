"""What an uploaded file may hold, beyond its type: an Office package with the parts its type
requires and nothing that runs or reaches out (programs, macros, embedded objects, remote
templates), within sane unpacked sizes; a PDF with no script, launch action, attachment or HTML.
Each refusal says why, in English and Chinese."""

import io
import re
import zipfile
import zlib

import olefile
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from ..errors import TrackerError
from .filetypes import DOCX, XLSX

#: The part each Office type must have, and the content type [Content_Types].xml must give it.
MAIN_PARTS = {
    DOCX: ("/word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    XLSX: ("/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
}
#: Names inside a package that run, or carry something that runs: programs, scripts, web pages and
#: web archives, macro-enabled documents, macros, ActiveX, embedded OLE objects (a Packager object
#: carries any file).
RUNNABLE = re.compile(
    r"(\.(exe|dll|com|scr|msi|cpl|bat|cmd|ps1|psm1|vbs|vbe|js|jse|wsf|wsh|hta|html?|xhtml|mht|mhtml|svg|sh|jar"
    r"|lnk|reg|docm|dotm|xlsm|xltm|xlam|pptm)$"
    r"|(^|/)vbaProject\.bin$|(^|/)activeX/|(^|/)embeddings/.*\.bin$|oleObject\d*\.bin$)",
    re.IGNORECASE,
)
#: Word and Excel keep inserted icons as SVG pictures (with a PNG beside them); those are pictures.
PICTURE_SVG = re.compile(r"(^|/)media/[^/]+\.svg$", re.IGNORECASE)
#: Content types a document has no business declaring.
RUNNABLE_TYPES = re.compile(r"macroEnabled|vbaProject|html|javascript|x-msdownload|message/rfc822", re.IGNORECASE)
#: Relationships that may point outside the file: a hyperlink, and a workbook's link to another workbook.
EXTERNAL_ALLOWED = ("/hyperlink", "/externalLinkPath")
#: Relationship types that pull other documents in: altChunk (any HTML or MHT) and OLE objects.
PULLED_IN = ("/aFChunk", "/oleObject", "/package")
#: Inside any part: a Windows program (its DOS stub) or a Linux one.
PROGRAM = re.compile(rb"This program cannot be run in DOS mode|\A\x7fELF|\AMZ")

#: Limits for a package: the evidence is a few MB; more is broken or hostile (a zip bomb).
MAX_PARTS = 2000
MAX_UNPACKED = 100 * 1024 * 1024
#: A part that is large and shrank more than this in the zip is a bomb (text compresses ~10:1).
MAX_RATIO = 200

#: HTML in a PDF's bytes makes it a polyglot a browser could render.
PDF_HTML = re.compile(rb"<script|<html|<!doctype html", re.IGNORECASE)
#: PDF names that run something, or carry other files.
PDF_ACTIVE = frozenset({"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia"})
#: A PDF with more objects than this is not evidence a department scanned.
MAX_PDF_OBJECTS = 200_000

SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
#: What zipfile, zlib and lxml raise on a package broken inside (RuntimeError: an encrypted part).
BROKEN = (
    KeyError,
    etree.XMLSyntaxError,
    zipfile.BadZipFile,
    zlib.error,
    RuntimeError,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
)


class Refused(TrackerError, ValueError):
    """An upload's content was refused; ``zh`` says why in Chinese."""

    code = "invalid"


OLE2_KINDS = {"application/msword": "Word", "application/kswps": "WPS文字", "application/kset": "WPS表格"}
#: Storages and streams of an OLE2 file that hold macros or embedded objects (a Packager object carries any file).
OLE2_ACTIVE = re.compile(
    r"(^|/)(Macros|_VBA_PROJECT\w*|VBA|ObjectPool|\x01Ole10Native|MBD[0-9A-F]+)(/|$)", re.IGNORECASE
)


def inspect(mime, data):
    """Raise Refused if a file of type ``mime`` (read from its content) holds what it must not."""
    if mime in MAIN_PARTS:
        _inspect_package(mime, data)
    elif mime == "application/pdf":
        _inspect_pdf(data)
    elif mime in OLE2_KINDS:
        _inspect_ole2(OLE2_KINDS[mime], data)
    elif mime == "application/ofd":
        _inspect_ofd(data)


# --- the older Office and WPS files (OLE2) and OFD -----------------------------------------------------


def _inspect_ole2(kind, data):
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
        names = ["/".join(path) for path in ole.listdir(streams=True, storages=True)]
    except Exception:  # noqa: BLE001 - a parser fed hostile bytes may raise anything; all mean "unreadable"
        raise _broken(kind) from None
    found = next((name for name in names if OLE2_ACTIVE.search(name)), None)
    if found:
        raise Refused(
            f"the file holds macros or embedded objects ({found})",
            f"该{kind}文件中含有宏或嵌入对象，不能上传。请另存为不含宏的文件，或转为PDF后上传。",
        )


def _inspect_ofd(data):
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except BROKEN:
        raise _broken("OFD") from None
    with package:
        infos = package.infolist()
        _check_sizes(infos, "OFD")
        for info in infos:
            _check_name(info, "OFD")
        try:
            for info in infos:
                with package.open(info) as part:
                    if PROGRAM.search(part.read(1024 * 1024)):
                        raise Refused(
                            f"the file holds a program ({info.filename})",
                            f"该OFD文件中嵌有可执行程序（{info.filename}），不能上传。",
                        )
        except Refused:
            raise
        except BROKEN:
            raise _broken("OFD") from None


# --- Office packages ---------------------------------------------------------------------------


def _inspect_package(mime, data):
    kind = "Word" if mime == DOCX else "Excel"
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except BROKEN:
        raise _broken(kind) from None
    with package:
        infos = package.infolist()
        _check_sizes(infos, kind)
        for info in infos:
            _check_name(info, kind)
        try:
            types = etree.fromstring(package.read("[Content_Types].xml"), SAFE_XML)
            for info in infos:
                _check_part(package, info, kind)
        except Refused:
            raise
        except BROKEN:
            raise _broken(kind) from None
        names = set(package.namelist())
    _check_types(types, names, mime, kind)


def _broken(kind):
    return Refused(f"not a readable {kind} file", f"这不是一个完整的{kind}文件，可能已损坏或加密，请重新保存后上传。")


def _check_sizes(infos, kind):
    if len(infos) > MAX_PARTS or sum(i.file_size for i in infos) > MAX_UNPACKED:
        raise Refused(
            "the file unpacks to more than 100 MB or 2000 parts",
            f"该{kind}文件解压后超过100 MB或包含过多部件，疑似压缩炸弹，不能上传。",
        )
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise Refused(
                f"a part of the file is compressed more than {MAX_RATIO}:1",
                f"该{kind}文件中有压缩比异常的部件，疑似压缩炸弹，不能上传。",
            )


def _check_name(info, kind):
    if info.flag_bits & 0x1:
        raise _broken(kind)  # an encrypted part: nothing in it can be checked
    if RUNNABLE.search(info.filename) and not PICTURE_SVG.search(info.filename):
        raise Refused(
            f"the file holds a program, macro, embedded object or web page ({info.filename})",
            f"该{kind}文件中嵌有程序、宏、嵌入对象或网页（{info.filename}），不能上传。"
            "请另存为不含宏和嵌入对象的文件。",
        )


def _check_part(package, info, kind):
    with package.open(info) as part:
        head = part.read(1024 * 1024)
    if PROGRAM.search(head):
        raise Refused(
            f"the file holds a program ({info.filename})",
            f"该{kind}文件中嵌有可执行程序（{info.filename}），不能上传。",
        )
    if info.filename.endswith(".rels"):
        _check_relationships(etree.fromstring(package.read(info), SAFE_XML), info.filename, kind)
    elif "externalLinks/" in info.filename and b"ddeLink" in package.read(info):
        raise Refused(
            f"the workbook runs a DDE link ({info.filename})",
            f"该{kind}文件含有DDE动态链接，打开时可能运行其他程序，不能上传。",
        )


def _check_relationships(relationships, name, kind):
    for relation in relationships:
        if not isinstance(relation.tag, str):
            continue
        kind_of = relation.get("Type", "")
        external = relation.get("TargetMode", "").lower() == "external"
        if kind_of.endswith(PULLED_IN) or (external and not kind_of.endswith(EXTERNAL_ALLOWED)):
            target = relation.get("Target", "")[:80]
            raise Refused(
                f"the file pulls in another document or an address outside it ({name}: {target})",
                f"该{kind}文件会在打开时载入外部模板、网址或嵌入文档（{target}），不能上传。请另存为普通文件后上传。",
            )


def _check_types(types, names, mime, kind):
    main_part, main_type = MAIN_PARTS[mime]
    declared = _overrides(types)
    if declared.get(main_part) != main_type or main_part.lstrip("/") not in names:
        raise _broken(kind)
    every_type = [element.get("ContentType", "") for element in types if isinstance(element.tag, str)]
    if any(RUNNABLE_TYPES.search(content_type) for content_type in every_type):
        raise Refused(
            "the file declares macros or web content",
            f"该{kind}文件含有宏或网页内容，不能上传。请另存为普通的 .{'docx' if mime == DOCX else 'xlsx'} 文件。",
        )


def _overrides(types):
    """Return the content type ``[Content_Types].xml`` overrides for each part, by the part's lower-cased name."""
    return {
        element.get("PartName", "").lower(): element.get("ContentType", "")
        for element in types
        if isinstance(element.tag, str) and element.tag.endswith("Override")
    }


# --- PDF ---------------------------------------------------------------------------------------


def _inspect_pdf(data):
    if PDF_HTML.search(data):
        raise _active_pdf("HTML")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Refused("the PDF is password-protected", "该PDF文件设有打开密码，无法检查其内容，请去除密码后上传。")
        found = _active_name(reader.trailer)
    except Refused:
        raise
    except Exception:  # noqa: BLE001 - a parser fed hostile bytes may raise anything
        # A PDF too broken for the parser may still open in a viewer: look for the names in its bytes.
        found = _active_name_in_bytes(data)
    if found:
        raise _active_pdf(found)


def _active_pdf(what):
    return Refused(
        f"the PDF holds scripts, web content or attached files ({what})",
        "该PDF文件含有脚本、网页内容或附加文件，不能上传。请用“打印为PDF”重新生成后上传。",
    )


#: An active name written out in a PDF's bytes, exactly (names are case-sensitive), then a delimiter.
PDF_ACTIVE_BYTES = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia)(?=[\s()<>\[\]{}/%])")


def _active_name_in_bytes(data):
    """Return an active name found in the raw bytes (with ``#xx`` escapes in names decoded), or None."""
    decoded = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data)
    found = PDF_ACTIVE_BYTES.search(decoded)
    return found.group().decode() if found else None


def _active_name(root):
    """Walk every object reachable from the trailer; return the first active name found, or None.

    Names come decoded (``/J#61vaScript`` is ``/JavaScript``) and objects inside object streams
    are resolved, which a search of the raw bytes would miss.
    """
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            if len(seen) > MAX_PDF_OBJECTS:
                return "too many objects"
            node = node.get_object()
        if isinstance(node, DictionaryObject):
            found = _active_key(node)
            if found:
                return found
            stack.extend(value for _, value in node.items())
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return None


def _active_key(dictionary):
    """Return the active name a PDF dictionary has as a key, or as its action's type (``/S``), or None."""
    for name, value in dictionary.items():
        if name in PDF_ACTIVE or (name == "/S" and value in PDF_ACTIVE):
            return str(value if name == "/S" else name)
    return None
