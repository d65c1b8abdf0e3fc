"""Files: plain text, a saved web page (its paragraphs, or its task table), .docx and .xlsx."""

import hashlib
import io
import re
import zipfile
import zlib
from pathlib import Path

from ...models.plan import chinese_numeral
from ...textinput import from_excel
from .columns import cell_text, match_columns
from .model import PlanFormatError
from .notice import parse_notice_lines
from .table import parse_table_rows

SUFFIXES = (".txt", ".html", ".htm", ".docx", ".xlsx")
BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "td", "th")
#: The largest table a notice's page holds; a bigger rowspan is a forged or broken file.
MAX_SPAN = 500


def decode(data):
    """Return ``data`` as text, read as UTF-8 or GB18030 (or UTF-16, as Notepad saves "Unicode")."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PlanFormatError("the file is neither UTF-8 nor GB18030 text")


def _span(cell, name):
    try:
        return max(1, min(int(cell.get(name, 1) or 1), MAX_SPAN))
    except ValueError:
        return 1


#: The most cells a task table is read to (a year's table has a few thousand).
MAX_CELLS = 200_000
#: The most rows and columns of a sheet read: more is blank formatting or a hostile file.
MAX_ROWS, MAX_COLUMNS = 5_000, 60


def html_table_rows(table):
    """Return the table's rows with rowspan and colspan cells repeated where they stand."""
    grid, pending = [], {}  # pending: column → (rows left, text)
    for tr in table.find_all("tr"):
        if sum(len(row) for row in grid) > MAX_CELLS:
            raise PlanFormatError(f"a table on the page spans more than {MAX_CELLS} cells")
        row = []
        for cell in tr.find_all(["td", "th"], recursive=False):
            _carry_down(row, pending)
            text = cell.get_text("\n").strip()
            rowspan = _span(cell, "rowspan")
            for _ in range(_span(cell, "colspan")):
                if rowspan > 1:
                    pending[len(row)] = (rowspan - 1, text)
                row.append(text)
        _carry_down(row, pending)
        grid.append(row)
    return grid


def _carry_down(row, pending):
    """Put in ``row`` the cells that rows above span into it, from its next column on."""
    while len(row) in pending:
        left, text = pending.pop(len(row))
        if left > 1:
            pending[len(row)] = (left - 1, text)
        row.append(text)


#: More tags than any notice's page has (one is some 2,000-5,000): a page built to be slow.
MAX_TAGS = 50_000


def _html_parse(data):
    """Parse a saved web page: its first task table, or else its paragraphs."""
    soup = _page_soup(data)
    for table in soup.find_all("table"):
        rows = html_table_rows(table)
        if _has_header(rows[:6]):
            return parse_table_rows(rows, unit="table row", heading_lines=_paragraphs_before(table)[-12:])
    return parse_notice_lines(_page_lines(soup), unit="paragraph")


def _page_soup(data):
    """Return the page parsed, without its scripts, styles, head, navigation and footer."""
    from bs4 import BeautifulSoup

    data = data.replace(b"\x00", b"")
    if len(re.findall(rb"<[A-Za-z]", data)) > MAX_TAGS:
        raise PlanFormatError(f"the page has more than {MAX_TAGS} tags; save the notice's text instead")
    try:
        soup = BeautifulSoup(data, "lxml")
    except ValueError:  # a broken charset declaration: read the bytes as we read plain text
        soup = BeautifulSoup(decode(data), "lxml")
    for tag in soup(["script", "style", "head", "nav", "footer"]):
        tag.decompose()
    return soup


def _has_header(rows):
    """Tell whether one of ``rows`` is a task table's header row."""
    return any(match_columns([cell_text(c) for c in row]) for row in rows)


def _paragraphs_before(table):
    """Return the text of the paragraphs and headings before ``table`` on the page, in order."""
    above = []
    for element in table.find_all_previous(["p", "h1", "h2", "h3", "h4", "div"]):
        text = element.get_text(" ").strip()
        if text and element.find(["p", "div", "table"]) is None:
            above.insert(0, text)
    return above


def _page_lines(soup):
    """Return the page's text, a line for each paragraph, cell or line break, in one pass (no
    tree surgery: a deeply nested page costs no more than a flat one)."""
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString

    parts = []
    for node in soup.descendants:
        if isinstance(node, Tag):
            if node.name in BLOCK_TAGS:
                parts.append("\n")
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            previous = node.previous_sibling
            if isinstance(previous, Tag) and previous.name in BLOCK_TAGS:
                parts.append("\n")  # text after a paragraph, within the paragraph's parent
            parts.append(str(node))
    return "".join(parts).splitlines()


#: What a .docx or .xlsx may unpack to: a notice is well under 1 MB; more is a broken or hostile file.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024


def _check_package(data, kind):
    """Refuse a .docx/.xlsx that is no zip package, or would unpack to more than we read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            infos = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        raise PlanFormatError(f"not a readable .{kind} file ({exc.__class__.__name__})") from None
    if len(infos) > 2000 or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise PlanFormatError(f"not a readable .{kind} file (it unpacks to more than 100 MB)")


#: What zlib, zipfile, lxml (a SyntaxError), openpyxl and python-docx raise on a broken package.
BROKEN_PACKAGE = (
    zlib.error,
    zipfile.BadZipFile,
    SyntaxError,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    OSError,
    EOFError,
    NotImplementedError,
)


def _read_package(kind, read):
    """Run ``read()``; a package broken inside (bad compression, bad XML) is refused, not a crash."""
    try:
        return read()
    except PlanFormatError:
        raise
    except BROKEN_PACKAGE as exc:
        raise PlanFormatError(f"not a readable .{kind} file ({exc.__class__.__name__})") from None


def _docx_parse(data):
    _check_package(data, "docx")
    paragraphs, tables = _read_package("docx", lambda: _docx_content(data))
    for rows in tables:
        if _has_header(rows[:6]):
            # The title usually stands in the paragraphs above the table.
            heading = [p for p in paragraphs if p.strip()][:8]
            return parse_table_rows(rows, unit="table row", heading_lines=heading)
    return parse_notice_lines(paragraphs, unit="paragraph")


def _docx_content(data):
    import docx

    document = docx.Document(io.BytesIO(data))
    numbers = _ListNumbers(document)
    paragraphs = [numbers.label(p) + p.text for p in document.paragraphs]
    tables = [[[c.text for c in row.cells] for row in table.rows] for table in document.tables]
    return paragraphs, tables


def _circled(n):
    """Return ``n`` as Word draws a circled number (① … ⑳), in digits past twenty."""
    return chr(0x245F + n) if 0 < n <= 20 else str(n)


class _ListNumbers:
    """The numbers Word draws before list paragraphs (一、 （一） 1. ①) without their being text.

    A notice typed in Word often numbers its sections with a list style; the parser reads the
    numbers as they are shown, counted per list and level as Word counts them.
    """

    FORMATS = {
        "decimal": str,
        "decimalFullWidth": str,
        "chineseCounting": chinese_numeral,
        "chineseCountingThousand": chinese_numeral,
        "ideographTraditional": chinese_numeral,
        "japaneseCounting": chinese_numeral,
        "decimalEnclosedCircle": _circled,
        "decimalEnclosedCircleChinese": _circled,
    }

    def __init__(self, document):
        from docx.oxml.ns import qn

        self.qn = qn
        self.levels = {}  # (numId, ilvl) → (format, text, start)
        self.counters = {}
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {a.get(qn("w:abstractNumId")): a for a in numbering.findall(qn("w:abstractNum"))}
        for num in numbering.findall(qn("w:num")):
            definition = abstract.get(self._value(num, "w:abstractNumId", None))
            if definition is None:
                continue
            for level in definition.findall(qn("w:lvl")):
                self.levels[(num.get(qn("w:numId")), level.get(qn("w:ilvl")))] = (
                    self._value(level, "w:numFmt", "decimal"),
                    self._value(level, "w:lvlText", ""),
                    int(self._value(level, "w:start", 1)),
                )

    def _value(self, element, tag, default):
        """Return the ``w:val`` of ``element``'s child ``tag``, or ``default`` when it has no such child."""
        child = element.find(self.qn(tag))
        return child.get(self.qn("w:val")) if child is not None else default

    def _num_pr(self, paragraph):
        properties = paragraph._p.pPr
        if properties is not None and properties.numPr is not None:
            return properties.numPr
        style = paragraph.style
        while style is not None:  # a list style: the numbering stands on the paragraph's style
            style_properties = style.element.pPr
            if style_properties is not None and style_properties.numPr is not None:
                return style_properties.numPr
            style = style.base_style
        return None

    def _level(self, paragraph):
        """Return the ``(numId, ilvl)`` of the list level that numbers ``paragraph``, or None."""
        num_pr = self._num_pr(paragraph)
        if num_pr is None or num_pr.numId is None:
            return None
        num_id = str(num_pr.numId.val)
        ilvl = str(num_pr.ilvl.val) if num_pr.ilvl is not None else "0"
        if num_id == "0" or (num_id, ilvl) not in self.levels:
            return None
        return num_id, ilvl

    def _count(self, num_id, ilvl, start):
        """Count a paragraph at level ``ilvl`` of list ``num_id``; return the list's counters by level."""
        counters = self.counters.setdefault(num_id, {})
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [level for level in counters if int(level) > int(ilvl)]:
            del counters[deeper]  # a new section starts its groups from one
        return counters

    def label(self, paragraph):
        """Return the number Word shows before ``paragraph`` ("一、", "（二）", "3."), or ""."""
        if not self.levels or not paragraph.text.strip():
            return ""
        found = self._level(paragraph)
        if found is None:
            return ""
        num_id, ilvl = found
        fmt, text, start = self.levels[found]
        counters = self._count(num_id, ilvl, start)
        render = self.FORMATS.get(fmt)
        if render is None:
            return ""

        def value(match):
            level = str(int(match.group(1)) - 1)
            n = counters.get(level)
            if n is None:
                n = self.levels.get((num_id, level), ("decimal", "", 1))[2]
            return render(n) if level == ilvl else str(n)

        return re.sub(r"%(\d)", value, text)


def _xlsx_parse(data):
    _check_package(data, "xlsx")
    sheets = _read_package("xlsx", lambda: _xlsx_rows(data))
    # The tasks are on the first sheet with a header row (a cover or 说明 sheet may come first).
    for rows in sheets:
        if _has_header(rows[:30]):
            return parse_table_rows(rows, unit="row")
    return parse_table_rows(sheets[0] if sheets else [], unit="row")


def _xlsx_rows(data):
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    try:
        return [_sheet_rows(sheet) for sheet in workbook.worksheets]
    finally:
        workbook.close()


def _sheet_rows(sheet):
    rows = [
        [from_excel(value) for value in row]
        for row in sheet.iter_rows(
            max_row=min(sheet.max_row, MAX_ROWS), max_col=min(sheet.max_column, MAX_COLUMNS), values_only=True
        )
    ]
    # A merged cell holds its value in its top-left cell only: repeat it where it stands.
    for merged in sheet.merged_cells.ranges:
        top = merged.min_row - 1
        if top >= len(rows) or merged.min_col - 1 >= len(rows[top]):
            continue
        value = rows[top][merged.min_col - 1]
        for r in range(top, min(merged.max_row, len(rows))):
            for c in range(merged.min_col - 1, min(merged.max_col, len(rows[r]))):
                rows[r][c] = value
    return rows


def parse_plan_bytes(data, filename):
    """Parse a notice or task table given as bytes; the file name's suffix says which format."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise PlanFormatError(f"unsupported file type '{suffix}'; use .txt, .html, .docx or .xlsx")
    if not data.strip():
        raise PlanFormatError("the file is empty")
    if suffix == ".txt":
        plan = parse_notice_lines(decode(data).splitlines(), unit="line")
    elif suffix in (".html", ".htm"):
        plan = _html_parse(data)
    elif suffix == ".docx":
        plan = _docx_parse(data)
    else:
        plan = _xlsx_parse(data)
    plan.source_name = Path(filename).name[:255]
    plan.title = plan.title or Path(filename).stem
    plan.source_sha256 = hashlib.sha256(data).hexdigest()
    return fit(plan)


def fit(plan):
    """Shorten what is longer than the plan's records hold: a heading run on into its text, a
    deadline cell holding a paragraph. The whole text stays in each task's text."""
    plan.title = _shorten(plan.title, 200)
    plan.issuing_office = _shorten(plan.issuing_office, 200) if plan.issuing_office else plan.issuing_office
    for section in plan.sections:
        section.title = _shorten(section.title, 200)
        for group in section.groups:
            group.title = _shorten(group.title, 200)
            for task in group.tasks:
                task.title = _shorten(task.title, 500)
                task.deadline = _shorten(task.deadline, 100)
                task.all_wording = _shorten(task.all_wording, 100)
    return plan


def _shorten(text, limit):
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_plan_file(path):
    """Parse the notice or task table at ``path``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanFormatError(f"cannot read {path}: {exc.strerror}") from None
    return parse_plan_bytes(data, path.name)
