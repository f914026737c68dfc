"""A notice is sent once when two task consumers run in two processes.

In production the web server's own consumer and `flask worker` (or two servers) take tasks from one
queue; a task queued twice (a retry, the sweep meeting a late task) lands in both. Two real
`flask --app webapp worker` processes share an SQLite queue file and the test's database, a real
SMTP server (aiosmtpd) counts what arrives: one e-mail, however many copies of the task ran, and
however the consumers split them. The claim (a conditional UPDATE of the notice row) is what holds,
so the test runs on PostgreSQL too (PG_PASS)."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huey.storage import SqliteStorage

from tests.factories import job_at_dispatch
from tests.support import free_port
from webapp import tasks
from webapp.extensions import db
from webapp.jobs import QC_CHECKLIST
from webapp.models import Notification
from webapp.services import workshop
from webapp.tasks.notices import send_notice

aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
COPIES = 6


class Mailbox:
    def __init__(self):
        self.recipients = []

    async def handle_DATA(self, server, session, envelope):
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, box
    controller.stop()


def pending_ready_notice(factory):
    site = factory.site(code="tp1")
    people = {r: factory.user(site, r, username=f"{r}-tp") for r in ("advisor", "dispatcher", "technician", "qc")}
    visit = job_at_dispatch(factory, site, people["advisor"], car_wash="no")
    visit.customer.email = "zhao.liu@example.com"
    db.session.commit()
    workshop.assign(people["dispatcher"], visit.job.id, people["technician"].id, None)
    workshop.start(people["technician"], visit.job.id)
    workshop.finish(people["technician"], visit.job.id)
    workshop.qc(people["qc"], visit.job.id, {i: True for i in QC_CHECKLIST}, True, None)
    tasks.huey.flush()            # the test's own in-memory queue: the copies below are what runs
    [row] = db.session.query(Notification).filter_by(visit_id=visit.id).all()
    assert row.status == "pending"
    return row.id


def queue_copies(queue_file, notice_id, copies):
    storage = SqliteStorage(tasks.huey.name, filename=str(queue_file))
    kept = tasks.huey.storage
    tasks.huey.storage = storage
    try:
        for _ in range(copies):
            send_notice(notice_id)
    finally:
        tasks.huey.storage = kept
    assert storage.queue_size() == copies
    return storage


def start_consumer(env, log_path):
    log = open(log_path, "w")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "webapp", "worker", "--workers", "2", "--no-periodic"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log


def executed(log_path) -> int:
    return Path(log_path).read_text(errors="replace").count(" executed in ")


def test_two_consumer_processes_send_a_notice_once(app, factory, mailbox, tmp_path):
    port, box = mailbox
    notice_id = pending_ready_notice(factory)
    db.session.remove()
    queue_file = tmp_path / "queue.db"
    storage = queue_copies(queue_file, notice_id, COPIES)

    env = {**os.environ,
           "SERVICELANE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SERVICELANE_SECRET_KEY": "two-processes",
           "SERVICELANE_TASKS_BACKEND": "sqlite", "SERVICELANE_TASKS_SQLITE_PATH": str(queue_file),
           "SERVICELANE_NOTIFY_BACKEND": "smtp", "SERVICELANE_SMTP_HOST": "127.0.0.1",
           "SERVICELANE_SMTP_PORT": str(port), "SERVICELANE_SMTP_FROM": "service@example.cn",
           "SERVICELANE_PUBLIC_BASE_URL": "https://service.example.cn"}
    env.pop("SERVICELANE_REDIS_URL", None)
    logs = [tmp_path / "consumer-a.log", tmp_path / "consumer-b.log"]
    consumers = [start_consumer(env, path) for path in logs]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(executed(p) for p in logs) < COPIES:
            assert all(proc.poll() is None for proc, _ in consumers), [p.read_text() for p in logs]
            time.sleep(0.1)   # polling two other processes' logs: there is no event to wait on
    finally:
        for proc, log in consumers:
            proc.terminate()
            proc.wait(10)
            log.close()

    per_consumer = [executed(p) for p in logs]
    assert sum(per_consumer) == COPIES, [p.read_text() for p in logs]
    assert storage.queue_size() == 0
    assert box.recipients == ["zhao.liu@example.com"]
    row = db.session.get(Notification, notice_id)
    assert (row.status, row.sent_at is not None) == ("sent", True)
