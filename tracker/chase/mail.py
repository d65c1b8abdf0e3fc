"""E-mail for the chase: what a reminder says (Chinese, plain text and HTML), and sending it over SMTP.

Mail is written to the ``outgoing_mail`` table first and sent afterwards, so a failure to send
is kept and retried on the next run, never lost, and never holds up the other reminders.
"""

import base64
import contextlib
import datetime
import secrets
import smtplib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import quote

from flask import current_app
from markupsafe import escape
from sqlalchemy import select, update

from .. import storage
from ..extensions import db
from ..mail import base_url, mail_configured
from ..models import ChaseEntry, ChaseItem, ChaseResult, MailState, OutgoingMail, ReturnState
from ..returns.filetypes import XLSX
from ..timeutil import as_utc, now_utc
from ..transaction import commit

#: Kept on the mail as the reason, so the ledger can say why it has not gone yet.
MAX_ERROR = 500


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
    status, short, tag = _due_status(due, days)
    link = base_url() + path
    flag = "（退回修改）" if returned else ""

    def fact(subject):
        if returned:
            return f"{subject}的{what}已被退回修改，修改稿{status}，尚未重新报送。"
        return f"{subject}的{what}尚未报送，{status}。"

    details = _details(item, missing, returned)
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


def _due_status(due, days):
    """Return ``(status, short, tag)``: how the deadline stands ``days`` after ``due``, in a sentence and in short,
    and the subject's tag (提醒 until it has passed, then 催办)."""
    if days < 0:
        return f"将于{_cn(due)}截止，还有{-days}天", f"还有{-days}天截止", "提醒"
    if days == 0:
        return f"今天（{_cn(due)}）截止", "今天截止", "提醒"
    return f"已于{_cn(due)}截止，已逾期{days}天", f"已逾期{days}天", "催办"


def _details(item, missing, returned):
    """Return what the department is to do: the reason it was returned (if it was), then what is missing."""
    details = [f"退回原因：{item.return_reason}"] if returned else []
    if missing:
        details.append(f"尚缺内容：{'；'.join(missing)}。")
    elif returned:
        details.append("请按退回原因修改后重新报送。")
    else:
        details.append("内容已填写，尚未点击“报送”。")
    return details


def _html(greeting, facts, link, link_text, sign, note):
    paragraphs = "".join(f"<p>{escape(fact)}</p>" for fact in facts)
    return (
        f'<div style="font-family:sans-serif;font-size:14px"><p>{escape(greeting)}：</p>{paragraphs}'
        f'<p><a href="{escape(link)}">{escape(link_text)}</a>（{escape(link)}）</p>'
        f'<p>{escape(sign)}</p><p style="color:#888">{escape(note)}</p></div>'
    )


def _connect(config):
    """Open a connection to the mail server (``config``: the app's settings, read in the app's thread)."""
    timeout = config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
    else:
        smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
    try:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _message(mail, attachments):
    """Return the e-mail of ``mail`` as the bytes sent to the server (MIME, lines ending in CRLF).

    Written directly rather than through the email package's generator, which costs more than the
    SMTP exchange itself when a run sends hundreds. Text and HTML go base64-encoded as UTF-8; headers
    with Chinese are RFC 2047 encoded words; the attachment's name is RFC 2231. The address is checked
    the strict way and a malformed one refused. ``attachments`` caches the workbooks read for the
    batch, by stored name.
    """
    Address(display_name=mail.to_name, addr_spec=mail.to_address)  # raises on a malformed address
    alternative = _boundary(mail, "alt")
    name, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    stored = None
    if mail.attachment is not None:
        stored = mail.attachment.stored_name
        if stored not in attachments:
            attachments[stored] = storage.read(stored)
    lost = mail.attachment is not None and attachments[stored] is None
    text = mail.body_text + ("\n（附件已不在系统中，请登录系统查看。）" if lost else "")
    lines = [
        f"From: {_mailbox(name, address)}",
        f"To: {_mailbox(mail.to_name, mail.to_address)}",
        f"Subject: {Header(mail.subject, 'utf-8', header_name='Subject').encode(linesep=CRLF)}",
        f"Date: {formatdate(localtime=True)}",
        # The same on every try: a mail sent twice (a run that died after the server took it) is one to the reader.
        f"Message-ID: <tracker-mail-{mail.id}-{int(as_utc(mail.created_at).timestamp())}@tracker.local>",
        "MIME-Version: 1.0",
    ]
    body = [
        f"--{alternative}",
        *_part("text/plain; charset=utf-8", text.encode()),
        f"--{alternative}",
        *_part("text/html; charset=utf-8", mail.body_html.encode()),
        f"--{alternative}--",
    ]
    if mail.attachment is None or lost:
        lines += [f'Content-Type: multipart/alternative; boundary="{alternative}"', "", *body]
    else:
        mixed = _boundary(mail, "mix")
        disposition = f"attachment; filename*=utf-8''{quote(mail.attachment.filename, safe='')}"
        lines += [
            f'Content-Type: multipart/mixed; boundary="{mixed}"',
            "",
            f"--{mixed}",
            f'Content-Type: multipart/alternative; boundary="{alternative}"',
            "",
            *body,
            f"--{mixed}",
            *_part(XLSX, attachments[stored], disposition),
            f"--{mixed}--",
        ]
    return CRLF.join(lines).encode("ascii") + CRLF.encode()


CRLF = "\r\n"


def _mailbox(name, address):
    """Return ``name <address>`` for a header, a Chinese name as one encoded word (RFC 2047).

    One word, even past the RFC's 75 characters for a long name: split into several, a display name
    comes back from common parsers (Python's among them) with spaces where it was split.
    """
    return formataddr((name, address), charset="utf-8")


def _boundary(mail, kind):
    return f"=_tracker_{kind}_{mail.id}_{secrets.token_hex(8)}"


def _part(content_type, data, disposition=None):
    """Return the lines of one MIME part: its headers, a blank line, ``data`` in base64."""
    head = [f"Content-Type: {content_type}", "Content-Transfer-Encoding: base64"]
    if disposition:
        head.append(f"Content-Disposition: {disposition}")
    return [*head, "", base64.encodebytes(data).decode("ascii").replace("\n", CRLF).rstrip(CRLF)]


#: A claim older than this is taken to belong to a run that died while sending.
CLAIM_MINUTES = 15

#: How many e-mails one claim takes and one SMTP connection sends.
MAIL_BATCH = 200


def _claim(ids):
    """Take those of ``ids`` still waiting to be sent; return ``(claim time, ids taken)``.

    One ``UPDATE … RETURNING`` over the rows picked in id order ``FOR UPDATE SKIP LOCKED`` (on
    PostgreSQL; SQLite has one writer at a time): of two runs at once only one can win a mail, and
    neither waits for, or deadlocks with, the other. The caller commits the claim before sending.
    """
    now = now_utc()
    stale = now - datetime.timedelta(minutes=CLAIM_MINUTES)
    waiting = (
        select(OutgoingMail.id)
        .where(
            OutgoingMail.id.in_(ids),
            db.or_(
                OutgoingMail.state.in_([MailState.PENDING, MailState.FAILED]),
                db.and_(OutgoingMail.state == MailState.SENDING, OutgoingMail.claimed_at < stale),
            ),
        )
        .order_by(OutgoingMail.id)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(OutgoingMail)
        .where(OutgoingMail.id.in_(waiting.scalar_subquery()))
        .values(state=MailState.SENDING, claimed_at=now, attempts=OutgoingMail.attempts + 1)
        .returning(OutgoingMail.id)
        .execution_options(synchronize_session=False)
    )
    return now, list(db.session.scalars(statement))


def _dropped(exc):
    """Tell whether a send failed because the connection went (a reconnect may carry on), not the message.

    421 is the server closing the connection, e.g. after its messages-per-connection limit.
    """
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code == 421 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 421


class _Sender:
    """One SMTP connection at a time: opened when first needed, opened again once after the server
    dropped it; once the server cannot be reached, every later message of the run fails at once.

    It holds no database session or app context, so several can send at once from threads.
    """

    def __init__(self, config):
        self.config = config
        self.smtp = None
        self.down = None
        self.from_address = parseaddr(config["MAIL_DEFAULT_SENDER"])[1]

    def send(self, message, to_address):
        """Send ``message`` to ``to_address``; return None, or the reason it was not sent."""
        for attempt in (1, 2):
            if self.down:
                return self.down
            if self.smtp is None:
                try:
                    self.smtp = _connect(self.config)
                except (OSError, smtplib.SMTPException) as exc:
                    self.down = f"无法连接邮件服务器：{exc}"
                    return self.down
            try:
                self.smtp.sendmail(self.from_address, [to_address], message)
            except Exception as exc:  # noqa: BLE001 - a bad address or a refusal fails this mail only
                if not _dropped(exc):
                    return f"{type(exc).__name__}: {exc}"
                self.close()
                if attempt == 2:
                    self.down = f"邮件服务器断开连接：{exc}"
                    return f"{type(exc).__name__}: {exc}"
            else:
                return None
        return self.down

    def send_all(self, outgoing):
        """Send each ``(mail id, message, address)``; return ``[(mail id, None or the reason)]``."""
        return [(mail_id, self.send(message, address)) for mail_id, message, address in outgoing]

    def close(self):
        """Say goodbye to the server, if connected."""
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.smtp.quit()
            self.smtp = None


#: How many connections send a batch at once: the server's replies are waited for side by side.
MAIL_CONNECTIONS = 2


def deliver_pending():
    """Send every e-mail not yet sent (new ones and earlier failures); return ``(sent, failed)``.

    Mails are claimed in batches of :data:`MAIL_BATCH` (committed before anything is sent),
    written out, and sent over :data:`MAIL_CONNECTIONS` connections at once (each opened again if
    the server drops it). As soon as a batch is sent, each of its mails is marked sent, or failed
    with its reason (a malformed or refused address fails that mail only), in a transaction of its
    own. If the server cannot be reached, the mails are marked failed and stay queued for the next
    run. The ledger rows of the mails are then brought up to date in bulk.
    """
    if not mail_configured():
        return 0, 0
    waiting = select(OutgoingMail.id).where(OutgoingMail.state != MailState.SENT).order_by(OutgoingMail.id)
    ids = list(db.session.scalars(waiting))
    if not ids:
        return 0, 0
    sent = failed = 0
    touched = set()
    config = dict(current_app.config)
    senders = [_Sender(config) for _ in range(MAIL_CONNECTIONS)]
    attachments = {}
    try:
        with ThreadPoolExecutor(len(senders)) as pool:
            for start in range(0, len(ids), MAIL_BATCH):
                went, errors = _deliver_batch(pool, senders, ids[start : start + MAIL_BATCH], attachments, touched)
                sent, failed = sent + went, failed + errors
    finally:
        for sender in senders:
            sender.close()
    update_entry_results(touched)
    return sent, failed


def _deliver_batch(pool, senders, batch, attachments, touched):
    """Claim the mails of ``batch`` (ids), send them side by side and record each; return ``(sent, failed)``.

    The ids of the ledger rows of the mails are added to ``touched``; ``attachments`` caches files by id.
    """
    claimed_at, claimed = _claim(batch)
    commit()
    if not claimed:
        return 0, 0
    outgoing, outcomes = _written(claimed, attachments, touched)
    shares = [outgoing[n :: len(senders)] for n in range(len(senders))]
    for done in pool.map(_Sender.send_all, senders, shares):
        outcomes.extend(done)
    went = [mail_id for mail_id, error in outcomes if error is None]
    errors = [(mail_id, error[:MAX_ERROR]) for mail_id, error in outcomes if error is not None]
    _record(claimed_at, went, errors)
    commit()
    return len(went), len(errors)


def _written(claimed, attachments, touched):
    """Write out the ``claimed`` mails: return ``(outgoing, outcomes)``, ``[(id, message, address)]`` to send
    and ``[(id, reason)]`` of those that cannot be written."""
    outgoing, outcomes = [], []
    for mail in OutgoingMail.query.filter(OutgoingMail.id.in_(claimed)).options(db.joinedload(OutgoingMail.attachment)):
        if mail.entry_id:
            touched.add(mail.entry_id)
        try:
            outgoing.append((mail.id, _message(mail, attachments), mail.to_address))
        except Exception as exc:  # noqa: BLE001 - a malformed address: this mail only
            outcomes.append((mail.id, f"{type(exc).__name__}: {exc}"))
    return outgoing, outcomes


def _record(claimed_at, went, errors):
    """Mark the mails ``went`` sent and those in ``errors`` (``(id, reason)``) failed (the caller commits).

    Only mails this run still holds (its claim, ``claimed_at``) are written: one another run took
    over meanwhile is that run's to record.
    """
    ours = (OutgoingMail.state == MailState.SENDING, OutgoingMail.claimed_at == claimed_at)
    if went:
        db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id.in_(went), *ours)
            .values(state=MailState.SENT, sent_at=now_utc(), last_error=None)
            .execution_options(synchronize_session=False)
        )
    by_reason = {}
    for mail_id, error in errors:  # a server that is down fails the whole batch for one reason
        by_reason.setdefault(error, []).append(mail_id)
    for error, mail_ids in by_reason.items():
        db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id.in_(mail_ids), *ours)
            .values(state=MailState.FAILED, last_error=error)
            .execution_options(synchronize_session=False)
        )


def update_entry_results(entry_ids):
    """Set each ledger row's result from its e-mails: sent once all went, failed while any waits on a retry; commit.

    The usual case, every mail gone, is one ``UPDATE`` per 500 rows; rows with a failed mail
    (few, and each with its own reason) are read and written one by one.
    """
    entry_ids = sorted(entry_ids)
    for start in range(0, len(entry_ids), 500):
        chunk = entry_ids[start : start + 500]
        unsent = select(OutgoingMail.id).where(
            OutgoingMail.entry_id == ChaseEntry.id, OutgoingMail.state != MailState.SENT
        )
        db.session.execute(
            update(ChaseEntry)
            .where(ChaseEntry.id.in_(chunk), ChaseEntry.result != ChaseResult.SKIPPED, ~unsent.exists())
            .values(
                result=ChaseResult.SENT,
                detail=db.case((ChaseEntry.detail.startswith("邮件"), ""), else_=ChaseEntry.detail),
            )
            .execution_options(synchronize_session=False)
        )
        failing = select(OutgoingMail.entry_id).where(
            OutgoingMail.entry_id.in_(chunk), OutgoingMail.state == MailState.FAILED
        )
        mails = {}
        for entry_id, state, error in db.session.execute(
            select(OutgoingMail.entry_id, OutgoingMail.state, OutgoingMail.last_error)
            .where(OutgoingMail.entry_id.in_(failing))
            .order_by(OutgoingMail.id)
        ):
            mails.setdefault(entry_id, []).append((state, error))
        changes = []
        for entry_id, result, detail in db.session.execute(
            select(ChaseEntry.id, ChaseEntry.result, ChaseEntry.detail).where(ChaseEntry.id.in_(list(mails)))
        ):
            new = entry_result(result, detail, mails[entry_id])
            if new != (result, detail):
                changes.append({"id": entry_id, "result": new[0], "detail": new[1]})
        if changes:
            db.session.execute(update(ChaseEntry), changes)
    commit()


def entry_result(result, detail, mails):
    """Return a ledger row's ``(result, detail)`` given its e-mails' ``(state, last error)``."""
    states = [state for state, _ in mails]
    if not states or result is ChaseResult.SKIPPED:
        return result, detail
    if all(s is MailState.SENT for s in states):
        return ChaseResult.SENT, "" if detail.startswith("邮件") else detail
    errors = [error for state, error in mails if state is MailState.FAILED]
    if errors:
        return ChaseResult.FAILED, f"邮件发送失败{len(errors)}封，下次运行时重试：{errors[0]}"[:MAX_ERROR]
    return result, detail
