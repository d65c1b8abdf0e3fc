"""The leaders' brief (领导简报) sent without asking: which briefs fall due, who subscribes, what a
brief says, and sending it once to each subscriber.

A brief falls due the day after its period's due date (a quarter, a half-year; the year after its
last quarter) and is sent while it is fresh (``BRIEF_CATCH_UP_DAYS``, so a scheduler that was down
catches up, and a new subscriber is not sent years of old briefs). Weekly briefs go out during a
quarter's reporting window, from its due date - 7 to due date + 15, one per week.

Sending follows the chase's ledger rules: for each subscriber and brief a ``brief_deliveries`` row
is inserted, with the bell notice and the e-mail to send, in one transaction, before anything is
sent. The row's unique key (subscriber, kind, scope) makes a second run, a restarted scheduler or a
second scheduler find it taken. The e-mail then goes through the shared outgoing queue
(:func:`tracker.chase.mail.deliver_pending`): a failure is kept and retried by the next run of any
job that sends mail, never lost and never sent twice.
"""

import datetime
import re
from dataclasses import dataclass, field

from flask import current_app
from markupsafe import escape
from sqlalchemy.exc import IntegrityError

from ..archive import archive
from ..chase.mail import deliver_pending
from ..errors import TrackerError
from ..exports.operations import export_workbook
from ..exports.queries import summary_data
from ..extensions import db
from ..mail import base_url, mail_configured
from ..models import (
    BriefDelivery,
    BriefKind,
    BriefSubscription,
    Notification,
    OutgoingMail,
    PeriodKind,
    Plan,
    ReportingPeriod,
    Setting,
    User,
    UserRole,
)
from ..models.returns import QUARTER_NAMES
from ..timeutil import local_date
from ..transaction import commit

#: The weekly window around a quarter's due date, in days.
WINDOW = (-7, 15)

#: The roles that may receive briefs: leaders (subscribed by the office's defaults) and the office (if they choose).
ROLES = (UserRole.LEADER, UserRole.OFFICE)

#: The setting holding the office's defaults for leaders.
DEFAULTS_KEY = "brief_defaults"

DEFAULTS = {"quarter": True, "half": True, "year": True, "weekly": False, "by_email": True}

KINDS = ("quarter", "half", "year", "weekly")

#: How many sections a brief names as behind, and how many overdue departments it names.
BEHIND_SHOWN = 3
OVERDUE_NAMED = 10


class BriefError(TrackerError):
    """A brief cannot be found or sent as asked; ``message`` is English, ``zh`` Chinese."""


def _cn(day):
    return f"{day.year}年{day.month}月{day.day}日"


# --- which brief ---------------------------------------------------------------------------------


@dataclass
class Brief:
    """One brief: of a quarter, a half-year, the year, or one week of a quarter's reporting window."""

    kind: BriefKind
    plan: Plan
    #: The quarter or half; for the year, its last quarter (the year's brief is archived with it).
    period: ReportingPeriod
    #: The quarters the figures cover.
    periods: list
    #: The week of the window (1-4) for a weekly brief.
    week: int | None = None

    @property
    def scope(self):
        """Return the brief's name in the CLI and the page address: 2018-Q3, 2018-H1, 2018, 2018-Q3-W2."""
        if self.kind is BriefKind.YEAR:
            return str(self.plan.year)
        text = f"{self.plan.year}-{self.period.short_label}"
        return f"{text}-W{self.week}" if self.week else text

    @property
    def page_scope(self):
        """Return the scope of the web brief the brief links to (a weekly brief: its quarter's)."""
        return self.scope.rsplit("-W", 1)[0]

    @property
    def path(self):
        """Return the web brief's path."""
        return f"/briefs/{self.page_scope}"

    @property
    def label(self):
        """Return what the brief covers, e.g. 2018年第三季度, 2018年上半年, 2018年."""
        return f"{self.plan.year}年" if self.kind is BriefKind.YEAR else self.period.label

    @property
    def title(self):
        """Return the brief's title."""
        if self.kind is BriefKind.WEEKLY:
            return f"{self.label}报送进展（第{self.week}周）"
        return f"{self.label}政务公开工作简报"

    @property
    def tag(self):
        """Return the bracketed word the notice and the e-mail's subject start with."""
        return "报送周报" if self.kind is BriefKind.WEEKLY else "领导简报"

    @property
    def due_on(self):
        """Return the day it falls due: after the period's due date, or the first day of its week."""
        if self.kind is BriefKind.WEEKLY:
            return self.period.due_on + datetime.timedelta(days=WINDOW[0] + 7 * (self.week - 1))
        return self.period.due_on + datetime.timedelta(days=1)

    @property
    def download_scope(self):
        """Return the 范围 the download page takes for the brief's workbook: q:3, h:1, or empty for the year."""
        if self.kind is BriefKind.YEAR:
            return ""
        return f"{'q' if self.period.kind is PeriodKind.QUARTER else 'h'}:{self.period.number}"

    @property
    def period_due_on(self):
        """Return the due date of the forms the brief covers (the last of them)."""
        return max((p.due_on for p in self.periods), default=self.period.due_on)

    @property
    def archive_kind(self):
        """Return its kind in the archive (see :mod:`tracker.archive`)."""
        return {BriefKind.YEAR: "year_brief", BriefKind.WEEKLY: f"brief_w{self.week}"}.get(self.kind, "brief")

    def filename(self, today_):
        """Return the workbook's file name (a weekly brief's says the day it was made)."""
        if self.kind is BriefKind.WEEKLY:
            return f"{self.label}政务公开工作情况简报（第{self.week}周，截至{_cn(today_)}）.xlsx"
        return f"{self.label}政务公开工作情况简报.xlsx"

    def workbook(self, as_of):
        """Build the brief's workbook as of ``as_of`` (the leaders' summary of :mod:`tracker.exports`)."""
        if self.kind is BriefKind.YEAR:
            return export_workbook("summary", self.plan.year, as_of=as_of)[1]
        if self.period.kind is PeriodKind.HALF:
            return export_workbook("summary", self.plan.year, half=self.period.number, as_of=as_of)[1]
        return export_workbook("summary", self.plan.year, quarter=self.period.number, as_of=as_of)[1]


SCOPE = re.compile(r"([0-9]{4})(?:-([QH])([1-4]))?")


def _parsed(scope):
    """Return ``(year, letter, number)`` of a scope (letter, number None for a year); raise BriefError if malformed."""
    match = SCOPE.fullmatch(str(scope or "").strip().upper())
    if match is None:
        raise BriefError(
            f"unknown period '{scope}'; use YEAR-Qn, YEAR-Hn or YEAR (e.g. 2018-Q3)",
            "简报期间的写法应为“2018-Q3”“2018-H1”或“2018”。",
        )
    return int(match[1]), match[2], match[3]


def brief_for(scope):
    """Return the :class:`Brief` a scope names (2018-Q3, 2018-H1 or 2018); raise BriefError if there is none."""
    year, letter, number = _parsed(scope)
    plan = Plan.query.filter_by(year=year).one_or_none()
    if plan is None:
        raise BriefError(f"no plan for {year}", f"没有{year}年的工作安排。")
    quarters = _quarters(plan)
    if letter is None:
        if not quarters:
            raise BriefError(f"the {year} plan has no quarters", f"{year}年的工作安排没有季度报送期。")
        return Brief(BriefKind.YEAR, plan, quarters[-1], quarters)
    return _period_brief(plan, quarters, letter, number)


def _period_brief(plan, quarters, letter, number):
    """Return the brief of the plan's quarter (Q) or half-year (H) ``number``; raise BriefError if there is none."""
    year = plan.year
    if letter == "Q":  # the plan's quarters are read already
        period = next((q for q in quarters if q.number == int(number)), None)
    else:
        period = ReportingPeriod.query.filter_by(plan_id=plan.id, kind=PeriodKind.HALF, number=int(number)).first()
    if period is None:
        raise BriefError(f"the {year} plan has no period {letter}{number}", f"{year}年的工作安排没有这个报送期。")
    if letter == "Q":
        return Brief(BriefKind.QUARTER, plan, period, [period])
    covered = _covered(period, quarters)
    if not covered:
        raise BriefError(
            f"the {year} plan has no quarter in half {number}", f"{period.label}没有季度报送期，没有简报。"
        )
    return Brief(BriefKind.HALF, plan, period, covered)


def _covered(half, quarters):
    """Return the quarters that start within ``half``."""
    return [q for q in quarters if half.starts_on <= q.starts_on <= half.ends_on]


def _quarters(plan):
    return (
        ReportingPeriod.query.filter_by(plan_id=plan.id, kind=PeriodKind.QUARTER)
        .order_by(ReportingPeriod.due_on, ReportingPeriod.number)
        .all()
    )


def due_briefs(today_):
    """Return the briefs that are due on ``today_`` and still fresh, oldest first."""
    catch_up = max(1, current_app.config["BRIEF_CATCH_UP_DAYS"])
    earliest = today_ - datetime.timedelta(days=max(catch_up, WINDOW[1]))
    latest = today_ - datetime.timedelta(days=WINDOW[0])
    periods = (
        ReportingPeriod.query.filter(ReportingPeriod.due_on.between(earliest, latest))
        .options(db.joinedload(ReportingPeriod.plan))
        .order_by(ReportingPeriod.due_on, ReportingPeriod.kind, ReportingPeriod.number)
        .all()
    )
    last_due = dict(
        db.session.query(ReportingPeriod.plan_id, db.func.max(ReportingPeriod.due_on))
        .filter(ReportingPeriod.plan_id.in_({p.plan_id for p in periods}), ReportingPeriod.kind == PeriodKind.QUARTER)
        .group_by(ReportingPeriod.plan_id)
    )
    briefs = {}
    for period in periods:
        found = _made_due(period, (today_ - period.due_on).days, catch_up, last_due)
        for brief in _looked_up(found):
            briefs.setdefault(brief.scope, brief)  # two quarters due the same day: one year's brief
    return list(briefs.values())


def _made_due(period, days, catch_up, last_due):
    """Return what ``period`` makes due ``days`` after its due date: briefs, and scopes (str) to look up.

    ``last_due`` maps a plan's id to its last quarter's due date, when the year's brief falls due.
    """
    is_quarter = period.kind is PeriodKind.QUARTER
    found = []
    if 0 < days <= catch_up:
        if is_quarter:
            found.append(Brief(BriefKind.QUARTER, period.plan, period, [period]))
            if period.due_on == last_due.get(period.plan_id):
                found.append(str(period.plan.year))
        else:
            found.append(f"{period.plan.year}-{period.short_label}")
    if is_quarter and WINDOW[0] <= days <= WINDOW[1]:
        found.append(Brief(BriefKind.WEEKLY, period.plan, period, [period], week=(days - WINDOW[0]) // 7 + 1))
    return found


def _looked_up(found):
    """Yield the briefs of ``found``, looking up those named by scope in turn."""
    for brief in found:
        if isinstance(brief, str):
            try:
                brief = brief_for(brief)
            except BriefError:  # a half-year without quarters has nothing to brief
                continue
        yield brief


# --- subscriptions -------------------------------------------------------------------------------


@dataclass
class Choice:
    """Which briefs a user gets, and how; ``source`` says whose choice it is."""

    quarter: bool = False
    half: bool = False
    year: bool = False
    weekly: bool = False
    by_email: bool = False
    #: ``own`` (the user chose), ``default`` (a leader on the office's defaults) or ``none``.
    source: str = "none"

    def wants(self, kind):
        """Tell whether the user gets briefs of ``kind``."""
        return getattr(self, BriefKind(kind).value)

    @property
    def kinds(self):
        """Return the kinds of brief the user gets."""
        return [BriefKind(k) for k in KINDS if getattr(self, k)]

    @property
    def kinds_zh(self):
        """Return them in Chinese, e.g. 季度简报、半年简报; 不接收 if none."""
        return "、".join(k.label for k in self.kinds) or "不接收"

    @property
    def channel_zh(self):
        """Return how they come: 站内通知 or 站内通知和邮件."""
        return "站内通知和邮件" if self.by_email else "站内通知"


def subscription_defaults():
    """Return the office's defaults for leaders: which briefs, and whether by e-mail."""
    row = db.session.get(Setting, DEFAULTS_KEY)
    return {**DEFAULTS, **(row.value if row else {})}


def set_subscription_defaults(values):
    """Set the defaults for leaders who have not chosen (``values``: the form's checked boxes); commit."""
    row = db.session.get(Setting, DEFAULTS_KEY) or Setting(key=DEFAULTS_KEY)
    row.value = {key: bool(values.get(key)) for key in DEFAULTS}
    db.session.add(row)
    commit()


def _choice(user, own, defaults):
    if own is not None:
        return Choice(own.wants_quarter, own.wants_half, own.wants_year, own.wants_weekly, own.by_email, "own")
    if user.role is UserRole.LEADER:
        return Choice(**defaults, source="default")
    return Choice()


def subscription_of(user):
    """Return the :class:`Choice` of ``user``: their own, the defaults for a leader, or none."""
    if user.role not in ROLES:
        return Choice()
    return _choice(user, db.session.get(BriefSubscription, user.id), subscription_defaults())


def set_subscription(user, values):
    """Record which briefs ``user`` wants and how (``values``: the form's checked boxes); commit.

    Only leaders and the office receive briefs.
    """
    if user.role not in ROLES:
        raise BriefError("only leaders and the office receive briefs", "只有领导和办公室可以订阅简报。")
    row = db.session.get(BriefSubscription, user.id) or BriefSubscription(user_id=user.id)
    for kind in KINDS:
        setattr(row, f"wants_{kind}", bool(values.get(kind)))
    row.by_email = bool(values.get("by_email"))
    db.session.add(row)
    commit()
    return row


def reset_subscription(user):
    """Drop ``user``'s own choice: a leader goes back to the office's defaults, the office to none; commit."""
    BriefSubscription.query.filter_by(user_id=user.id).delete(synchronize_session=False)
    commit()


def subscriptions():
    """Return ``(user, Choice)`` for every active leader and office user, leaders first, by name."""
    users = (
        User.query.filter(User.is_active.is_(True), User.role.in_(ROLES))
        .order_by(User.role, User.username)  # "leader" sorts before "office"
        .all()
    )
    own = {s.user_id: s for s in BriefSubscription.query}
    defaults = subscription_defaults()
    return [(user, _choice(user, own.get(user.id), defaults)) for user in users]


# --- what a brief says -----------------------------------------------------------------------------


def _percent(part, whole):
    """Return a whole percentage, halves rounded up (as Excel shows them), or None of nothing."""
    return int(100 * part / whole + 0.5) if whole else None


def _sections(data):
    """Return the summary's sections, each with its completion percentage and its label (一、…)."""
    return [
        {**s, "percent": _percent(s["done"], s["lines"]) or 0, "label": f"{s['numeral']}、{s['title']}"}
        for s in data["sections"]
    ]


def _behind(sections, overall):
    """Return the sections done at a lower rate than all sections together, the worst first."""
    if overall is None:
        return []
    # A section nobody has reported on yet is shown as such, not as 0% done.
    behind = (s for s in sections if s["lines"] and s["percent"] < overall)
    return sorted(behind, key=lambda s: (s["percent"], s["id"]))[:BEHIND_SHOWN]


def _ranking_key(row):
    """Sort by rate; equal rates: who reported (late) before who did not, then who owed less."""
    return (-(row["rate"] or 0), -row["submitted"], row["expected"], row["department"])


def _ranking(departments):
    """Return the departments that owed or sent a form, ranked by on-time rate; equal rates share a rank (1, 1, 3)."""
    ranking = sorted(
        ({**d, "rate": _percent(d["on_time"], d["expected"])} for d in departments if d["expected"] or d["submitted"]),
        key=_ranking_key,
    )
    for row in ranking:
        row["rank"] = 1 + sum(1 for other in ranking if (other["rate"] or 0) > (row["rate"] or 0))
    return ranking


def brief_figures(brief, today_):
    """Return the brief's figures as of ``today_``: rates, accepted, overdue departments, sections, ranking."""
    is_final = today_ > brief.period_due_on
    data = summary_data(brief.plan, brief.periods, today_, all_expected=not is_final)
    expected = data["expected"]
    sections = _sections(data)
    overall = _percent(sum(s["done"] for s in sections), sum(s["lines"] for s in sections))
    return {
        "as_of": today_,
        "expected": expected,
        "submitted": data["submitted"],
        "on_time": data["on_time"],
        "accepted": data["accepted"],
        "rate": _percent(data["submitted"], expected),
        "on_time_rate": _percent(data["on_time"], expected),
        "overdue": data["overdue"],
        "sections": sections,
        "completion": overall,
        "behind": _behind(sections, overall),
        "ranking": _ranking(data["departments"]),
        "waiting": data["waiting"],
        "is_final": is_final,
    }


def _rate(value):
    return "—" if value is None else f"{value}%"


def brief_lines(brief, figures):
    """Return the brief's text, a line each: figures, departments late or still to report, sections behind."""
    f = figures
    provisional = "" if f["is_final"] else "（报送尚未截止，数据随报送更新）"
    lines = [
        f"{brief.title}（截至{_cn(f['as_of'])}）{provisional}",
        "",
        f"报送率：{_rate(f['rate'])}（应报{f['expected']}份，已报{f['submitted']}份）",
        f"按时报送率：{_rate(f['on_time_rate'])}（按时报送{f['on_time']}份）",
        f"审核通过：{f['accepted']}份",
    ]
    if brief.kind in (BriefKind.HALF, BriefKind.YEAR):
        quarters = "、".join(QUARTER_NAMES[p.number] for p in brief.periods)
        lines.insert(2, f"（统计{quarters}的完成情况报送表）")
    lines.extend(_late_lines(f))
    lines.append(_sections_line(f))
    return lines


def _late_lines(f):
    """Return the lines naming the departments still to report (before the deadline) and those overdue."""
    lines = []
    if not f["is_final"]:
        lines.append(_named("尚未报送的部门", [(name, "") for name in f["waiting"]]))
    overdue = [(row["department"], f"逾期{row['days']}天") for row in f["overdue"]]
    if overdue or f["is_final"]:
        lines.append(_named("逾期未报送（含退回后逾期未改）的部门", overdue))
    return lines


def _sections_line(f):
    """Return the line naming the sections behind the overall completion rate (or saying none is)."""
    if f["behind"]:
        behind = "；".join(f"{s['label']}（{s['percent']}%）" for s in f["behind"])
        return f"完成率低于总体完成率（{f['completion']}%）的部分：{behind}"
    if f["completion"] is not None:
        return f"各部分任务完成率均不低于总体完成率（{f['completion']}%）。"
    return "各部分任务尚无报送的完成情况。"


def _named(what, rows):
    """Return e.g. 逾期……的部门（12个）：财政局（逾期3天）、…等12个部门, or …：无."""
    if not rows:
        return f"{what}：无"
    named = "、".join(f"{name}（{note}）" if note else name for name, note in rows[:OVERDUE_NAMED])
    more = f"等{len(rows)}个部门" if len(rows) > OVERDUE_NAMED else ""
    return f"{what}（{len(rows)}个）：{named}{more}"


def render_brief_mail(brief, figures, user, archived):
    """Return ``(subject, text, html)`` of the brief's e-mail to ``user``: figures, the attachment's name, a link."""
    link = base_url() + brief.path
    sign = current_app.config["OFFICE_NAME"]
    note = "（本邮件由政务公开工作任务管理系统自动发送，请勿直接回复；可在系统的“简报订阅”中退订或改为只在站内通知。）"
    body = brief_lines(brief, figures)
    greeting = f"{user.name}："
    made = local_date(archived.created_at)
    attached = f"详细数据见附件《{archived.filename}》（{_cn(made)}生成）。"
    text = "\n".join([greeting, "", *body, "", attached, f"在线查看（手机可用）：{link}", "", sign, note])
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in body if line)
    html = (
        f'<div style="font-family:sans-serif;font-size:14px"><p>{escape(greeting)}</p>{paragraphs}'
        f"<p>{escape(attached)}</p>"
        f'<p><a href="{escape(link)}">在线查看简报</a>（{escape(link)}）</p>'
        f'<p>{escape(sign)}</p><p style="color:#595959">{escape(note)}</p></div>'
    )
    return f"【{brief.tag}】{brief.title}", text, html


# --- sending ---------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """One brief for one subscriber, as a run took it (or, in a dry run, would)."""

    brief: Brief
    user: User
    choice: Choice
    #: ``send``, ``taken`` (another run took it first), or ``no_email`` (sent by the bell only).
    kind: str = "send"
    detail: str = ""

    def line(self, dry_run=False):
        """Return the CLI's line for the delivery."""
        verb = {"send": "would send" if dry_run else "sent", "taken": "already taken"}[self.kind]
        if self.choice.by_email and not self.detail:
            how = f"bell + e-mail <{self.user.email}>"
        else:
            how = "bell" + (f" ({NO_MAIL_EN[self.detail]})" if self.detail else "")
        brief = f"{self.brief.scope:<11}{self.brief.kind.value:<8}"
        return f"{verb:<14}{brief}{self.user.name} [{self.user.username}] -> {how}"


@dataclass
class BriefReport:
    """What a run did: the briefs due, each delivery, and the e-mail delivered or failed."""

    today: datetime.date
    dry_run: bool
    briefs: list = field(default_factory=list)
    deliveries: list = field(default_factory=list)
    #: The briefs that could not be made, with the reason.
    errors: list = field(default_factory=list)
    mail_sent: int = 0
    mail_failed: int = 0

    @property
    def sent(self):
        """Return the deliveries this run made (or would make)."""
        return [d for d in self.deliveries if d.kind == "send"]

    def summary(self):
        """Return one line of counts."""
        verb = "would send" if self.dry_run else "sent"
        due = ", ".join(b.scope for b in self.briefs) or "none"
        text = f"briefs as of {self.today} (due: {due}): {verb} {len(self.sent)}"
        if not self.dry_run:
            text += f"; e-mail: {self.mail_sent} sent, {self.mail_failed} failed"
        if self.errors:
            text += "; could not make " + "; ".join(self.errors)
        return text

    def summary_zh(self):
        """Return one line of counts in Chinese, for the jobs page."""
        due = "、".join(b.title for b in self.briefs) or "无"
        text = f"截至{self.today.isoformat()}到期的简报：{due}；发出{len(self.sent)}份"
        if not self.dry_run:
            text += f"；邮件发送成功{self.mail_sent}封，失败{self.mail_failed}封"
        if self.errors:
            text += "；未能生成：" + "；".join(self.errors)
        return text


def send_briefs(today_, scope=None, dry_run=False):
    """Send each brief due on ``today_`` (or the one ``scope`` names) once to each of its subscribers.

    Returns a :class:`BriefReport`. A dry run writes and sends nothing. A brief named by ``scope``
    must have fallen due: sent earlier, it would take the place of the one its subscribers should
    get once the figures are in. Weekly briefs are sent by the schedule only.
    """
    briefs = _briefs_to_send(today_, scope)
    report = BriefReport(today_, dry_run, briefs)
    people = subscriptions()
    taken = _taken(briefs)
    for brief in briefs:
        todo = _todo(brief, people, taken)
        if not todo:
            continue
        if dry_run:
            report.deliveries.extend(_explain(d) for d in todo)
            continue
        made = _made(brief, today_, report)
        if made is not None:
            archived, figures = made
            report.deliveries.extend(_deliver(d, figures, archived, today_) for d in todo)
    if not dry_run:
        report.mail_sent, report.mail_failed = deliver_pending()
    return report


def _briefs_to_send(today_, scope):
    """Return the briefs due on ``today_``, or the one ``scope`` names; raise BriefError if it is not due yet."""
    if scope is None:
        return due_briefs(today_)
    brief = brief_for(scope)
    if brief.due_on > today_:
        raise BriefError(
            f"the {brief.scope} brief falls due on {brief.due_on}; preview it with 'brief show'",
            f"{brief.title}在{_cn(brief.due_on)}才到期。",
        )
    return [brief]


def _todo(brief, people, taken):
    """Return a :class:`Delivery` of ``brief`` for each subscriber to its kind who has not been given it."""
    return [
        Delivery(brief, user, choice)
        for user, choice in people
        if choice.wants(brief.kind) and (user.id, brief.kind, brief.scope) not in taken
    ]


def _taken(briefs):
    """Return ``(user id, kind, scope)`` of every delivery of ``briefs`` made already."""
    scopes = [b.scope for b in briefs]
    return {
        (user_id, kind, scope_)
        for user_id, kind, scope_ in db.session.query(
            BriefDelivery.user_id, BriefDelivery.kind, BriefDelivery.scope
        ).filter(BriefDelivery.scope.in_(scopes))
    }


def _made(brief, today_, report):
    """Archive the brief's workbook and work out its figures: return ``(archived, figures)``.

    A brief that cannot be made is noted in ``report`` (None is returned), so it does not hold up the others.
    """
    try:
        build = lambda b=brief: b.workbook(today_)  # noqa: E731 - the archive calls it only if it has none
        made, _ = archive(brief.period, brief.archive_kind, brief.filename(today_), build)
        figures = brief_figures(brief, today_)
    except Exception as exc:
        db.session.rollback()
        current_app.logger.exception("brief %s could not be made", brief.scope)
        report.errors.append(f"{brief.scope}: {type(exc).__name__}: {exc}")
        return None
    return made, figures


#: Why a subscriber who chose e-mail gets the bell only: the ledger's words, and the CLI's.
NO_ADDRESS, MAIL_OFF = "账号没有邮箱", "未配置邮件服务器"
NO_MAIL_EN = {NO_ADDRESS: "the account has no e-mail address", MAIL_OFF: "e-mail is not configured"}


def _explain(delivery):
    """Say why a subscriber who chose e-mail gets the bell only."""
    if delivery.choice.by_email:
        if not delivery.user.email:
            delivery.detail = NO_ADDRESS
        elif not mail_configured():
            delivery.detail = MAIL_OFF
    return delivery


def _deliver(delivery, figures, archived, today_):
    """Claim one delivery and give its notice and e-mail, in one transaction; the loser of a race gives nothing."""
    brief, user = delivery.brief, delivery.user
    _explain(delivery)
    mail = None
    if delivery.choice.by_email and not delivery.detail:
        subject, text, html = render_brief_mail(brief, figures, user, archived)
        mail = OutgoingMail(
            to_address=user.email,
            to_name=user.name,
            subject=subject[:200],
            body_text=text,
            body_html=html,
            attachment_id=archived.id,
        )
        db.session.add(mail)
    db.session.add(
        BriefDelivery(
            user_id=user.id,
            kind=brief.kind,
            scope=brief.scope,
            plan_id=brief.plan.id,
            archive_id=archived.id,
            mail=mail,
            detail=delivery.detail,
        )
    )
    body = "\n".join(line for line in brief_lines(brief, figures)[2:])
    title = f"【{brief.tag}】{brief.title}"
    db.session.add(Notification(user_id=user.id, title=title[:200], body=body, url=brief.path))
    try:
        commit()
    except IntegrityError:
        db.session.rollback()
        delivery.kind, delivery.detail = "taken", ""
    return delivery


def deliveries(limit=200):
    """Return the latest deliveries, newest first, for the office's page."""
    return (
        BriefDelivery.query.options(
            db.joinedload(BriefDelivery.user), db.joinedload(BriefDelivery.mail), db.joinedload(BriefDelivery.archive)
        )
        .order_by(BriefDelivery.id.desc())
        .limit(limit)
        .all()
    )


def current_brief(today_):
    """Return the brief leaders look at now: the newest plan's latest quarter that has ended, else its first."""
    plan = Plan.query.order_by(Plan.year.desc()).first()
    quarters = _quarters(plan) if plan else []
    if not quarters:
        return None
    ended = [q for q in quarters if q.ends_on < today_]
    period = ended[-1] if ended else quarters[0]
    return Brief(BriefKind.QUARTER, plan, period, [period])


def briefs_of(plan):
    """Return every quarter, half-year and year brief of ``plan``, in order of falling due.

    Built from the plan's periods as loaded (the briefs page lists every year's without a query
    per brief); a half-year without quarters has no brief, and neither has a plan without them.
    """
    quarters = sorted((p for p in plan.periods if p.kind is PeriodKind.QUARTER), key=lambda p: (p.due_on, p.number))
    briefs = [Brief(BriefKind.QUARTER, plan, q, [q]) for q in quarters] + _half_briefs(plan, quarters)
    if quarters:
        briefs.append(Brief(BriefKind.YEAR, plan, quarters[-1], quarters))
    return sorted(briefs, key=lambda b: (b.due_on, b.kind is BriefKind.YEAR))


def _half_briefs(plan, quarters):
    """Return a brief of each half-year of ``plan`` that covers one of ``quarters`` or more."""
    briefs = []
    for half in (p for p in plan.periods if p.kind is PeriodKind.HALF):
        covered = _covered(half, quarters)
        if covered:
            briefs.append(Brief(BriefKind.HALF, plan, half, covered))
    return briefs
