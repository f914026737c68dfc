"""The appointment board (预约看板, /appointments/board): a day by advisor and reception slot (or
a week, a column a day),
each booking with its state — booked, confirmed (on the day-before call), late (past the site's late window and not here), arrived
(checked in at the kiosk), in service (the advisor has taken the car in), cancelled — and the
day's hours and slots against capacity. Read-only; the page refetches it on live hints."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import capacity
from ..extensions import db
from ..models import Appointment, Site, User, Visit
from ..timeutil import day_bounds_utc, utcnow
from ..workflow import VisitState
from . import booking_capacity as cap_db

# A visit past these states has been taken in by the advisor: the booking is "in service".
NOT_YET_RECEIVED = {VisitState.WAITING.value, VisitState.CALLED.value}


@dataclass
class Card:
    appointment: Appointment
    start: time
    state: str        # booked, confirmed, late, arrived, in_service, cancelled, no_show


@dataclass
class Board:
    day: date
    capacity: capacity.Day
    advisors: list[User]
    slots: list[time]
    cells: dict        # (slot start, advisor id or None) → [Card]
    unassigned: bool   # bookings without an advisor (older ones): a column of their own
    counts: dict       # state → how many


def _plus(t: time, minutes: int) -> time:
    end = datetime.combine(date.min, t) + timedelta(minutes=minutes)
    return end.time() if end.date() == date.min else time.max


def _state(a: Appointment, visit: Visit | None, now_local: datetime, late_minutes: int, local_start: datetime) -> str:
    if a.status in ("cancelled", "no_show"):
        return a.status
    if visit is not None:
        return "arrived" if visit.state in NOT_YET_RECEIVED else "in_service"
    if a.status == "arrived":
        return "arrived"
    if now_local > local_start + timedelta(minutes=late_minutes):
        return "late"
    return "confirmed" if a.confirmed_at else "booked"


def board(site: Site, day: date) -> Board:
    start, end = day_bounds_utc(site.timezone, day)
    rows = db.session.scalars(select(Appointment).where(
        Appointment.site_id == site.id, Appointment.scheduled_at >= start, Appointment.scheduled_at < end)
        .options(selectinload(Appointment.vehicle), selectinload(Appointment.customer))
        .order_by(Appointment.scheduled_at, Appointment.id)).all()
    visits = {v.appointment_id: v for v in db.session.scalars(
        select(Visit).where(Visit.appointment_id.in_([a.id for a in rows])))} if rows else {}
    advisors = cap_db.advisors_of(site)
    day_cap = cap_db.day_of(site, day, advisors=advisors)
    slots = [s.start for s in day_cap.slots]
    now_local = cap_db.local_dt(site, utcnow())
    known = {a.id for a in advisors}
    cells: dict = {}
    counts: dict = {}
    for a in rows:
        local = cap_db.local_dt(site, a.scheduled_at)
        held = [s for s in day_cap.slots if s.start <= local.time()]
        slot = held[-1].start if held else None
        if slot is None or local.time() >= _plus(slot, site.slot_minutes):
            slot = local.time().replace(second=0, microsecond=0)   # off the slots (over lunch…): a row of its own
        if slot not in slots:
            slots.append(slot)
        card = Card(a, local.time(), _state(a, visits.get(a.id), now_local, site.appointment_late_minutes, local))
        cells.setdefault((slot, a.advisor_id if a.advisor_id in known else None), []).append(card)
        counts[card.state] = counts.get(card.state, 0) + 1
    unassigned = any(key[1] is None for key in cells)
    return Board(day, day_cap, advisors, sorted(slots), cells, unassigned, counts)


@dataclass
class WeekDay:
    board: Board
    cards: list        # the day's cards by time, cancelled ones left out
    today: bool


def week(site: Site, day: date) -> list[WeekDay]:
    """The week (Monday to Sunday) holding ``day``: each day's board, its bookings by time."""
    monday = day - timedelta(days=day.weekday())
    today = cap_db.today(site)
    days = []
    for offset in range(7):
        shown = monday + timedelta(days=offset)
        b = board(site, shown)
        cards = sorted((c for cell in b.cells.values() for c in cell if c.state != "cancelled"),
                       key=lambda c: (c.start, c.appointment.id))
        days.append(WeekDay(b, cards, shown == today))
    return days
