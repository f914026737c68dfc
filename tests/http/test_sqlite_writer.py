"""SQLite writers queue on locks that wake the next one at once (webapp/sqlite_writer.py): a
thread lock in the process and a flock on a file beside the database for other processes."""
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import USE_PG
from webapp.extensions import db
from webapp.models import Site

pytestmark = pytest.mark.skipif(USE_PG, reason="SQLite only")


def test_a_write_waits_for_another_process_holding_the_lock(app, factory):
    site = factory.site()
    lock_file = Path(db.engine.url.database + ".writer-lock")
    assert lock_file.exists()                       # made by the factory's writes
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX);"
        "print('held', flush=True); time.sleep(0.8)"), str(lock_file)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    db.session.get(Site, site.id).reception_minutes = 12
    db.session.commit()
    waited = time.monotonic() - started
    holder.wait(5)
    assert waited >= 0.5, waited                    # it queued behind the other process
    db.session.expire_all()
    assert db.session.get(Site, site.id).reception_minutes == 12


def test_reads_do_not_take_the_lock(app, factory):
    site = factory.site()
    lock_file = Path(db.engine.url.database + ".writer-lock")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX);"
        "print('held', flush=True); time.sleep(0.8)"), str(lock_file)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    assert db.session.get(Site, site.id).code == site.code
    db.session.commit()
    assert time.monotonic() - started < 0.3
    holder.wait(5)
