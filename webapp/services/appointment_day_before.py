"""The day before and the day after a booking's time (issue 13), run by periodic tasks
(webapp/tasks/periodic.py), each idempotent like the others (conditional UPDATEs):

- ``send_reminders``: from REMIND_FROM (local) on the day before, each booking still booked for
  tomorrow gets one reminder through the notifier, with the manage link when it was booked online.
  A booking made that same day is not reminded: its confirmation is fresh.
- ``mark_no_shows``: a booking still ``booked`` the site's no-show window after its time becomes a
  ``no_show``: it no longer holds capacity (booking_capacity.HOLDING), and it is listed on
  /appointments for a call to rebook (``to_call``, ``record_call``)."""
from datetime import datetime, time, timedelta

from sqlalchemy import select, update

from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Appointment, Site, User
from ..notify import enqueue as enqueue_notice
from ..notify.booking import add_booking_notice
from ..timeutil import day_bounds_utc, local_day, local_to_utc, utcnow
from . import ServiceError
from . import booking_capacity as cap_db
from .appointment_calls import log_call
from .complaints import touched

REMIND_FROM = time(9, 0)     # nobody gets a reminder in the night
CALL_OUTCOMES = ("reached", "no_answer", "rebooked", "cancelled")
OPEN_OUTCOMES = (None, "no_answer")   # still on the list to call
CALL_DAYS = 14                # how far back the list reaches


def _sites():
    return list(db.session.scalars(select(Site).order_by(Site.id)))


def send_reminders(now: datetime | None = None) -> int:
    now = now or utcnow()
    notices = []
    for site in _sites():
        today = local_day(site.timezone, now)
        if cap_db.local_dt(site, now).time() < REMIND_FROM:
            continue
        start, end = day_bounds_utc(site.timezone, today + timedelta(days=1))
        booked_before = local_to_utc(site.timezone, datetime.combine(today, time(0, 0)))
        due = list(db.session.scalars(select(Appointment).where(
            Appointment.site_id == site.id, Appointment.status == "booked", Appointment.reminded_at.is_(None),
            Appointment.scheduled_at >= start, Appointment.scheduled_at < end,
            Appointment.created_at < booked_before)))
        for appointment in due:
            claimed = db.session.execute(update(Appointment).where(
                Appointment.id == appointment.id, Appointment.reminded_at.is_(None), Appointment.status == "booked")
                .values(reminded_at=now).execution_options(synchronize_session=False)).rowcount
            if claimed:     # another runner did not take it first
                notices.append(add_booking_notice(appointment, "appointment_reminder"))
        db.session.commit()
    for notice in notices:
        enqueue_notice(notice)
    return len(notices)


def mark_no_shows(now: datetime | None = None) -> int:
    now = now or utcnow()
    counts = {}
    for site in _sites():
        cutoff = now - timedelta(minutes=site.no_show_minutes or 0)
        counts[site.id] = db.session.execute(update(Appointment).where(
            Appointment.site_id == site.id, Appointment.status == "booked", Appointment.scheduled_at < cutoff)
            .values(status="no_show", no_show_at=now, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if counts[site.id]:
            touched(site.id)
    db.session.commit()
    for site_id, count in counts.items():
        if count:
            publish(DomainEvent("appointment.no_show", site_id, None, None, {"count": count}))
    if any(counts.values()):
        from .appointment_preparation import release_closed
        release_closed()    # a car that did not come holds no parts
    return sum(counts.values())


def to_call(site: Site, now: datetime | None = None) -> list[Appointment]:
    """No-shows of the last two weeks still to call (never called, or no answer yet)."""
    since = (now or utcnow()) - timedelta(days=CALL_DAYS)
    return list(db.session.scalars(select(Appointment).where(
        Appointment.site_id == site.id, Appointment.status == "no_show", Appointment.no_show_at >= since,
        Appointment.call_outcome.is_(None) | (Appointment.call_outcome == "no_answer"))
        .order_by(Appointment.scheduled_at)))


def record_call(actor: User, appointment: Appointment, outcome: str) -> Appointment:
    """What the call to rebook a no-show gave; "no answer" keeps it on the list."""
    if outcome not in CALL_OUTCOMES:
        raise ServiceError("call_outcome_invalid", 422)
    if appointment.status != "no_show":
        raise ServiceError("not_a_no_show", 409)
    if not log_call(actor, appointment, "rebook", outcome, utcnow()):
        db.session.rollback()
        return appointment      # the same click again
    appointment.call_outcome = outcome
    appointment.called_at = utcnow()
    appointment.updated_at = appointment.called_at
    db.session.commit()
    publish(DomainEvent("appointment.called", appointment.site_id, None, None,
                        {"appointment_id": appointment.id, "outcome": outcome}))
    return appointment
