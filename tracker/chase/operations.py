"""Chasing what is overdue (催办): the ladder, one run of the chase, notices, the ledger, the overdue list.

A run looks at every form and summary still waiting on its department (a draft, or returned for
correction), works out which steps of the ladder have fallen due against its due date, and takes
the most advanced one not yet taken: it writes the ledger row, the in-app notices and the e-mails
to send, in one transaction per batch of rows. Steps overtaken while nothing ran are recorded as
skipped, so nobody gets a burst of stale reminders. The ledger's unique key (department, period,
item, round, step) is what guarantees a step happens once, whatever runs at the same time: a run
claims its rows with ``INSERT … ON CONFLICT DO NOTHING`` and delivers only those it inserted.
"""

import datetime
from dataclasses import dataclass, field

from sqlalchemy import String, delete, select, type_coerce
from sqlalchemy.exc import IntegrityError

from ..audit import acting_as_system
from ..bulk import insert_rows
from ..disclosure.deadlines import calendar_exceptions, deadline
from ..errors import TrackerError
from ..extensions import db
from ..mail import mail_configured
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
from ..returns.operations import lacking_tasks
from ..summaries.operations import summary_missing
from ..timeutil import now_utc
from ..transaction import commit
from .mail import render_mail

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


class ChaseError(TrackerError):
    """A change to the ladder was refused; ``zh`` is what the office sees."""


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
                commit()
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
    commit()
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


def open_items(today_, lead_days, department_id=None, plan_id=None, chased_to=None):
    """Return ``(kind, form or summary)`` for everything waiting on a department due by ``today_ + lead_days``
    (on one department's only, given ``department_id``; forms and summaries of one plan only, given ``plan_id``).

    Given ``chased_to`` (the ladder's last step), forms and summaries that already reached it in
    their round are left out: the chase has nothing more to send them, and at city scale they are
    most of what is open (years of drafts never finished). A step the office adds to the ladder
    later is therefore not recorded as skipped for them, only for items still on their way up.
    """
    horizon = today_ + datetime.timedelta(days=lead_days)
    items = []
    for kind, model in ((ChaseItem.RETURN, QuarterlyReturn), (ChaseItem.SUMMARY, HalfYearSummary)):
        query = _open_forms(kind, model, horizon, department_id, plan_id, chased_to)
        items.extend((kind, row) for row in query if row.due_on <= horizon)
    items.extend(_open_applications(horizon, department_id))
    return items


def _open_forms(kind, model, horizon, department_id, plan_id, chased_to):
    """Return the query of open forms or summaries (``model``) due by ``horizon``, as :func:`open_items` filters."""
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
    if chased_to is not None:
        round_ = db.case((model.state == ReturnState.RETURNED, model.returned_count), else_=0)
        query = query.filter(
            ~db.exists().where(
                ChaseEntry.department_id == model.department_id,
                ChaseEntry.period_id == model.period_id,
                ChaseEntry.item == kind,
                ChaseEntry.round == round_,
                ChaseEntry.step_id == chased_to.id,
            )
        )
    return query


def _open_applications(horizon, department_id):
    """Return ``(kind, item)`` of each unanswered application due by ``horizon`` (of ``department_id`` if given)."""
    exceptions = calendar_exceptions()
    applications = (
        Application.query.filter(Application.answered_on.is_(None), Application.department_id.isnot(None))
        .options(db.joinedload(Application.department))
        .order_by(Application.received_on, Application.id)
    )
    if department_id is not None:
        applications = applications.filter(Application.department_id == department_id)
    items = []
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


#: How many items one statement claims the ledger rows of, and one transaction commits (each commit waits
#: for the disk, so they are few).
BATCH = 2000


def run_chase(today_, dry_run=False):
    """Chase everything waiting on a department as of ``today_``; then send the e-mail waiting to go.

    Returns a :class:`ChaseReport`. A dry run writes nothing and sends nothing. A failure to send
    e-mail is recorded on the mail and its ledger row and retried on the next run; it never stops
    the other departments' reminders.

    The run reads what it needs in a fixed number of queries, works out every step in memory, and
    claims the ledger rows in batches: one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` per batch,
    whose returned rows are this run's to deliver, with their notices and e-mails inserted in the
    same transaction. A row another run inserted first is not returned: that step is theirs.
    """
    steps = ladder(active_only=True, create=not dry_run)
    report = ChaseReport(today_, dry_run)
    if not steps:
        return report
    # Dry runs of an empty ladder get unsaved steps (negative ids) that no ledger row can name.
    items = open_items(today_, max(0, -steps[0].offset_days), chased_to=steps[-1] if steps[-1].id > 0 else None)
    directory = user_directory()
    due = _due_steps(items, steps, today_)
    lacking = lacking_tasks([item.id for kind, item, send, _ in due if send and kind is ChaseItem.RETURN])
    session = db.session()
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        # What was read stays as read across the batches' commits (the run only adds rows): without
        # this, each commit would send every department, period and user back to the database.
        for start in range(0, len(due), BATCH):
            batch = due[start : start + BATCH]
            report.actions.extend(_take(batch, today_, dry_run, directory, lacking))
    finally:
        session.expire_on_commit = keep
    if not dry_run:
        from .mail import deliver_pending

        report.mail_sent, report.mail_failed = deliver_pending()
    return report


def _due_steps(items, steps, today_):
    """Return ``(kind, item, step to send or None, steps to record as skipped)`` for each item with steps to take.

    Of the steps fallen due and not yet taken, the most advanced is sent if it is one of them; the
    others are recorded as skipped.
    """
    taken = _taken(
        {item.period_id for _, item in items if item.period_id},
        {item.id for kind, item in items if kind is ChaseItem.APPLICATION},
    )
    due = []
    for kind, item in items:
        to_take = _steps_to_take(item, steps, today_, taken.get(item_key(kind, item), set()))
        if to_take is not None:
            due.append((kind, item, *to_take))
    return due


def _steps_to_take(item, steps, today_, done):
    """Return ``(step to send or None, steps to record as skipped)`` of one item, None if it has none to take.

    ``done`` holds the ids of the item's steps taken already.
    """
    fallen = [s for s in steps if item.due_on + datetime.timedelta(days=s.offset_days) <= today_]
    todo = [s for s in fallen if s.id not in done]
    if not todo:
        return None
    send = fallen[-1] if fallen[-1] in todo else None
    return send, [s for s in todo if s is not send]


def _taken(period_ids, application_ids):
    """Return the steps already taken, by :func:`item_key`.

    Read as plain tuples (the item as its stored string): at city scale this is the run's largest read.
    """
    taken = {}
    item = type_coerce(ChaseEntry.item, String)
    columns = (ChaseEntry.department_id, ChaseEntry.period_id, ChaseEntry.application_id, item)
    columns += (ChaseEntry.round, ChaseEntry.step_id)
    if period_ids:
        rows = db.session.execute(select(*columns).where(ChaseEntry.period_id.in_(period_ids)))
        for department_id, period_id, _, kind, round_, step_id in rows:
            taken.setdefault((department_id, period_id, ChaseItem(kind), round_), set()).add(step_id)
    if application_ids:
        rows = db.session.execute(select(*columns).where(ChaseEntry.application_id.in_(application_ids)))
        for _, _, application_id, kind, round_, step_id in rows:
            taken.setdefault((ChaseItem(kind), application_id, round_), set()).add(step_id)
    return taken


#: The ledger's unique keys (one for forms and summaries, one for applications), as one tuple.
KEY = ("department_id", "period_id", "application_id", "item", "round", "step_id")


def _take(batch, today_, dry_run, directory, lacking):
    """Claim a batch's ledger rows and give the notices and e-mails of those this run won, in one transaction.

    ``batch`` holds ``(kind, item, step to send or None, steps to record as skipped)``. Returns the
    :class:`Action` of each step; a step another run claimed first comes back as ``taken``.

    An item is all or nothing, as when each item had its own transaction: if another run holds any
    of its rows (it chased the item as of another day, say), the rows won here are given back and
    nothing is sent for it now, so a department never gets two steps seconds apart.
    """
    actions, rows, messages, owners = [], [], {}, []
    for kind, item, send, skip in batch:
        first = len(rows)
        _plan_item(kind, item, send, skip, today_, directory, actions, rows, messages)
        owners.append(range(first, len(rows)))
    if dry_run or not rows:
        return actions
    keys = [_key(row) for row in rows]
    # The same order in every run, so two runs claiming the same rows queue instead of deadlocking.
    won = _claim(sorted(rows, key=_order))
    _give_back_partial(won, keys, owners)
    for action, key in zip(actions, keys, strict=True):
        if key not in won:
            action.kind = "taken"
    notices, mails = [], []
    for key, (kind, item, step, recipients) in messages.items():
        if key in won:
            _messages_of(won[key], kind, item, step, recipients, today_, lacking, notices, mails)
    insert_rows(Notification.__table__, notices)
    insert_rows(OutgoingMail.__table__, mails)
    commit()
    return actions


def _plan_item(kind, item, send, skip, today_, directory, actions, rows, messages):
    """Add one item's ledger rows and actions (the skipped steps, then the one sent) to the batch's."""
    common = {
        "department_id": item.department.id,
        "period_id": item.period_id,
        "application_id": item.id if kind is ChaseItem.APPLICATION else None,
        "item": kind,
        "round": item_round(item),
        "due_on": item.due_on,
        "run_on": today_,
        "at": now_utc(),
    }
    name, what = item.department.name, subject(item)
    later = send.name if send else "更高一级的步骤"
    for step in skip:
        detail = f"该步骤到期时未执行，已由“{later}”取代"
        rows.append({**common, "step_id": step.id, "recipients": [], "result": ChaseResult.SKIPPED, "detail": detail})
        actions.append(Action(name, what, kind, step.name, step.when_zh, "skip"))
    if send is None:
        return
    recipients = recipients_for(send, item.department, directory)
    result, detail = _result_of(send, recipients)
    row = {**common, "step_id": send.id, "recipients": recipients, "result": result, "detail": detail}
    rows.append(row)
    actions.append(Action(name, what, kind, send.name, send.when_zh, "send", recipients, result))
    messages[_key(row)] = (kind, item, send, recipients)


def _give_back_partial(won, keys, owners):
    """Delete the rows won of any item another run holds a row of, and drop them from ``won``."""
    given_back = []
    for positions in owners:
        if any(keys[n] not in won for n in positions):
            given_back += [won.pop(keys[n]) for n in positions if keys[n] in won]
    if given_back:
        db.session.execute(delete(ChaseEntry).where(ChaseEntry.id.in_(given_back)))


def _key(row):
    return tuple(row[column] for column in KEY)


def _order(row):
    return tuple(-1 if value is None else str(value) if isinstance(value, ChaseItem) else value for value in _key(row))


def _claim(rows):
    """Insert the ledger rows no run has inserted yet; return ``{key: id}`` of those inserted here.

    One statement, ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (:func:`tracker.bulk.insert_rows`).
    A row another run holds uncommitted makes this one wait for it, then pass it over.
    """
    returned = insert_rows(
        ChaseEntry.__table__,
        [{**row, "updated_at": row["at"]} for row in rows],
        returning=("id", *KEY),
        skip_conflicts=True,
    )
    return {tuple(values[1:]): values[0] for values in returned}


def _result_of(step, recipients):
    """Return a step's ledger result and detail before any e-mail has gone."""
    if not recipients:
        return ChaseResult.NO_RECIPIENTS, "该部门没有可接收通知的用户"
    result = ChaseResult.PENDING if any(p["channel"] == "email" for p in recipients) else ChaseResult.SENT
    detail = ""
    if step.notify_head and not any(p["role"] == "head" for p in recipients):
        detail = "未设置部门负责人邮箱或未配置邮件服务器，未能通知部门负责人"
    return result, detail


def _messages_of(entry_id, kind, item, step, recipients, today_, lacking, notices, mails):
    """Add the notices and e-mails of one step taken (ledger row ``entry_id``) to ``notices`` and ``mails``."""
    path = item_path(kind, item)
    message = render_mail(kind, item, step, today_, missing_of(kind, item, lacking), path)
    for person in recipients:
        office = person["role"] == UserRole.OFFICE.value
        if person["channel"] == "in_app":
            notices.append(
                {
                    "user_id": person["user_id"],
                    "entry_id": entry_id,
                    "title": message.office_title if office else message.title,
                    "body": message.office_notice if office else message.notice,
                    "url": path,
                }
            )
        elif person["channel"] == "email":
            mails.append(
                {
                    "entry_id": entry_id,
                    "to_address": person["address"],
                    "to_name": person["name"],
                    "subject": message.office_title if office else message.title,
                    "body_text": message.office_text if office else message.text,
                    "body_html": message.office_html if office else message.html,
                }
            )


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


def missing_of(kind, item, lacking):
    """Return, in Chinese, what is still missing from a form or summary (an application: its answer).

    ``lacking`` is :func:`~tracker.returns.operations.lacking_tasks` of the forms concerned.
    """
    if kind is ChaseItem.APPLICATION:
        return ["尚未答复申请人"]
    if kind is ChaseItem.SUMMARY:
        return [f"未填写{HEADER_NAMES[f]}" for f in summary_missing(item)]
    texts = [f"未填写{HEADER_NAMES[f]}" for f in HEADER_NAMES if f != "text" and not getattr(item, f)]
    codes = sorted(set(lacking.get(item.id, ())), key=_code_key)
    if codes:
        texts.insert(0, f"{len(codes)}项任务未填写完成情况（任务{'、'.join(codes)}）")
    return texts


def _code_key(code):
    return [int(part) if part.isdigit() else 0 for part in code.split(".")]


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
    result = _overdue_forms(rows, today_) + _overdue_applications(rows, today_)
    result.sort(key=lambda r: (-r["days"], r["department"].name))
    return result


def _overdue_forms(rows, today_):
    """Return the list's forms and summaries: still open, in the round that reached the leaders' step."""
    items = _open_by_key({entry.period_id for entry in rows if entry.period_id})
    result, seen = [], set()
    for entry in rows:
        key = (entry.item, entry.period_id, entry.department_id)
        item = items.get(key)
        if item is None or key in seen or item_round(item) != entry.round:
            continue
        seen.add(key)
        result.append(_overdue_form(entry, item, today_))
    return result


def _open_by_key(periods):
    """Return the open forms and summaries of ``periods`` (ids) by ``(kind, period, department)`` ids."""
    items = {}
    for kind, model in ((ChaseItem.RETURN, QuarterlyReturn), (ChaseItem.SUMMARY, HalfYearSummary)):
        for item in model.query.filter(model.period_id.in_(periods), model.state.in_(OPEN_STATES)).options(
            db.joinedload(model.period)
        ):
            items[(kind, item.period_id, item.department_id)] = item
    return items


def _overdue_form(entry, item, today_):
    """Return the overdue list's row of a form or summary (``item``) that reached the leaders' step (``entry``)."""
    returned = "（退回修改）" if item.state is ReturnState.RETURNED else ""
    what = "工作总结" if entry.item is ChaseItem.SUMMARY else "完成情况报送表"
    return {
        "department": entry.department,
        "what": f"{entry.period.label}{what}{returned}",
        "path": item_path(entry.item, item),
        "due_on": item.due_on,
        "days": (today_ - item.due_on).days,
    }


def _overdue_applications(rows, today_):
    """Return the list's applications: still unanswered past the deadline the leaders' step was taken against."""
    exceptions = calendar_exceptions()
    result, seen = [], set()
    for entry in rows:
        application = entry.application
        if application is None or entry.application_id in seen or application.answered_on is not None:
            continue
        item = ApplicationItem(application, deadline(application, exceptions))
        if item.due_on is None or item.round != entry.round or item.due_on >= today_:
            continue
        seen.add(entry.application_id)
        result.append(
            {
                "department": application.department or entry.department,
                "what": f"依申请公开申请{application.number}的答复",
                "path": item_path(ChaseItem.APPLICATION, item),
                "due_on": item.due_on,
                "days": (today_ - item.due_on).days,
            }
        )
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
    commit()
