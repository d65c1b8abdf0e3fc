"""Scheduled jobs: plain functions, and the one list (:data:`JOBS`) that declares them.

The scheduler process (:mod:`tracker.scheduler`), the jobs page's "run now" and the CLI all go
through :func:`run_job`, which records every run (who or what started it, when, how long, the
result) in ``job_runs``. Each job is safe to run again: it does only what is still to be done.
"""

import datetime
import os
import socket
from dataclasses import dataclass

from flask import current_app

from . import storage
from .archive import produce_due_archives
from .backup import backup_job
from .extensions import db
from .models import JobRun, LoginAttempt, LoginThrottle, Notification, UserSession
from .timeutil import now_utc, system_now, today
from .transaction import commit, independently


def chase_job(run):
    """Chase everything overdue as of today (see :func:`tracker.chase.operations.run_chase`)."""
    # Imported here: the chase package's pages import this module to list the jobs.
    from .chase.operations import run_chase

    return run_chase(today()).summary_zh()


def digest_job(run):
    """Send each person one e-mail of the hand-offs since the last run (see :func:`tracker.handoff.make_digests`)."""
    from .chase.mail import deliver_pending
    from .handoff import make_digests

    made = make_digests()
    sent, failed = deliver_pending()
    return f"汇总邮件{made}封；邮件发送成功{sent}封，失败{failed}封"


def brief_job(run):
    """Send the leaders' briefs that fell due to their subscribers (see :mod:`tracker.briefs.operations`)."""
    from .briefs.operations import send_briefs

    return send_briefs(today()).summary_zh()


def archive_job(run):
    """Produce the spreadsheets of every period whose due date has passed (see :mod:`tracker.archive`)."""
    made = produce_due_archives(today(), run.id)
    return f"生成报表{len(made)}份" + ("：" + "、".join(a.filename for a in made) if made else "")


def housekeeping_job(run):
    """Remove what is no longer needed: old read notices, old job runs and sign-in attempts, stray files."""
    keep = datetime.timedelta(days=current_app.config["KEEP_DAYS"])
    cutoff = now_utc() - keep
    notices = Notification.query.filter(Notification.read_at < cutoff).delete(synchronize_session=False)
    runs = JobRun.query.filter(JobRun.started_at < cutoff, JobRun.id != run.id).delete(synchronize_session=False)
    month_ago = now_utc() - datetime.timedelta(days=30)
    attempts = LoginAttempt.query.filter(LoginAttempt.at < month_ago).delete(synchronize_session=False)
    LoginThrottle.query.filter(LoginThrottle.updated_at < month_ago).delete(synchronize_session=False)
    # Ended sessions are kept a month (the account page and the audit can still name them).
    ended = system_now() - datetime.timedelta(days=30)
    UserSession.query.filter(db.or_(UserSession.expires_at < ended, UserSession.revoked_at < ended)).delete(
        synchronize_session=False
    )
    # Files no row refers to any more (a plan removed with its archive, say).
    stray = storage.remove_unreferenced(system_now())
    commit()
    return f"清理已读通知{notices}条、运行记录{runs}条、登录记录{attempts}条、遗留文件{stray}个"


@dataclass(frozen=True)
class Job:
    """A scheduled job: what it is called, what runs, and when (a config key holding HH:MM local time,
    or *:MM for every hour at that minute)."""

    id: str
    name: str
    func: object
    time_setting: str
    description: str
    #: A config key that must be set for the job to be scheduled (None: always scheduled).
    needs_setting: str | None = None
    #: Whether 立即运行 may run it inside a web request (the backup may outlast the request's timeout).
    runs_from_web: bool = True

    def is_enabled(self, config):
        """Tell whether the scheduler runs this job (``config``: the app's settings)."""
        return self.needs_setting is None or bool(config.get(self.needs_setting))

    def at(self, app):
        """Return the (hour, minute) the job runs at, in the office's time zone; hour ``*`` is every hour."""
        return self._time(app.config)

    def _time(self, config):
        hour, minute = config[self.time_setting].split(":")
        return (hour if hour == "*" else int(hour)), int(minute)

    def when_zh(self, config):
        """Say when the job runs (``config``: the app's settings): 每天 08:30, or 每小时第05分."""
        hour, minute = self._time(config)
        return f"每小时第{minute:02d}分" if hour == "*" else f"每天 {hour:02d}:{minute:02d}"


#: Every scheduled job, declared once.
JOBS = [
    Job("chase", "每日催办", chase_job, "CHASE_TIME", "按催办规则提醒未报送的部门，并发送待发邮件"),
    Job(
        "archive",
        "定期报表归档",
        archive_job,
        "ARCHIVE_TIME",
        "各季度、半年截止后生成任务分解表、报送情况汇总表和领导简报",
    ),
    Job("housekeeping", "夜间清理", housekeeping_job, "HOUSEKEEPING_TIME", "清理过期的已读通知、运行记录和临时文件"),
    Job(
        "briefs",
        "领导简报推送",
        brief_job,
        "BRIEF_TIME",
        "季度、半年、全年报送截止后把简报（附Excel）发给订阅的领导；报送期间可按周发送进展周报",
    ),
    Job("digest", "报送动态邮件", digest_job, "DIGEST_TIME", "把报送、退回、审核通过的通知汇总成每人一封邮件发出"),
    Job(
        "backup",
        "夜间备份",
        backup_job,
        "BACKUP_TIME",
        "把数据库（含上传的文件）备份到服务器的备份目录，保留最近若干份；未配置备份目录时不备份",
        needs_setting="BACKUP_DIR",
        runs_from_web=False,
    ),
]


def job_by_id(job_id):
    """Return the job called ``job_id``, or None."""
    return next((job for job in JOBS if job.id == job_id), None)


def runner_name():
    """Return host:pid of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(job, trigger, user=None):
    """Run ``job`` now and record the run; return the :class:`JobRun` (status ``ok`` or ``error``).

    An error is recorded with its message, never raised: one failing job must not stop the
    scheduler or the others.
    """
    # The run, its batches and its end are each committed at once, even when a page started it: the
    # record of a run must outlive whatever the job does, and the request's edge around it.
    run = JobRun(job_id=job.id, trigger=trigger, runner=runner_name(), user_id=user.id if user else None)
    with independently():
        db.session.add(run)
    try:
        with independently():
            summary = job.func(run)
    except Exception as exc:
        db.session.rollback()
        current_app.logger.exception("job %s failed", job.id)
        status, summary = "error", f"{type(exc).__name__}: {exc}"[:2000]
    else:
        status = "ok"
    with independently():
        run = db.session.get(JobRun, run.id)
        run.status, run.summary, run.finished_at = status, summary, now_utc()
    return run


def last_runs():
    """Return each job's latest run, by job id."""
    latest = db.session.query(JobRun.job_id, db.func.max(JobRun.id)).group_by(JobRun.job_id).subquery()
    runs = JobRun.query.join(latest, JobRun.id == latest.c[1]).all()
    return {run.job_id: run for run in runs}
