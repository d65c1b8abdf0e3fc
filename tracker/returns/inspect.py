"""What an uploaded file may hold, beyond its type: an Office package with the parts its type
requires and nothing that runs, within sane unpacked sizes; a PDF with no script, HTML or
attachments. Each refusal says why, in English and Chinese."""

import io
import re
import zipfile

from lxml import etree

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: The part each Office type must have, and the content type [Content_Types].xml must give it.
MAIN_PARTS = {
    DOCX: ("/word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    XLSX: ("/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
}
#: Names inside a package that run, or carry something that runs (macros, ActiveX, web pages).
RUNNABLE = re.compile(
    r"(\.(exe|dll|com|scr|msi|cpl|bat|cmd|ps1|psm1|vbs|vbe|js|jse|wsf|wsh|hta|html?|xhtml|svg|sh|jar|lnk|reg)$"
    r"|(^|/)vbaProject\.bin$|(^|/)activeX/)",
    re.IGNORECASE,
)
#: Content types a document has no business declaring.
RUNNABLE_TYPES = re.compile(r"macroEnabled|vbaProject|html|javascript|x-msdownload|octet-stream.*exe", re.IGNORECASE)
#: Inside any part: a Windows program (its DOS stub) or a Linux one.
PROGRAM = re.compile(rb"This program cannot be run in DOS mode|\A\x7fELF|\AMZ")

#: Limits for a package: the evidence is a few MB; more is broken or hostile (a zip bomb).
MAX_PARTS = 2000
MAX_UNPACKED = 100 * 1024 * 1024
#: A part that is large and shrank more than this in the zip is a bomb (text compresses ~10:1).
MAX_RATIO = 200

#: Names in a PDF that run something or carry other files, and HTML that makes it a polyglot.
PDF_ACTIVE = re.compile(
    rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia)(?![A-Za-z0-9])|<script|<html|<!doctype html", re.IGNORECASE
)

SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class Refused(ValueError):
    """An upload's content was refused; ``zh`` says why in Chinese."""

    def __init__(self, message, zh):
        super().__init__(message)
        self.zh = zh


def inspect(mime, data):
    """Raise Refused if a file of type ``mime`` (read from its content) holds what it must not."""
    if mime in MAIN_PARTS:
        _inspect_package(mime, data)
    elif mime == "application/pdf":
        _inspect_pdf(data)


def _inspect_package(mime, data):
    kind = "Word" if mime == DOCX else "Excel"
    broken = Refused(f"not a readable {kind} file", f"这不是一个完整的{kind}文件，可能已损坏，请重新保存后上传。")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise broken from None
    with package:
        infos = package.infolist()
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
            if RUNNABLE.search(info.filename):
                raise Refused(
                    f"the file holds a program, macro or web page ({info.filename})",
                    f"该{kind}文件中嵌有程序、宏或网页（{info.filename}），不能上传。请另存为不含宏和嵌入对象的文件。",
                )
        try:
            types = etree.fromstring(package.read("[Content_Types].xml"), SAFE_XML)
            for info in infos:
                with package.open(info) as part:
                    if PROGRAM.search(part.read(1024 * 1024)):
                        raise Refused(
                            f"the file holds a program ({info.filename})",
                            f"该{kind}文件中嵌有可执行程序（{info.filename}），不能上传。",
                        )
        except Refused:
            raise
        except (KeyError, etree.XMLSyntaxError, zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
            raise broken from None
    main_part, main_type = MAIN_PARTS[mime]
    declared = {
        element.get("PartName", "").lower(): element.get("ContentType", "")
        for element in types
        if isinstance(element.tag, str) and element.tag.endswith("Override")
    }
    every_type = [element.get("ContentType", "") for element in types if isinstance(element.tag, str)]
    if declared.get(main_part) != main_type or main_part.lstrip("/") not in package.namelist():
        raise broken
    if any(RUNNABLE_TYPES.search(content_type) for content_type in every_type):
        raise Refused(
            "the file declares macros or web content",
            f"该{kind}文件含有宏或网页内容，不能上传。请另存为普通的 .{'docx' if mime == DOCX else 'xlsx'} 文件。",
        )


def _inspect_pdf(data):
    found = PDF_ACTIVE.search(data)
    if found:
        raise Refused(
            f"the PDF holds scripts, web content or attached files ({found.group().decode(errors='replace')})",
            "该PDF文件含有脚本、网页内容或附加文件，不能上传。请用“打印为PDF”重新生成后上传。",
        )
