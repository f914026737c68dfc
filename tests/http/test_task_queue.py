"""Side effects run as tasks of the Huey queue (webapp/tasks), never in the request:

- the ready notice is queued after the commit that wrote it, and sent once even when its task
  runs twice (the row is claimed before the backend is called);
- an SMTP server that refuses or hangs never slows or fails the page: the notice stays pending,
  and the periodic sweep sends it later; a queue that cannot be reached is logged, the same;
- complaint escalation and follow-ups due run through their periodic tasks, once.

Tasks run in the test's thread through ``run_tasks()`` (the queue is in memory here), so nothing
waits on a clock."""
import socket
import threading
import time
from datetime import timedelta

import pytest
from huey.signals import SIGNAL_ENQUEUED
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import job_at_dispatch, visit_delivered
from tests.support import csrf_token, free_port, login, run_tasks
from webapp import tasks
from webapp.events import subscribe, unsubscribe
from webapp.extensions import db
from webapp.jobs import QC_CHECKLIST
from webapp.models import Complaint, FollowUp, Notification
from webapp.notify import backends
from webapp.services import workshop
from webapp.tasks.notices import send_notice
from webapp.tasks.periodic import escalate_complaints, followups_due, sweep_notices
from webapp.timeutil import utcnow


class Recording(backends.Notifier):
    """A backend that keeps what it was asked to send (and can be told to refuse)."""
    channel = "email"
    sent: list = []
    refuse = False

    def send(self, message):
        if Recording.refuse:
            return backends.SendResult(False, "ConnectionRefusedError: [Errno 111] Connection refused")
        Recording.sent.append(message)
        return backends.SendResult(True)


@pytest.fixture
def recording(app):
    backends.register_backend("recording", Recording)
    Recording.sent, Recording.refuse = [], False
    app.config.update(NOTIFY_BACKEND="recording", PUBLIC_BASE_URL="https://service.example.cn")
    yield Recording
    backends.BACKENDS.pop("recording", None)


def in_qc(factory, site, p, address="wang.wu@example.com"):
    visit = job_at_dispatch(factory, site, p["advisor"], car_wash="no")
    visit.customer.email = address
    db.session.commit()
    workshop.assign(p["dispatcher"], visit.job.id, p["technician"].id, None)
    workshop.start(p["technician"], visit.job.id)
    workshop.finish(p["technician"], visit.job.id)
    return visit


def qc_pass_over_http(client, p, visit):
    login(client, p["qc"])
    token = csrf_token(client, "/workshop/qc")
    form = {"result": "pass", **{i: "1" for i in QC_CHECKLIST}}
    started = time.monotonic()
    r = client.post(f"/workshop/qc/jobs/{visit.job.id}", data=form, headers={"X-CSRFToken": token, "HX-Request": "true"})
    return r, time.monotonic() - started


def notices(visit_id):
    db.session.expire_all()
    return db.session.scalars(select(Notification).where(Notification.visit_id == visit_id)).all()


def age(row_id, minutes=2):
    """As if the notice had been written some minutes ago (the sweep leaves fresh ones to their task)."""
    db.session.get(Notification, row_id).created_at = utcnow() - timedelta(minutes=minutes)
    db.session.commit()


# ---------------------------------------------------------------- at most once, after the commit

def test_notice_is_queued_after_its_commit_and_sent_once_when_the_task_runs_twice(app, client, factory, shop, recording):
    site, p = shop.site, shop.people
    visit = in_qc(factory, site, p)
    seen_at_enqueue = []

    def on_enqueued(signal, task):
        # Another connection sees only what is committed: the row must be there already.
        with Session(db.engine) as other:
            row = other.get(Notification, task.args[0])
            seen_at_enqueue.append(row.status if row is not None else None)

    tasks.huey.signal(SIGNAL_ENQUEUED)(on_enqueued)
    try:
        r, _ = qc_pass_over_http(client, p, visit)
    finally:
        tasks.huey.disconnect_signal(on_enqueued, SIGNAL_ENQUEUED)
    assert r.status_code == 200
    assert seen_at_enqueue == ["pending"]
    assert recording.sent == []                          # nothing was sent inside the request

    task = tasks.huey.dequeue()
    assert task.name.endswith("send_notice")
    tasks.huey.execute(task)
    tasks.huey.execute(task)                             # delivered twice (a retry, a duplicate)
    assert send_notice.call_local(task.args[0]) is None  # and once more by hand: already sent
    assert run_tasks() == 0
    assert len(recording.sent) == 1
    assert recording.sent[0].recipient == "wang.wu@example.com"
    assert f"https://service.example.cn/t/{visit.ticket.token}" in recording.sent[0].body
    [row] = notices(visit.id)
    assert (row.status, row.attempts, row.sent_at is not None, row.claim_key is not None) == ("sent", 0, True, True)


def test_two_senders_at_once_send_once(app, factory, shop, recording):
    site, p = shop.site, shop.people
    visit = in_qc(factory, site, p)
    workshop.qc(p["qc"], visit.job.id, {i: True for i in QC_CHECKLIST}, True, None)
    [row] = notices(visit.id)
    task = tasks.huey.dequeue()
    barrier = threading.Barrier(2)
    results = []

    def consumer():
        barrier.wait()
        tasks.huey.execute(task)
        results.append("ran")

    threads = [threading.Thread(target=consumer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == ["ran", "ran"]
    assert len(recording.sent) == 1
    assert [r.status for r in notices(visit.id)] == ["sent"]


# ---------------------------------------------------------------- SMTP or the queue down

def test_refused_smtp_leaves_the_notice_pending_and_the_sweep_sends_it_later(app, client, factory, shop):
    site, p = shop.site, shop.people
    app.config.update(NOTIFY_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2,
                      NOTIFY_MAX_ATTEMPTS=3)   # nothing listens on that port
    visit = in_qc(factory, site, p)
    r, _ = qc_pass_over_http(client, p, visit)
    assert r.status_code == 200
    assert run_tasks() == 1
    [row] = notices(visit.id)
    assert (row.status, row.attempts, row.claimed_at) == ("pending", 1, None) and "refused" in row.error.lower()

    # The sweep tries again (every five minutes) until NOTIFY_MAX_ATTEMPTS, then gives up: failed.
    age(row.id)
    sweep_notices()
    assert run_tasks() == 1
    assert [(n.status, n.attempts) for n in notices(visit.id)] == [("pending", 2)]
    sweep_notices()
    run_tasks()
    assert [(n.status, n.attempts) for n in notices(visit.id)] == [("failed", 3)]
    sweep_notices()
    run_tasks()
    assert [(n.status, n.attempts) for n in notices(visit.id)] == [("failed", 3)]   # not tried again


def test_hanging_smtp_does_not_slow_the_request(app, client, factory, shop):
    # A server that accepts connections and never says a word.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        app.config.update(NOTIFY_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=listener.getsockname()[1],
                          SMTP_TIMEOUT=30)
        visit = in_qc(factory, shop.site, shop.people)
        r, elapsed = qc_pass_over_http(client, shop.people, visit)
        assert r.status_code == 200 and elapsed < 3, elapsed
        assert [n.status for n in notices(visit.id)] == ["pending"]
    finally:
        listener.close()


def test_queue_unreachable_is_logged_and_the_sweep_sends_the_notice(app, client, factory, shop, recording, caplog):
    site, p = shop.site, shop.people
    visit = in_qc(factory, site, p)
    app.config.update(TASKS_BACKEND="redis", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")   # no Redis there
    tasks.init_app(app)
    try:
        r, elapsed = qc_pass_over_http(client, p, visit)
    finally:
        app.config.update(TASKS_BACKEND="memory", REDIS_URL=None)
        tasks.init_app(app)
    assert r.status_code == 200 and elapsed < 5
    assert "could not queue" in caplog.text
    [row] = notices(visit.id)
    assert row.status == "pending" and recording.sent == []
    sweep_notices()
    run_tasks()
    assert [n.status for n in notices(visit.id)] == ["pending"]     # fresh: left to its own task a minute
    age(row.id)
    sweep_notices()
    run_tasks()
    assert [n.status for n in notices(visit.id)] == ["sent"] and len(recording.sent) == 1


def test_a_claim_left_by_a_dead_sender_is_closed_as_failed_not_resent(app, factory, shop, recording):
    site, p = shop.site, shop.people
    visit = in_qc(factory, site, p)
    workshop.qc(p["qc"], visit.job.id, {i: True for i in QC_CHECKLIST}, True, None)
    tasks.huey.dequeue()                                     # the sender's task, lost with its process
    [row] = notices(visit.id)
    row.claim_key, row.claimed_at = "dead", utcnow() - timedelta(minutes=20)
    row.created_at = utcnow() - timedelta(minutes=21)
    db.session.commit()
    sweep_notices()
    run_tasks()
    [row] = notices(visit.id)
    assert row.status == "failed" and "interrupted" in row.error and recording.sent == []


# ---------------------------------------------------------------- periodic work

def test_escalation_runs_through_its_periodic_task(app, client, shop):
    site, p = shop.site, shop.people
    late = Complaint(site_id=site.id, source="staff", summary="late", due_at=utcnow() - timedelta(hours=1))
    db.session.add(late)
    db.session.commit()
    login(client, p["csi"])
    assert client.get("/complaints").status_code == 200
    assert db.session.get(Complaint, late.id).escalated_at is None        # no page load escalates
    escalate_complaints()
    escalate_complaints()                                                 # two consumers, the same minute
    assert run_tasks() == 2
    db.session.expire_all()
    assert db.session.get(Complaint, late.id).escalated_at is not None


def test_followups_due_are_announced_once_per_time_they_fall_due(app, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    fu = db.session.get(FollowUp, visit.follow_up.id)
    seen = []
    handler = subscribe(lambda e: seen.append((e.name, e.site_id, e.data.get("count"))) if e.name == "followup.due" else None)
    try:
        followups_due()
        run_tasks()
        assert seen == []                                   # not due yet
        fu.due_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        followups_due()
        followups_due()
        run_tasks()
        assert seen == [("followup.due", site.id, 1)]
        db.session.expire_all()
        assert db.session.get(FollowUp, fu.id).reminded_at is not None
        # No answer: the retry falls due later, and is announced again then.
        fu = db.session.get(FollowUp, fu.id)
        fu.reminded_at = utcnow() - timedelta(hours=24)
        fu.due_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        followups_due()
        run_tasks()
        assert seen == [("followup.due", site.id, 1), ("followup.due", site.id, 1)]
    finally:
        unsubscribe(handler)


@pytest.mark.redis
def test_with_redis_the_queue_lives_in_redis(app, client, factory, shop, recording, redis_url):
    """The README's production setup: REDIS_URL set, TASKS_BACKEND auto → the notice's task goes
    through Redis and is sent once."""
    site, p = shop.site, shop.people
    visit = in_qc(factory, site, p)
    app.config.update(TASKS_BACKEND="auto", REDIS_URL=redis_url)
    tasks.init_app(app)
    try:
        assert type(tasks.huey.storage).__name__ == "RedisStorage"
        tasks.huey.storage.flush_queue()
        r, _ = qc_pass_over_http(client, p, visit)
        assert r.status_code == 200 and tasks.huey.pending_count() == 1
        assert run_tasks() == 1
    finally:
        tasks.huey.storage.flush_queue()
        app.config.update(TASKS_BACKEND="memory", REDIS_URL=None)
        tasks.init_app(app)
    assert [n.status for n in notices(visit.id)] == ["sent"] and len(recording.sent) == 1
