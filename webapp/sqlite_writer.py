"""One writing transaction at a time per process on SQLite.

SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps
in steps of up to 100 ms and so leaves the database idle while threads queue. Taking a
process-wide lock at a transaction's first write (an ORM flush or an INSERT/UPDATE/DELETE run
through the session) and releasing it when the transaction ends makes the threads of one server
queue on a lock that wakes the next at once. Other processes still meet SQLite's own lock;
PostgreSQL (row locks) is left alone."""
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

_lock = threading.RLock()   # re-entrant: a second session of the same thread must not deadlock here
KEY = "servicelane.sqlite_writer"


def _take(session):
    if session.info.get(KEY):
        return
    try:
        if session.get_bind().dialect.name != "sqlite":
            return
    except Exception:  # noqa: BLE001 - an unbound session writes nothing
        return
    _lock.acquire()
    session.info[KEY] = True


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
    if transaction.parent is None and session.info.pop(KEY, False):
        _lock.release()
