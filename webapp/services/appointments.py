"""Appointments booked by staff (issue 13, /appointments): book, move, cancel. Capacity rules
in webapp/capacity.py, read from the database by booking_capacity.

Each use case takes a typed command (webapp/commands/appointments.py) and checks it against the
site (``validation.Invalid``: field → code, the command's parse problems in turn with its own), then serialises the site's bookings
(an UPDATE of the site row: a row lock on PostgreSQL, the one writer on SQLite) before reading
the day's capacity, so two bookings racing for the last slot or the last hours cannot both see
it free: the second is refused (``BookingRefused``, with the next free times). It commits with
the customer's notice written ``pending``, then queues the notice and publishes the event.
A double submit carries the same idempotency key and gets the first booking back."""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import capacity
from ..commands import appointments as commands
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Appointment, AppointmentOperation, Customer, LabourOperation, Site, User, Vehicle
from ..notify import enqueue as enqueue_notice
from ..notify.booking import add_booking_notice
from ..roles import ADVISOR, SUPERVISORS
from ..timeutil import local_day, utcnow
from ..validation import Invalid
from . import ServiceError
from . import appointment_preparation
from . import booking_capacity as cap_db

NUMBER_PREFIX = "YY"   # 预约


class BookingRefused(ServiceError):
    """The time is not free (or the day closed); ``code`` is capacity's refusal and ``next_free``
    the next free local times for the same work."""

    def __init__(self, code: str, next_free: list[datetime]):
        super().__init__(code, 409, "slot")
        self.code = code
        self.next_free = next_free


@dataclass
class Request:
    """A booking's checked values (what ``_read`` made of the command)."""
    day: date
    start: time
    reason: str
    words: str | None
    note: str | None
    operations: list[LabourOperation]
    advisor: User | None
    overbook_reason: str | None
    vehicle: Vehicle | None = None
    new_customer: dict = field(default_factory=dict)
    email: str | None = None
    typical_hours: Decimal = Decimal("0")    # without operations (an online booking): the kind's usual hours

    @property
    def hours(self) -> Decimal:
        if not self.operations:
            return self.typical_hours
        return sum((Decimal(op.hours) for op in self.operations), Decimal("0"))

    @property
    def kind(self) -> str | None:
        return capacity.cap_kind(self.reason, [op.kind for op in self.operations])


def is_manager(user) -> bool:
    # ``None``: the customer online (/book), who never overbooks.
    return user is not None and user.role in SUPERVISORS


# ---------------------------------------------------------------- checking the command

def _copy(problems: dict, errors: dict, *names: str):
    """The command's parse problems of ``names``, in turn with the service's own checks."""
    for name in names:
        if name in problems:
            errors[name] = problems[name]


def _when(site: Site, day: date | None, start: time | None, problems: dict, errors) -> tuple[date | None, time | None]:
    if "day" in problems:
        errors["day"] = problems["day"]
        return None, None
    today = cap_db.today(site)
    if not today <= day <= today + timedelta(days=cap_db.HORIZON_DAYS):
        errors["day"] = "day_range"
    if "slot" in problems:
        errors["slot"] = problems["slot"]
        return day, None
    if "day" not in errors and datetime.combine(day, start) < cap_db.local_dt(site, utcnow()):
        errors["slot"] = "slot_past"
    return day, start


def _advisor(site: Site, advisor_id: int | None, problems: dict, errors) -> User | None:
    if "advisor_id" in problems:
        errors["advisor_id"] = problems["advisor_id"]
        return None
    if advisor_id is None:
        return None    # least loaded
    user = db.session.get(User, advisor_id)
    if user is None or user.site_id != site.id or user.role != ADVISOR or not user.active:
        errors["advisor_id"] = "advisor_invalid"
        return None
    return user


def _operations(site: Site, ids: tuple[int, ...], problems: dict, errors) -> list[LabourOperation]:
    if "operation_ids" in problems:
        errors["operation_ids"] = problems["operation_ids"]
        return []
    ops = list(db.session.scalars(select(LabourOperation).where(
        LabourOperation.site_id == site.id, LabourOperation.active.is_(True), LabourOperation.id.in_(ids))
        .order_by(LabourOperation.code))) if ids else []
    if len(ops) != len(set(ids)):
        errors["operation_ids"] = "operation_invalid"
    return ops


def _customer_and_vehicle(site: Site, cmd: commands.Booking, errors) -> tuple[Vehicle | None, dict]:
    if cmd.vehicle_id:
        vehicle = db.session.get(Vehicle, cmd.vehicle_id)
        if vehicle is None or vehicle.site_id != site.id or vehicle.customer_id is None:
            errors["vehicle_id"] = "vehicle_invalid"
            return None, {}
        return vehicle, {}
    _copy(cmd.problems, errors, "name", "plate")
    if "plate" not in errors and db.session.scalar(
            select(Vehicle.id).where(Vehicle.site_id == site.id, Vehicle.plate == cmd.plate)):
        errors["plate"] = "plate_known"
    _copy(cmd.problems, errors, "mobile")
    return None, {"name": cmd.name, "plate": cmd.plate, "mobile": cmd.mobile}


def _read(site: Site, actor: User, cmd: commands.Booking) -> Request:
    errors: dict[str, str] = {}
    vehicle, new = _customer_and_vehicle(site, cmd, errors)
    _copy(cmd.problems, errors, "reason", "email")
    day, start = _when(site, cmd.day, cmd.start, cmd.problems, errors)
    _copy(cmd.problems, errors, "description", "note")
    operations = _operations(site, cmd.operation_ids, cmd.problems, errors)
    advisor = _advisor(site, cmd.advisor_id, cmd.problems, errors)
    overbook_reason = None
    if is_manager(actor):
        overbook_reason = cmd.overbook_reason
        _copy(cmd.problems, errors, "overbook_reason")
    if errors:
        raise Invalid(errors)
    return Request(day, start, reason=cmd.reason, words=cmd.description, note=cmd.note, operations=operations,
                   advisor=advisor, overbook_reason=overbook_reason, vehicle=vehicle, new_customer=new,
                   email=cmd.email)


# ---------------------------------------------------------------- the capacity check

def _lock(site_id: int):
    """Serialise the bookings of a site before reading its capacity (see the module docstring)."""
    db.session.execute(update(Site).where(Site.id == site_id).values(change_seq=Site.change_seq + 1))


def _fit(site: Site, actor: User, day: date, start: time, hours: Decimal, kind: str | None,
         advisor: User | None, overbook_reason: str | None, exclude_id: int | None = None) -> tuple[int | None, bool]:
    """Check the time against the day's capacity under the lock: (advisor id to book, whether it
    is an overbooking). Raises BookingRefused with the next free times."""
    advisors = cap_db.advisors_of(site)
    day_cap = cap_db.day_of(site, day, exclude_id, advisors)
    advisor_id = advisor.id if advisor else None
    if advisor_id is None:
        advisor_id = capacity.least_loaded(day_cap, start, [a.id for a in advisors])
    codes = capacity.refusals(day_cap, start, hours, kind, advisor_id)
    stands = capacity.blocking(codes, is_manager(actor), overbook_reason)
    if stands is not None:
        db.session.rollback()
        raise BookingRefused(stands, cap_db.next_free(site, hours, kind, datetime.combine(day, start), exclude_id))
    if advisor_id is None and advisors:   # a manager overbooking a slot every advisor has full
        advisor_id = min(advisors, key=lambda a: dict(day_cap.advisor_load).get(a.id, 0)).id
    return advisor_id, bool(codes)


def _after_commit(appointment: Appointment, notice, name: str):
    enqueue_notice(notice)
    publish(DomainEvent(name, appointment.site_id, None, None,
                        {"appointment_id": appointment.id, "status": appointment.status}))


# ---------------------------------------------------------------- use cases

def book(actor: User, cmd: commands.Booking, idempotency_key: str | None) -> Appointment:
    """Book an appointment on ``actor``'s site (the staff form's command)."""
    site = db.session.get(Site, actor.site_id)
    key = (idempotency_key or "").strip()[:64] or None
    if key:
        done = db.session.scalar(select(Appointment).where(Appointment.idempotency_key == key,
                                                           Appointment.site_id == site.id))
        if done is not None:
            return done
    req = _read(site, actor, cmd)
    _lock(site.id)
    advisor_id, overbooked = _fit(site, actor, req.day, req.start, req.hours, req.kind, req.advisor,
                                  req.overbook_reason)
    vehicle = req.vehicle
    if vehicle is None:
        customer = Customer(site_id=site.id, name=req.new_customer["name"], mobile=req.new_customer["mobile"])
        db.session.add(customer)
        db.session.flush()
        vehicle = Vehicle(site_id=site.id, customer_id=customer.id, plate=req.new_customer["plate"])
        db.session.add(vehicle)
        db.session.flush()
    customer = db.session.get(Customer, vehicle.customer_id)
    if req.email:
        customer.email = req.email
    return store(site, req, key, customer, vehicle, advisor_id, overbooked, created_by_id=actor.id)


def store(site: Site, req: Request, key: str | None, customer: Customer, vehicle: Vehicle, advisor_id: int | None,
          overbooked: bool, created_by_id: int | None, **extra) -> Appointment:
    """Number and commit a booking that passed ``_fit`` under the lock, with its notice; the
    same idempotency key sent twice at once gets the first booking back. ``extra``: more columns
    (the online booking's source and manage token)."""
    from .checkin import _allocate_seq   # the shop's daily counters (tickets, bills) number bookings too
    today = cap_db.today(site)
    now = utcnow()
    appointment = Appointment(
        site_id=site.id, customer_id=customer.id, vehicle_id=vehicle.id, advisor_id=advisor_id,
        scheduled_at=cap_db.to_utc(site, req.day, req.start), reason=req.reason, description=req.words,
        note=req.note, status="booked", hours=req.hours, cap_kind=req.kind, created_by_id=created_by_id,
        overbook_reason=req.overbook_reason if overbooked else None, idempotency_key=key, created_at=now,
        updated_at=now,
        number=f"{NUMBER_PREFIX}-{today:%Y%m%d}-{_allocate_seq(site.id, today, NUMBER_PREFIX):03d}",
        operations=[AppointmentOperation(operation_id=op.id, hours=op.hours) for op in req.operations], **extra)
    db.session.add(appointment)
    try:
        db.session.flush()
        notice = add_booking_notice(appointment, "appointment_booked")
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        done = db.session.scalar(select(Appointment).where(Appointment.idempotency_key == key)) if key else None
        if done is None or done.site_id != site.id:
            raise
        return done     # the same form sent twice at once: the first one booked it
    _after_commit(appointment, notice, "appointment.booked")
    appointment_preparation.prepare_quietly(appointment, actor=db.session.get(User, created_by_id) if created_by_id else None)
    return appointment


def _open(appointment: Appointment):
    if appointment.status != "booked":
        raise ServiceError("not_booked", 409)


def move(actor: User, appointment: Appointment, cmd: commands.Move) -> Appointment:
    """Move a booking to another day, slot or advisor (the same work, checked against capacity
    without the booking's own place)."""
    site = db.session.get(Site, appointment.site_id)
    _open(appointment)
    errors: dict[str, str] = {}
    day, start = _when(site, cmd.day, cmd.start, cmd.problems, errors)
    advisor = _advisor(site, cmd.advisor_id, cmd.problems, errors)
    overbook_reason = None
    if is_manager(actor):
        overbook_reason = cmd.overbook_reason
        _copy(cmd.problems, errors, "overbook_reason")
    if errors:
        raise Invalid(errors)
    _lock(site.id)
    db.session.refresh(appointment)
    _open(appointment)
    advisor_id, overbooked = _fit(site, actor, day, start, Decimal(appointment.hours or 0), appointment.cap_kind,
                                  advisor, overbook_reason, exclude_id=appointment.id)
    when = cap_db.to_utc(site, day, start)
    if (when, advisor_id) == (appointment.scheduled_at, appointment.advisor_id):
        db.session.rollback()
        return appointment      # the same move sent twice (or nothing changed): no second notice
    appointment.scheduled_at = when
    appointment.advisor_id = advisor_id
    appointment.overbook_reason = overbook_reason if overbooked else None
    appointment.updated_at = utcnow()
    db.session.flush()
    notice = add_booking_notice(appointment, "appointment_moved")
    db.session.commit()
    _after_commit(appointment, notice, "appointment.moved")
    appointment_preparation.prepare_quietly(appointment, actor=actor)   # into the horizon, or out of it
    return appointment


def cancel(actor: User, appointment: Appointment, cmd: commands.Cancel) -> Appointment:
    """Cancel a booking, with the reason (checked by ``commands.parse_cancel``); gives its
    capacity back. Cancelling twice is a no-op."""
    text = cmd.reason
    done = db.session.execute(update(Appointment).where(
        Appointment.id == appointment.id, Appointment.status == "booked")
        .values(status="cancelled", cancel_reason=text, cancelled_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not done:
        db.session.rollback()
        db.session.refresh(appointment)
        if appointment.status == "cancelled":
            return appointment
        raise ServiceError("not_booked", 409)
    db.session.flush()
    db.session.refresh(appointment)
    notice = add_booking_notice(appointment, "appointment_cancelled")
    db.session.commit()
    _after_commit(appointment, notice, "appointment.cancelled")
    appointment_preparation.prepare_quietly(appointment, actor=actor)   # its parts go back to the shelf
    return appointment


# ---------------------------------------------------------------- reading a day

@dataclass
class DayView:
    day: date
    capacity: capacity.Day
    bookings: list[tuple[Appointment, time]]     # every booking of the day, cancelled too
    advisors: list[User]
    prepared: dict = field(default_factory=dict)   # appointment id → its parts (appointment_preparation)


def day_view(site: Site, day: date) -> DayView:
    start, end = cap_db.day_bounds_utc(site.timezone, day)
    rows = db.session.scalars(select(Appointment).where(
        Appointment.site_id == site.id, Appointment.scheduled_at >= start, Appointment.scheduled_at < end)
        .order_by(Appointment.scheduled_at, Appointment.id)).all()
    advisors = cap_db.advisors_of(site)
    return DayView(day, cap_db.day_of(site, day, advisors=advisors),
                   [(a, cap_db.local_dt(site, a.scheduled_at).time()) for a in rows], advisors,
                   appointment_preparation.prepared(site, rows))


def expected_today(site: Site, now: datetime | None = None) -> list[Appointment]:
    """The bookings of the site's day still to arrive, earliest first: the advisors' console
    shows them beside the queue so reception can prepare (接待准备) and sees who is late."""
    start, end = cap_db.day_bounds_utc(site.timezone, local_day(site.timezone, now or utcnow()))
    return list(db.session.scalars(
        select(Appointment).where(Appointment.site_id == site.id, Appointment.status == "booked",
                                  Appointment.scheduled_at >= start, Appointment.scheduled_at < end)
        .order_by(Appointment.scheduled_at, Appointment.id).limit(50)
        .options(selectinload(Appointment.vehicle), selectinload(Appointment.customer))))
