"""E-mail for the chase: what a reminder says (Chinese, plain text and HTML), and sending it over SMTP.

Mail is written to the ``outgoing_mail`` table first and sent afterwards, so a failure to send
is kept and retried on the next run, never lost, and never holds up the other reminders.
"""

import contextlib
import datetime
import smtplib
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from markupsafe import escape

from .. import storage
from ..extensions import db
from ..models import ChaseEntry, ChaseItem, ChaseResult, MailState, OutgoingMail, ReturnState
from ..returns.filetypes import XLSX
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


def render_application_mail(item, step, today_, path):
    """Return the :class:`Message` of a chase step for an application's statutory deadline (Art. 33)."""
    application, department = item.application, item.department
    due, days = item.due_on, (today_ - item.due_on).days
    if days < 0:
        status, short, tag = f"答复期限为{_cn(due)}，还有{-days}天", f"还有{-days}天到期", "提醒"
    elif days == 0:
        status, short, tag = f"答复期限为今天（{_cn(due)}）", "今天到期", "提醒"
    else:
        status, short, tag = f"答复期限{_cn(due)}已过，已逾期{days}天", f"已逾期{days}天", "催办"
    what = f"依申请公开申请{application.number}（{_cn(application.received_on)}收到）"
    request = " ".join(application.request.split())[:60]
    facts = [
        f"贵部门办理的{what}尚未答复，{status}。",
        *([f"申请内容：{request}"] if request else []),
        "请按《中华人民共和国政府信息公开条例》第三十三条的规定按时答复，并将答复日期和办理结果报办公室登记。",
    ]
    if item.is_provisional:
        facts.append("注：该期限所在年度的法定节假日尚未公布，暂按周一至周五计算，请以办公室核定为准。")
    link = base_url() + path
    sign = current_app.config["OFFICE_NAME"]
    note = "（本邮件由政务公开工作任务管理系统自动发送，请勿直接回复。）"
    office_facts = [f"{department.name}办理的{what}尚未答复，{status}。"]
    if step.notify_leaders:
        office_facts.append("已按催办规则列入领导逾期名单。")
    return Message(
        title=f"【{tag}】依申请公开申请{application.number}答复{short}",
        notice="\n".join(facts),
        text="\n".join([f"{department.name}：", "", *facts, "", f"查看：{link}", "", sign, note]),
        html=_html(department.name, facts, link, "查看申请", sign, note),
        office_title=f"【{tag}】{department.name}依申请公开申请{application.number}答复{short}",
        office_notice="\n".join(office_facts),
        office_text="\n".join([*office_facts, "", f"查看：{link}", "", note]),
        office_html=_html("办公室", office_facts, link, "查看", "", note),
    )


def render_mail(kind, item, step, today_, missing, path):
    """Return the :class:`Message` of a chase step for a form or summary (or an application)."""
    if kind is ChaseItem.APPLICATION:
        return render_application_mail(item, step, today_, path)
    department, period = item.department, item.period
    what = f"{period.label}{'工作总结' if kind is ChaseItem.SUMMARY else '完成情况报送表'}"
    due, days = item.due_on, (today_ - item.due_on).days
    returned = item.state is ReturnState.RETURNED
    if days < 0:
        status, short, tag = f"将于{_cn(due)}截止，还有{-days}天", f"还有{-days}天截止", "提醒"
    elif days == 0:
        status, short, tag = f"今天（{_cn(due)}）截止", "今天截止", "提醒"
    else:
        status, short, tag = f"已于{_cn(due)}截止，已逾期{days}天", f"已逾期{days}天", "催办"
    link = base_url() + path
    flag = "（退回修改）" if returned else ""

    def fact(subject):
        if returned:
            return f"{subject}的{what}已被退回修改，修改稿{status}，尚未重新报送。"
        return f"{subject}的{what}尚未报送，{status}。"

    details = []
    if returned:
        details.append(f"退回原因：{item.return_reason}")
    if missing:
        details.append(f"尚缺内容：{'；'.join(missing)}。")
    elif returned:
        details.append("请按退回原因修改后重新报送。")
    else:
        details.append("内容已填写，尚未点击“报送”。")
    facts = [fact("贵部门"), *details]
    sign = current_app.config["OFFICE_NAME"]
    note = "（本邮件由政务公开工作任务管理系统自动发送，请勿直接回复。）"
    text = "\n".join([f"{department.name}：", "", *facts, "", f"请登录系统填写并报送：{link}", "", sign, note])
    html = _html(department.name, facts, link, "请点击此处登录系统填写并报送", sign, note)
    office_facts = [fact(department.name), *details[: 1 if returned else 0]]
    if step.notify_leaders:
        office_facts.append("已按催办规则列入领导逾期名单。")
    office_text = "\n".join([*office_facts, "", f"查看：{link}", "", note])
    office_html = _html("办公室", office_facts, link, "查看", "", note)
    return Message(
        title=f"【{tag}】{what}{flag}{short}",
        notice="\n".join(facts),
        text=text,
        html=html,
        office_title=f"【{tag}】{department.name}{what}{flag}{short}",
        office_notice="\n".join(office_facts),
        office_text=office_text,
        office_html=office_html,
    )


def _html(greeting, facts, link, link_text, sign, note):
    paragraphs = "".join(f"<p>{escape(fact)}</p>" for fact in facts)
    return (
        f'<div style="font-family:sans-serif;font-size:14px"><p>{escape(greeting)}：</p>{paragraphs}'
        f'<p><a href="{escape(link)}">{escape(link_text)}</a>（{escape(link)}）</p>'
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
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="tracker.local")
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype="html")
    data = storage.read(mail.attachment.stored_name) if mail.attachment is not None else None
    if data is not None:
        maintype, subtype = XLSX.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=mail.attachment.filename)
    return message


#: A claim older than this is taken to belong to a run that died while sending.
CLAIM_MINUTES = 15


def _claim(mail_id):
    """Take ``mail_id`` to send it now; False if another run holds it or it went meanwhile.

    The claim is one conditional UPDATE, so of two runs at once only one can win it.
    """
    now = now_utc()
    stale = now - datetime.timedelta(minutes=CLAIM_MINUTES)
    claimed = (
        db.session.query(OutgoingMail)
        .filter(OutgoingMail.id == mail_id)
        .filter(
            db.or_(
                OutgoingMail.state.in_([MailState.PENDING, MailState.FAILED]),
                db.and_(OutgoingMail.state == MailState.SENDING, OutgoingMail.claimed_at < stale),
            )
        )
        .update(
            {"state": MailState.SENDING, "claimed_at": now, "attempts": OutgoingMail.attempts + 1},
            synchronize_session=False,
        )
    )
    db.session.commit()
    return claimed == 1


def deliver_pending():
    """Send every e-mail not yet sent (new ones and earlier failures); return ``(sent, failed)``.

    One connection serves the batch. If the server cannot be reached, each mail is marked failed
    with the reason and stays queued for the next run. A mail that cannot be sent (a refused or
    malformed address) is marked failed with the reason and never holds up the others.
    """
    if not mail_configured():
        return 0, 0
    waiting = db.session.query(OutgoingMail.id).filter(OutgoingMail.state != MailState.SENT)
    ids = [row.id for row in waiting.order_by(OutgoingMail.id)]
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
            if not _claim(mail_id):
                continue
            mail = db.session.get(OutgoingMail, mail_id, populate_existing=True)
            error = connect_error
            if error is None:
                try:
                    smtp.send_message(_message(mail))
                except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    connect_error = f"邮件服务器断开连接：{exc}"
                except Exception as exc:  # noqa: BLE001 - a bad address or a refusal fails this mail only
                    error = f"{type(exc).__name__}: {exc}"
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
