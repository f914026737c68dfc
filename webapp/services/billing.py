"""Settlement use cases (stage 15 结算): the advisor prepares and issues the bill of a car ready
for pickup, the cashier records payments, and corrections are credit notes.

- The bill is built from the approved estimate lines (the diagnosis fee line when everything
  was declined); parts issued to the visit (出库) are compared with the approved quantities and
  every difference is flagged to the advisor, never charged silently: each one is resolved
  (keep the approved quantity, or charge what was issued with a note) before the bill is issued.
- Issuing numbers it JS-YYYYMMDD-NNNN (gapless per site and day, the same atomic counter as the
  tickets and repair orders) and freezes it: lines and money of an issued bill never change
  (a session guard refuses it), corrections are credit notes CN-YYYYMMDD-NNNN.
- Payments are append-only; one idempotency key records one payment (a double click), and the
  site's row lock serialises payments so two cashiers can never overpay a bill.
- Paid in full, or put on a company account, the bill closes and ``closing.deliver_if_complete``
  delivers the visit in the same transaction when the delivery checklist is signed too."""
from decimal import Decimal

from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import billing as rules
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Bill, BillDifference, BillLine, Part, Payment, Site, StockMovement, Visit
from ..money import ZERO, LineMoney, q
from ..timeutil import local_day, utcnow
from ..workflow import VisitState
from . import ServiceError, closing
from .estimates import line_money
from ..validation import Invalid
from ..statuses import BillStatus, LineDecision

SETTLED = closing.SETTLED
FROZEN = ("labour", "parts", "subtotal", "discount", "tax_rate", "tax", "total", "warranty_claims",
          "number", "kind", "original_id", "visit_id", "site_id")


class BillImmutable(ServiceError):
    def __init__(self):
        super().__init__("bill_immutable", 409)


# ---------------------------------------------------------------- the immutability guard

def _committed(obj, name):
    hist = inspect(obj).attrs[name].history
    if hist.deleted:
        return hist.deleted[0]
    return hist.unchanged[0] if hist.unchanged else None


def _frozen(bill) -> bool:
    """Issued (or later) in the database, whatever this session did to it since."""
    state = inspect(bill)
    if state.pending or state.transient:
        return False
    return _committed(bill, "status") not in (None, "draft")


@event.listens_for(Session, "before_flush")
def _guard(session, _ctx, _instances):
    """Bills are immutable once issued and payments append-only, whoever tries."""
    for obj in session.dirty:
        if isinstance(obj, Bill) and _frozen(obj):
            if any(inspect(obj).attrs[f].history.has_changes() for f in FROZEN):
                raise BillImmutable()
        elif isinstance(obj, BillLine) and session.is_modified(obj) and obj.bill is not None and _frozen(obj.bill):
            raise BillImmutable()
        elif isinstance(obj, Payment) and session.is_modified(obj):
            raise BillImmutable()
    for obj in session.deleted:
        if isinstance(obj, Payment) or (isinstance(obj, Bill) and _frozen(obj)):
            raise BillImmutable()
        if isinstance(obj, BillLine) and obj.bill is not None and _frozen(obj.bill):
            raise BillImmutable()
    for obj in session.new:
        if isinstance(obj, BillLine) and obj.bill is not None and _frozen(obj.bill):
            raise BillImmutable()


# ---------------------------------------------------------------- helpers

def _lock(site_id: int):
    """Serialise the settlement writes of a site (row lock on PostgreSQL, the write lock on
    SQLite) before reading what they depend on: balances, numbers, differences."""
    db.session.execute(update(Site).where(Site.id == site_id).values(change_seq=Site.change_seq + 1))


def _publish(visit: Visit, name: str, **data):
    publish(DomainEvent(name, visit.site_id, visit.id, visit.ticket.id if visit.ticket else None, data))


def _number(site: Site, prefix: str) -> str:
    from .checkin import _allocate_seq
    day = local_day(site.timezone)
    return f"{prefix}-{day:%Y%m%d}-{_allocate_seq(site.id, day, prefix):04d}"


def current_bill(visit: Visit) -> Bill | None:
    db.session.expire(visit, ["bills"])
    return closing.current_bill(visit)


def approved_lines(visit: Visit):
    est = visit.estimate
    return [line for line in est.lines if line.decision == LineDecision.APPROVED] if est else []


def paid_amount(bill: Bill) -> Decimal:
    value = db.session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.bill_id == bill.id))
    return q(Decimal(value or 0))


def bill_balance(bill: Bill) -> Decimal:
    return rules.balance(bill.total, [paid_amount(bill)])


def credited(bill: Bill) -> list[Bill]:
    return list(db.session.scalars(select(Bill).where(Bill.original_id == bill.id, Bill.kind == "credit_note",
                                                      Bill.status != BillStatus.VOID).order_by(Bill.id)))


def credit_left(bill: Bill) -> Decimal:
    return rules.credit_available(bill.total, [cn.total for cn in credited(bill)])


def bill_line_money(line: BillLine) -> LineMoney:
    return LineMoney(line.kind, line.quantity, line.unit_price, line.discount_pct or ZERO, line.warranty)


def _issued(visit: Visit) -> dict[int, Decimal]:
    rows = db.session.execute(select(StockMovement.part_id, StockMovement.kind, StockMovement.quantity)
                              .where(StockMovement.visit_id == visit.id,
                                     StockMovement.kind.in_(("issue", "return")))).all()
    return rules.issued_quantities(rows)


def _approved_parts(visit: Visit) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for line in approved_lines(visit):
        if line.kind == "part" and line.part_id:
            out[line.part_id] = out.get(line.part_id, ZERO) + line.quantity
    return out


def difference_kind(d: BillDifference) -> str:
    return rules.PartDifference(d.part_id, d.approved_quantity, d.issued_quantity).kind


def _sync_differences(bill: Bill, visit: Visit) -> None:
    """The bill's differences as they are now; a resolution stays only while its quantities do."""
    found = {d.part_id: d for d in rules.part_differences(_approved_parts(visit), _issued(visit))}
    for row in list(bill.differences):
        now = found.pop(row.part_id, None)
        if now is None:
            db.session.delete(row)
            bill.differences.remove(row)
        elif (row.approved_quantity, row.issued_quantity) != (now.approved, now.issued):
            row.approved_quantity, row.issued_quantity = now.approved, now.issued
            row.resolution = row.note = row.resolved_by_id = row.resolved_at = None
    for d in found.values():
        db.session.add(BillDifference(site_id=bill.site_id, bill=bill, part_id=d.part_id,
                                      approved_quantity=d.approved, issued_quantity=d.issued))


def _build(bill: Bill, visit: Visit) -> None:
    """Lines from the approved estimate lines, with the resolutions applied, and the totals."""
    est = visit.estimate
    bill.lines.clear()
    db.session.flush()
    lines = []
    for pos, el in enumerate(approved_lines(visit)):
        m = line_money(el)
        lines.append(BillLine(site_id=bill.site_id, estimate_line_id=el.id, position=pos, kind=el.kind,
                              description=el.description, part_id=el.part_id, quantity=el.quantity,
                              unit_price=ZERO if el.price_after_diagnosis else el.unit_price,
                              discount_pct=el.discount_pct or ZERO, warranty=el.warranty,
                              amount=m.customer, claim=m.claim))
    for d in bill.differences:
        if d.resolution != rules.CHARGE:
            continue
        mine = [bl for bl in lines if bl.kind == "part" and bl.part_id == d.part_id]
        if mine:
            for bl, qty in zip(mine, rules.spread_quantity([bl.quantity for bl in mine], d.issued_quantity)):
                bl.quantity = qty
            lines = [bl for bl in lines if not (bl in mine and bl.quantity == 0)]
        else:  # issued, never approved: charged because the customer agreed (the note says so)
            part = db.session.get(Part, d.part_id)
            lines.append(BillLine(site_id=bill.site_id, position=len(lines), kind="part",
                                  description=part.name_zh, part_id=part.id, quantity=d.issued_quantity,
                                  unit_price=part.unit_price, discount_pct=ZERO, warranty=False))
    for bl in lines:
        m = bill_line_money(bl)
        bl.amount, bl.claim = m.customer, m.claim
        bill.lines.append(bl)
    t = rules.bill_totals([bill_line_money(bl) for bl in lines], est.discount if est else ZERO,
                          est.tax_rate if est else visit.site.tax_rate)
    bill.discount = t.discount
    bill.tax_rate = est.tax_rate if est else visit.site.tax_rate
    bill.labour, bill.parts, bill.subtotal = t.labour, t.parts, t.subtotal
    bill.tax, bill.total, bill.warranty_claims = t.tax, t.customer_pays, t.warranty_claims


def _draft(visit: Visit) -> Bill:
    bill = current_bill(visit)
    if bill is None:
        raise ServiceError("bill_not_prepared", 409)
    if bill.status != BillStatus.DRAFT:
        raise BillImmutable()
    return bill


def _ready(visit: Visit):
    if visit.state != VisitState.READY.value:
        raise ServiceError("bill_not_ready", 409)


# ---------------------------------------------------------------- the advisor

def prepare_bill(visit: Visit, actor) -> Bill:
    """Build (or rebuild: parts issued since) the draft bill of a car ready for pickup."""
    _ready(visit)
    _lock(visit.site_id)
    db.session.refresh(visit)
    bill = current_bill(visit)
    if bill is not None and bill.status != BillStatus.DRAFT:
        db.session.rollback()
        raise BillImmutable()
    if bill is None:
        bill = Bill(site_id=visit.site_id, visit_id=visit.id, kind="invoice", status=BillStatus.DRAFT,
                    created_by_id=getattr(actor, "id", None))
        db.session.add(bill)
        db.session.flush()
    _sync_differences(bill, visit)
    db.session.flush()
    _build(bill, visit)
    db.session.commit()
    _publish(visit, "bill.prepared", bill=bill.id)
    return bill


def resolve_difference(visit: Visit, difference_id: int, resolution: str, note: str | None,
                       customer_agreed: bool, actor) -> BillDifference:
    _ready(visit)
    bill = _draft(visit)
    diff = db.session.get(BillDifference, difference_id)
    if diff is None or diff.bill_id != bill.id:
        raise ServiceError("difference_not_found", 404)
    note = (note or "").strip()[:500] or None
    errors = rules.resolution_problem(difference_kind(diff), resolution, note, customer_agreed)
    if errors:
        raise Invalid(errors)
    if resolution == rules.CHARGE and difference_kind(diff) == rules.UNAPPROVED and note:
        note = note if note.startswith("[") else f"[客户同意 customer agreed] {note}"
    diff.resolution, diff.note = resolution, note
    diff.resolved_by_id, diff.resolved_at = getattr(actor, "id", None), utcnow()
    db.session.flush()
    _build(bill, visit)
    db.session.commit()
    _publish(visit, "bill.prepared", bill=bill.id)
    return diff


def issue_bill(visit: Visit, actor) -> Bill:
    """Number and freeze the bill; a bill of nothing to pay (all warranty) closes at once."""
    _ready(visit)
    _lock(visit.site_id)
    db.session.refresh(visit)
    bill = current_bill(visit)
    if bill is None:
        db.session.rollback()
        raise ServiceError("bill_not_prepared", 409)
    if bill.status != BillStatus.DRAFT:
        db.session.rollback()
        raise BillImmutable()
    _sync_differences(bill, visit)
    db.session.flush()
    _build(bill, visit)
    if any(d.resolution is None for d in bill.differences):
        db.session.commit()   # the recomputed draft (parts issued since) is what the advisor sees
        _publish(visit, "bill.prepared", bill=bill.id)
        raise ServiceError("differences_open", 409)
    now = utcnow()
    bill.number = _number(visit.site, "JS")
    bill.status, bill.issued_at = BillStatus.ISSUED, now
    delivered = False
    if bill.total == ZERO:
        bill.status, bill.closed_at = BillStatus.PAID, now
        delivered = closing.deliver_if_complete(visit, actor)
    db.session.commit()
    _publish(visit, "bill.issued", bill=bill.id)
    if bill.status in SETTLED:
        _publish(visit, "bill.settled", bill=bill.id)
    if delivered:
        closing.publish_delivered(visit)
    return bill


# ---------------------------------------------------------------- the cashier

def _bill_of_site(site_id: int, bill_id: int) -> Bill:
    bill = db.session.get(Bill, bill_id)
    if bill is None or bill.site_id != site_id:
        raise ServiceError("bill_not_found", 404)
    return bill


def _by_key(key):
    return db.session.scalar(select(Payment).where(Payment.idempotency_key == key)) if key else None


def record_payment(actor, bill_id: int, method: str, amount=None, tendered=None, reference=None,
                   company_name=None, idempotency_key=None) -> Payment:
    """One payment on an issued bill; the bill closes when nothing is left to pay (or the rest
    goes on the company account) and the visit is delivered if its checklist is signed."""
    key = (idempotency_key or "").strip()[:64] or None
    if (done := _by_key(key)) is not None:
        return done
    _lock(actor.site_id)
    if (done := _by_key(key)) is not None:   # the same click, recorded while we waited
        db.session.rollback()
        return done
    bill = _bill_of_site(actor.site_id, bill_id)
    db.session.refresh(bill)
    if bill.kind != "invoice":
        db.session.rollback()
        raise ServiceError("not_an_invoice", 409)
    if bill.status == BillStatus.DRAFT:
        db.session.rollback()
        raise ServiceError("bill_not_issued", 409)
    if bill.status != BillStatus.ISSUED:
        db.session.rollback()
        raise ServiceError("bill_settled", 409)
    bal = bill_balance(bill)
    try:
        plan = rules.plan_payment(method, amount, bal, tendered, company_name)
    except Invalid:
        db.session.rollback()
        raise
    payment = Payment(site_id=bill.site_id, bill_id=bill.id, method=plan.method, amount=plan.amount,
                      tendered=plan.tendered, change=plan.change,
                      reference=(reference or "").strip()[:64] or None, idempotency_key=key,
                      received_by_id=getattr(actor, "id", None), at=utcnow())
    db.session.add(payment)
    visit = bill.visit
    delivered = False
    if plan.method == "company" or bal - plan.amount == ZERO:
        if plan.method == "company":
            bill.company_name = plan.company_name
        bill.status = BillStatus.COMPANY if plan.method == "company" else BillStatus.PAID
        bill.closed_at = utcnow()
        db.session.flush()
        delivered = closing.deliver_if_complete(visit, actor)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        done = _by_key(key)
        if done is None:
            raise
        return done
    _publish(visit, "payment.recorded", bill=bill.id, payment=payment.id)
    if bill.status in SETTLED:
        _publish(visit, "bill.settled", bill=bill.id)
    if delivered:
        closing.publish_delivered(visit)
    return payment


def close_bill(actor, bill_id: int) -> Bill:
    """Close a bill by hand: only when nothing is left to pay (payments close it by themselves)."""
    _lock(actor.site_id)
    bill = _bill_of_site(actor.site_id, bill_id)
    db.session.refresh(bill)
    if bill.status in SETTLED:
        db.session.rollback()
        return bill
    if bill.status != BillStatus.ISSUED:
        db.session.rollback()
        raise ServiceError("bill_not_issued", 409)
    if bill_balance(bill) > ZERO:
        db.session.rollback()
        raise ServiceError("bill_unpaid", 409)
    bill.status, bill.closed_at = BillStatus.PAID, utcnow()
    db.session.flush()
    delivered = closing.deliver_if_complete(bill.visit, actor)
    db.session.commit()
    _publish(bill.visit, "bill.settled", bill=bill.id)
    if delivered:
        closing.publish_delivered(bill.visit)
    return bill


def credit_note(actor, bill_id: int, amount, reason: str, refund_method: str, reference=None) -> Bill:
    """Correct a settled bill: a credit note (negative lines and amounts, its own number, naming
    the bill) for at most what is not credited yet, and the refund as a negative payment on it."""
    errors = {}
    reason = (reason or "").strip()[:500]
    if not reason:
        errors["reason"] = "reason_required"
    if refund_method not in rules.METHODS:
        errors["refund_method"] = "method_invalid"
    _lock(actor.site_id)
    bill = _bill_of_site(actor.site_id, bill_id)
    db.session.refresh(bill)
    if bill.kind != "invoice" or bill.status not in SETTLED:
        db.session.rollback()
        raise ServiceError("credit_needs_settled_bill", 409)
    left = credit_left(bill)
    value = left
    if str(amount or "").strip():
        value, why = rules.read_amount(amount)
        if why:
            errors["amount"] = why
        elif value > left:
            errors["amount"] = "over_credit"
    if left == ZERO:
        errors["amount"] = "nothing_to_credit"
    if errors:
        db.session.rollback()
        raise Invalid(errors)
    now = utcnow()
    note = Bill(site_id=bill.site_id, visit_id=bill.visit_id, kind="credit_note", original_id=bill.id,
                number=_number(bill.visit.site, "CN"), status=BillStatus.PAID, tax_rate=bill.tax_rate, reason=reason,
                company_name=bill.company_name, created_by_id=getattr(actor, "id", None),
                issued_at=now, closed_at=now, warranty_claims=ZERO)
    if value == bill.total and left == bill.total:
        # The whole bill: every line it charged, reversed.
        for pos, line in enumerate(x for x in bill.lines if x.amount):
            note.lines.append(BillLine(site_id=bill.site_id, position=pos, kind=line.kind,
                                       description=line.description, part_id=line.part_id,
                                       quantity=-line.quantity, unit_price=line.unit_price,
                                       discount_pct=line.discount_pct, warranty=False,
                                       amount=-line.amount, claim=ZERO))
        note.labour, note.parts, note.subtotal = -bill.labour, -bill.parts, -bill.subtotal
        note.discount, note.tax, note.total = -bill.discount, -bill.tax, -bill.total
    else:
        net, tax = rules.credit_split(value, bill.tax_rate)
        note.lines.append(BillLine(site_id=bill.site_id, position=0, kind="credit", description=reason[:200],
                                   quantity=Decimal("1"), unit_price=-net, discount_pct=ZERO, warranty=False,
                                   amount=-net, claim=ZERO))
        note.labour, note.parts, note.subtotal, note.discount = ZERO, ZERO, -net, ZERO
        note.tax, note.total = -tax, -value
    db.session.add(note)
    db.session.flush()
    db.session.add(Payment(site_id=bill.site_id, bill_id=note.id, method=refund_method, amount=-value,
                           reference=(reference or "").strip()[:64] or None,
                           received_by_id=getattr(actor, "id", None), at=now))
    db.session.commit()
    _publish(bill.visit, "bill.credited", bill=bill.id, credit_note=note.id)
    return note


# ---------------------------------------------------------------- reading

def waiting_bills(site_id: int) -> list[Bill]:
    return list(db.session.scalars(select(Bill).where(Bill.site_id == site_id, Bill.kind == "invoice",
                                                      Bill.status == BillStatus.ISSUED)
                                   .order_by(Bill.issued_at, Bill.id)))


def settled_between(site_id: int, start, end) -> list[Bill]:
    return list(db.session.scalars(select(Bill).where(
        Bill.site_id == site_id, Bill.status.in_(SETTLED), Bill.closed_at >= start, Bill.closed_at < end)
        .order_by(Bill.closed_at.desc(), Bill.id.desc())))
