"""The parts desk (备件): what each car in the workshop still needs from stock, and issuing it.

A part the customer approved is reserved on approval but only leaves the store when the parts
clerk issues it (出库); until then the bill shows "issued 0, approved 1" and cannot be made.
Nobody was prompted to issue, so this list is the prompt: every open visit's approved part
lines minus what was already issued to that visit, oldest job first."""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Estimate, EstimateLine, Job, Part, StockMovement, Visit
from . import ServiceError
from . import billing, catalogue
from ..statuses import BillStatus, LineDecision

# From the moment the work is approved until the car leaves the workshop.
ISSUE_STATES = ("dispatch", "repair", "authorisation", "qc", "wash", "ready")


@dataclass
class ToIssue:
    visit: Visit
    job: Job | None
    part: Part
    approved: Decimal
    issued: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.approved - self.issued

    @property
    def in_stock(self) -> bool:
        return self.part.on_hand >= self.outstanding


def _issued_by_visit(visit_ids) -> dict[tuple[int, int], Decimal]:
    rows = db.session.execute(
        select(StockMovement.visit_id, StockMovement.part_id, StockMovement.kind, StockMovement.quantity)
        .where(StockMovement.visit_id.in_(visit_ids), StockMovement.kind.in_(("issue", "return")))).all()
    out: dict[tuple[int, int], Decimal] = {}
    for visit_id, part_id, kind, qty in rows:
        out[(visit_id, part_id)] = out.get((visit_id, part_id), Decimal("0")) + (qty if kind == "issue" else -qty)
    return out


def outstanding(site_id: int, visit_id: int | None = None) -> list[ToIssue]:
    """Approved parts not yet issued, per visit and part (a visit's approved lines of one part add up)."""
    stmt = (select(EstimateLine, Visit).join(Estimate, Estimate.id == EstimateLine.estimate_id)
            .join(Visit, Visit.id == Estimate.visit_id)
            .where(Visit.site_id == site_id, Visit.state.in_(ISSUE_STATES), EstimateLine.kind == "part",
                   EstimateLine.decision == LineDecision.APPROVED, EstimateLine.part_id.is_not(None)))
    if visit_id is not None:
        stmt = stmt.where(Visit.id == visit_id)
    approved: dict[tuple[int, int], Decimal] = {}
    visits: dict[int, Visit] = {}
    parts: dict[int, Part] = {}
    # Sorted here, not by SQL: an ORDER BY visit.id walks the primary key over every visit ever made
    # instead of the few active ones the site-and-state index finds.
    for line, visit in sorted(db.session.execute(stmt).all(), key=lambda r: (r[1].id, r[0].position, r[0].id)):
        key = (visit.id, line.part_id)
        approved[key] = approved.get(key, Decimal("0")) + line.quantity
        visits[visit.id], parts[line.part_id] = visit, line.part
    issued = _issued_by_visit(list(visits)) if visits else {}
    rows = [ToIssue(visits[v], visits[v].job, parts[p], qty, issued.get((v, p), Decimal("0")))
            for (v, p), qty in approved.items()]
    return [r for r in rows if r.outstanding > 0]


def issue_for_visit(clerk, visit_id: int, part_id: int) -> ToIssue:
    """Issue what the visit still needs of this part, in one movement (the clerk hands it over)."""
    row = next((r for r in outstanding(clerk.site_id, visit_id) if r.part.id == part_id), None)
    if row is None:
        raise ServiceError("nothing_to_issue", 409)
    catalogue.issue_stock(row.part, str(row.outstanding), None, clerk, visit=row.visit)
    bill = billing.current_bill(row.visit)
    if bill is not None and bill.status == BillStatus.DRAFT:
        billing.prepare_bill(row.visit, clerk)      # the draft's differences follow the store
    publish(DomainEvent("stock.issued", clerk.site_id, visit_id, None, {"part": part_id}))
    return row
