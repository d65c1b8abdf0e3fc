"""E-mail for the chase: what a reminder says (Chinese, plain text and HTML), and sending it over SMTP.

Mail is written to the ``outgoing_mail`` table first and sent afterwards, so a failure to send
is kept and retried on the next run, never lost, and never holds up the other reminders.
"""

import contextlib
import smtplib
import socket
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app
from markupsafe import escape

from ..extensions import db
from ..models import ChaseEntry, ChaseItem, ChaseResult, MailState, OutgoingMail, ReturnState
from ..timeutil import now_utc

#: Kept on the mail as the reason, so the ledger can say why it has not gone yet.
MAX_ERROR = 500


def mail_configured():
    """Tell whether e-mail is on (MAIL_SERVER is set)."""
    return bool(current_app.config.get("MAIL_SERVER"))


def base_url():
    """Return the address the e-mails link to (config BASE_URL)."""
    return current_app.config["BASE_URL"].rstrip("/")


@dataclass
class Message:
    """A reminder's wording for the department, and for the office when the office is told."""

    title: str
    #: The in-app notice: the facts and what is missing; the notice itself links to the page.
    notice: str
    text: str
    html: str
    office_title: str
    office_notice: str
    office_text: str
    office_html: str


def _cn(day):
    return f"{day.year}年{day.month}月{day.day}日"


def render_mail(kind, item, step, today_, missing, path):
    """Return the :class:`Message` of a chase step for a form or summary."""
    department, period = item.department, item.period
    what = f"{period.label}{'工作总结' if kind is ChaseItem.SUMMARY else '完成情况报送表'}"
    due, days = item.due_on, (today_ - item.due_on).days
    returned = item.state is ReturnState.RETURNED
    if days < 0:
        status, tag = f"将于{_cn(due)}截止，还有{-days}天", "提醒"
    elif days == 0:
        status, tag = "今天截止", "提醒"
    else:
        status, tag = f"已于{_cn(due)}截止，已逾期{days}天", "催办"
    link = base_url() + path
    title = f"【{tag}】{what}{'（退回修改）' if returned else ''}{status.split('，')[-1]}"
    facts = [f"贵部门的{what}{'已被退回修改，修改稿' if returned else '尚未报送，'}{status}。"]
    if returned:
        facts.append(f"退回原因：{item.return_reason}")
    facts.append(f"尚缺内容：{'；'.join(missing) if missing else '内容已填写，尚未点击“报送”'}。")
    sign = current_app.config["OFFICE_NAME"]
    note = "（本邮件由政务公开工作任务管理系统自动发送，请勿直接回复。）"
    text = "\n".join([f"{department.name}：", "", *facts, "", f"请登录系统填写并报送：{link}", "", sign, note])
    html = _html(department.name, facts, link, sign, note)
    office_title = f"【{tag}】{department.name}{what}{'（退回修改）' if returned else ''}{status.split('，')[-1]}"
    listed = f"，已按催办规则列入领导逾期名单（{step.name}）" if step.notify_leaders else ""
    office_facts = [f"{department.name}的{what}尚未报送，{status}{listed}。", *facts[1:]]
    office_text = "\n".join([*office_facts, "", f"查看：{link}", "", note])
    office_html = _html("办公室", office_facts, link, "", note)
    return Message(title, "\n".join(facts), text, html, office_title, "\n".join(office_facts), office_text, office_html)


def _html(greeting, facts, link, sign, note):
    paragraphs = "".join(f"<p>{escape(fact)}</p>" for fact in facts)
    return (
        f'<div style="font-family:sans-serif;font-size:14px"><p>{escape(greeting)}：</p>{paragraphs}'
        f'<p><a href="{escape(link)}">请点击此处登录系统填写并报送</a>（{escape(link)}）</p>'
        f'<p>{escape(sign)}</p><p style="color:#888">{escape(note)}</p></div>'
    )


def _connect():
    config = current_app.config
    timeout = config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
    else:
        smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
    if config["MAIL_USERNAME"]:
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    return smtp


def _message(mail):
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = Address(display_name=mail.to_name, addr_spec=mail.to_address)
    message["Message-ID"] = make_msgid(domain="tracker.local")
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype="html")
    return message


def _claim(mail):
    """Take the next attempt at ``mail``; False if another process took it or it went meanwhile."""
    claimed = (
        db.session.query(OutgoingMail)
        .filter(
            OutgoingMail.id == mail.id, OutgoingMail.attempts == mail.attempts, OutgoingMail.state != MailState.SENT
        )
        .update({"attempts": OutgoingMail.attempts + 1}, synchronize_session=False)
    )
    db.session.commit()
    return claimed == 1


def deliver_pending():
    """Send every e-mail not yet sent (new ones and earlier failures); return ``(sent, failed)``.

    One connection serves the batch. If the server cannot be reached, each mail is marked failed
    with the reason and stays queued for the next run.
    """
    if not mail_configured():
        return 0, 0
    ids = [
        row.id
        for row in db.session.query(OutgoingMail.id)
        .filter(OutgoingMail.state != MailState.SENT)
        .order_by(OutgoingMail.id)
    ]
    if not ids:
        return 0, 0
    sent = failed = 0
    smtp, connect_error = None, None
    try:
        smtp = _connect()
    except (OSError, smtplib.SMTPException) as exc:
        connect_error = f"无法连接邮件服务器：{exc}"
    touched = set()
    try:
        for mail_id in ids:
            mail = db.session.get(OutgoingMail, mail_id)
            db.session.refresh(mail)
            if mail.state is MailState.SENT or not _claim(mail):
                continue
            error = connect_error
            if error is None:
                try:
                    smtp.send_message(_message(mail))
                except (OSError, smtplib.SMTPException, ValueError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    if isinstance(exc, smtplib.SMTPServerDisconnected | socket.timeout):
                        connect_error = f"邮件服务器断开连接：{exc}"
            db.session.refresh(mail)
            if error is None:
                mail.state, mail.sent_at, mail.last_error = MailState.SENT, now_utc(), None
                sent += 1
            else:
                mail.state, mail.last_error = MailState.FAILED, error[:MAX_ERROR]
                failed += 1
            db.session.commit()
            if mail.entry_id:
                touched.add(mail.entry_id)
    finally:
        if smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()
    for entry_id in touched:
        update_entry_result(db.session.get(ChaseEntry, entry_id))
    db.session.commit()
    return sent, failed


def update_entry_result(entry):
    """Set a ledger row's result from its e-mails: sent once all went, failed while any is waiting on a retry."""
    states = [m.state for m in entry.mails]
    if not states or entry.result is ChaseResult.SKIPPED:
        return
    if all(s is MailState.SENT for s in states):
        entry.result = ChaseResult.SENT
        if entry.detail.startswith("邮件"):
            entry.detail = ""
    elif any(s is MailState.FAILED for s in states):
        entry.result = ChaseResult.FAILED
        errors = [m.last_error for m in entry.mails if m.state is MailState.FAILED]
        entry.detail = f"邮件发送失败{len(errors)}封，下次运行时重试：{errors[0]}"[:MAX_ERROR]
