"""Notices about a booking (issue 13): confirmed, moved, cancelled — written as ``pending``
Notification rows in the booking's own transaction and sent by the task queue, like the ready
notice (see the package docstring). The words name the shop, the booking number and the local
date and time, never the name or plate: the address was typed at a desk and may be wrong."""
import logging
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, gettext as _

from ..extensions import db
from ..models import Appointment, Notification, Site
from ..timeutil import utcnow
from .backends import Message, backend_from_config
from .messages import SEPARATOR, languages

log = logging.getLogger("servicelane.notify")

KINDS = ("appointment_booked", "appointment_moved", "appointment_cancelled", "appointment_reminder")


def manage_url(token: str) -> str:
    """Absolute link to an online booking's manage page (PUBLIC_BASE_URL wins behind a proxy);
    like notify.status_url, also outside a request (the day-before reminder runs in a task)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    path = current_app.url_map.bind("localhost").build("book.manage", {"token": token})
    if base:
        return base.rstrip("/") + path
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for("book.manage", token=token, _external=True)
    log.warning("no PUBLIC_BASE_URL: the booking notice carries a relative link")
    return path


def _text(kind: str, shop: str, number: str, when: str, link: str | None = None) -> tuple[str, str]:
    """Subject and body; ``link``: the online booking's manage page (not on a cancellation: there
    is nothing left to manage)."""
    subject, lines = _words(kind, shop, number, when)
    if link and kind != "appointment_cancelled":
        lines.append(_("To view, move or cancel it: %(link)s", link=link))
    return subject, "\n\n".join([_("Hello,"), *lines, shop])


def _words(kind: str, shop: str, number: str, when: str) -> tuple[str, list[str]]:
    if kind == "appointment_reminder":
        subject = _("%(shop)s: your appointment %(number)s tomorrow", shop=shop, number=number)
        lines = [_("A reminder: your appointment %(number)s is on %(when)s.", number=number, when=when),
                 _("Please bring your vehicle licence and maintenance booklet.")]
    elif kind == "appointment_cancelled":
        subject = _("%(shop)s: appointment %(number)s cancelled", shop=shop, number=number)
        lines = [_("Your appointment %(number)s on %(when)s is cancelled.", number=number, when=when),
                 _("Call us to book another time.")]
    elif kind == "appointment_moved":
        subject = _("%(shop)s: appointment %(number)s moved", shop=shop, number=number)
        lines = [_("Your appointment %(number)s is now on %(when)s.", number=number, when=when),
                 _("Please bring your vehicle licence and maintenance booklet.")]
    else:
        subject = _("%(shop)s: appointment %(number)s confirmed", shop=shop, number=number)
        lines = [_("Your appointment %(number)s is booked for %(when)s.", number=number, when=when),
                 _("Please bring your vehicle licence and maintenance booklet.")]
    return subject, lines


def booking_message(kind: str, recipient: str, appointment: Appointment) -> Message:
    site = db.session.get(Site, appointment.site_id)
    when = local_time(appointment.scheduled_at, site.timezone)
    link = manage_url(appointment.manage_token) if appointment.manage_token else None
    subjects, bodies = [], []
    for locale in languages():
        with force_locale(locale):
            subject, body = _text(kind, site.name(locale), appointment.number or str(appointment.id), when, link)
        subjects.append(subject)
        bodies.append(body)
    return Message(recipient=recipient, subject=subjects[0], body=SEPARATOR.join(dict.fromkeys(bodies)))


def local_time(at_utc: datetime, tz_name: str) -> str:
    return at_utc.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M")


def add_booking_notice(appointment: Appointment, kind: str) -> Notification:
    """The notice row, inside the caller's transaction: ``pending`` with its message, or
    ``skipped`` (no address) / ``failed`` (a bad backend setting)."""
    row = Notification(site_id=appointment.site_id, appointment_id=appointment.id, kind=kind, channel="unknown",
                       recipient="", subject="", body="", status="pending", attempts=0, created_at=utcnow())
    try:
        backend = backend_from_config(current_app.config)
    except Exception as exc:  # noqa: BLE001 - a bad setting is logged, not raised into the request
        log.error("notifier backend: %s", exc)
        row.status, row.error = "failed", str(exc)[:2000]
    else:
        row.channel = backend.channel[:16]
        recipient = backend.recipient_for(appointment.customer) if appointment.customer is not None else None
        if not recipient:
            row.status, row.error = "skipped", "no_address"
        else:
            message = booking_message(kind, recipient, appointment)
            row.recipient, row.subject, row.body = recipient[:255], message.subject[:255], message.body
    db.session.add(row)
    return row
