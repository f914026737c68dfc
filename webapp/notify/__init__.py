"""Customer notices (ready for pickup, …) through a pluggable backend, sent by a task.

``backends`` holds the interface (``Notifier``: ``channel``, ``recipient_for``, ``send``) with a
log backend (the default) and an SMTP e-mail backend, chosen by ``SERVICELANE_NOTIFY_BACKEND``.

The flow: the use case that makes a car ready writes the notice as a ``pending`` Notification
row in its own transaction (``add_ready_notice``: recipient, subject and body fixed then, with
the status link), commits, then queues ``webapp.tasks.notices.send_notice`` (``enqueue``). The
task (``deliver``) claims the row with a conditional UPDATE before calling the backend, so a
retried or duplicated task never sends twice; a refused send (server down) releases the claim
and the periodic ``sweep`` tries again, up to ``NOTIFY_MAX_ATTEMPTS``. Nothing here runs in the
customer's or the advisor's request except writing the row: a hanging SMTP server slows no page,
and a queue that cannot be reached leaves the row pending for the sweep."""
import logging
import uuid
from datetime import timedelta

from flask import current_app, has_request_context, url_for
from sqlalchemy import select, update

from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Notification, Visit
from ..timeutil import utcnow
from .backends import (BACKENDS, LogBackend, Message, Notifier, SendResult, SmtpBackend,  # noqa: F401
                       backend_from_config, register_backend)
from .messages import ready_message

log = logging.getLogger("servicelane.notify")

READY_KIND = "ready"
# The sweep leaves fresh rows to the task queued with them, and closes claims older than this:
# their sender died mid-send, and whether the customer got the message is unknown.
SWEEP_AFTER = timedelta(minutes=1)
STALE_CLAIM = timedelta(minutes=15)
def status_url(token: str) -> str:
    """Absolute link to the customer's status page (PUBLIC_BASE_URL wins behind a proxy)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        path = current_app.url_map.bind("localhost").build("status.page", {"token": token})
        return base.rstrip("/") + path
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for("status.page", token=token, _external=True)
    log.warning("no PUBLIC_BASE_URL: the notice carries a relative status link")
    return current_app.url_map.bind("localhost").build("status.page", {"token": token})


def add_ready_notice(visit: Visit) -> Notification | None:
    """Write the ready-for-pickup notice of ``visit`` inside the caller's transaction: ``pending``
    with its message, or ``skipped``/``failed`` when it cannot go out (no address, no ticket,
    a bad backend setting). None when the visit has one already (at most one per visit)."""
    if db.session.scalar(select(Notification.id).where(Notification.visit_id == visit.id,
                                                       Notification.kind == READY_KIND).limit(1)) is not None:
        return None
    row = Notification(site_id=visit.site_id, visit_id=visit.id, kind=READY_KIND, channel="unknown",
                       recipient="", subject="", body="", status="pending", attempts=0, created_at=utcnow())
    try:
        backend = backend_from_config(current_app.config)
    except Exception as exc:  # noqa: BLE001 - a bad setting is logged, not raised into the request
        log.error("notifier backend: %s", exc)
        row.status, row.error = "failed", str(exc)[:2000]
    else:
        row.channel = backend.channel[:16]
        recipient = backend.recipient_for(visit.customer) if visit.customer is not None else None
        if not recipient:
            row.status, row.error = "skipped", "no_address"
        elif visit.ticket is None:
            row.recipient, row.status, row.error = recipient[:255], "skipped", "no_ticket"
        else:
            message = ready_message(recipient, {"zh_CN": visit.site.name_zh, "en": visit.site.name_en},
                                    visit.ticket.number, status_url(visit.ticket.token))
            row.recipient, row.subject, row.body = recipient[:255], message.subject[:255], message.body
    db.session.add(row)
    return row


def enqueue(row: Notification | None) -> None:
    """After the commit: queue the send of a pending notice (a failure is logged; the sweep
    sends it later)."""
    if row is None or row.status != "pending":
        return
    from ..tasks import enqueue as enqueue_task
    from ..tasks.notices import send_notice
    enqueue_task(send_notice, row.id)


def _max_attempts() -> int:
    return max(1, int(current_app.config.get("NOTIFY_MAX_ATTEMPTS") or 5))


def deliver(notification_id: int) -> str | None:
    """Send one pending notice, at most once: claim it (a conditional UPDATE on an unclaimed
    pending row), call the backend, record the outcome under the claim. Returns the row's new
    status, or None when another sender holds it or it is no longer pending.

    A send the backend refused (``SendResult(ok=False)``: not delivered) releases the claim with
    the error, for the sweep to try again, and becomes ``failed`` after NOTIFY_MAX_ATTEMPTS. A
    backend that raises is a send of unknown outcome: ``failed`` at once, never repeated."""
    key = uuid.uuid4().hex
    claimed = db.session.execute(update(Notification).where(
        Notification.id == notification_id, Notification.status == "pending",
        Notification.claimed_at.is_(None)).values(claim_key=key, claimed_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not claimed:
        return None
    row = db.session.get(Notification, notification_id)
    values = {}
    try:
        backend = backend_from_config(current_app.config)
        result = backend.send(Message(row.recipient, row.subject, row.body))
    except Exception as exc:  # noqa: BLE001 - a gateway's bug must not kill the consumer
        log.exception("notifier failed on notice %s", notification_id)
        values = dict(status="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
    else:
        if result.ok:
            values = dict(status="sent", error=None, sent_at=utcnow())
        else:
            attempts = row.attempts + 1
            values = dict(status="failed" if attempts >= _max_attempts() else "pending", attempts=attempts,
                          error=(result.error or "refused")[:2000], claim_key=None, claimed_at=None)
    db.session.execute(update(Notification).where(Notification.id == notification_id, Notification.claim_key == key)
                       .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    # The advisor's page shows whether the customer was told: hint it to refresh.
    publish(DomainEvent("visit.notified", row.site_id, row.visit_id, None,
                        {"kind": row.kind, "status": values["status"]}))
    return values["status"]


def sweep(now=None) -> int:
    """The periodic retry: send the pending notices nobody holds (their task could not be queued,
    or the backend refused them) and close claims left by a sender that died. Returns how many
    were sent."""
    now = now or utcnow()
    stale = db.session.execute(update(Notification).where(
        Notification.status == "pending", Notification.claimed_at < now - STALE_CLAIM)
        .values(status="failed", error="interrupted while sending: not sent again")
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if stale:
        log.warning("%s notice(s) left claimed by a sender that stopped: marked failed", stale)
    ids = list(db.session.scalars(select(Notification.id).where(
        Notification.status == "pending", Notification.claimed_at.is_(None),
        Notification.created_at <= now - SWEEP_AFTER).order_by(Notification.id)))
    return sum(1 for i in ids if deliver(i) == "sent")


def latest_notice(visit_id: int, kind: str = READY_KIND) -> Notification | None:
    return db.session.scalar(select(Notification).where(Notification.visit_id == visit_id,
                                                        Notification.kind == kind)
                             .order_by(Notification.id.desc()).limit(1))

