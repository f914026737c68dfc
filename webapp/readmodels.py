"""What each screen shows, read from the database in one place.

Live views rebuild their whole state from these functions after every message and every
reconnect, so a lost Socket.IO message can never leave a screen wrong for long.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select

from . import queueing
from .extensions import db
from .models import Site, Ticket, User, VisitEvent
from .services.calling import advisors_on_duty, waiting_entries
from .timeutil import utcnow
from .workflow import CUSTOMER_STAGES, VisitState, customer_stage
from .statuses import TicketStatus

RECENT_CALLS = 6
CALL_SHOWN_MINUTES = 10  # a called number stays "now calling" on the TV this long


@dataclass
class LobbyState:
    now_calling: list[Ticket]
    recent: list[Ticket]
    waiting: int


def lobby_state(site: Site, now: datetime | None = None) -> LobbyState:
    now = now or utcnow()
    called = list(db.session.scalars(
        select(Ticket).where(Ticket.site_id == site.id, Ticket.status.in_(
            (TicketStatus.CALLED, TicketStatus.SERVED, TicketStatus.SKIPPED)),
                             Ticket.called_at.is_not(None), Ticket.called_at >= now - timedelta(hours=12))
        .order_by(Ticket.called_at.desc()).limit(RECENT_CALLS + 4)))
    now_calling = [t for t in called if t.status == TicketStatus.CALLED
                   and t.called_at >= now - timedelta(minutes=CALL_SHOWN_MINUTES)][:4]
    recent = [t for t in called if t not in now_calling][:RECENT_CALLS]
    waiting = db.session.scalar(
        select(db.func.count(Ticket.id)).where(Ticket.site_id == site.id, Ticket.status == TicketStatus.WAITING))
    return LobbyState(now_calling, recent, waiting or 0)


@dataclass
class QueueRow:
    ticket: Ticket
    position: int
    wait_minutes: int


def queue_state(advisor: User, now: datetime | None = None) -> list[QueueRow]:
    """The waiting queue in the order this advisor's "Call next" would take it."""
    now = now or utcnow()
    ordered = queueing.order(waiting_entries(advisor.site_id), advisor.id)
    tickets = {t.id: t for t in db.session.scalars(
        select(Ticket).where(Ticket.id.in_([e.ticket_id for e in ordered])))} if ordered else {}
    return [QueueRow(tickets[e.ticket_id], i + 1, int((now - e.queued_at).total_seconds() // 60))
            for i, e in enumerate(ordered)]


def _count_ahead_statements(what=None):
    t = Ticket.__table__
    p_id, p_queued, p_key_at = bindparam("id"), bindparam("queued_at"), bindparam("key_at")
    waiting = (t.c.site_id == bindparam("site_id"), t.c.status == TicketStatus.WAITING, t.c.id != p_id)
    count = select(func.count(t.c.id) if what is None else what)
    at = func.coalesce(t.c.appointment_at, t.c.queued_at)
    on_time = count.where(*waiting, t.c.on_time_appointment.is_(True), or_(
        at < p_key_at,
        and_(at == p_key_at, t.c.queued_at < p_queued),
        and_(at == p_key_at, t.c.queued_at == p_queued, t.c.id < p_id)))
    others = count.where(*waiting, or_(
        t.c.on_time_appointment.is_(True),
        t.c.queued_at < p_queued,
        and_(t.c.queued_at == p_queued, t.c.id < p_id)))
    return on_time, others


# Built once: every kiosk ticket and every status page asks (see count_ahead).
_AHEAD_ON_TIME, _AHEAD_OTHERS = _count_ahead_statements()


def count_ahead(ticket: Ticket) -> int:
    """queueing.people_ahead computed by the database: two COUNTs on the indexed waiting tickets
    instead of loading the whole queue (the kiosk and every status page ask this)."""
    params = {"site_id": ticket.site_id, "id": ticket.id, "queued_at": ticket.queued_at}
    if ticket.on_time_appointment:
        params["key_at"] = ticket.appointment_at or ticket.queued_at
        return db.session.execute(_AHEAD_ON_TIME, params).scalar() or 0
    return db.session.execute(_AHEAD_OTHERS, params).scalar() or 0


_NUMBERS_ON_TIME, _NUMBERS_OTHERS = _count_ahead_statements(Ticket.__table__.c.number)


def numbers_ahead(ticket: Ticket) -> list[str]:
    """The numbers of the waiting tickets ahead of ``ticket`` (public, the lobby calls them): its
    status page refetches only when one of them leaves the queue (realtime.queue_moved)."""
    if ticket.status != TicketStatus.WAITING:
        return []
    params = {"site_id": ticket.site_id, "id": ticket.id, "queued_at": ticket.queued_at}
    if ticket.on_time_appointment:
        params["key_at"] = ticket.appointment_at or ticket.queued_at
        return list(db.session.execute(_NUMBERS_ON_TIME, params).scalars())
    return list(db.session.execute(_NUMBERS_OTHERS, params).scalars())


def position(ticket: Ticket) -> tuple[int, int]:
    """(people ahead, estimated wait in minutes) for a waiting ticket; (0, 0) otherwise."""
    if ticket.status != TicketStatus.WAITING:
        return 0, 0
    ahead = count_ahead(ticket)
    site = db.session.get(Site, ticket.site_id)
    return ahead, queueing.estimated_wait_minutes(
        ahead, site.reception_minutes, advisors_on_duty(ticket.site_id))


@dataclass
class Stage:
    key: str
    reached_at: datetime | None
    done: bool
    current: bool


@dataclass
class StatusState:
    ticket: Ticket
    state: VisitState
    stages: list[Stage]
    ahead: int
    wait_minutes: int
    cancelled: bool


def status_state(ticket: Ticket) -> StatusState:
    visit = ticket.visit
    state = VisitState(visit.state)
    current = customer_stage(state)
    events = db.session.scalars(
        select(VisitEvent).where(VisitEvent.visit_id == visit.id).order_by(VisitEvent.id)).all()
    first_reached: dict[int, datetime] = {}
    for ev in events:
        idx = customer_stage(ev.to_state)
        if idx >= 0 and idx not in first_reached:
            first_reached[idx] = ev.at
    first_reached.setdefault(0, ticket.issued_at)
    stages = [Stage(key, first_reached.get(i) if i <= current else None, i < current, i == current)
              for i, (key, _) in enumerate(CUSTOMER_STAGES)]
    # Skip the wash stage for a visit that never went through it, so the customer isn't
    # told about a wash they declined.
    if current > 6 and 6 not in first_reached:
        stages = [s for s in stages if s.key != "wash"]
    ahead, wait = position(ticket)
    return StatusState(ticket, state, stages, ahead, wait, state == VisitState.CANCELLED)


# ---------------------------------------------------------------- wall board

@dataclass
class BoardCard:
    visit_id: int
    number: str
    masked_plate: str
    model: str
    technician: str | None
    bay: str | None
    lane: str
    stage_since: datetime
    promised_at: datetime | None
    risk: str                  # ok, at_risk, overdue
    rework: int


@dataclass
class BoardState:
    seq: int
    lanes: dict                # lane -> [BoardCard]
    now: datetime


BOARD_STATES = ("dispatch", "repair", "authorisation", "qc", "wash", "ready")


def board_state(site: Site, now: datetime | None = None) -> BoardState:
    """Every car in the workshop, by lane. No personal data: masked plate and model only."""
    from sqlalchemy.orm import aliased

    from . import jobs as job_rules
    from .models import Bay, Concern, Estimate, EstimateLine, Job, ManufacturerRequest, Vehicle, Visit
    from .statuses import LineDecision
    from .validation import mask_plate
    now = now or utcnow()
    seq = db.session.scalar(select(Site.change_seq).where(Site.id == site.id)) or 0
    technician = aliased(User)
    planned = (select(func.coalesce(func.sum(EstimateLine.quantity), 0))   # as services.workshop.planned_hours
               .where(EstimateLine.estimate_id == Estimate.id, EstimateLine.kind.in_(("labour", "diagnosis")),
                      EstimateLine.decision == LineDecision.APPROVED)
               .correlate(Estimate).scalar_subquery())
    # One row per car, as plain columns: a TV refetches this after every change in the workshop, and
    # loading ~200 visits as ORM objects with their ticket, car, estimate lines, job, technician and
    # bay cost more than the query itself. No ORDER BY in SQL: it would make the database walk the
    # primary key over every visit ever made; the active ones are few and are sorted here.
    rows = sorted(db.session.execute(
        select(Visit.id, Visit.state, Visit.plate, Visit.updated_at, Ticket.number, Vehicle.make, Vehicle.model,
               Job.id.label("job_id"), Job.status, Job.pause_reason, Job.clocked_seconds, Job.running_since,
               Job.stage_since, Job.rework_count, technician.display_name, Bay.name.label("bay"),
               Estimate.promised_at, planned.label("planned"))
        .select_from(Visit)
        .outerjoin(Ticket, Ticket.visit_id == Visit.id).outerjoin(Vehicle, Vehicle.id == Visit.vehicle_id)
        .outerjoin(Estimate, Estimate.visit_id == Visit.id).outerjoin(Job, Job.visit_id == Visit.id)
        .outerjoin(technician, technician.id == Job.technician_id).outerjoin(Bay, Bay.id == Job.bay_id)
        .where(Visit.site_id == site.id, Visit.state.in_(BOARD_STATES))).all(), key=lambda r: r.id)
    pending = set(db.session.scalars(   # led by the few pending requests, not every concern ever noted
        select(Concern.visit_id).join(ManufacturerRequest).where(
            ManufacturerRequest.site_id == site.id, ManufacturerRequest.status == "pending")))
    lanes = {name: [] for name in job_rules.LANES}
    for r in rows:
        has_job = r.job_id is not None
        if r.state == "authorisation" and not has_job:
            continue  # not in the workshop yet: the customer is still deciding the first estimate
        lane = job_rules.lane(r.state, r.status if has_job else None, r.pause_reason if has_job else None,
                              r.id in pending)
        worked_h = (job_rules.clocked(r.clocked_seconds, r.running_since, now) / 3600) if has_job else 0
        remaining = max(0.0, float(r.planned or 0) - worked_h) if lane not in ("qc", "wash", "ready") else 0.0
        lanes[lane].append(BoardCard(
            visit_id=r.id, number=r.number or "", masked_plate=mask_plate(r.plate),
            model=" ".join(x for x in (r.make, r.model) if x),
            technician=r.display_name, bay=r.bay, lane=lane,
            stage_since=r.stage_since if has_job else r.updated_at, promised_at=r.promised_at,
            risk=job_rules.risk(now, r.promised_at, remaining, lane == "ready"),
            rework=r.rework_count if has_job else 0))
    return BoardState(seq, lanes, now)


def visit_risk(visit, now: datetime | None = None) -> str:
    """'ok', 'at_risk' (the remaining work no longer fits before the promise) or 'overdue'."""
    from . import jobs as job_rules
    from .services.workshop import planned_hours
    now = now or utcnow()
    est, job = visit.estimate, visit.job
    if est is None or est.promised_at is None or visit.state not in ("dispatch", "repair", "authorisation", "qc", "wash"):
        return "ok"
    worked = job_rules.clocked(job.clocked_seconds, job.running_since, now) / 3600 if job else 0
    remaining = 0.0 if visit.state in ("qc", "wash") else max(0.0, float(planned_hours(visit)) - worked)
    return job_rules.risk(now, est.promised_at, remaining, False)
