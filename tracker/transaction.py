"""The one way a change is committed: once, at the edge.

Every state change is one function (see STYLE.md) that checks everything first, then writes inside
:func:`committed`. Where it runs decides when the change is committed:

- in a web request (and in a CLI command), the request is the edge (:func:`edge`): operations only
  flush, and the request commits once, after the view answered without an error and without a
  refusal; any refusal or error rolls the whole request back;
- called on its own (a test, the demo, a job), an operation is its own edge and commits itself;
- work that must be kept whatever follows runs :func:`independently`: a failed sign-in's count,
  each form of a bulk accept, and the jobs, which commit batch by batch (the chase commits what a
  batch claimed before anything is sent).

A lost race (a row whose version another writer moved on, or a lock the database gave to someone
else) is raised as the caller's ``conflict()``: a refusal the page can explain.
"""

from contextlib import contextmanager

from flask import has_app_context
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db
from .models.base import is_lock_conflict

#: Session.info keys: whether an edge is open, whether anything was written under it, whether a refusal was raised.
EDGE, WROTE, REFUSED = "tracker_edge", "tracker_wrote", "tracker_refused"


def _at_edge():
    return bool(db.session.info.get(EDGE))


@contextmanager
def committed(conflict=None):
    """Write what the block writes as one change: all of it or, on any error, none of it.

    Under an open edge the block's writes are flushed and the edge commits them; otherwise they are
    committed here. On an error everything is rolled back and the error raised again.
    """
    try:
        yield
        if _at_edge():
            db.session.info[WROTE] = True
            db.session.flush()
        else:
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
    """Write what the session holds now as one change (see :func:`committed`)."""
    with committed(conflict):
        pass


@contextmanager
def independently():
    """Commit what the block writes now, even under an edge (with what the edge wrote before it).

    For what must be kept whatever follows: a failed sign-in's count, each form of a bulk accept,
    a job's batches. Operations inside the block commit as if called on their own.
    """
    info = db.session.info
    outer = info.pop(EDGE, None)
    try:
        with committed():
            yield
    finally:
        if outer is not None:
            info[EDGE] = outer


def note_refusal():
    """Remember that a refusal was raised: the edge then keeps nothing of what was written."""
    if has_app_context():
        db.session.info[REFUSED] = True


def open_edge():
    """Open the edge of a request or command: from now on operations flush and :func:`close_edge` commits."""
    db.session.info[EDGE] = True
    db.session.info.pop(WROTE, None)
    db.session.info.pop(REFUSED, None)


def close_edge(keep):
    """Close the edge: commit what was written if ``keep`` and nothing was refused, else roll it back.

    A commit that fails is rolled back and raised again (the request answers 409 or 500).
    """
    info = db.session.info
    opened, wrote, refused = info.pop(EDGE, None), info.pop(WROTE, None), info.pop(REFUSED, None)
    if not opened or not wrote:
        return  # no change was made: what was read stays readable (a kept dashboard, say)
    if not keep or refused:
        db.session.rollback()
        return
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        raise


@contextmanager
def edge():
    """Run a CLI command (or any unit of work) as one change: committed once at its end, or not at all."""
    open_edge()
    try:
        yield
    except BaseException:
        close_edge(keep=False)
        raise
    close_edge(keep=True)
