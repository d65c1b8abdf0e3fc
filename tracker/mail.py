"""The e-mail settings every sender reads: whether mail is on, and the address mails link to.

The chase (:mod:`tracker.chase.mail`) writes and sends the mail; the hand-off digests and the
leaders' briefs queue theirs for it. They all ask here whether there is mail at all.
"""

from flask import current_app


def mail_configured():
    """Tell whether e-mail is on (MAIL_SERVER is set)."""
    return bool(current_app.config.get("MAIL_SERVER"))


def base_url():
    """Return the address the e-mails link to (config BASE_URL)."""
    return current_app.config["BASE_URL"].rstrip("/")
