"""Why a user or sign-in operation was refused."""

from ..errors import TrackerError


class UserError(TrackerError, ValueError):
    """A user operation was refused; the message says why in English (CLI), ``zh`` in Chinese (pages)."""

    def __init__(self, message, zh=None, field=None):
        super().__init__(message, zh, fields={field: message} if field else None)
        #: The form field the refusal is about, when it is about one.
        self.field = field


class SignInRefused(TrackerError):
    """A sign-in failed; ``reason`` is ``invalid``, ``disabled`` or ``throttled`` (then ``seconds`` to wait)."""

    def __init__(self, reason, seconds=None):
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds
