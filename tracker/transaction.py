"""The one way a change is committed.

Every state change is one function (see STYLE.md) that checks everything first, then writes inside
:func:`committed`: the change is committed once, at the end, or not at all. Jobs that work in
batches (the chase, the mail) use it once per batch, so what a batch claimed is committed before
anything is sent.
"""

from contextlib import contextmanager

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db
from .models.base import is_lock_conflict


@contextmanager
def committed(conflict=None):
    """Commit what the block writes, once, at its end; on any error roll everything back and re-raise.

    A lost race (a row whose version another writer moved on, or a lock the database gave to
    someone else) is raised as ``conflict()`` when it is given: a refusal the page can explain.
    """
    try:
        yield
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        if conflict is None:
            raise
        raise conflict() from None
    except OperationalError as exc:
        db.session.rollback()
        if conflict is None or not is_lock_conflict(exc):
            raise
        raise conflict() from None
    except BaseException:
        db.session.rollback()
        raise


def commit(conflict=None):
    """Commit what the session holds now (see :func:`committed`): for a change written step by step."""
    with committed(conflict):
        pass
