"""Chasing what is overdue (催办): the ladder, one run of the chase, notices, the ledger, the overdue list.

A run looks at every form and summary still waiting on its department (a draft, or returned for
correction), works out which steps of the ladder have fallen due against its due date, and takes
the most advanced one not yet taken: it writes the ledger row, the in-app notices and the e-mails
to send, in one transaction per item. Steps overtaken while nothing ran are recorded as skipped,
so nobody gets a burst of stale reminders. The ledger's unique key (department, period, item,
round, step) is what guarantees a step happens once, whatever runs at the same time.
"""

import datetime
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from ..audit import acting_as_system
from ..disclosure.deadlines import calendar_exceptions, deadline
from ..extensions import db
from ..models import (
    Application,
    ChaseEntry,
    ChaseItem,
    ChaseResult,
    ChaseStep,
    Department,
    HalfYearSummary,
    Notification,
    OutgoingMail,
    QuarterlyReturn,
    ReportingPeriod,
    ReturnState,
    User,
    UserRole,
)
from ..returns.operations import missing_for_submit as form_missing
from ..summaries.operations import summary_missing
from ..timeutil import now_utc
from .mail import mail_configured, render_mail

#: The ladder a new installation starts with; the office edits it on the jobs page.
DEFAULT_LADDER = (
    {"offset_days": -3, "name": "截止前提醒", "notify_department": True},
    {"offset_days": 0, "name": "截止当天提醒", "notify_department": True},
    {"offset_days": 1, "name": "逾期通知", "notify_department": True},
    {"offset_days": 5, "name": "逾期催办（抄送部门负责人）", "notify_department": True, "notify_head": True},
    {
        "offset_days": 10,
        "name": "严重逾期（列入领导逾期名单）",
        "notify_department": True,
        "notify_head": True,
        "notify_office": True,
        "notify_leaders": True,
    },
)

OPEN_STATES = (ReturnState.DRAFT, ReturnState.RETURNED)

#: The Chinese names of the header fields a reminder may say are missing.
HEADER_NAMES = {
    "filled_by_name": "填报人",
    "filled_by_phone": "联系电话",
    "approved_by": "审核人",
    "text": "总结内容或总结文件",
}


class ChaseError(Exception):
    """A change to the ladder was refused; ``zh`` is what the office sees."""

    def __init__(self, message, zh):
        super().__init__(message)
        self.message = message
        self.zh = zh


# --- the ladder ---------------------------------------------------------------------------


def ladder(active_only=False, create=True):
    """Return the chase ladder by offset, creating the default ladder the first time.

    With ``create`` false (a dry run), an empty ladder is not saved: the defaults are returned as
    unsaved steps.
    """
    if ChaseStep.query.first() is None and not create:
        return [ChaseStep(id=-n, is_active=True, **values) for n, values in enumerate(DEFAULT_LADDER, 1)]
    if ChaseStep.query.first() is None:
        try:
            with acting_as_system():  # the defaults are nobody's act, whoever opened the page
                db.session.add_all(ChaseStep(**values) for values in DEFAULT_LADDER)
                db.session.commit()
        except IntegrityError:  # another process seeded it first
            db.session.rollback()
    query = ChaseStep.query
    if active_only:
        query = query.filter_by(is_active=True)
    return query.order_by(ChaseStep.offset_days).all()


STEP_FLAGS = ("notify_department", "notify_head", "notify_office", "notify_leaders", "is_active")


def save_step(step, values):
    """Change a step of the ladder or, with ``step`` None, add one; ``values`` as the ladder form posts them.

    ``offset_days`` is a whole number of days from the due date (-30 to 90), unique in the
    ladder; ``name`` is required. A step is never deleted once used, only switched off.
    """
    try:
        offset = int(str(values.get("offset_days", "")).strip())
    except ValueError:
        raise ChaseError("offset_days must be a whole number", "天数须为整数（截止前为负数）。") from None
    if not -30 <= offset <= 90:
        raise ChaseError("offset_days must be from -30 to 90", "天数须在 -30（截止前30天）到 90（逾期90天）之间。")
    name = str(values.get("name", "")).strip()
    if not name or len(name) > 50 or "\x00" in name:
        raise ChaseError("name is required (at most 50 characters)", "请填写步骤名称（不超过50字）。")
    clash = ChaseStep.query.filter(ChaseStep.offset_days == offset)
    if step is not None:
        clash = clash.filter(ChaseStep.id != step.id)
    if clash.first() is not None:
        raise ChaseError(f"there is already a step at {offset} days", "已有相同天数的催办步骤。")
    if step is None:
        step = ChaseStep()
        db.session.add(step)
    step.offset_days = offset
    step.name = name
    for flag in STEP_FLAGS:
        setattr(step, flag, bool(values.get(flag)))
    db.session.commit()
    return step


# --- one run -------------------------------------------------------------------------------


@dataclass
class Action:
    """One thing a run did (or, in a dry run, would do) for one item."""

    department: str
    period: str
    item: ChaseItem
    step: str
    when: str
    #: ``send``, ``skip`` or ``taken`` (another run took the step first).
    kind: str
    recipients: list = field(default_factory=list)
    result: ChaseResult | None = None

    def line(self, dry_run=False):
        """Return the CLI's line for the action."""
        verb = {"send": "would send" if dry_run else "sent", "skip": "skipped", "taken": "already taken"}[self.kind]
        who = ", ".join(f"{r['name']} ({r['channel']})" for r in self.recipients) or "-"
        return f"{verb:<14}{self.department}  {self.period}  {self.item.value}  {self.step} [{self.when}]  -> {who}"


@dataclass
class ChaseReport:
    """What a run did: the actions, and the e-mail delivered or failed."""

    today: datetime.date
    dry_run: bool
    actions: list = field(default_factory=list)
    mail_sent: int = 0
    mail_failed: int = 0

    @property
    def sent(self):
        """Return the actions that sent (or would send) a step."""
        return [a for a in self.actions if a.kind == "send"]

    @property
    def skipped(self):
        """Return the actions that recorded an overtaken step as skipped."""
        return [a for a in self.actions if a.kind == "skip"]

    def summary_zh(self):
        """Return one line of counts in Chinese, for the jobs page."""
        text = f"截至{self.today.isoformat()}：发出催办{len(self.sent)}项，跳过{len(self.skipped)}项"
        if not self.dry_run:
            text += f"；邮件发送成功{self.mail_sent}封，失败{self.mail_failed}封"
        return text

    def summary(self):
        """Return one line of counts."""
        verb = "would send" if self.dry_run else "sent"
        text = f"chase as of {self.today}: {verb} {len(self.sent)} step(s), skipped {len(self.skipped)}"
        if not self.dry_run:
            text += f"; e-mail: {self.mail_sent} sent, {self.mail_failed} failed"
        return text


def open_items(today_, lead_days, department_id=None, plan_id=None):
    """Return ``(kind, form or summary)`` for everything waiting on a department due by ``today_ + lead_days``
    (on one department's only, given ``department_id``; forms and summaries of one plan only, given ``plan_id``)."""
    horizon = today_ + datetime.timedelta(days=lead_days)
    items = []
    for kind, model in ((ChaseItem.RETURN, QuarterlyReturn), (ChaseItem.SUMMARY, HalfYearSummary)):
        query = (
            model.query.join(ReportingPeriod, ReportingPeriod.id == model.period_id)
            .filter(model.state.in_(OPEN_STATES))
            .filter(db.or_(ReportingPeriod.due_on <= horizon, model.correction_due_on <= horizon))
            .options(db.contains_eager(model.period), db.joinedload(model.department))
            .order_by(ReportingPeriod.due_on, model.department_id)
        )
        if department_id is not None:
            query = query.filter(model.department_id == department_id)
        if plan_id is not None:
            query = query.filter(ReportingPeriod.plan_id == plan_id)
        items.extend((kind, row) for row in query if row.due_on <= horizon)
    exceptions = calendar_exceptions()
    applications = (
        Application.query.filter(Application.answered_on.is_(None), Application.department_id.isnot(None))
        .options(db.joinedload(Application.department))
        .order_by(Application.received_on, Application.id)
    )
    if department_id is not None:
        applications = applications.filter(Application.department_id == department_id)
    for application in applications:
        limit = deadline(application, exceptions)
        if limit.due_on is not None and limit.due_on <= horizon:
            items.append((ChaseItem.APPLICATION, ApplicationItem(application, limit)))
    return items


class ApplicationItem:
    """An open application, as the chase reads a form or summary: its department and statutory due date."""

    period = None
    period_id = None

    def __init__(self, application, limit):
        self.application = application
        self.id = application.id
        self.number = application.number
        self.department = application.department
        self.department_id = application.department_id
        self.due_on = limit.due_on
        self.is_provisional = limit.is_provisional
        #: A new due date (an extension, a correction answered, days consulting third parties)
        #: starts the ladder again against it: the round is the due date itself.
        self.round = limit.due_on.toordinal()


def item_round(item):
    """Return which due date an item is chased against: 0 the first, n the n-th correction (or extension)."""
    if isinstance(item, ApplicationItem):
        return item.round
    return item.returned_count if item.state is ReturnState.RETURNED else 0


def item_path(kind, item):
    """Return the path of the page where the item is filled in."""
    return {ChaseItem.RETURN: "/returns/", ChaseItem.SUMMARY: "/summaries/", ChaseItem.APPLICATION: "/applications/"}[
        kind
    ] + str(item.id)


def item_key(kind, item):
    """Return the ledger key of an item's round: its steps are taken once per key."""
    if kind is ChaseItem.APPLICATION:
        return (kind, item.id, item_round(item))
    return (item.department_id, item.period_id, kind, item_round(item))


def subject(item):
    """Return what the item concerns, for the CLI: the period, or the application's number."""
    return item.period.label if item.period is not None else f"依申请公开{item.number}"


def run_chase(today_, dry_run=False):
    """Chase everything waiting on a department as of ``today_``; then send the e-mail waiting to go.

    Returns a :class:`ChaseReport`. A dry run writes nothing and sends nothing. A failure to send
    e-mail is recorded on the mail and its ledger row and retried on the next run; it never stops
    the other departments' reminders.
    """
    steps = ladder(active_only=True, create=not dry_run)
    report = ChaseReport(today_, dry_run)
    if not steps:
        return report
    items = open_items(today_, max(0, -steps[0].offset_days))
    directory = user_directory()
    taken = _taken(
        {item.period_id for _, item in items if item.period_id},
        {item.id for kind, item in items if kind is ChaseItem.APPLICATION},
    )
    for kind, item in items:
        due = item.due_on
        fallen = [s for s in steps if due + datetime.timedelta(days=s.offset_days) <= today_]
        key = item_key(kind, item)
        todo = [s for s in fallen if s.id not in taken.get(key, set())]
        if not todo:
            continue
        latest = fallen[-1]
        send = latest if latest in todo else None
        skip = [s for s in todo if s is not send]
        report.actions.extend(_take(kind, item, due, today_, send, skip, dry_run, directory))
    if not dry_run:
        from .mail import deliver_pending

        report.mail_sent, report.mail_failed = deliver_pending()
    return report


def _taken(period_ids, application_ids):
    """Return the steps already taken, by :func:`item_key`."""
    taken = {}
    columns = (
        ChaseEntry.department_id,
        ChaseEntry.period_id,
        ChaseEntry.application_id,
        ChaseEntry.item,
        ChaseEntry.round,
        ChaseEntry.step_id,
    )
    if period_ids:
        for department_id, period_id, _, item, round_, step_id in db.session.query(*columns).filter(
            ChaseEntry.period_id.in_(period_ids)
        ):
            taken.setdefault((department_id, period_id, item, round_), set()).add(step_id)
    if application_ids:
        for _, _, application_id, item, round_, step_id in db.session.query(*columns).filter(
            ChaseEntry.application_id.in_(application_ids)
        ):
            taken.setdefault((item, application_id, round_), set()).add(step_id)
    return taken


def _take(kind, item, due, today_, send, skip, dry_run, directory):
    """Record the skipped steps and take ``send`` for one item, in one transaction."""
    department = item.department
    common = {
        "department_id": department.id,
        "period_id": item.period_id,
        "application_id": item.id if kind is ChaseItem.APPLICATION else None,
        "item": kind,
        "round": item_round(item),
    }
    actions = []
    for step in skip:
        actions.append(Action(department.name, subject(item), kind, step.name, step.when_zh, "skip"))
    if send is not None:
        recipients = recipients_for(send, department, directory)
        actions.append(Action(department.name, subject(item), kind, send.name, send.when_zh, "send", recipients))
    if dry_run:
        return actions
    moment = now_utc()
    later = send.name if send else "更高一级的步骤"
    try:
        for step in skip:
            db.session.add(
                ChaseEntry(
                    **common,
                    step_id=step.id,
                    due_on=due,
                    run_on=today_,
                    at=moment,
                    recipients=[],
                    result=ChaseResult.SKIPPED,
                    detail=f"该步骤到期时未执行，已由“{later}”取代",
                )
            )
        if send is not None:
            entry = ChaseEntry(
                **common, step_id=send.id, due_on=due, run_on=today_, at=moment, recipients=recipients, result=None
            )
            _deliver_in_app(entry, kind, item, send, today_)
            db.session.add(entry)
        db.session.commit()
    except IntegrityError:
        # Another run took this item's step first: it is theirs to send, not ours.
        db.session.rollback()
        for action in actions:
            action.kind = "taken"
        return actions
    if send is not None:
        actions[-1].result = entry.result
    return actions


def user_directory():
    """Return the active office and department users by (role, department id), read once per run."""
    directory = {}
    for user in User.query.filter(
        User.is_active.is_(True), User.role.in_([UserRole.OFFICE, UserRole.DEPARTMENT])
    ).order_by(User.id):
        key = (user.role, user.department_id if user.role is UserRole.DEPARTMENT else None)
        directory.setdefault(key, []).append(user)
    return directory


def recipients_for(step, department, directory):
    """Return who a step reaches for ``department``: {"name", "address", "channel", "role", "user_id"} each.

    ``directory`` is :func:`user_directory`'s.
    """
    mail = mail_configured()
    people = []

    def users(role, department_id=None):
        for user in directory.get((role, department_id), []):
            people.append(
                {"name": user.name, "address": "", "channel": "in_app", "role": role.value, "user_id": user.id}
            )
            if mail and user.email:
                people.append(
                    {"name": user.name, "address": user.email, "channel": "email", "role": role.value, "user_id": None}
                )

    if step.notify_department:
        users(UserRole.DEPARTMENT, department.id)
    if step.notify_head and department.head_email and mail:
        name = department.head_name or f"{department.name}负责人"
        people.append(
            {"name": name, "address": department.head_email, "channel": "email", "role": "head", "user_id": None}
        )
    if step.notify_office:
        users(UserRole.OFFICE)
    if step.notify_leaders:
        people.append({"name": "领导逾期名单", "address": "", "channel": "list", "role": "leaders", "user_id": None})
    return people


def missing_of(kind, item):
    """Return, in Chinese, what is still missing from a form or summary (an application: its answer)."""
    if kind is ChaseItem.APPLICATION:
        return ["尚未答复申请人"]
    if kind is ChaseItem.SUMMARY:
        errors = summary_missing(item)
        return [f"未填写{HEADER_NAMES[f]}" for f in errors]
    errors = form_missing(item)
    lines = [f for f in errors if f.startswith("lines[")]
    texts = [f"未填写{HEADER_NAMES[f]}" for f in errors if not f.startswith("lines[")]
    if lines:
        codes = sorted({errors[f].split("task ")[-1].rstrip(")") for f in lines}, key=_code_key)
        texts.insert(0, f"{len(codes)}项任务未填写完成情况（任务{'、'.join(codes)}）")
    return texts


def _code_key(code):
    return [int(part) if part.isdigit() else 0 for part in code.split(".")]


def _deliver_in_app(entry, kind, item, step, today_):
    """Write the step's notices and queue its e-mails; set the entry's result."""
    message = render_mail(kind, item, step, today_, missing_of(kind, item), item_path(kind, item))
    mails = 0
    for person in entry.recipients:
        if person["channel"] == "in_app":
            office = person["role"] == UserRole.OFFICE.value
            db.session.add(
                Notification(
                    user_id=person["user_id"],
                    entry=entry,
                    title=message.office_title if office else message.title,
                    body=message.office_notice if office else message.notice,
                    url=item_path(kind, item),
                )
            )
        elif person["channel"] == "email":
            office = person["role"] == UserRole.OFFICE.value
            mails += 1
            entry.mails.append(
                OutgoingMail(
                    to_address=person["address"],
                    to_name=person["name"],
                    subject=message.office_title if office else message.title,
                    body_text=message.office_text if office else message.text,
                    body_html=message.office_html if office else message.html,
                )
            )
    if not entry.recipients:
        entry.result = ChaseResult.NO_RECIPIENTS
        entry.detail = "该部门没有可接收通知的用户"
    else:
        entry.result = ChaseResult.PENDING if mails else ChaseResult.SENT
        if step.notify_head and not any(p["role"] == "head" for p in entry.recipients):
            entry.detail = "未设置部门负责人邮箱或未配置邮件服务器，未能通知部门负责人"


# --- reading -----------------------------------------------------------------------------


def ledger_query(department_id=None, period_id=None, step_id=None, result=None):
    """Return the chase ledger, newest first, filtered by department, period, step and result."""
    query = ChaseEntry.query.options(
        db.joinedload(ChaseEntry.department),
        db.joinedload(ChaseEntry.period),
        db.joinedload(ChaseEntry.step),
        db.joinedload(ChaseEntry.application),
    )
    if department_id:
        query = query.filter(ChaseEntry.department_id == department_id)
    if period_id:
        query = query.filter(ChaseEntry.period_id == period_id)
    if step_id:
        query = query.filter(ChaseEntry.step_id == step_id)
    if result:
        query = query.filter(ChaseEntry.result == result)
    return query.order_by(ChaseEntry.at.desc(), ChaseEntry.id.desc())


def overdue_list(today_):
    """Return the leaders' overdue list (逾期名单): items still open that reached a step for the leaders.

    Each row: department, period, item kind, the form or summary, its due date and days overdue.
    """
    rows = (
        db.session.query(ChaseEntry)
        .join(ChaseStep, ChaseStep.id == ChaseEntry.step_id)
        .filter(ChaseStep.notify_leaders.is_(True))
        .options(
            db.joinedload(ChaseEntry.department),
            db.joinedload(ChaseEntry.period),
            db.joinedload(ChaseEntry.application),
        )
        .all()
    )
    # The open items of the periods concerned, in one query per kind.
    periods = {entry.period_id for entry in rows if entry.period_id}
    items = {}
    for kind, model in ((ChaseItem.RETURN, QuarterlyReturn), (ChaseItem.SUMMARY, HalfYearSummary)):
        for item in model.query.filter(model.period_id.in_(periods), model.state.in_(OPEN_STATES)).options(
            db.joinedload(model.period)
        ):
            items[(kind, item.period_id, item.department_id)] = item
    result, seen = [], set()
    for entry in rows:
        key = (entry.item, entry.period_id, entry.department_id)
        item = items.get(key)
        if item is None or key in seen or item_round(item) != entry.round:
            continue
        seen.add(key)
        returned = "（退回修改）" if item.state is ReturnState.RETURNED else ""
        what = "工作总结" if entry.item is ChaseItem.SUMMARY else "完成情况报送表"
        result.append(
            {
                "department": entry.department,
                "what": f"{entry.period.label}{what}{returned}",
                "path": item_path(entry.item, item),
                "due_on": item.due_on,
                "days": (today_ - item.due_on).days,
            }
        )
    exceptions = calendar_exceptions()
    for entry in rows:
        application = entry.application
        key = ("application", entry.application_id)
        if application is None or key in seen or application.answered_on is not None:
            continue
        item = ApplicationItem(application, deadline(application, exceptions))
        if item.due_on is None or item.round != entry.round or item.due_on >= today_:
            continue
        seen.add(key)
        result.append(
            {
                "department": application.department or entry.department,
                "what": f"依申请公开申请{application.number}的答复",
                "path": item_path(ChaseItem.APPLICATION, item),
                "due_on": item.due_on,
                "days": (today_ - item.due_on).days,
            }
        )
    result.sort(key=lambda r: (-r["days"], r["department"].name))
    return result


def departments_with_entries():
    """Return the departments that appear in the ledger, by name (for its filter)."""
    ids = db.session.query(ChaseEntry.department_id).distinct()
    return Department.query.filter(Department.id.in_(ids)).order_by(Department.name).all()


# --- notifications -----------------------------------------------------------------------


def unread_count(user):
    """Return how many notices ``user`` has not read."""
    return Notification.query.filter_by(user_id=user.id, read_at=None).count()


def notifications_of(user):
    """Return ``user``'s notices, newest first."""
    return Notification.query.filter_by(user_id=user.id).order_by(Notification.id.desc())


def mark_read(user, notification=None):
    """Mark one of ``user``'s notices read, or all of them when ``notification`` is None."""
    query = Notification.query.filter_by(user_id=user.id, read_at=None)
    if notification is not None:
        query = query.filter_by(id=notification.id)
    query.update({"read_at": now_utc()}, synchronize_session=False)
    db.session.commit()
