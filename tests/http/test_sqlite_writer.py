"""SQLite writers queue on a lock that wakes the next one at once (webapp/sqlite_writer.py): a
thread lock in the server process, taken at a transaction's first write."""
import threading
import time

import pytest

from tests.support import USE_PG
from webapp.extensions import db
from webapp.models import Site

pytestmark = pytest.mark.skipif(USE_PG, reason="SQLite only")


def _hold_a_write(app, site_id, held, release):
    """Another thread's transaction that has written and not yet committed."""
    with app.app_context():
        db.session.get(Site, site_id).reception_minutes = 7
        db.session.flush()
        held.set()
        release.wait(5)
        db.session.commit()
        db.session.remove()


def test_a_write_waits_for_another_threads_write_transaction(app, factory):
    site = factory.site()
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_a_write, args=(app, site.id, held, release))
    holder.start()
    assert held.wait(5)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    db.session.get(Site, site.id).reception_minutes = 12
    db.session.commit()
    waited = time.monotonic() - started
    holder.join(5)
    assert waited >= 0.4, waited                    # it queued behind the other writer, no "database is locked"
    db.session.expire_all()
    assert db.session.get(Site, site.id).reception_minutes == 12


def test_reads_do_not_take_the_lock(app, factory):
    site = factory.site()
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_a_write, args=(app, site.id, held, release))
    holder.start()
    assert held.wait(5)
    started = time.monotonic()
    assert db.session.get(Site, site.id).code == site.code
    db.session.commit()
    assert time.monotonic() - started < 0.3
    release.set()
    holder.join(5)
