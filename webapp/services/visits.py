"""Moving a visit through the workflow, with its event log."""
import json

from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Visit, VisitEvent
from ..timeutil import utcnow
from ..workflow import check_transition, milestones
from ..statuses import TicketStatus


def record_transition(visit, target, action, actor=None, detail=None):
    """Change ``visit.state`` (raising IllegalTransition if the workflow forbids it) and log it.
    Does not commit: the caller's use case owns the transaction."""
    current = visit.state
    target = check_transition(current, target)
    now = utcnow()
    visit.state = target.value
    visit.updated_at = now
    for name in milestones(current, target):
        if getattr(visit, name) is None:
            setattr(visit, name, now)
    db.session.add(VisitEvent(
        site_id=visit.site_id,
        visit_id=visit.id,
        actor_id=getattr(actor, "id", None),
        actor_kind="staff" if actor is not None else "customer",
        action=action,
        from_state=current,
        to_state=target.value,
        detail=json.dumps(detail, ensure_ascii=False) if detail else None,
        at=now,
    ))
    return target


def advance(visit: Visit, target, actor) -> Visit:
    """Generic step along the process, used by the advisor's visit page."""
    previous = visit.state
    record_transition(visit, target, "advance", actor)
    if visit.state == "delivered" and visit.delivered_at is None:
        visit.delivered_at = utcnow()
    ticket = visit.ticket
    if visit.state == "cancelled" and ticket is not None and ticket.status in (
            TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SKIPPED):
        # A cancelled visit leaves the queue and the lobby display.
        ticket.status, ticket.closed_at = TicketStatus.CANCELLED, utcnow()
    db.session.commit()
    publish(DomainEvent("visit.advanced", visit.site_id, visit.id,
                        visit.ticket.id if visit.ticket else None,
                        {"from": previous, "to": visit.state}))
    return visit
