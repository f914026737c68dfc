"""One writing transaction at a time on SQLite, across the threads of the server process.

SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps in
steps of up to 100 ms and so leaves the database idle while writers queue. Taking a thread lock at
a transaction's first write (an ORM flush, or an INSERT/UPDATE/DELETE run through the session) and
releasing it when the transaction ends makes writers queue on a lock that wakes the next one at
once. On SQLite ServiceLane runs as one server process (the README says so); several processes
mean PostgreSQL, which has row locks and is left alone here."""
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

_lock = threading.RLock()   # re-entrant: a second session of the same thread must not deadlock here
KEY = "servicelane.sqlite_writer"


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
    if transaction.parent is None and session.info.pop(KEY, None):
        _lock.release()
