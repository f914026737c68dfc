"""The advisor's side of the queue: call next, recall, no-show, requeue, transfer, start reception."""
from datetime import datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from .. import queueing
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import ReadinessCheck, Ticket, User
from ..roles import ADVISOR, SUPERVISORS
from ..timeutil import local_day, local_to_utc, utcnow
from ..workflow import VisitState
from . import ServiceError
from .visits import record_transition
from ..statuses import TicketStatus


def waiting_entries(site_id: int) -> list[queueing.QueueEntry]:
    rows = db.session.execute(
        select(Ticket.id, Ticket.queued_at, Ticket.on_time_appointment, Ticket.appointment_at,
               Ticket.assigned_advisor_id)
        .where(Ticket.site_id == site_id, Ticket.status == TicketStatus.WAITING)
    ).all()
    return [queueing.QueueEntry(r.id, r.queued_at, r.on_time_appointment, r.appointment_at,
                                r.assigned_advisor_id) for r in rows]


def current_call(advisor: User) -> Ticket | None:
    return db.session.scalar(
        select(Ticket).where(Ticket.called_by_id == advisor.id, Ticket.status == TicketStatus.CALLED)
        .order_by(Ticket.called_at.desc()).limit(1))


def _desk(advisor: User) -> str:
    return advisor.desk or advisor.display_name


def call_next(advisor: User) -> Ticket:
    """Claim the first waiting ticket in queue order.

    The claim is a conditional UPDATE (ticket still waiting, and this advisor has no open call),
    so two advisors pressing together never get the same ticket, and a double click never calls
    two: the loser's UPDATE matches no row. On PostgreSQL the advisor's row is locked first so
    the "no open call" condition is read after the other click's commit."""
    if current_call(advisor) is not None:
        raise ServiceError("finish_current_call", 409)
    other = aliased(Ticket)
    busy = select(other.id).where(other.called_by_id == advisor.id, other.status == TicketStatus.CALLED)
    for entry in queueing.order(waiting_entries(advisor.site_id), advisor.id):
        db.session.execute(select(User.id).where(User.id == advisor.id).with_for_update())
        now = utcnow()
        claimed = db.session.execute(
            update(Ticket)
            .where(Ticket.id == entry.ticket_id, Ticket.status == TicketStatus.WAITING, ~busy.exists())
            .values(status=TicketStatus.CALLED, called_by_id=advisor.id, desk=_desk(advisor),
                    called_at=now, call_count=Ticket.call_count + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            db.session.rollback()
            if current_call(advisor) is not None:
                raise ServiceError("finish_current_call", 409)
            continue
        ticket = db.session.get(Ticket, entry.ticket_id)
        db.session.refresh(ticket)
        record_transition(ticket.visit, VisitState.CALLED, "call", advisor, {"desk": ticket.desk})
        db.session.commit()
        _publish_call(ticket, "ticket.called")
        return ticket
    raise ServiceError("queue_empty", 409)


def _own_ticket(advisor: User, ticket_id: int, statuses) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.site_id != advisor.site_id:
        raise ServiceError("ticket_not_found", 404)
    if ticket.status not in statuses:
        raise ServiceError("ticket_state_changed", 409)
    if ticket.status == TicketStatus.CALLED and ticket.called_by_id != advisor.id and advisor.role not in SUPERVISORS:
        raise ServiceError("ticket_not_yours", 403)
    return ticket


def _publish_call(ticket: Ticket, name: str):
    publish(DomainEvent(name, ticket.site_id, ticket.visit_id, ticket.id,
                        {"number": ticket.number, "desk": ticket.desk}))


def recall(advisor: User, ticket_id: int) -> Ticket:
    """Announce the same number again (the customer did not hear it)."""
    ticket = _own_ticket(advisor, ticket_id, {TicketStatus.CALLED})
    ticket.call_count += 1
    ticket.called_at = utcnow()
    record_transition(ticket.visit, VisitState.CALLED, "recall", advisor, {"desk": ticket.desk})
    db.session.commit()
    _publish_call(ticket, "ticket.recalled")
    return ticket


def skip(advisor: User, ticket_id: int) -> Ticket:
    """No-show: the customer did not come to the desk. The ticket can be requeued if they return."""
    ticket = _own_ticket(advisor, ticket_id, {TicketStatus.CALLED})
    ticket.status = TicketStatus.SKIPPED
    ticket.closed_at = utcnow()
    record_transition(ticket.visit, VisitState.NO_SHOW, "skip", advisor)
    db.session.commit()
    _publish_call(ticket, "ticket.skipped")
    return ticket


def requeue(advisor: User, ticket_id: int) -> Ticket:
    """A skipped customer came back: same number, back of the queue."""
    ticket = _own_ticket(advisor, ticket_id, {TicketStatus.SKIPPED})
    ticket.status = TicketStatus.WAITING
    ticket.queued_at = utcnow()
    ticket.on_time_appointment = False
    ticket.closed_at = None
    ticket.called_by_id = None
    ticket.desk = None
    record_transition(ticket.visit, VisitState.WAITING, "requeue", advisor)
    db.session.commit()
    _publish_call(ticket, "ticket.requeued")
    return ticket


def transfer_candidates(advisor: User) -> list[User]:
    """The other advisors who are at work today, for a hand-over: those who did today's
    start-of-day checklist or have called a customer since midnight. A manager or the admin is
    not a reception desk, and a colleague off today would leave the customer waiting."""
    day = local_day(advisor.site.timezone)
    midnight = local_to_utc(advisor.site.timezone, datetime.combine(day, time.min))
    checked_in = select(ReadinessCheck.user_id).where(ReadinessCheck.day == day)
    called = select(Ticket.called_by_id).where(Ticket.site_id == advisor.site_id, Ticket.called_at >= midnight)
    return list(db.session.scalars(
        select(User).where(User.site_id == advisor.site_id, User.active.is_(True), User.role == ADVISOR,
                           User.id != advisor.id, User.id.in_(checked_in.union(called)))
        .order_by(User.desk, User.display_name)))


def transfer(advisor: User, ticket_id: int, to_advisor_id: int) -> Ticket:
    """Hand a waiting or called ticket to another advisor (e.g. the customer's regular one):
    it goes back to the queue, first in line for that advisor only."""
    ticket = _own_ticket(advisor, ticket_id, {TicketStatus.WAITING, TicketStatus.CALLED})
    if to_advisor_id not in {u.id for u in transfer_candidates(advisor)}:
        raise ServiceError("transfer_target_invalid", 422, "to_advisor")
    target = db.session.get(User, to_advisor_id)
    was_called = ticket.status == TicketStatus.CALLED
    ticket.status = TicketStatus.WAITING
    ticket.assigned_advisor_id = target.id
    ticket.called_by_id = None
    ticket.desk = None
    if was_called:
        record_transition(ticket.visit, VisitState.WAITING, "transfer", advisor, {"to": target.id})
    db.session.commit()
    publish(DomainEvent("ticket.transferred", ticket.site_id, ticket.visit_id, ticket.id,
                        {"number": ticket.number, "to": target.id}))
    return ticket


def start_reception(advisor: User, ticket_id: int) -> Ticket:
    """The customer is at the desk: the queue is done with the ticket, the visit goes on."""
    ticket = _own_ticket(advisor, ticket_id, {TicketStatus.CALLED})
    ticket.status = TicketStatus.SERVED
    ticket.served_at = utcnow()
    ticket.visit.advisor_id = advisor.id
    record_transition(ticket.visit, VisitState.RECEPTION, "start_reception", advisor)
    db.session.commit()
    _publish_call(ticket, "ticket.served")
    return ticket


def advisors_on_duty(site_id: int, now=None) -> int:
    """Advisors who called someone in the last hour: the desks actually serving the queue."""
    since = (now or utcnow()) - timedelta(hours=1)
    n = db.session.scalar(
        select(db.func.count(db.distinct(Ticket.called_by_id)))
        .where(Ticket.site_id == site_id, Ticket.called_at >= since))
    return max(1, n or 0)
