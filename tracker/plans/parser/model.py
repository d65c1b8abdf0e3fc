"""What the parser reads a work arrangement into, and how it reports what it could not read."""

import datetime
import re
from dataclasses import asdict, dataclass, field

from ...errors import TrackerError


class PlanFormatError(TrackerError, ValueError):
    """The file cannot be read as a work arrangement; the message names where.

    ``partial`` holds what was read before the failure (the tasks complete up to the place of a
    cut), so a preview can show how far the document got; it is never loaded.
    """

    def __init__(self, message, where=None, partial=None):
        super().__init__(f"{where}: {message}" if where else message, code="invalid")
        self.where = where
        self.reason = message
        self.partial = partial


@dataclass
class ParseWarning:
    """Something the office should look at before confirming: read, but perhaps not as meant."""

    where: str
    message: str  #: English, for the CLI
    message_zh: str  #: Chinese, for the page

    @property
    def where_zh(self):
        """Return the place in Chinese (第9行, 第12段, 表格第4行), or an empty string."""
        return where_zh(self.where)


@dataclass
class ParsedTask:
    """A task as read from the source."""

    code: str
    title: str
    details: str
    text: str
    lead: list[str] = field(default_factory=list)
    responsible: list[str] = field(default_factory=list)
    all_departments: bool = False
    and_related: bool = False
    deadline: str = ""
    where: str = ""
    #: The words that stand for every department (管委会各部门, 各有关单位), as written.
    all_wording: str = ""
    #: Marked 【撤销】 in a breakdown table this system exported: not part of the plan any more.
    withdrawn: bool = False


@dataclass
class ParsedGroup:
    """A group ``(一)`` of a section."""

    number: int
    title: str
    tasks: list[ParsedTask] = field(default_factory=list)
    where: str = ""


@dataclass
class ParsedSection:
    """A section ``一、`` of the arrangement."""

    number: int
    title: str
    groups: list[ParsedGroup] = field(default_factory=list)
    where: str = ""


@dataclass
class ParsedPlan:
    """A whole arrangement as read from one file."""

    title: str
    year: int | None
    issuing_office: str | None = None
    issued_on: datetime.date | None = None
    sections: list[ParsedSection] = field(default_factory=list)
    source_name: str = ""
    source_sha256: str = ""
    warnings: list[ParseWarning] = field(default_factory=list)

    def tasks(self):
        """Return every task in the document's order."""
        return [t for s in self.sections for g in s.groups for t in g.tasks]

    def departments(self):
        """Return every department named, in order of first appearance."""
        seen = {}
        for task in self.tasks():
            for name in task.lead + task.responsible:
                seen.setdefault(name, None)
        return list(seen)

    def warn(self, where, message, message_zh):
        """Record a warning."""
        self.warnings.append(ParseWarning(where, message, message_zh))

    def to_dict(self):
        """Return the plan as plain JSON-able values (a preview keeps it between requests)."""
        data = asdict(self)
        data["issued_on"] = self.issued_on.isoformat() if self.issued_on else None
        return data

    @classmethod
    def from_dict(cls, data):
        """Rebuild a plan from :meth:`to_dict`'s values."""
        sections = [
            ParsedSection(
                number=s["number"],
                title=s["title"],
                where=s.get("where", ""),
                groups=[
                    ParsedGroup(
                        number=g["number"],
                        title=g["title"],
                        where=g.get("where", ""),
                        tasks=[ParsedTask(**t) for t in g["tasks"]],
                    )
                    for g in s["groups"]
                ],
            )
            for s in data["sections"]
        ]
        issued_on = data.get("issued_on")
        return cls(
            title=data["title"],
            year=data.get("year"),
            issuing_office=data.get("issuing_office"),
            issued_on=datetime.date.fromisoformat(issued_on) if issued_on else None,
            sections=sections,
            source_name=data.get("source_name", ""),
            source_sha256=data.get("source_sha256", ""),
            warnings=[ParseWarning(**w) for w in data.get("warnings", [])],
        )


#: The refusals' reasons in Chinese, for the page (the CLI prints the English).
_ZH = [
    (r"^line (\d+)$", "第{0}行"),
    (r"^paragraph (\d+)$", "第{0}段"),
    (r"^(?:table )?row (\d+)$", "表格第{0}行"),
    (r"ends in the middle of a sentence \(is the file cut short\?\)$", "在句子中间中断，文件可能不完整"),
    (r"stops in the middle \(is the file cut short\?\)$", "最后一行在中间中断，文件可能不完整"),
    (r"a bracket is opened and never closed", "有括号没有闭合，文件可能不完整"),
    (
        r"^section ([\d.]+) has no groups or tasks \(is the file cut short\?\)$",
        "“{0}、”部分的标题之后没有任务，文件可能不完整",
    ),
    (r"^group ([\d.]+) has no tasks \(is the file cut short\?\)$", "“{0}”的标题之后没有任务，文件可能不完整"),
    (r"^section ([\d.]+) has no groups or tasks$", "“{0}、”部分的标题之下没有任务"),
    (r"^group ([\d.]+) has no tasks$", "“{0}”的标题之下没有任务"),
    (
        r"^(section|group|item) (\d+) follows \1 (\d+); expected (\d+)",
        "编号{1}紧接在{2}之后，应为{3}（是否缺了一项？）",
    ),
    (r"^(section|group|item) (\d+) follows \1 (\d+); expected a later number", "编号{1}不应排在{2}之后"),
    (r"^group (\d+) follows group (\d+)$", "编号{0}紧接在{1}之后，编号不连续"),
    (r"has no group heading \((\d+)\) above it", "上方没有第{0}组的标题"),
    (r"is listed under section (\d+)", "被列在第{0}部分之下，编号不符"),
    (r"no title line", "没有找到“2018年…工作安排”这样的标题行"),
    (r"no section heading", "标题之后没有“一、…”这样的部分标题"),
    (r"no header row", "表格没有“工作任务/具体要求”和“牵头单位/责任单位”表头"),
    (r"cannot tell the role of '(.+?)'", "无法判断“{0}”是牵头还是负责落实"),
    (r"'(.+?)' does not look like a department name", "“{0}”不像部门名称"),
    (r"neither UTF-8 nor GB18030", "无法识别文件的文字编码，请用记事本打开后“另存为”UTF-8编码的.txt文件再上传"),
    (r"not a readable \.(docx|xlsx) file", "不是可读取的.{0}文件"),
    (r"unsupported file type '\.(doc|wps)'", "不支持.{0}文件，请在Word或WPS中另存为.docx后上传"),
    (r"unsupported file type '\.(xls|et)'", "不支持.{0}文件，请在Excel或WPS中另存为.xlsx后上传"),
    (r"unsupported file type '(.*)'", "不支持{0}文件，请上传.txt、.html、.docx或.xlsx文件"),
    (r"the file is empty", "文件是空的"),
    (r"the page has more than (\d+) tags", "网页过于复杂（超过{0}个标签），请复制通知正文另存为.txt后上传"),
    (r"a table on the page spans more than (\d+) cells", "网页中的表格超过{0}个单元格，无法读取"),
    (r"^cannot read ", "无法读取文件"),
    (r"is not a valid date", "日期无效"),
    (r"is not a Chinese numeral", "编号不是中文数字"),
]


def _numbered(code):
    """Write a section or group code as the notice numbers it: 1 → 一, 1.2 → 一、（二）."""
    from ...models.plan import chinese_numeral

    parts = [int(p) for p in code.split(".")]
    if len(parts) == 1:
        return chinese_numeral(parts[0])
    return f"{chinese_numeral(parts[0])}、（{chinese_numeral(parts[1])}）"


def where_zh(where):
    """Return ``line 9`` / ``paragraph 12`` / ``row 4`` as 第9行 / 第12段 / 表格第4行."""
    for pattern, template in _ZH[:3]:
        if m := re.match(pattern, where or ""):
            return template.format(*m.groups())
    return ""


def describe_zh(error):
    """Return a refusal in Chinese, naming the place as the English message does."""
    where = where_zh(error.where)
    where = where + "：" if where else ""
    prefix, reason = _task_prefix(error.reason)
    reason_zh = _reason_zh(reason)
    if reason_zh is None:
        reason_zh = f"无法读取（{error.reason}）"
    return f"{where}{prefix}{reason_zh}"


def _task_prefix(reason):
    """Return 第1.2项 for the task a reason names (``task 1.2: …`` or ``… task 1.2 …``), or "",
    and the reason without its leading ``task 1.2:``."""
    if task := re.match(r"^task ([\d.]+): ", reason):
        reason = reason[task.end() :]
    named = re.search(r"task ([\d.]+) ", reason) or task
    return (f"第{named.group(1)}项" if named else ""), reason


def _reason_zh(reason):
    """Return an English reason in Chinese, or None for a reason not known here."""
    for pattern, template in _ZH[3:]:
        if m := re.search(pattern, reason):
            quoted = "“{" in template  # a quoted code is written as the notice numbers it: “一、”, “（二）”
            groups = [_numbered(g) if quoted and g and re.fullmatch(r"[\d.]+", g) else g for g in m.groups()]
            return template.format(*groups)
    return None
