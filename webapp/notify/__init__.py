"""Customer notices (ready for pickup, …) through a pluggable backend.

``backends`` holds the interface (``Notifier``: ``channel``, ``recipient_for``, ``send``) with a
log backend (the default) and an SMTP e-mail backend, chosen by ``SERVICELANE_NOTIFY_BACKEND``.
This module subscribes to domain events like webapp/realtime.py does: events are published
after the commit, so a notice never announces something rolled back. Every attempt is logged in
the append-only Notification table (sent, failed or skipped, with the error); a failing
backend never fails the request that made the car ready. At most one ready notice per visit:
a visit becomes READY once (READY → DELIVERED only), and the log is checked before sending,
under a lock so that two replays of the event in one process cannot both send."""
import logging
import threading

from flask import current_app, has_request_context, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..events import DomainEvent, publish, subscribe
from ..extensions import db
from ..models import Notification, Visit
from ..workflow import VisitState
from .backends import (BACKENDS, LogBackend, Message, Notifier, SendResult, SmtpBackend,  # noqa: F401
                       backend_from_config, register_backend)
from .messages import ready_message

log = logging.getLogger("servicelane.notify")
_lock = threading.Lock()

READY_KIND = "ready"


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


def _record(session, visit, channel, recipient, message, status, error=None) -> Notification:
    row = Notification(site_id=visit.site_id, visit_id=visit.id, kind=READY_KIND, channel=channel[:16],
                       recipient=(recipient or "")[:255], subject=(message.subject if message else "")[:255],
                       body=message.body if message else "", status=status,
                       error=(error or None) and str(error)[:2000])
    session.add(row)
    session.commit()
    return row


def ready_notice(visit_id: int) -> Notification | None:
    """Send the "ready for pickup" notice of a visit once; returns the logged attempt (None when
    there is nothing to do: not ready, or already attempted). Uses its own session, so the
    request's session and objects are left as they were."""
    with _lock, Session(db.engine, expire_on_commit=False) as session:
        visit = session.get(Visit, visit_id)
        if visit is None or visit.state != VisitState.READY.value:
            return None
        done = session.scalar(select(Notification.id).where(Notification.visit_id == visit.id,
                                                            Notification.kind == READY_KIND).limit(1))
        if done is not None:
            return None
        try:
            backend = backend_from_config(current_app.config)
        except Exception as exc:  # noqa: BLE001 - a bad setting is logged, not raised into the request
            log.error("notifier backend: %s", exc)
            return _record(session, visit, "unknown", "", None, "failed", exc)
        recipient = backend.recipient_for(visit.customer) if visit.customer is not None else None
        if not recipient:
            return _record(session, visit, backend.channel, "", None, "skipped", "no_address")
        if visit.ticket is None:
            return _record(session, visit, backend.channel, recipient, None, "skipped", "no_ticket")
        message = ready_message(recipient, {"zh_CN": visit.site.name_zh, "en": visit.site.name_en},
                                visit.ticket.number, status_url(visit.ticket.token))
        try:
            result = backend.send(message)
        except Exception as exc:  # noqa: BLE001 - a gateway's bug must not fail the request
            log.exception("notifier %s failed", backend.channel)
            result = SendResult(False, f"{type(exc).__name__}: {exc}")
        row = _record(session, visit, backend.channel, recipient, message,
                      "sent" if result.ok else "failed", result.error)
        site_id = visit.site_id
    # The advisor's page shows whether the customer was told: hint it to refresh.
    publish(DomainEvent("visit.notified", site_id, visit_id, None, {"kind": READY_KIND, "status": row.status}))
    return row


def on_event(event: DomainEvent):
    if event.name == "visit.ready" and event.visit_id is not None:
        ready_notice(event.visit_id)


def latest_notice(visit_id: int, kind: str = READY_KIND) -> Notification | None:
    return db.session.scalar(select(Notification).where(Notification.visit_id == visit_id,
                                                        Notification.kind == kind)
                             .order_by(Notification.id.desc()).limit(1))


subscribe(on_event)
