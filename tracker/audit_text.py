"""The audit trail in Chinese sentences (操作日志): who did what to which thing, and what changed.

``describe(entries)`` reads a page of entries with a fixed number of queries (one per kind of
thing named), whatever the page holds.
"""

import datetime
from dataclasses import dataclass, field

from .extensions import db
from .models import (
    AuditEntry,
    ChaseStep,
    Department,
    HalfYearSummary,
    LineStatus,
    Plan,
    QuarterlyReturn,
    ReportingPeriod,
    ReturnState,
    Task,
    User,
    UserRole,
)

#: Chinese names of the audited tables.
ENTITY_LABELS = {
    "plans": "工作安排",
    "sections": "部分",
    "task_groups": "分组",
    "tasks": "任务",
    "task_departments": "任务部门",
    "departments": "部门",
    "department_aliases": "部门别名",
    "users": "用户",
    "reporting_periods": "报送期",
    "quarterly_returns": "季度报送表",
    "return_lines": "报送表任务行",
    "return_counts": "信息报送发布数",
    "evidence": "佐证材料",
    "half_year_summaries": "半年工作总结",
    "chase_steps": "催办规则",
    "api_tokens": "接口令牌",
    "settings": "系统设置",
    "brief_subscriptions": "简报订阅",
}

#: Chinese names of the columns people change.
FIELD_LABELS = {
    "name": "名称",
    "short_name": "简称",
    "head_name": "负责人",
    "head_email": "负责人邮箱",
    "title": "标题",
    "text": "内容",
    "deadline": "完成时限",
    "due_on": "截止日期",
    "correction_due_on": "修改截止日期",
    "email": "邮箱",
    "wants_quarter": "季度简报",
    "wants_half": "半年简报",
    "wants_year": "全年简报",
    "wants_weekly": "报送周报",
    "by_email": "邮件发送",
    "display_name": "姓名",
    "role": "角色",
    "is_active": "启用",
    "state": "状态",
    "return_reason": "退回原因",
    "status": "进展",
    "done": "完成情况",
    "problems": "存在问题",
    "next_steps": "下一步计划",
    "filled_by_name": "填报人",
    "filled_by_phone": "联系电话",
    "approved_by": "审核人",
    "offset_days": "天数",
    "is_first_late": "迟报",
    "value": "数量",
    "alias": "别名",
    "withdrawn_at": "撤销时间",
    "review_comment": "逐项意见",
}
#: Columns that only keep the machinery going; never worth a line in the trail.
QUIET = {
    "version",
    "updated_at",
    "created_at",
    "last_login_at",
    "first_submitted_at",
    "last_submitted_at",
    "accepted_at",
}

STATE_LABELS = {state.value: state.label for state in ReturnState}
LINE_LABELS = {status.value: status.label for status in LineStatus}
ROLE_LABELS = {role.value: role.label for role in UserRole}
#: Columns that hold a code; the trail shows its Chinese label instead.
CODE_LABELS = {"role": ROLE_LABELS, "status": LINE_LABELS, "state": STATE_LABELS}


@dataclass
class Line:
    """One entry as the trail shows it."""

    at: object
    who: str
    sentence: str
    details: list = field(default_factory=list)
    action: str = ""
    entity: str = ""


def _short(value, limit=40):
    text = "" if value is None else str(value)
    text = {"True": "是", "False": "否"}.get(text, text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ids(entries, entity):
    return {e.entity_id for e in entries if e.entity == entity and e.entity_id is not None}


def _names(entries):
    """Return {(entity, id): name} for the things a page of entries talks about, a query per kind."""
    names = {}
    for model, entity in ((QuarterlyReturn, "quarterly_returns"), (HalfYearSummary, "half_year_summaries")):
        ids = _ids(entries, entity)
        if ids:
            rows = (
                db.session.query(model.id, Department.name, ReportingPeriod)
                .join(Department, Department.id == model.department_id)
                .join(ReportingPeriod, ReportingPeriod.id == model.period_id)
                .filter(model.id.in_(ids))
            )
            noun = "完成情况报送表" if model is QuarterlyReturn else "工作总结"
            names.update(((entity, i), f"{dept}{period.label}{noun}") for i, dept, period in rows)
    simple = (
        (Department, "departments", lambda d: d.name),
        (User, "users", lambda u: u.username),
        (User, "brief_subscriptions", lambda u: u.display_name or u.username),  # keyed by the subscriber
        (ReportingPeriod, "reporting_periods", lambda p: p.label),
        (Task, "tasks", lambda t: f"{t.code} {_short(t.title, 24)}"),
        (ChaseStep, "chase_steps", lambda s: s.name),
        (Plan, "plans", lambda p: p.title),
    )
    for model, entity, name in simple:
        ids = _ids(entries, entity)
        if ids:
            names.update(((entity, row.id), name(row)) for row in model.query.filter(model.id.in_(ids)))
    return names


def _actors(entries):
    ids = {e.user_id for e in entries if e.user_id}
    users = User.query.options(db.joinedload(User.department)).filter(User.id.in_(ids)).all() if ids else []
    return {u.id: u for u in users}


def _who(entry, actors):
    user = actors.get(entry.user_id)
    if user is not None:
        where = user.department.name if user.department else user.role.label
        return f"{where} {user.display_name or user.username}"
    if entry.actor == "system":
        return "系统"
    if entry.actor.startswith("cli:"):
        return f"命令行（{entry.actor[4:]}）"
    return entry.actor


def _thing(entry, names):
    label = ENTITY_LABELS.get(entry.entity, entry.entity)
    name = names.get((entry.entity, entry.entity_id)) or entry.after.get("name") or entry.before.get("name")
    if entry.entity in ("quarterly_returns", "half_year_summaries") and name:
        return name
    return f"{label}“{name}”" if name else f"{label} #{entry.entity_id}"


def _state_sentence(entry, thing):
    before, after = entry.before.get("state"), entry.after.get("state")
    if after == "submitted":
        return f"{'修改后重新报送了' if before == 'returned' else '报送了'}{thing}"
    if after == "accepted":
        return f"审核通过了{thing}"
    if after == "returned":
        reason = entry.after.get("return_reason")
        verb = "重新打开了" if before == "accepted" else "退回了"
        return f"{verb}{thing}" + (f"，原因：{_short(reason, 60)}" if reason else "")
    return None


def _details(entry):
    """Return the fields an entry set or changed, each as a phrase; a reset password is said as such."""
    lines = []
    for key, new in entry.after.items():
        if key == "password_hash" and entry.action == "update":
            lines.append("重置了密码")
        elif _is_shown(key):
            change = _change(entry, key, new)
            if change:
                lines.append(change)
    return lines


def _is_shown(key):
    """Tell whether a column gets a phrase of its own.

    Ids and the machinery's columns do not (the sentence already names the thing), nor the
    state (the sentence says what happened to it).
    """
    return key in FIELD_LABELS and key not in QUIET and key != "state"


def _change(entry, key, new):
    """Return one field's phrase: ``标签：值`` in a new thing (None if blank), ``标签从“旧”改为“新”`` otherwise."""
    label = FIELD_LABELS[key]
    old = entry.before.get(key)
    codes = CODE_LABELS.get(key)
    if codes:
        old, new = codes.get(old, old), codes.get(new, new)
    if entry.action != "insert":
        return f"{label}从“{_short(old) or '空'}”改为“{_short(new) or '空'}”"
    return f"{label}：{_short(new)}" if new not in (None, "", [], {}) else None


def describe(entries):
    """Return each entry as a :class:`Line`: a sentence in Chinese, and the fields it changed."""
    names, actors = _names(entries), _actors(entries)
    lines = []
    for entry in entries:
        thing = _thing(entry, names)
        sentence = None
        if entry.action == "update" and "state" in entry.after:
            sentence = _state_sentence(entry, thing)
        if sentence is None:
            verb = {"insert": "新增了", "update": "修改了", "delete": "删除了"}[entry.action]
            sentence = f"{verb}{thing}"
        details = [] if entry.action == "delete" else _details(entry)
        lines.append(Line(entry.at, _who(entry, actors), sentence, details, entry.action, entry.entity))
    return lines


@dataclass
class Filters:
    """What the office narrows the trail to: a kind of thing, a person, a department, a span of days."""

    entity: str | None = None
    actor: str | None = None
    department_id: int | None = None
    since: datetime.date | None = None
    until: datetime.date | None = None

    def query(self):
        """Return the select of the entries that pass."""
        query = db.select(AuditEntry)
        if self.entity:
            query = query.filter(AuditEntry.entity == self.entity)
        if self.actor:
            query = query.filter(AuditEntry.actor == self.actor)
        if self.department_id:
            people = db.select(User.id).where(User.department_id == self.department_id)
            query = query.filter(AuditEntry.user_id.in_(people))
        if self.since:
            query = query.filter(AuditEntry.at >= _start_of(self.since))
        if self.until:
            query = query.filter(AuditEntry.at < _start_of(self.until + datetime.timedelta(days=1)))
        return query

    def args(self):
        """Return the filters as query arguments (for the pages' links)."""
        values = {
            "entity": self.entity,
            "actor": self.actor,
            "department": self.department_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {k: v for k, v in values.items() if v}


def _start_of(day):
    from .timeutil import zone

    return datetime.datetime.combine(day, datetime.time(), zone()).astimezone(datetime.UTC)


def _day(value):
    """Read a day of the filter; what does not parse, or lies outside 2000–2100, is left out."""
    try:
        day = datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is not None and datetime.date(2000, 1, 1) <= day <= datetime.date(2100, 12, 31) else None


def audit_filters(args):
    """Read the trail's filters from query arguments; what does not parse is left out."""
    entity = args.get("entity") if args.get("entity") in ENTITY_LABELS else None
    department = args.get("department", type=int)
    return Filters(
        entity, args.get("actor") or None, department or None, _day(args.get("since")), _day(args.get("until"))
    )
