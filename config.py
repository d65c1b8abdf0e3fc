"""Configuration, read from the environment.

``Config`` is what ``make run`` and production use; ``TestingConfig`` is what the test suite uses.
"""

import datetime
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("TRACKER_INSTANCE_DIR", BASE_DIR / "instance"))


def _bool(name, default=False):
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key():
    """Return SECRET_KEY from the environment, or a development key kept in the instance folder.

    Production must set SECRET_KEY itself: a key generated on one host would differ on the next,
    and every session would be signed out when a worker moved.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if os.environ.get("TRACKER_ENV") == "production":
        raise RuntimeError("SECRET_KEY must be set when TRACKER_ENV=production")
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    """Settings for running the product."""

    ENV_NAME = os.environ.get("TRACKER_ENV", "development")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'tracker.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    INSTANCE_DIR = INSTANCE_DIR

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", ENV_NAME == "production")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    #: How long "记住我" keeps a browser signed in, and how long a session lasts without it; each
    #: session is a row (user_sessions), so signing out or a password change ends it at once.
    REMEMBER_DAYS = int(os.environ.get("REMEMBER_DAYS", 14))
    REMEMBER_COOKIE_DURATION = datetime.timedelta(days=REMEMBER_DAYS)
    SESSION_HOURS = int(os.environ.get("SESSION_HOURS", 12))
    #: A form's CSRF token lasts a working day, so a form left open over lunch still submits.
    WTF_CSRF_TIME_LIMIT = int(float(os.environ.get("CSRF_HOURS", 10)) * 3600)

    #: Failed sign-ins for one account from one address that cost nothing; each one after doubles
    #: the wait from LOGIN_DELAY_SECONDS up to LOGIN_THROTTLE_MINUTES. The count is forgotten
    #: after LOGIN_FORGET_HOURS without attempts, and on a successful sign-in.
    LOGIN_FREE_FAILURES = int(os.environ.get("LOGIN_FREE_FAILURES", 5))
    LOGIN_DELAY_SECONDS = int(os.environ.get("LOGIN_DELAY_SECONDS", 15))
    LOGIN_THROTTLE_MINUTES = int(os.environ.get("LOGIN_THROTTLE_MINUTES", 15))
    LOGIN_FORGET_HOURS = int(os.environ.get("LOGIN_FORGET_HOURS", 24))
    #: Failures from one address against any names before its attempts slow down (browsers that
    #: signed in before carry a device cookie and are counted on their own, for DEVICE_DAYS).
    LOGIN_ADDRESS_FREE_FAILURES = int(os.environ.get("LOGIN_ADDRESS_FREE_FAILURES", 30))
    DEVICE_DAYS = int(os.environ.get("DEVICE_DAYS", 365))
    #: Request log: ``text`` or ``json`` (one object per line); slower requests are logged as warnings.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    SLOW_REQUEST_MS = float(os.environ.get("SLOW_REQUEST_MS", 1000))
    #: Addresses (or networks, comma-separated) that may read /metrics; others get 404.
    METRICS_ALLOW = os.environ.get("METRICS_ALLOW", "127.0.0.1,::1")
    #: Reverse proxies in front of the site whose X-Forwarded-For/-Proto/-Host are believed (0: none,
    #: so a client cannot pretend to be someone else by sending the header itself).
    TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))

    #: How passwords are hashed (Werkzeug's method string); stored hashes name their own method.
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")

    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", 20)) * 1024 * 1024
    #: What one department's evidence files and summary documents may take in all.
    DEPARTMENT_QUOTA_MB = float(os.environ.get("DEPARTMENT_QUOTA_MB", 500))
    #: Where evidence files and summary documents were kept before they moved into the database;
    #: read only by migration 0010, which moves them in.
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR") or None
    TIMEZONE = os.environ.get("TRACKER_TIMEZONE", "Asia/Shanghai")

    # Bootstrap's files come from the Bootstrap-Flask package; the intranet has no CDN.
    BOOTSTRAP_SERVE_LOCAL = True

    #: Where links in e-mails point; the address people open the tracker at.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    #: Who signs the reminders.
    OFFICE_NAME = os.environ.get("OFFICE_NAME", "工委(管委会)办公室")
    #: Whose annual report it is (the title of 政府信息公开工作年度报告).
    REPORT_ORGANISATION = os.environ.get("REPORT_ORGANISATION", "天津经济技术开发区管委会")

    # E-mail goes out through SMTP only when MAIL_SERVER is set; in-app notices always.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "政务公开工作任务管理 <noreply@localhost>")
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", 15))

    #: ``inline`` runs the scheduled jobs inside the web process (``make run``); otherwise only
    #: ``flask scheduler`` runs them.
    TRACKER_SCHEDULER = os.environ.get("TRACKER_SCHEDULER", "")
    #: When the jobs run, as HH:MM in TIMEZONE.
    CHASE_TIME = os.environ.get("CHASE_TIME", "08:30")
    ARCHIVE_TIME = os.environ.get("ARCHIVE_TIME", "07:00")
    HOUSEKEEPING_TIME = os.environ.get("HOUSEKEEPING_TIME", "02:30")
    BACKUP_TIME = os.environ.get("BACKUP_TIME", "02:00")
    #: The nightly backup writes here (off while unset), keeping the newest BACKUP_KEEP copies.
    BACKUP_DIR = os.environ.get("BACKUP_DIR") or None
    BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", 14))
    #: The leaders' briefs go out at this time, and are sent while no older than BRIEF_CATCH_UP_DAYS
    #: (a scheduler that was down catches up; a new subscriber gets no old briefs).
    BRIEF_TIME = os.environ.get("BRIEF_TIME", "08:00")
    BRIEF_CATCH_UP_DAYS = int(os.environ.get("BRIEF_CATCH_UP_DAYS", 30))
    #: The hand-off digest runs every hour at this minute (*:MM).
    DIGEST_TIME = os.environ.get("DIGEST_TIME", "*:05")
    #: How often a waiting scheduler tries the lock, and a running one checks it still holds it.
    SCHEDULER_POLL_SECONDS = float(os.environ.get("SCHEDULER_POLL_SECONDS", 20))
    #: How often the running scheduler records that it is alive (shown on the jobs page).
    SCHEDULER_HEARTBEAT_SECONDS = float(os.environ.get("SCHEDULER_HEARTBEAT_SECONDS", 60))
    #: Where archived spreadsheets were kept before they moved into the database (migration 0010).
    ARCHIVE_DIR = os.environ.get("ARCHIVE_DIR") or None
    #: Read notices, job runs and sign-in attempts older than this many days are removed nightly.
    KEEP_DAYS = int(os.environ.get("KEEP_DAYS", 365))

    @property
    def SECRET_KEY(self):  # noqa: N802 - Flask reads the upper-case name
        """Resolve the key lazily, so importing config never writes files."""
        return _secret_key()


class TestingConfig(Config):
    """Settings for the test suite: a throw-away database, no real mail, fast hashing."""

    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    # Tests that send mail start their own SMTP server on loopback and point at it.
    MAIL_SERVER = None
    TRACKER_SCHEDULER = ""
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    # One round: a password check costs microseconds instead of a tenth of a second per sign-in.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
