"""Preparing a booking's parts (接待准备, issue 13): what its operations need (webapp/preparation.py)
is reserved against stock before the car comes, the parts clerk picks from a list per day, and
the advisor sees what is short.

A booking holds parts as StockMovement rows (``reserve``/``release``) whose reference is the
booking number; what it holds is their sum, so there is no second counter to drift. A booking is
prepared when it comes within ``HORIZON_DAYS`` (booked or moved there, and by the periodic job
``prepare_due`` for the rest); leaving the horizon, a cancel or a no-show releases its hold. An arrival keeps it until the
customer decides the visit's estimate: the approved part lines are reserved by the estimate
(services/estimates.decide) and the booking lets go of its own in the same transaction
(``hand_over``), so the parts are never free in between and never held twice. A visit cancelled
before that gives the hold back on the next periodic run.

Each run locks the booking's row (a no-op UPDATE: a row lock on PostgreSQL, the one writer on
SQLite) before reading what it holds, so two runs at once reserve once; the part's reserved
figure grows by a conditional UPDATE (on hand − reserved still covers it), so two bookings
racing for the last unit cannot both get it."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import case, func, select, update

from .. import preparation
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Appointment, MaintenanceItem, Notification, Part, Site, StockMovement, Vehicle, Visit
from ..notify import enqueue as enqueue_notice
from ..notify.backends import backend_from_config
from ..timeutil import day_bounds_utc, local_day, utcnow
from ..workflow import VisitState

HORIZON_DAYS = 1          # today and tomorrow: the day-before preparation
SHORT_KIND = "parts_short"
ZERO = Decimal("0")


def reference(appointment: Appointment) -> str:
    return appointment.number or f"appointment {appointment.id}"


def _schedule(site_id: int) -> list[preparation.Item]:
    return [preparation.Item(i.operation_id, i.part_id, i.part_quantity, i.make, i.model)
            for i in db.session.scalars(select(MaintenanceItem).where(
                MaintenanceItem.site_id == site_id, MaintenanceItem.part_id.is_not(None)))]


def needs_of(appointment: Appointment, schedule=None) -> dict[int, Decimal]:
    vehicle = appointment.vehicle or db.session.get(Vehicle, appointment.vehicle_id)
    return preparation.needs([o.operation_id for o in appointment.operations], vehicle.make if vehicle else None,
                             vehicle.model if vehicle else None,
                             _schedule(appointment.site_id) if schedule is None else schedule)


def held_by(site_id: int, references) -> dict[str, dict[int, Decimal]]:
    """reference → part id → quantity the booking holds now (reserves minus releases)."""
    references = list(references)
    if not references:
        return {}
    signed = case((StockMovement.kind == "reserve", StockMovement.quantity), else_=-StockMovement.quantity)
    out: dict[str, dict[int, Decimal]] = {}
    for ref, part_id, qty in db.session.execute(
            select(StockMovement.reference, StockMovement.part_id, func.sum(signed))
            .where(StockMovement.site_id == site_id, StockMovement.kind.in_(("reserve", "release")),
                   StockMovement.visit_id.is_(None) | (StockMovement.kind == "release"),
                   StockMovement.reference.in_(references))
            .group_by(StockMovement.reference, StockMovement.part_id)):
        if qty and Decimal(qty) > 0:
            out.setdefault(ref, {})[part_id] = Decimal(qty)
    return out


# An arrived booking keeps its hold while its visit has not reached the estimate's decision.
BEFORE_DECISION = {VisitState.WAITING.value, VisitState.CALLED.value, VisitState.RECEPTION.value,
                   VisitState.INSPECTION.value, VisitState.INTERVIEW.value, VisitState.ESTIMATE.value,
                   VisitState.AUTHORISATION.value}


def in_horizon(site: Site, appointment: Appointment, now: datetime | None = None) -> bool:
    if appointment.status == "arrived":
        state = db.session.scalar(select(Visit.state).where(Visit.appointment_id == appointment.id))
        return state in BEFORE_DECISION
    today = local_day(site.timezone, now or utcnow())
    _start, end = day_bounds_utc(site.timezone, today + timedelta(days=HORIZON_DAYS))
    return appointment.status == "booked" and appointment.scheduled_at < end


def hand_over(visit, actor=None) -> dict[int, Decimal]:
    """The estimate of ``visit`` reserves what the customer approved: let go of its booking's
    hold, inside the caller's transaction (no commit). Writes the release movements and returns
    part id → quantity released; the caller takes it off ``Part.reserved`` (never below zero)
    with its own reservations, in one statement at the end of its transaction (issue 15: the
    part rows are shared by every visit of the site, their locks are kept short)."""
    if visit.appointment_id is None:
        return {}
    appointment = db.session.get(Appointment, visit.appointment_id)
    ref = reference(appointment)
    released = held_by(visit.site_id, [ref]).get(ref, {})
    for part_id, qty in released.items():
        db.session.add(StockMovement(site_id=visit.site_id, part_id=part_id, kind="release", quantity=qty,
                                     reference=ref, user_id=getattr(actor, "id", None), visit_id=visit.id))
    return dict(released)


def _reserve(part_id: int, wanted: Decimal) -> Decimal:
    """Add up to ``wanted`` to the part's reserved figure, never past on hand; what it got."""
    for _attempt in range(3):
        free = db.session.scalar(select(Part.on_hand - Part.reserved).where(Part.id == part_id)) or ZERO
        qty = min(wanted, max(ZERO, Decimal(free)))
        if qty <= 0:
            return ZERO
        done = db.session.execute(update(Part).where(Part.id == part_id, Part.on_hand - Part.reserved >= qty)
                                  .values(reserved=Part.reserved + qty)
                                  .execution_options(synchronize_session=False)).rowcount
        if done:
            return qty
    return ZERO


def prepare(appointment: Appointment, actor=None, visit=None, now: datetime | None = None) -> list[preparation.Line]:
    """Bring the booking's hold to what it needs now (nothing once it is not a booking within the
    horizon) and commit; the lines with what is short. ``visit``: the arrival the hold is let go for."""
    site = db.session.get(Site, appointment.site_id)
    db.session.execute(update(Appointment).where(Appointment.id == appointment.id)
                       .values(updated_at=Appointment.updated_at).execution_options(synchronize_session=False))
    db.session.refresh(appointment)
    ref = reference(appointment)
    held = held_by(site.id, [ref]).get(ref, {})
    need = needs_of(appointment) if in_horizon(site, appointment, now) else {}
    if not need and not held:
        db.session.commit()
        return []
    parts = {p.id: p for p in db.session.scalars(select(Part).where(Part.id.in_(set(need) | set(held))))}
    lines = preparation.plan(need, held, {pid: p.available for pid, p in parts.items()})
    done = []
    user_id = getattr(actor, "id", None)
    for line in lines:
        got = _reserve(line.part_id, line.to_reserve) if line.to_reserve and line.part_id in parts else ZERO
        if got:
            db.session.add(StockMovement(site_id=site.id, part_id=line.part_id, kind="reserve", quantity=got,
                                         reference=ref, user_id=user_id))
        if line.to_release:
            db.session.execute(update(Part).where(Part.id == line.part_id).values(
                reserved=case((Part.reserved > line.to_release, Part.reserved - line.to_release), else_=0))
                .execution_options(synchronize_session=False))
            db.session.add(StockMovement(site_id=site.id, part_id=line.part_id, kind="release",
                                         quantity=line.to_release, reference=ref, user_id=user_id,
                                         visit_id=getattr(visit, "id", None)))
        done.append(preparation.Line(line.part_id, line.need, line.held, got, line.to_release))
    short = preparation.shortages(done)
    notice = _short_notice(appointment, short, parts) if short else None
    db.session.commit()
    for part in parts.values():
        db.session.refresh(part)
    if notice is not None:
        enqueue_notice(notice)
    if short or any(line.to_reserve or line.to_release for line in done):
        publish(DomainEvent("appointment.prepared", site.id, None, None,
                            {"appointment_id": appointment.id, "short": len(short)}))
    return done


def _short_notice(appointment: Appointment, short, parts) -> Notification | None:
    """One notice to the booking's advisor the first time preparation finds it short (the badge
    on /appointments and the console says it every time they look)."""
    if appointment.advisor is None or db.session.scalar(select(Notification.id).where(
            Notification.appointment_id == appointment.id, Notification.kind == SHORT_KIND).limit(1)):
        return None
    what = "; ".join(f"{parts[line.part_id].number} {parts[line.part_id].name_zh} ×{line.short.normalize():f}"
                     f" ({parts[line.part_id].lead_days}d)" for line in short if line.part_id in parts)
    row = Notification(site_id=appointment.site_id, appointment_id=appointment.id, kind=SHORT_KIND,
                       channel="unknown", recipient="", status="pending", attempts=0, created_at=utcnow(),
                       subject=f"缺件 parts short: {reference(appointment)}"[:255], body=what)
    try:
        backend = backend_from_config(current_app.config)
    except Exception as exc:  # noqa: BLE001 - a bad setting is logged on the row, not raised
        row.status, row.error = "failed", str(exc)[:2000]
    else:
        row.channel = backend.channel[:16]
        recipient = backend.recipient_for(appointment.advisor)
        if recipient:
            row.recipient = recipient[:255]
        else:
            row.status, row.error = "skipped", "no_address"
    db.session.add(row)
    return row if row.status == "pending" else None


def prepare_quietly(appointment: Appointment, **kwargs) -> None:
    """A hook after a booking's own commit: preparation failing must not fail the booking (the
    periodic run tries again)."""
    try:
        prepare(appointment, **kwargs)
    except Exception:  # noqa: BLE001
        db.session.rollback()
        current_app.logger.exception("preparing %s failed", reference(appointment))


def prepare_due(now: datetime | None = None) -> int:
    """The periodic run: every booking of the horizon prepared (tops up once stock came), and
    the holds of bookings no longer open released. How many bookings it looked at."""
    now = now or utcnow()
    count = 0
    for site in db.session.scalars(select(Site).order_by(Site.id)).all():
        today = local_day(site.timezone, now)
        _s, end = day_bounds_utc(site.timezone, today + timedelta(days=HORIZON_DAYS))
        open_ids = list(db.session.scalars(select(Appointment.id).where(
            Appointment.site_id == site.id, Appointment.status == "booked", Appointment.scheduled_at < end,
            Appointment.scheduled_at >= now - timedelta(days=1))))
        closed_ids = _closed_holding(site.id)
        for appointment_id in open_ids + closed_ids:
            prepare(db.session.get(Appointment, appointment_id), now=now)
            count += 1
    return count


def release_closed() -> int:
    """Let go of the holds of bookings no longer open (after the no-show run)."""
    count = 0
    for site_id in db.session.scalars(select(Site.id).order_by(Site.id)).all():
        for appointment_id in _closed_holding(site_id):
            prepare(db.session.get(Appointment, appointment_id))
            count += 1
    return count


def _closed_holding(site_id: int) -> list[int]:
    """Bookings still holding parts that are no longer booked (a no-show, an arrival whose hook
    failed) or were moved beyond the horizon."""
    refs = held_by(site_id, db.session.scalars(select(StockMovement.reference).where(
        StockMovement.site_id == site_id, StockMovement.kind == "reserve", StockMovement.visit_id.is_(None),
        StockMovement.reference.like("YY-%")).distinct()))
    if not refs:
        return []
    return list(db.session.scalars(select(Appointment.id).where(
        Appointment.site_id == site_id, Appointment.number.in_(list(refs)))))


# ---------------------------------------------------------------- reading: badges and the pick list

@dataclass
class PartLine:
    part: Part
    need: Decimal
    held: Decimal

    @property
    def short(self) -> Decimal:
        return max(ZERO, self.need - self.held)


@dataclass
class Prepared:
    appointment: Appointment
    lines: list[PartLine]

    @property
    def short(self) -> list[PartLine]:
        return [line for line in self.lines if line.short > 0]


def prepared(site: Site, appointments, now: datetime | None = None) -> dict[int, Prepared]:
    """appointment id → its parts (needed, held, short), for the bookings within the horizon
    (the others are not prepared yet: nothing to say about them)."""
    due = [a for a in appointments if in_horizon(site, a, now)]
    if not due:
        return {}
    schedule = _schedule(site.id)
    held = held_by(site.id, [reference(a) for a in due])
    out = {}
    needs = {a.id: needs_of(a, schedule) for a in due}
    part_ids = {pid for n in needs.values() for pid in n}
    parts = {p.id: p for p in db.session.scalars(select(Part).where(Part.id.in_(part_ids)))} if part_ids else {}
    for a in due:
        mine = held.get(reference(a), {})
        lines = [PartLine(parts[pid], qty, mine.get(pid, ZERO)) for pid, qty in needs[a.id].items() if pid in parts]
        if lines:
            out[a.id] = Prepared(a, sorted(lines, key=lambda line: line.part.number))
    return out


def pick_list(site: Site, day: date, now: datetime | None = None) -> list[tuple[Appointment, datetime, Prepared]]:
    """The day's bookings with parts to pick, in time order, with their local time."""
    from . import booking_capacity as cap_db
    start, end = day_bounds_utc(site.timezone, day)
    rows = list(db.session.scalars(select(Appointment).where(
        Appointment.site_id == site.id, Appointment.status == "booked",
        Appointment.scheduled_at >= start, Appointment.scheduled_at < end)
        .order_by(Appointment.scheduled_at, Appointment.id)))
    found = prepared(site, rows, now)
    return [(a, cap_db.local_dt(site, a.scheduled_at), found[a.id]) for a in rows if a.id in found]
