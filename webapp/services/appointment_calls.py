"""The day-before confirmation calls (issue 13, 5): the bookings of tomorrow that nobody has
confirmed yet, to call like the follow-up queue, and what each call gave:

- ``reached``: the customer comes; the booking is confirmed (the board shows it so);
- ``no_answer``: it stays on the list, the attempts and the last one shown;
- ``moved``: the customer wants another time; the call is noted and the advisor moves it;
- ``cancelled``: with the reason, through the same cancel as the desk's (capacity released).

Every call is an append-only ``AppointmentCall`` row (who, when, what); the calls to rebook a
no-show (appointment_day_before.record_call) are kept the same way. A double click records once:
the same outcome by the same person on the same booking within ``REPEAT_SECONDS`` is the same
call."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update

from ..commands.appointments import Cancel
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Appointment, AppointmentCall, Site, User
from ..timeutil import day_bounds_utc, utcnow
from . import ServiceError
from . import appointments as bookings
from . import booking_capacity as cap_db

OUTCOMES = ("reached", "no_answer", "moved", "cancelled")
REPEAT_SECONDS = 60


@dataclass
class ToConfirm:
    appointment: Appointment
    attempts: int                 # calls with no answer so far
    last_call: datetime | None


def confirm_day(site: Site, now: datetime | None = None) -> date:
    """The day whose bookings are called: tomorrow, in the site's time."""
    return cap_db.local_dt(site, now or utcnow()).date() + timedelta(days=1)


def to_confirm(site: Site, now: datetime | None = None) -> list[ToConfirm]:
    start, end = day_bounds_utc(site.timezone, confirm_day(site, now))
    rows = db.session.scalars(select(Appointment).where(
        Appointment.site_id == site.id, Appointment.status == "booked", Appointment.confirmed_at.is_(None),
        Appointment.scheduled_at >= start, Appointment.scheduled_at < end)
        .order_by(Appointment.scheduled_at, Appointment.id)).all()
    if not rows:
        return []
    tries = dict(db.session.execute(
        select(AppointmentCall.appointment_id, func.count()).where(
            AppointmentCall.appointment_id.in_([a.id for a in rows]), AppointmentCall.purpose == "confirm",
            AppointmentCall.outcome == "no_answer").group_by(AppointmentCall.appointment_id)).all())
    last = dict(db.session.execute(
        select(AppointmentCall.appointment_id, func.max(AppointmentCall.at)).where(
            AppointmentCall.appointment_id.in_([a.id for a in rows]), AppointmentCall.purpose == "confirm")
        .group_by(AppointmentCall.appointment_id)).all())
    return [ToConfirm(a, tries.get(a.id, 0), last.get(a.id)) for a in rows]


def log_call(actor: User | None, appointment: Appointment, purpose: str, outcome: str, now: datetime) -> bool:
    """Adds the call unless it is the same click again; True when it was added (not committed)."""
    repeat = db.session.scalar(select(AppointmentCall.id).where(
        AppointmentCall.appointment_id == appointment.id, AppointmentCall.purpose == purpose,
        AppointmentCall.outcome == outcome, AppointmentCall.user_id == (actor.id if actor else None),
        AppointmentCall.at > now - timedelta(seconds=REPEAT_SECONDS)).limit(1))
    if repeat is not None:
        return False
    db.session.add(AppointmentCall(appointment_id=appointment.id, user_id=actor.id if actor else None,
                                   purpose=purpose, outcome=outcome, at=now))
    return True


def record(actor: User, appointment: Appointment, outcome: str, cancel_reason: str | None = None) -> Appointment:
    """What the day-before call gave. "cancelled" needs the reason (``commands.parse_cancel``)."""
    if outcome not in OUTCOMES:
        raise ServiceError("call_outcome_invalid", 422)
    if appointment.status != "booked":
        raise ServiceError("not_booked", 409)
    now = utcnow()
    if not log_call(actor, appointment, "confirm", outcome, now):
        db.session.rollback()
        return appointment
    if outcome == "cancelled":
        db.session.flush()
        return bookings.cancel(actor, appointment, Cancel(cancel_reason or ""))   # commits with the call
    if outcome == "reached":
        db.session.execute(update(Appointment).where(
            Appointment.id == appointment.id, Appointment.confirmed_at.is_(None))
            .values(confirmed_at=now, updated_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(appointment)
    publish(DomainEvent("appointment.confirm_call", appointment.site_id, None, None,
                        {"appointment_id": appointment.id, "outcome": outcome}))
    return appointment
