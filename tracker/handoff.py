"""Word when a form or summary changes hands: submitted (the office is told), returned or accepted
(the department is told). Each notice goes under the bell at once; e-mail goes out in an hourly
digest, one message per person however many forms moved, to those who chose e-mail for that event.
"""

from flask import current_app
from markupsafe import escape

from .extensions import db
from .mail import base_url, mail_configured
from .models import (
    Notification,
    NotificationPreference,
    OutgoingMail,
    QuarterlyReturn,
    User,
    UserRole,
)
from .timeutil import now_utc
from .transaction import commit

#: The hand-offs, with how the settings page names them and who hears of them.
EVENTS = {
    "submitted": ("部门报送或修改后重新报送，待我审核", UserRole.OFFICE),
    "returned": ("本部门的报送表或总结被退回修改", UserRole.DEPARTMENT),
    "accepted": ("本部门的报送表或总结审核通过", UserRole.DEPARTMENT),
}


def _path(item):
    return ("/returns/" if isinstance(item, QuarterlyReturn) else "/summaries/") + str(item.id)


def _what(item):
    return f"{item.period.label}{'完成情况报送表' if isinstance(item, QuarterlyReturn) else '工作总结'}"


def _recipients(item, event):
    query = User.query.filter(User.is_active.is_(True))
    if EVENTS[event][1] is UserRole.OFFICE:
        return query.filter(User.role == UserRole.OFFICE).all()
    return query.filter(User.role == UserRole.DEPARTMENT, User.department_id == item.department_id).all()


def _notice(item, event, is_correction, reason, due_on, reopened=False):
    what = _what(item)
    if event == "submitted":
        verb = "修改后重新报送了" if is_correction else "报送了"
        return f"【待审核】{item.department.name}{verb}{what}", f"第{len(item.versions)}版，请审核。"
    if event == "returned" and reopened:
        return (
            f"【重新打开】已通过的{what}被重新打开，请修改",
            f"原因：{reason}\n请于{due_on.year}年{due_on.month}月{due_on.day}日前修改后重新报送。",
        )
    if event == "returned":
        return (
            f"【退回修改】{what}被退回",
            f"退回原因：{reason}\n请于{due_on.year}年{due_on.month}月{due_on.day}日前修改后重新报送。",
        )
    return f"【审核通过】{what}已审核通过", "已锁定，不能再修改；如需更正请联系办公室。"


def notify(item, event, *, is_correction=False, reason="", due_on=None, reopened=False):
    """Tell whoever the hand-off concerns, under the bell; flushes with the caller's transaction.

    ``event`` is ``submitted``, ``returned`` or ``accepted``; a return (or the reopening of an
    accepted one) carries ``reason`` and ``due_on``.
    """
    title, body = _notice(item, event, is_correction, reason, due_on, reopened)
    for user in _recipients(item, event):
        db.session.add(Notification(user_id=user.id, title=title[:200], body=body, url=_path(item), event=event))


# --- preferences ------------------------------------------------------------------------------


def events_for(user):
    """Return the hand-off events ``user`` hears of, with their labels."""
    return {event: label for event, (label, role) in EVENTS.items() if role is user.role}


def preferences(user):
    """Return, per event the user hears of, whether they want e-mail too (default: yes, if they have an address)."""
    chosen = {p.event: p.by_email for p in NotificationPreference.query.filter_by(user_id=user.id)}
    return {event: chosen.get(event, bool(user.email)) for event in events_for(user)}


def set_preferences(user, by_email):
    """Record which events ``user`` wants by e-mail (``by_email``: the set of event names); commit."""
    for event in events_for(user):
        row = db.session.get(NotificationPreference, (user.id, event)) or NotificationPreference(
            user_id=user.id, event=event
        )
        row.by_email = event in by_email
        db.session.add(row)
    commit()


# --- the hourly digest ------------------------------------------------------------------------


def make_digests():
    """Bundle every user's undigested hand-off notices into one e-mail each; commit; return how many.

    Notices of events a user wants by the bell only are passed over (marked digested, no mail). A
    run that finds nothing writes nothing; a notice is digested once, whatever runs at the same time
    (the rows are claimed by setting digested_at where it is still empty).
    """
    now = now_utc()
    pending = (
        Notification.query.filter(Notification.event != "", Notification.digested_at.is_(None))
        .order_by(Notification.user_id, Notification.id)
        .all()
    )
    by_user = {}
    for notice in pending:
        by_user.setdefault(notice.user_id, []).append(notice)
    made = 0
    for user_id, notices in by_user.items():
        if not _claim(notices, now):  # another run took some of them: leave them to it
            db.session.rollback()
            continue
        user = db.session.get(User, user_id)
        mailed = _to_mail(user, notices)
        if mailed and user.email and mail_configured():
            db.session.add(_digest_mail(user, mailed))
            made += 1
        commit()
    return made


def _claim(notices, now):
    """Mark ``notices`` digested at ``now`` where still undigested; tell whether all of them were."""
    claimed = Notification.query.filter(
        Notification.id.in_([n.id for n in notices]), Notification.digested_at.is_(None)
    ).update({"digested_at": now}, synchronize_session=False)
    return claimed == len(notices)


def _to_mail(user, notices):
    """Return the notices ``user`` wants by e-mail."""
    wanted = preferences(user) if user.is_active else {}  # a disabled account is told nothing more
    # Only what the user's role still hears of (someone moved from the office hears no more submissions).
    return [n for n in notices if wanted.get(n.event) and EVENTS[n.event][1] is user.role]


def _digest_mail(user, notices):
    site = base_url()
    lines = [f"{user.name}：", "", f"自上次汇总以来，有{len(notices)}项报送事项变化：", ""]
    for notice in notices:
        lines += [f"· {notice.title}", *(f"  {line}" for line in notice.body.splitlines()), f"  {site}{notice.url}", ""]
    lines += [
        current_app.config["OFFICE_NAME"],
        "（本邮件由政务公开工作任务管理系统自动发送；可在“我的账号”中改为只在站内通知。）",
    ]
    text = "\n".join(lines)
    items = "".join(
        f'<li><a href="{site}{n.url}">{_escape(n.title)}</a><br>{_escape(n.body).replace(chr(10), "<br>")}</li>'
        for n in notices
    )
    html = (
        f'<div style="font-family:sans-serif;font-size:14px"><p>{_escape(user.name)}：</p>'
        f"<p>自上次汇总以来，有{len(notices)}项报送事项变化：</p><ul>{items}</ul>"
        f"<p>{_escape(current_app.config['OFFICE_NAME'])}</p></div>"
    )
    subject = notices[0].title if len(notices) == 1 else f"【报送动态】{len(notices)}项报送事项变化"
    return OutgoingMail(to_address=user.email, to_name=user.name, subject=subject[:200], body_text=text, body_html=html)


def _escape(text):
    return str(escape(text))
