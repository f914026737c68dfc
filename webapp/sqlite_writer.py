"""One writing transaction at a time on SQLite, across the threads and processes of a deployment.

SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps
in steps of up to 100 ms and so leaves the database idle while writers queue. Taking a lock at a
transaction's first write (an ORM flush, or an INSERT/UPDATE/DELETE run through the session) and
releasing it when the transaction ends makes writers queue on locks that wake the next one at
once: a thread lock inside the process, then an exclusive ``flock`` on a file beside the
database for the other processes (several gunicorn workers on one file). The kernel drops the
flock of a process that dies. PostgreSQL (row locks) is left alone."""
import fcntl
import os
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

_lock = threading.RLock()   # re-entrant: a second session of the same thread must not deadlock here
_held = threading.local()   # how many of this thread's sessions hold it (the flock is taken once)
KEY = "servicelane.sqlite_writer"


def _open_lock(path: str) -> int | None:
    """The lock file's descriptor, opened for one transaction (closing it drops the flock): cheap,
    nothing to leak, and a forked worker never shares its parent's lock."""
    try:
        return os.open(path + ".writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None


def _take(session):
    if KEY in session.info:
        return
    try:
        url = session.get_bind().url
    except Exception:  # noqa: BLE001 - an unbound session writes nothing
        return
    if url.get_backend_name() != "sqlite":
        return
    _lock.acquire()
    depth = getattr(_held, "depth", 0)
    fd = None
    if depth == 0 and url.database and url.database != ":memory:":
        fd = _open_lock(url.database)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
    _held.depth = depth + 1
    session.info[KEY] = fd


@event.listens_for(Session, "before_flush")
def _before_flush(session, _context, _instances):
    if session.new or session.dirty or session.deleted:
        _take(session)


@event.listens_for(Session, "do_orm_execute")
def _before_write(state):
    if state.is_insert or state.is_update or state.is_delete:
        _take(state.session)


@event.listens_for(Session, "after_transaction_end")
def _release(session, transaction):
    if transaction.parent is None and KEY in session.info:
        fd = session.info.pop(KEY)
        _held.depth -= 1
        if fd is not None:
            os.close(fd)        # drops the flock
        _lock.release()
