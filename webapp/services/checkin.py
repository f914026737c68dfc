"""Check-in at the lobby kiosk: find today's appointment or register a walk-in, issue a ticket."""
import hashlib
import hmac
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import queueing
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Appointment, Customer, Site, Ticket, TicketCounter, Vehicle, Visit, VisitEvent
from ..timeutil import day_bounds_utc, local_day, utcnow
from ..validation import normalise_plate, parse_mobile, parse_plate
from . import ServiceError

REASONS = ("maintenance", "repair", "warranty", "bodywork", "other")
KIND_APPOINTMENT = "appointment"
KIND_WALKIN = "walkin"


def new_token() -> str:
    """192 random bits, URL-safe: the customer's capability for the status page."""
    return secrets.token_urlsafe(24)


def ticket_pin(token: str) -> str:
    """The 6-digit PIN printed on the ticket, derived from the token with the server's secret.

    Derived rather than stored so that a retried check-in (same idempotency key) or a reprint at
    the desk shows the same PIN, while the status link alone (the token) reveals nothing of it."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"pin:{token}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def pin_matches(token: str, pin: str) -> bool:
    return hmac.compare_digest(ticket_pin(token), (pin or "").strip())


def find_appointments(site: Site, query: str, now: datetime | None = None) -> list[Appointment]:
    """Today's open appointments whose plate or mobile matches what the customer typed."""
    now = now or utcnow()
    start, end = day_bounds_utc(site.timezone, local_day(site.timezone, now))
    stmt = (
        select(Appointment)
        .join(Vehicle, Appointment.vehicle_id == Vehicle.id)
        .join(Customer, Appointment.customer_id == Customer.id)
        .where(Appointment.site_id == site.id, Appointment.status == "booked",
               Appointment.scheduled_at >= start, Appointment.scheduled_at < end)
        .order_by(Appointment.scheduled_at)
    )
    mobile = parse_mobile(query)
    if mobile:
        stmt = stmt.where(Customer.mobile == mobile)
    else:
        plate = normalise_plate(query)
        if not plate:
            return []
        stmt = stmt.where(Vehicle.plate == plate)
    return list(db.session.scalars(stmt))


def _existing(idempotency_key):
    if not idempotency_key:
        return None
    return db.session.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))


def _allocate_seq(site_id, day, prefix) -> int:
    """Atomic upsert: the row lock (PostgreSQL) or write lock (SQLite) it takes is held until the
    ticket commits, so two check-ins can never draw the same number and a rollback leaves no gap."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = TicketCounter.__table__
    stmt = insert(table).values(site_id=site_id, day=day, prefix=prefix, value=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.site_id, table.c.day, table.c.prefix],
        set_={"value": table.c.value + 1},
    ).returning(table.c.value)
    return db.session.execute(stmt).scalar_one()


def _issue(site, visit, kind, idempotency_key, appointment=None, now=None):
    """Number and store the ticket for a new visit, commit, publish."""
    now = now or utcnow()
    day = local_day(site.timezone, now)
    prefix = site.prefix_appointment if kind == KIND_APPOINTMENT else site.prefix_walkin
    token = new_token()
    db.session.add(visit)
    db.session.flush()
    seq = _allocate_seq(site.id, day, prefix)
    ticket = Ticket(
        site_id=site.id, visit_id=visit.id, kind=kind, day=day, prefix=prefix, seq=seq,
        number=f"{prefix}{seq:03d}", token=token,
        idempotency_key=idempotency_key or None, issued_at=now, queued_at=now,
        appointment_at=appointment.scheduled_at if appointment else None,
        assigned_advisor_id=appointment.advisor_id if appointment else None,
        on_time_appointment=bool(appointment) and queueing.on_time(
            now, appointment.scheduled_at, site.appointment_early_minutes, site.appointment_late_minutes),
    )
    db.session.add(ticket)
    db.session.add(VisitEvent(site_id=site.id, visit_id=visit.id, actor_kind="customer",
                              action="check_in", from_state=None, to_state=visit.state, at=now))
    if appointment is not None:
        appointment.status = "arrived"
    try:
        db.session.commit()
    except IntegrityError:
        # The same idempotency key won a race in another request: answer with that ticket.
        db.session.rollback()
        existing = _existing(idempotency_key)
        if existing is None:
            raise
        return existing
    publish(DomainEvent("ticket.issued", site.id, visit.id, ticket.id,
                        {"number": ticket.number, "kind": kind}))
    return ticket


def check_in_appointment(site: Site, appointment_id: int, idempotency_key: str | None):
    existing = _existing(idempotency_key)
    if existing is not None:
        return existing
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.site_id != site.id:
        raise ServiceError("appointment_not_found", 404)
    if appointment.status != "booked":
        # Already checked in (e.g. on another kiosk): hand back that ticket, never a second one.
        visit = db.session.scalar(select(Visit).where(Visit.appointment_id == appointment.id))
        if visit is not None and visit.ticket is not None:
            return visit.ticket
        raise ServiceError("appointment_not_open", 409)
    visit = Visit(
        site_id=site.id, customer_id=appointment.customer_id, vehicle_id=appointment.vehicle_id,
        appointment_id=appointment.id, plate=appointment.vehicle.plate,
        mobile=appointment.customer.mobile, reason=appointment.reason,
        description=appointment.description, consent_at=utcnow(),
    )
    try:
        return _issue(site, visit, KIND_APPOINTMENT, idempotency_key, appointment)
    except IntegrityError:
        # Two kiosks confirmed the same appointment at once (unique visit.appointment_id).
        db.session.rollback()
        visit = db.session.scalar(select(Visit).where(Visit.appointment_id == appointment_id))
        return visit.ticket


def check_in_walkin(site: Site, plate: str, mobile: str, reason: str, description: str | None,
                    consent: bool, idempotency_key: str | None):
    """Validation errors come back as ServiceError with the field named, so the kiosk can show
    the message next to it and keep what was typed."""
    existing = _existing(idempotency_key)
    if existing is not None:
        return existing
    parsed = parse_plate(plate)
    if parsed is None:
        raise ServiceError("plate_invalid", 422, "plate")
    number = parse_mobile(mobile)
    if number is None:
        raise ServiceError("mobile_invalid", 422, "mobile")
    if reason not in REASONS:
        raise ServiceError("reason_invalid", 422, "reason")
    if not consent:
        raise ServiceError("consent_required", 422, "consent")
    description = (description or "").strip()[:500] or None
    vehicle = db.session.scalar(
        select(Vehicle).where(Vehicle.site_id == site.id, Vehicle.plate == parsed.value).limit(1))
    customer = db.session.scalar(
        select(Customer).where(Customer.site_id == site.id, Customer.mobile == number).limit(1))
    visit = Visit(
        site_id=site.id, plate=parsed.value, mobile=number, reason=reason, description=description,
        vehicle_id=vehicle.id if vehicle else None, customer_id=customer.id if customer else None,
        consent_at=utcnow(),
    )
    return _issue(site, visit, KIND_WALKIN, idempotency_key)
