"""Who does a task: the departments a bracket, a labelled phrase or a table cell names, and their roles.

Notices write it in many ways: ``（市财政局负责落实）``, ``(发改局牵头，财政局配合)``,
``（市发展改革委、市教委分别负责落实）``, ``牵头单位：区政府办；责任单位：各街道``, or a cell of a
责任单位 column. A role word is never part of a name; words that stand for every department
(各部门, 市政府各部门, 各镇人民政府、街道办事处, 区属企业, …) are no department with an account.
"""

import re
from dataclasses import dataclass, field

from ...models.departments import normalize_department_name

#: Role words, longest first so that 牵头落实 is not read as 牵头 + 落实.
ROLE_WORDS = (
    "按职责分工负责落实",
    "按职责分工负责",
    "按职责分工落实",
    "按照职责分工负责",
    "按职责分别负责",
    "按职责负责",
    "分别牵头落实",
    "共同牵头落实",
    "分别牵头负责",
    "牵头负责落实",
    "共同牵头",
    "分别牵头",
    "牵头落实",
    "牵头负责",
    "牵头",
    "主办",
    "指导",
    "分别负责落实",
    "具体负责落实",
    "具体落实",
    "具体负责",
    "共同负责落实",
    "分别负责",
    "共同负责",
    "负责落实",
    "配合落实",
    "按职责配合",
    "分别落实",
    "配合",
    "协同",
    "协办",
    "参与",
    "协助",
    "负责",
    "落实",
)
LEAD_WORDS = ("主办", "指导")
#: Roles only where a name ends: 局主办科室, 业务指导科 and 协同办 are names.
NAME_END_ROLES = ("主办", "协办", "指导", "协同")
ROLE_RE = re.compile(
    "(" + "|".join(w if w not in NAME_END_ROLES else w + r"(?=[、，,；;\s]|$)" for w in ROLE_WORDS) + ")"
)

#: Labelled forms: 牵头单位：…；责任单位：….
LABELS = {
    "lead": ("牵头单位", "牵头部门", "牵头科室", "牵头处室", "主责单位", "主责部门", "主办单位"),
    "responsible": (
        "责任单位",
        "责任部门",
        "责任科室",
        "责任处室",
        "配合单位",
        "配合部门",
        "配合科室",
        "参与单位",
        "协办单位",
        "落实单位",
        "实施单位",
    ),
    "deadline": ("完成时限", "完成时间", "时限要求", "时间要求", "时间节点"),
    #: People, not departments: read past them.
    "ignore": ("牵头领导", "责任领导", "分管领导", "责任人", "联系人", "联系电话"),
}
LABEL_RE = re.compile("(" + "|".join(name for names in LABELS.values() for name in names) + r")\s*[:：]\s*")
LABEL_KIND = {name: kind for kind, names in LABELS.items() for name in names}

NAME_SEPARATORS = "、，,；;/ "
OPEN = "(（〔[【"
CLOSE = ")）〕]】"

#: A trailing 等 / 等相关部门 makes the list open-ended.
RELATED_RE = re.compile(r"等(相关|有关|其他)?(部门|单位|科室|处室|机构)?$")
#: Standalone words for "the units concerned", with no particular department named.
CONCERNED_RE = re.compile(
    r"^([^、，,]{0,8}?(有关|相关|其他)(部门|单位|科室|处室|机构)"  # 区政府有关部门
    r"|[市区县省州]?(政府)?(直|属|级|组成)?(有关)?(部门|单位|机关)"  # 市直部门, 区政府组成部门
    r"|(有关|相关)[^、，,]{1,8}"  # 有关区政府
    r"|[^、，,]{0,4}属(国有)?企业"  # 区属国有企业
    r"|乡镇\(街道\)|镇\(街道\)|镇街)$"
)
#: Bare unit types with no place: 街道办事处, 镇人民政府 (as in 各镇人民政府、街道办事处).
GENERIC_UNITS = {
    "街道办事处",
    "街道",
    "镇人民政府",
    "乡人民政府",
    "乡镇人民政府",
    "乡镇",
    "镇街",
    "社区",
    "园区",
    "区属企业",
    "市属企业",
    "国有企业",
    "驻区单位",
    "村(居)委会",
}
#: Words a department's name ends with; a bracket of such names alone is read as responsible.
DEPARTMENT_END_RE = re.compile(
    r"(局|委|办|厅|院|中心|部|室|科|处|所|队|站|会|公司|集团|政府|街道|办事处|镇|乡|馆|台|社|署|银行|团|组|庭|区"
    r"|联|协|关|股|校|学|报|网|园|府)$"
)
#: A rest of a bracket that gives the time rather than a department: 2019年6月底前完成, 长期坚持.
DEADLINE_RE = re.compile(r"(\d{4}\s*年|\d{1,2}\s*月|年底|年内|底前|前完成|长期|持续|每季度|每月|每年|常态)")


def is_collective(name):
    """Tell whether ``name`` stands for a set of departments (各部门, 区属企业) rather than one."""
    name = normalize_department_name(name)
    return "各" in name or name in GENERIC_UNITS or bool(CONCERNED_RE.match(name))


def split_names(segment):
    """Split a run of department names on 、 and commas, keeping brackets inside names whole."""
    names, current, depth = [], "", 0
    for ch in segment:
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth -= 1
        if depth == 0 and ch in NAME_SEPARATORS:
            if current.strip():
                names.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        names.append(current.strip())
    return names


def _clean_name(name):
    name = re.sub(r"^(由|请|以及|及|和|与|并|其他)", "", name.strip())
    return name.strip("。.：: ")


@dataclass
class Departments:
    """Who does a task, as read from its bracket or the table's columns."""

    lead: list[str] = field(default_factory=list)
    responsible: list[str] = field(default_factory=list)
    all_departments: bool = False
    and_related: bool = False
    #: The words standing for every department, as written (各部门, 各镇人民政府、街道办事处).
    all_wording: str = ""
    deadline: str = ""
    #: The bracket named departments without any role word.
    without_role_word: bool = False

    def add(self, segment, role):
        """Add the names of ``segment`` (e.g. ``X、Y等相关部门``) under ``role``."""
        segment = segment.strip(NAME_SEPARATORS + "。")
        match = RELATED_RE.search(segment)
        if match and match.start() > 0:
            self.and_related = True
            segment = segment[: match.start()]
        for raw in split_names(segment):
            name = normalize_department_name(_clean_name(raw))
            if not name:
                continue
            if is_collective(name):
                self._add_collective(_clean_name(raw))
            else:
                self._add_named(name, role)

    def _add_collective(self, wording):
        """Mark every department, keeping each wording that says so once: 各镇人民政府、街道办事处."""
        self.all_departments = True
        if wording not in self.all_wording.split("、"):
            self.all_wording = f"{self.all_wording}、{wording}" if self.all_wording else wording

    def _add_named(self, name, role):
        """Add one department under ``role``, once; a lead is not also carrying it out."""
        if len(name) > 40 or "。" in name:
            raise ValueError(f"'{name}' does not look like a department name")
        target = self.lead if role == "lead" else self.responsible
        if name not in target and name not in self.lead:
            target.append(name)

    @property
    def empty(self):
        """Tell whether nobody at all is named."""
        return not (self.lead or self.responsible or self.all_departments)


def _looks_like_department(name):
    """Tell whether one name reads as a department's: 市财政局, 市残联, 市政府办公厅(市政务公开办)."""
    bare = re.sub(r"\([^()]{1,20}\)$", "", name)  # a name's alias in brackets after it
    return bool(DEPARTMENT_END_RE.search(bare)) and not DEADLINE_RE.search(name)


def _names_of(text):
    return [normalize_department_name(_clean_name(n)) for n in split_names(RELATED_RE.sub("", text))]


def _looks_like_departments(text):
    """Tell whether ``text`` is nothing but department names (or words for all of them)."""
    if re.match(r"^(含|包括|如|即|下同|以下|不含|除)", text.strip()) or re.search("[：:。]", text):
        return False
    names = _names_of(text)
    return bool(names) and all(n and len(n) <= 25 and (is_collective(n) or _looks_like_department(n)) for n in names)


def _names_before_a_role(text):
    """Tell whether ``text``, standing before a role word, can be names (市民政局、北京海关)."""
    if re.match(r"^(含|包括|如|即|下同|以下|不含|除)", text) or re.search("[：:。；;]", text) or len(text) > 80:
        return False
    names = _names_of(text)
    return (
        bool(names)
        and all(n and len(n) <= 30 for n in names)
        and any(is_collective(n) or _looks_like_department(n) for n in names)
    )


def is_department_phrase(inner):
    """Tell whether a bracket's text names departments rather than, say, a document number."""
    inner = inner.strip()
    if not inner or len(inner) > 200 or "。" in inner or "《" in inner:
        return False
    labels = list(LABEL_RE.finditer(inner))
    if any(LABEL_KIND[m.group(1)] in ("lead", "responsible") for m in labels):
        return True
    if labels and not ROLE_RE.search(inner[: labels[0].start()]):
        return False  # a deadline or a contact person alone names nobody
    return _names_departments(inner)


def _names_departments(inner):
    """Tell whether a bracket with no department label names departments: names before its first
    role word, or names alone."""
    if first := ROLE_RE.search(inner):
        # 以下简称…, 包括…: a bracket explaining the text may hold 落实 too; names come first.
        before = inner[: first.start()].strip(NAME_SEPARATORS)
        return bool(before) and _names_before_a_role(before)
    # No role word: only names, and not a bare unit type (the （街道） of 各乡镇（街道）).
    return _looks_like_departments(inner) and not all(n in GENERIC_UNITS for n in _names_of(inner))


def _parse_labelled(text):
    matches = list(LABEL_RE.finditer(text))
    before = text[: matches[0].start()].strip(NAME_SEPARATORS + "。")
    # Roles written out before the labels (甲局负责；完成时限：年底前) count as well.
    result = parse_department_phrase(before) if before and ROLE_RE.search(before) else Departments()
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end() : end].strip(NAME_SEPARATORS + "。")
        kind = LABEL_KIND[match.group(1)]
        if kind == "deadline":
            result.deadline = value
        elif kind == "ignore":
            continue
        elif value and value not in ("无", "/", "—"):
            _add_cell(result, value, kind)
    return result


def _add_cell(result, value, kind):
    """Read a department cell or labelled value; role words inside it decide the role."""
    if ROLE_RE.search(value):
        inner = parse_department_phrase(value, default_role=kind)
        for name in inner.lead:
            result.add(name, "lead")
        for name in inner.responsible:
            result.add(name, "responsible")
        result.all_departments |= inner.all_departments
        result.and_related |= inner.and_related
        if inner.all_wording:
            result.all_wording = "、".join(filter(None, [result.all_wording, inner.all_wording]))
    else:
        result.add(value, kind)


def _drop_object(segment, after_role):
    """Drop what a role word is about from the start of ``segment``: in ``X牵头区级…工作，Y落实``
    the words between 牵头 and the comma say what X leads, not who Y is."""
    if not after_role:
        return segment
    match = re.search(r"[，,；;]", segment)
    if match is None:
        return segment
    head, tail = segment[: match.start()], segment[match.end() :]
    if head.strip() and not _looks_like_departments(head) and not is_collective(head):
        return tail
    return segment


def parse_department_phrase(inner, default_role=None):
    """Read a bracket such as ``工委(管委会)办公室牵头、管委会各部门负责落实``.

    ``X牵头`` names leads; ``负责落实``, ``配合`` and the like name the departments carrying it
    out. Collective words (各部门, 各科室, …) stand for every department; ``…等相关部门`` makes
    the list open-ended; a time (``2019年底前完成``) is the deadline. Names with no role word
    take ``default_role`` (a table's column), or are responsible when the bracket has no role
    word at all. Raises ValueError when a name's role cannot be told.
    """
    inner = re.sub("会同", "、", inner.strip())  # 市政府办公厅会同市委宣传部负责: both carry it out
    if LABEL_RE.search(inner):
        return _parse_labelled(inner)
    result = Departments()
    position = _add_before_roles(result, inner)
    rest = _drop_object(inner[position:], position > 0).strip(NAME_SEPARATORS + "。")
    if rest:
        _add_rest(result, rest, inner, position > 0, default_role)
    if result.empty:
        result.all_departments = True
    return result


def _add_before_roles(result, inner):
    """Add the names before each role word under its role; return where the last role word ends
    (0 when there is none)."""
    position = 0
    for match in ROLE_RE.finditer(inner):
        segment = _drop_object(inner[position : match.start()], position > 0)
        if segment.strip(NAME_SEPARATORS):
            result.add(segment, _role_of(match.group(1)))
        position = match.end()
    return position


def _role_of(word):
    """Return the role a role word gives: lead for 牵头…, 主办 and 指导, responsible for the rest."""
    return "lead" if word in LEAD_WORDS or "牵头" in word else "responsible"


def _add_rest(result, rest, inner, after_role, default_role):
    """Read what is left after the last role word (``after_role``), or the whole bracket when it
    has none: a deadline, names, or the words the role word is about."""
    names, deadline = _looks_like_departments(rest), DEADLINE_RE.search(rest)
    if after_role and not names and not deadline:
        return  # what the last role word is about (…负责做好本单位…工作), not who
    if deadline and not names:
        result.deadline = rest
    elif default_role is not None:
        result.add(rest, default_role)
    elif not after_role and names:
        result.add(rest, "responsible")
        result.without_role_word = not result.all_departments or bool(result.responsible)
    else:
        raise ValueError(f"cannot tell the role of '{rest}' in '({inner})'")


def departments_phrase(lead, responsible, all_departments=False, and_related=False, all_wording=""):
    """Write departments the way a notice's bracket does: ``X牵头、Y、Z等相关部门负责落实``."""
    parts = []
    if lead:
        parts.append("、".join(lead) + "牵头" + ("" if responsible or all_departments else "落实"))
    carried = "、".join(responsible)
    if and_related:
        carried += "等相关部门"
    if all_departments:
        carried = (carried + "、" if carried else "") + (all_wording or "各部门")
    if carried:
        parts.append(carried + "负责落实")
    return "、".join(parts)
