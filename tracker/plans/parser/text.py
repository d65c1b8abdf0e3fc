"""Lines of a document: white space, web-page furniture, numbering, and the heading (title, year,
issuing office, date) wherever the document puts it."""

import datetime
import re
from dataclasses import dataclass

from ...models.plan import parse_chinese_numeral
from .model import PlanFormatError

CN_NUM = "一二三四五六七八九十"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


class _Heading:
    """A section heading found: ``group(1)`` its numeral, ``group(2)`` its title."""

    def __init__(self, numeral, title):
        self._groups = (None, numeral, title)

    def group(self, index):
        return self._groups[index]


class _SectionPattern:
    """一、重点工作, or 第一部分 重点工作: matched as one pattern with the numeral and title."""

    PATTERN = re.compile(rf"^(?:([{CN_NUM}]+)\s*[、.．，,]|第([{CN_NUM}]+)部分[:：、\s]?)\s*(\S.*)$")

    def match(self, text):
        m = self.PATTERN.match(text)
        return _Heading(m.group(1) or m.group(2), m.group(3)) if m else None


SECTION_RE = _SectionPattern()
GROUP_RE = re.compile(rf"^[(（〔]\s*([{CN_NUM}]+)\s*[)）〕]\s*[、.．]?\s*(\S.*)$")
ITEM_RE = re.compile(r"^(\d{1,2})\s*[.．、](?![\d%])\s*(\S.*)$")
SUBITEM_RE = re.compile(rf"^(?:[(（]?\s*(\d{{1,2}})\s*[)）]|([{CIRCLED}]))\s*[、.．]?\s*(\S.*)$")

#: The arrangement's own title: 北京市2018年政务公开工作要点, 2023年经开区政务公开工作要点.
TITLE_WORDS = (
    r"(工作要点|工作安排|重点工作安排|工作方案|实施方案|任务分解表|任务分解|任务清单|重点任务|任务分工|"
    r"责任分工|分工方案|工作任务|工作计划|工作台账|任务台账)"
)
TITLE_RE = re.compile(
    rf"^(?P<title>[^，。；：:,;]{{0,60}}?(?P<year>(?:19|20)\d{{2}})\s*年[^，。；：:;]{{0,60}}?{TITLE_WORDS})(表)?$"
)
TITLE_NO_YEAR_RE = re.compile(
    rf"^[^，。；：:,;]{{0,60}}(政务公开|政府信息公开|信息公开)[^，。；：:;]{{0,40}}{TITLE_WORDS}(表)?$"
)
WRAPPER_RE = re.compile(r"^(?:\S*〔\d{4}〕\s*\d+\s*号\s*)?(?P<issuer>.{2,80}?)关于印发(?P<title>.+?)的通知$")
DATE_RE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")
#: How an issuing office's name ends: 办公厅, 人民政府, 管委会, 民政局, 卫生健康委, 政务公开办, ….
ISSUER_END = (
    r"(办公室|办公厅|人民政府|委员会|管委会|管理委员会|政务公开办|领导小组|局|委|办|厅|中心|院|署|部|处|科|室|会|组)"
)
ISSUER_LINE_RE = re.compile(rf"^[^，。；：:,;]{{2,60}}{ISSUER_END}\)?）?$")
#: An issuer and the date on one line: 北京市人民政府办公厅 2020年3月1日.
SIGNED_LINE_RE = re.compile(rf"^(?P<issuer>[^，。；：:,;\s]{{2,60}}{ISSUER_END})\s*(?P<date>\S*年\S*月\S*日\S{{0,3}})$")

#: Web-page furniture: labels an office's browser saves with the text.
FURNITURE_RE = re.compile(
    r"^[【\[]?\s*(来源|信息来源|文章来源|发布时间|发布日期|更新时间|时间|日期|浏览次数|浏览量|访问量|点击|点击数|点击率|"
    r"阅读|阅读次数|索引号|发文字号|文号|发文机关|发布机构|发布单位|成文日期|生成日期|发文日期|主题分类|主题词|分类|"
    r"分享到|分享|字体|字号|当前位置|您当前的位置|您的位置|作者|编辑|责任编辑|打印|关闭|收藏|有效性|公开方式|"
    r"所属机构|信息名称|标题|名称)\s*[:：】\]>]"
)
FURNITURE_WORDS_RE = re.compile(r"^(【?(打印|关闭|大|中|小|字体|分享到|收藏|返回顶部)】?\s*)+$")
ISSUED_LABEL_RE = re.compile(r"(成文日期|发文日期|印发日期)\s*[:：]\s*" + DATE_RE.pattern)
ISSUER_LABEL_RE = re.compile(r"(发文机关|发布机构|印发单位|发文单位)\s*[:：]\s*([^\s:：]{2,60})")

#: Lines after which the arrangement is over: attachments, web page footers, distribution lists.
TRAILER_RE = re.compile(
    r"^(附件|附表|扫一扫|抄送|分送|主题分类|责任编辑|[(（]此件|上一篇|下一篇|相关链接|相关文章|相关阅读|"
    r"打印本页|关闭窗口|【打印|【关闭|版权所有|主办[:：]|网站标识码|联系我们)"
)
#: Sections that only set the scene and hold no tasks.
PREAMBLE_SECTION_RE = re.compile(r"^(总体要求|指导思想|工作目标|基本原则|主要目标|目标要求|总体目标|工作原则)[。.]?$")


CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_line(line):
    """Return ``line`` with every kind of white space folded to one space and trimmed."""
    line = line.replace("\xa0", " ").replace("\u3000", " ").replace("&nbsp;", " ").replace("\ufeff", "")
    line = CONTROL_RE.sub(" ", line)  # NUL and the like: no database stores them, no page shows them
    line = re.sub(r"^[•·●◆■□▪]\s*", "", line.strip())
    return re.sub(r"\s+", " ", line).strip()


def compact(text):
    """Return ``text`` without spaces between Chinese characters (PDF and web copies add them)."""
    return re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])", "", text)


def numeral(text, where):
    """Return the value of a Chinese numeral, or refuse the document naming ``where``."""
    try:
        return parse_chinese_numeral(text)
    except ValueError:
        raise PlanFormatError(f"'{text}' is not a Chinese numeral", where) from None


def is_furniture(text):
    """Tell whether a line is web-page furniture rather than the document's text."""
    return bool(FURNITURE_RE.match(text) or FURNITURE_WORDS_RE.match(text))


def is_structure(text):
    """Tell whether a line opens a section, group or numbered item."""
    return bool(SECTION_RE.match(text) or GROUP_RE.match(text) or ITEM_RE.match(text))


def valid_date(groups):
    """Return the date of ``(year, month, day)`` strings, or None when there is no such day."""
    try:
        return datetime.date(*map(int, groups))
    except ValueError:
        return None


def _date(groups, where):
    found = valid_date(groups)
    if found is None:
        raise PlanFormatError(f"'{'-'.join(groups)}' is not a valid date", where)
    return found


@dataclass
class Heading:
    """What stands around the arrangement's text: its title, year, issuer and date."""

    title: str
    year: int | None
    issuing_office: str | None
    issued_on: datetime.date | None
    #: Index of the first line of the body (after the title).
    body_at: int


_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "00012345678 9".replace(" ", ""))


_CN_DAY = "一二三四五六七八九十"


def date_line(text):
    """Return ``(year, month, day)`` when ``text`` is nothing but a date: 2020年3月1日,
    2020年3月1日印发, （2020年3月1日）, 二〇二〇年三月一日; else None."""
    text = compact(text).strip("（）() ")
    text = re.sub(r"(印发|发布|制定|签发)$", "", text)
    m = re.match(
        r"^([\d〇○零一二三四五六七八九]{4})\s*年\s*([\d一二三四五六七八九十]{1,3})\s*月\s*([\d一二三四五六七八九十]{1,3})\s*日$",
        text,
    )
    if not m:
        return None
    year = arabic_years(m.group(1) + "年")[:-1]
    parts = []
    for value in (m.group(2), m.group(3)):
        if value.isdigit():
            parts.append(value)
        else:
            try:
                parts.append(str(parse_chinese_numeral(value)))
            except ValueError:
                return None
    return year, parts[0], parts[1]


def arabic_years(text):
    """Write a year in Chinese numerals (二〇二〇年) in digits (2020年)."""
    return re.sub(r"[〇○零一二三四五六七八九]{4}(?=\s*年)", lambda m: m.group(0).translate(_CN_DIGITS), text)


def title_match(text):
    """Return the title if ``text`` is an arrangement's title line, else None."""
    if text.startswith(("《", "“")) or "关于印发" in text or text.endswith("通知") or is_structure(text):
        return None
    bare = arabic_years(compact(text))
    if TITLE_RE.match(bare) or TITLE_NO_YEAR_RE.match(bare):
        return bare
    return None


def read_heading(lines):
    """Find the title, year, issuing office and date among ``lines`` (objects with .text/.where).

    The title is the last title-like line that has the body's numbering after it; a title
    broken over two lines is joined. Without one, the "关于印发《…》的通知" wrapper names it.
    """
    texts = [line.text for line in lines]
    issuer, wrapper_title, wrapper_at = _wrapper(texts)
    at, title, body_at = _title(texts, wrapper_title, wrapper_at)
    issuer, issued_on = _issued(lines, texts, at, issuer)
    year = None
    if m := re.search(r"((?:19|20)\d{2})\s*年", title):
        year = int(m.group(1))
    elif issued_on is not None:
        year = issued_on.year
    return Heading(title=title, year=year, issuing_office=issuer, issued_on=issued_on, body_at=body_at)


def _wrapper(texts):
    """Return ``(issuer, title, index)`` of the first "…关于印发《…》的通知" line, or Nones."""
    for index, text in enumerate(texts):
        if m := WRAPPER_RE.match(compact(text)):
            return m.group("issuer").strip(), m.group("title").strip("《》〈〉 "), index
    return None, None, None


def _title(texts, wrapper_title, wrapper_at):
    """Return ``(index, title, index where the body starts)``: the last title line with the body after it."""
    candidates = _title_candidates(texts)
    with_body = [c for c in candidates if any(is_structure(t) for t in texts[c[2] :])]
    if with_body:
        return with_body[-1]
    if candidates:
        return candidates[0]
    return _no_title_line(texts, wrapper_title, wrapper_at)


def _title_candidates(texts):
    """Return ``(index, title, index after it)`` of each title line, and of each title broken over two lines."""
    candidates = []
    for index, text in enumerate(texts):
        following = texts[index + 1] if index + 1 < len(texts) else None
        if title := title_match(text):
            candidates.append((index, title, index + 1))
        elif joined := _broken_title(text, following):
            candidates.append((index, joined, index + 2))
    return candidates


def _broken_title(text, following):
    """Return the title ``text`` makes with the line ``following`` it, or None (the last line has
    none following; a numbered line, or a title on its own, continues no title)."""
    if following is None or is_structure(following) or len(text) < 4:
        return None
    joined = title_match(text + following)
    if joined and not title_match(following):
        return joined
    return None


def _no_title_line(texts, wrapper_title, wrapper_at):
    """Return ``(index, title, body start)`` when no line is a title: the wrapper's title, or none
    for a copy that starts at its body (the office gives the title); else refuse the document."""
    if wrapper_title:
        return wrapper_at, wrapper_title, wrapper_at + 1
    if sum(1 for t in texts if is_structure(t)) >= 3:
        return -1, "", 0
    raise PlanFormatError("no title line such as '2018年…工作安排' was found")


def _issued(lines, texts, at, issuer):
    """Return ``(issuer, date issued)``.

    The date: a 成文日期 label, then an office's signature line followed by a date, then a date
    line of its own; the publishing date of a web page only when nothing else says it.
    """
    issue = _Issue(issuer)
    for index, line in enumerate(lines):
        issue.read_labels(line)
        if m := SIGNED_LINE_RE.match(compact(line.text)):
            issue.read_signed_line(m, line.where)
        elif found := date_line(line.text):
            issue.read_date_line(texts, index, at, found, line.where)
        else:
            issue.read_published(line)
    return issue.issuer, issue.issued_on or issue.published


@dataclass
class _Issue:
    """Who issued the document and when, as read so far."""

    issuer: str | None
    issued_on: datetime.date | None = None
    #: A web page's publishing date (发布时间：…).
    published: datetime.date | None = None

    def read_labels(self, line):
        """Read a 成文日期 or a 发文机关 label, unless one was read before."""
        if m := ISSUED_LABEL_RE.search(line.text):
            self.issued_on = self.issued_on or _date(m.groups()[1:4], line.where)
        if (m := ISSUER_LABEL_RE.search(line.text)) and self.issuer is None:
            self.issuer = m.group(2)

    def read_signed_line(self, m, where):
        """Read an office's name and a date on one line: 北京市人民政府办公厅 2020年3月1日."""
        if found := date_line(m.group("date")):
            self.issued_on = _date(found, where)
            self.issuer = self.issuer or m.group("issuer")

    def read_date_line(self, texts, index, at, found, where):
        """Read a date line of its own, and the signature above it (not the title at ``at``)."""
        previous = texts[index - 1] if index else ""
        signed = ISSUER_LINE_RE.match(compact(previous))
        if self.issued_on is None or signed:
            self.issued_on = _date(found, where)
        if self.issuer is None and signed and index - 1 != at:
            self.issuer = _signature_above(texts, index)

    def read_published(self, line):
        """Read the first publishing date of a web page."""
        if self.published is None and (m := DATE_RE.search(line.text)) and is_furniture(line.text):
            self.published = _date(m.groups(), line.where)


def _signature_above(texts, index):
    """Return the office's name signed above the date at ``index``. It may stand on two lines:
    中共…工作委员会 / (…管理委员会)办公室."""
    previous = texts[index - 1]
    issuer = compact(previous)
    before = texts[index - 2] if index > 1 else ""
    if previous.startswith(("(", "（")) and before and not before.endswith(("。", "：", ":")):
        issuer = compact(before) + issuer
    return issuer
