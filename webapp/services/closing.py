"""Closing a visit: the car is delivered (交车) when the customer signed the delivery checklist
and the bill is settled — paid in full or put on a company account — whichever comes last.

Both the delivery use case and the cashier's payment use case call ``deliver_if_complete``
inside their own transaction, then ``publish_delivered`` after their commit, so the rule lives
in one place and neither order of the two steps can skip it."""
from ..events import DomainEvent, publish
from ..extensions import db
from ..followup import first_due
from ..models import Bill, FollowUp, Visit
from ..timeutil import utcnow
from ..workflow import VisitState
from .visits import record_transition
from ..statuses import BillStatus, TicketStatus

SETTLED = (BillStatus.PAID, BillStatus.COMPANY)


def current_bill(visit: Visit) -> Bill | None:
    """The visit's invoice (not a credit note, not voided): at most one is live at a time."""
    return next((b for b in reversed(visit.bills) if b.kind == "invoice" and b.status != BillStatus.VOID), None)


def bill_settled(visit: Visit) -> bool:
    bill = current_bill(visit)
    return bill is not None and bill.status in SETTLED


def delivery_done(visit: Visit) -> bool:
    d = visit.delivery
    return d is not None and d.completed_at is not None


def deliver_if_complete(visit: Visit, actor) -> bool:
    """READY → DELIVERED when both halves are done; records the vehicle's out time and schedules
    the follow-up call. Does not commit. Returns True when it moved the visit."""
    if visit.state != VisitState.READY.value or not (delivery_done(visit) and bill_settled(visit)):
        return False
    db.session.refresh(visit, ["bills"])
    if not bill_settled(visit):
        return False
    record_transition(visit, VisitState.DELIVERED, "deliver", actor)
    now = utcnow()
    visit.delivered_at = now                      # vehicle out (出厂) time
    # The car's "last visit" reading becomes this visit's only now: during the visit the advisor
    # compares today's reading with the previous one (and a first visit has none to compare).
    intake = visit.intake
    if visit.vehicle is not None and intake is not None and intake.mileage is not None:
        visit.vehicle.last_mileage = intake.mileage
    ticket = visit.ticket
    if ticket is not None and ticket.status not in (TicketStatus.DONE, TicketStatus.CANCELLED):
        ticket.status, ticket.closed_at = TicketStatus.DONE, now
    if visit.follow_up is None:
        db.session.add(FollowUp(site_id=visit.site_id, visit_id=visit.id,
                                due_at=first_due(now, visit.site.followup_days)))
    return True


def publish_delivered(visit: Visit) -> None:
    publish(DomainEvent("visit.delivered", visit.site_id, visit.id,
                        visit.ticket.id if visit.ticket else None, {"to": visit.state}))
