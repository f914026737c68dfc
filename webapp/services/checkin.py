"""Check-in at the lobby kiosk: find today's appointment or register a walk-in, issue a ticket."""
import hashlib
import hmac
import secrets
from collections import Counter
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from .. import queueing
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Appointment, Customer, Site, Ticket, TicketCounter, Vehicle, Visit, VisitEvent
from ..timeutil import day_bounds_utc, local_day, utcnow
from ..validation import normalise_plate, parse_mobile, parse_plate
from . import ServiceError
from ..statuses import TicketStatus

REASONS = ("maintenance", "repair", "warranty", "bodywork", "other")
KIND_APPOINTMENT = "appointment"
KIND_WALKIN = "walkin"
IN_QUEUE = (TicketStatus.WAITING, TicketStatus.CALLED)   # someone still to be seen at a desk
# Namespace of the PostgreSQL advisory lock that serialises a site's walk-in check-ins, so the
# "already in the queue?" check and the new ticket are one step (two taps on two kiosks).
_WALKIN_LOCK = 0x5311


class AlreadyCheckedIn(ServiceError):
    """The person already holds a ticket today. Carries only its number: no PIN, no link."""

    def __init__(self, message, number, status=409):
        super().__init__(message, status)
        self.number = number


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


# The lobby list of today's appointments (kiosk): booked ones from this long ago on, at most this many.
LIST_LATE_HOURS = 2
LIST_MAX = 12


def todays_open_appointments(site: Site, now: datetime | None = None) -> list[tuple[int, str, datetime]]:
    """(id, plate, scheduled_at) of today's still-booked appointments of the site, from
    ``LIST_LATE_HOURS`` ago on, soonest first. The caller masks the plate before showing it."""
    now = now or utcnow()
    start, end = day_bounds_utc(site.timezone, local_day(site.timezone, now))
    rows = db.session.execute(
        select(Appointment.id, Vehicle.plate, Appointment.scheduled_at)
        .join(Vehicle, Appointment.vehicle_id == Vehicle.id)
        .where(Appointment.site_id == site.id, Appointment.status == "booked",
               Appointment.scheduled_at >= max(start, now - timedelta(hours=LIST_LATE_HOURS)),
               Appointment.scheduled_at < end)
        .order_by(Appointment.scheduled_at, Appointment.id).limit(LIST_MAX))
    return [tuple(row) for row in rows]


def appointment_proof_matches(site: Site, appointment_id: int, plate: str | None = None,
                              mobile_last4: str | None = None) -> bool:
    """Whether what the customer typed proves a listed appointment is theirs: its whole plate,
    or the last four digits of the mobile it was booked with. A plain yes or no: the caller
    must not tell which part was wrong (that would hint at the booking)."""
    found = db.session.execute(
        select(Vehicle.plate, Customer.mobile)
        .join(Appointment, Appointment.vehicle_id == Vehicle.id)
        .join(Customer, Appointment.customer_id == Customer.id)
        .where(Appointment.id == appointment_id, Appointment.site_id == site.id)).first()
    if found is None:
        return False
    typed_plate = normalise_plate(plate or "")
    if typed_plate:
        return hmac.compare_digest(typed_plate.encode(), normalise_plate(found.plate).encode())
    digits = (mobile_last4 or "").strip()
    if len(digits) == 4 and digits.isascii() and digits.isdigit() and found.mobile:
        return hmac.compare_digest(digits.encode(), found.mobile[-4:].encode())
    return False


# How far back the kiosk looks to learn a site's usual plate prefix, and the share it needs.
PREFIX_LOOKBACK_DAYS = 180
PREFIX_SAMPLE = 500
PREFIX_SHARE = 0.5
_prefix_cache: dict[tuple, str] = {}


def usual_plate_prefix(site: Site, now: datetime | None = None) -> str:
    """The plate start most of the site's cars share ("京A", or only "京" when the city letters
    vary), learned from its recent visits (and stored cars) and kept for the day; "" for a site with no clear
    majority yet. No setting to keep up: a shop in Beijing simply sees mostly 京 plates."""
    day = local_day(site.timezone, now or utcnow())
    key = (site.id, site.created_at, day)    # created_at: a site id reused by another database
    cached = _prefix_cache.get(key)
    if cached is not None:
        return cached
    since = (now or utcnow()) - timedelta(days=PREFIX_LOOKBACK_DAYS)
    plates = db.session.scalars(select(Visit.plate).where(Visit.site_id == site.id, Visit.created_at >= since)
                                .order_by(Visit.id.desc()).limit(PREFIX_SAMPLE)).all()
    if len(plates) < PREFIX_SAMPLE:   # a young site: its stored cars (booked ones too) count as well
        plates += db.session.scalars(select(Vehicle.plate).where(Vehicle.site_id == site.id)
                                     .order_by(Vehicle.id.desc()).limit(PREFIX_SAMPLE - len(plates))).all()
    prefix = majority_prefix(plates)
    if len(_prefix_cache) > 1000:
        _prefix_cache.clear()
    _prefix_cache[key] = prefix
    return prefix


def majority_prefix(plates) -> str:
    """Pure: province + letter shared by at least ``PREFIX_SHARE`` of the Chinese plates, else
    the province alone if that is, else ""."""
    chinese = [p.value for p in map(parse_plate, plates) if p is not None and p.is_chinese]
    if not chinese:
        return ""
    for width in (2, 1):
        start, count = Counter(p[:width] for p in chinese).most_common(1)[0]
        if count >= PREFIX_SHARE * len(chinese):
            return start
    return ""


def _today(site: Site, now: datetime | None = None):
    return local_day(site.timezone, now or utcnow())


def ticket_in_queue(site: Site, plate: str | None, mobile: str | None, other_than: int | None = None) -> Ticket | None:
    """Today's ticket of this site still waiting or called for the car (plate) or the person
    (mobile), if any, other than ticket ``other_than``: a second number would only put them in the
    queue twice."""
    conditions = []
    if plate:
        conditions.append(Visit.plate == plate)
    if mobile:
        conditions.append(Visit.mobile == mobile)
    if not conditions:
        return None
    return db.session.scalar(
        select(Ticket).join(Visit, Ticket.visit_id == Visit.id)
        .where(Ticket.site_id == site.id, Ticket.day == _today(site), Ticket.status.in_(IN_QUEUE),
               or_(*conditions), Ticket.id != (other_than or 0))
        .order_by(Ticket.id).limit(1))


def checked_in_appointment(site: Site, query: str, now: datetime | None = None) -> Ticket | None:
    """The ticket of today's appointment matching the query that was already checked in, if any."""
    now = now or utcnow()
    start, end = day_bounds_utc(site.timezone, local_day(site.timezone, now))
    stmt = (select(Ticket).join(Visit, Ticket.visit_id == Visit.id)
            .join(Appointment, Visit.appointment_id == Appointment.id)
            .join(Vehicle, Appointment.vehicle_id == Vehicle.id)
            .join(Customer, Appointment.customer_id == Customer.id)
            .where(Appointment.site_id == site.id, Appointment.status == "arrived",
                   Appointment.scheduled_at >= start, Appointment.scheduled_at < end)
            .order_by(Ticket.id.desc()).limit(1))
    mobile = parse_mobile(query)
    if mobile:
        stmt = stmt.where(Customer.mobile == mobile)
    else:
        plate = normalise_plate(query)
        if not plate:
            return None
        stmt = stmt.where(Vehicle.plate == plate)
    return db.session.scalar(stmt)


def _serialise_walkins(site: Site):
    """Make the caller's "already queued?" check and its insert atomic against other check-ins
    of the site. On SQLite the visit's flush that precedes the check already holds the database's
    single write lock (and webapp.sqlite_writer's); PostgreSQL needs a lock of its own, held to
    the end of the transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:ns, :site)"),
                           {"ns": _WALKIN_LOCK, "site": site.id})


def ticket_for_key(idempotency_key: str | None) -> Ticket | None:
    """The ticket a check-in with this idempotency key already issued, if any."""
    if not idempotency_key:
        return None
    return db.session.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))


_existing = ticket_for_key


def _allocate_seq(site_id, day, prefix) -> int:
    """The next number of the site's day and prefix: one atomic upsert whose row lock (PostgreSQL)
    or write lock (SQLite) is held until the caller commits, so two writers never draw the same
    number and a rollback leaves no gap."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    counter = TicketCounter.__table__
    stmt = upsert(counter).values(site_id=site_id, day=day, prefix=prefix, value=1).on_conflict_do_update(
        index_elements=[counter.c.site_id, counter.c.day, counter.c.prefix],
        set_={"value": counter.c.value + 1},
    ).returning(counter.c.value)
    return db.session.execute(stmt).scalar_one()


def _number(number_prefix: str, seq: int) -> str:
    return f"{number_prefix}{seq:03d}"


_PROVISIONAL = ""   # a ticket's number between its insert and _draw_number, never committed


def _draw_number(ticket: Ticket, site_id, day, prefix) -> None:
    """Give ``ticket`` (inserted with a provisional seq) the next number of its site, day and
    prefix, as the last statement before the commit: the counter row stays locked for this one
    round trip and the commit, not across the ticket's inserts (issue 15: 20 check-ins/s).

    PostgreSQL: one statement (the counter's upsert in a CTE feeding the ticket's UPDATE).
    SQLite: the two statements of _allocate_seq and an UPDATE, under its single write lock."""
    table = Ticket.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        seq = db.session.execute(text(
            "WITH c AS (INSERT INTO ticket_counter (site_id, day, prefix, value) VALUES (:site, :day, :prefix, 1)"
            " ON CONFLICT (site_id, day, prefix) DO UPDATE SET value = ticket_counter.value + 1 RETURNING value)"
            " UPDATE ticket SET seq = c.value, number = :prefix ||"
            " CASE WHEN c.value < 1000 THEN lpad(c.value::text, 3, '0') ELSE c.value::text END"
            " FROM c WHERE ticket.id = :ticket RETURNING ticket.seq"),
            {"site": site_id, "day": day, "prefix": prefix, "ticket": ticket.id}).scalar_one()
    else:
        seq = _allocate_seq(site_id, day, prefix)
        db.session.execute(update(table).where(table.c.id == ticket.id)
                           .values(seq=seq, number=_number(prefix, seq)))
    # What the statement wrote, without marking the ticket changed (no second UPDATE at commit).
    set_committed_value(ticket, "seq", seq)
    set_committed_value(ticket, "number", _number(prefix, seq))


def _issue(site, visit_values, kind, idempotency_key, appointment=None, now=None, queued_already=None):
    """Store the visit, number and store its ticket and the check-in event, commit, publish;
    all in one transaction. An IntegrityError on the visit (an appointment checked in twice at
    once) goes to the caller; one on the ticket (the same idempotency key won a race elsewhere)
    is answered with the ticket that won.

    Locks last (issue 15): the visit, the ticket (with a provisional number), its event and the
    appointment are written first, touching no shared row; then ``queued_already(ticket_id)``
    takes the site's walk-in lock and checks for another ticket of the person (a ticket it returns
    cancels this check-in); then the counter draws the number; the commit bumps the site's
    change sequence last (webapp/changes.py)."""
    now = now or utcnow()
    day = local_day(site.timezone, now)
    prefix = site.prefix_appointment if kind == KIND_APPOINTMENT else site.prefix_walkin
    visit = Visit(**visit_values, site_id=site.id, created_at=now, updated_at=now)
    db.session.add(visit)
    db.session.flush()
    try:
        ticket = Ticket(
            # seq: unique until _draw_number replaces it (visit ids are unique, counters start at 1)
            site_id=site.id, visit=visit, kind=kind, day=day, prefix=prefix, seq=-visit.id,
            number=_PROVISIONAL, token=new_token(),
            idempotency_key=idempotency_key or None, issued_at=now, queued_at=now,
            appointment_at=appointment.scheduled_at if appointment else None,
            assigned_advisor_id=appointment.advisor_id if appointment else None,
            on_time_appointment=bool(appointment) and queueing.on_time(
                now, appointment.scheduled_at, site.appointment_early_minutes, site.appointment_late_minutes),
        )
        db.session.add(ticket)
        db.session.add(VisitEvent(
            site_id=site.id, visit_id=visit.id, actor_kind="customer", action="check_in",
            from_state=None, to_state=visit.state, at=now))
        if appointment is not None:
            appointment.status = "arrived"
        db.session.flush()
        if queued_already is not None:
            earlier = queued_already(ticket.id)
            if earlier is not None:
                number = earlier.number
                db.session.rollback()
                replay = _existing(idempotency_key)   # the same tap arriving twice: its own ticket
                if replay is not None:
                    return replay
                raise AlreadyCheckedIn("already_queued", number)
        _draw_number(ticket, site.id, day, prefix)
        # "ahead": an on-time appointment goes before the waiting walk-ins (realtime.queue_moved)
        event = DomainEvent("ticket.issued", site.id, visit.id, ticket.id,
                            {"number": ticket.number, "kind": kind, "ahead": ticket.on_time_appointment})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = _existing(idempotency_key)
        if existing is None:
            raise
        return existing
    publish(event)      # an arrived booking keeps its parts until its estimate is decided
    return ticket


def check_in_appointment(site: Site, appointment_id: int, idempotency_key: str | None,
                         now: datetime | None = None):
    """Check in an appointment the kiosk's own search found (the caller vouches for the id: see
    kiosk.matching). Only this site's open appointments of today; one already checked in is
    refused with its ticket number, never handed out again (its PIN unlocks personal data)."""
    existing = _existing(idempotency_key)
    if existing is not None:
        return existing
    now = now or utcnow()
    found = db.session.execute(
        select(Appointment, Vehicle.plate, Customer.mobile)
        .join(Vehicle, Appointment.vehicle_id == Vehicle.id)
        .join(Customer, Appointment.customer_id == Customer.id)
        .where(Appointment.id == appointment_id)).first()
    appointment = found[0] if found else None
    start, end = day_bounds_utc(site.timezone, local_day(site.timezone, now))
    if appointment is None or appointment.site_id != site.id or not start <= appointment.scheduled_at < end:
        raise ServiceError("appointment_not_found", 404)
    if appointment.status != "booked":
        _refuse_checked_in(appointment.id)
    # An online booking's records hold only what a stranger typed (services/online_booking): the
    # visit starts unlinked, like a walk-in, and the advisor confirms the stored match at the desk.
    online = getattr(appointment, "source", None) == "online"
    visit = dict(
        customer_id=None if online else appointment.customer_id, vehicle_id=None if online else appointment.vehicle_id,
        appointment_id=appointment.id, plate=found.plate, mobile=found.mobile,
        reason=appointment.reason, description=appointment.description, consent_at=now,
    )
    def queued_already(own_ticket):
        # The car or the person already took a walk-in number today: one ticket per plate/mobile.
        _serialise_walkins(site)
        return ticket_in_queue(site, found.plate, found.mobile, other_than=own_ticket)

    try:
        return _issue(site, visit, KIND_APPOINTMENT, idempotency_key, appointment, now=now,
                      queued_already=queued_already)
    except IntegrityError:
        # Two kiosks confirmed the same appointment at once (unique visit.appointment_id).
        db.session.rollback()
        replay = _existing(idempotency_key)
        if replay is not None:
            return replay
        _refuse_checked_in(appointment_id)


def _refuse_checked_in(appointment_id):
    visit = db.session.scalar(select(Visit).where(Visit.appointment_id == appointment_id))
    if visit is not None and visit.ticket is not None:
        raise AlreadyCheckedIn("appointment_checked_in", visit.ticket.number)
    raise ServiceError("appointment_not_open", 409)


def check_in_walkin(site: Site, plate: str, mobile: str | None, reason: str, description: str | None,
                    consent: bool, idempotency_key: str | None):
    """Validation errors come back as ServiceError with the field named, so the kiosk can show
    the message next to it and keep what was typed."""
    existing = _existing(idempotency_key)
    if existing is not None:
        return existing
    parsed = parse_plate(plate)
    if parsed is None:
        raise ServiceError("plate_invalid", 422, "plate")
    # The mobile is optional: a car the shop has served is matched to its stored customer (and
    # so to their number for notices) by the advisor at the desk, and a new customer gives it
    # there. Required only for plates not on file, the kiosk would tell anyone whether a plate
    # is a customer of the shop. Whatever is typed must be a mobile number.
    number = parse_mobile(mobile) if (mobile or "").strip() else None
    if (mobile or "").strip() and number is None:
        raise ServiceError("mobile_invalid", 422, "mobile")
    if reason not in REASONS:
        raise ServiceError("reason_invalid", 422, "reason")
    if not consent:
        raise ServiceError("consent_required", 422, "consent")
    description = (description or "").strip()[:500] or None
    # Anyone can type any plate and mobile at the kiosk: the visit holds only what was typed.
    # Matching it to a stored customer and car is the advisor's, face to face at reception
    # (services.intake.suggested_records / link_suggested); until then nothing of the stored
    # records shows on this ticket's status page and the visit joins no one's history.
    visit = dict(plate=parsed.value, mobile=number, reason=reason, description=description,
                 vehicle_id=None, customer_id=None, consent_at=utcnow())

    def queued_already(own_ticket):
        _serialise_walkins(site)
        return ticket_in_queue(site, parsed.value, number, other_than=own_ticket)

    return _issue(site, visit, KIND_WALKIN, idempotency_key, queued_already=queued_already)
