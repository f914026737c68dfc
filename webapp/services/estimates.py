"""Estimate, promise time, repair order and the customer's authorisation (stages 8–11).

Rules that matter for money and trust live here:
- lines are validated (no negatives, sane bounds), money is Decimal;
- a change after the estimate was shown makes a new version, and every decision starts over;
- an approval names the version it approves: a stale one is refused, two at once record one;
- approval records are append-only and chained by hash per site (``verify_chain``);
- approved parts are reserved in stock; declining everything closes the visit with the
  diagnosis fee and the car returned unrepaired.
"""
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import case, false, func, insert, literal, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .. import changes, money
from .. import notify
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import (Appointment, Approval, Concern, Estimate, EstimateLine, LabourOperation, LabourRate,
                      MaintenanceItem, Part, RepairOrder, Signature, Site, StockMovement, TechnicianShift,
                      User, Visit)
from ..storage import ImageRefused, store_signature_png
from ..promise import ShopDay, hm, promise_time
from ..roles import TECHNICIAN
from ..timeutil import local_day, utcnow
from ..workflow import VisitState
from . import ServiceError
from . import appointment_preparation
from .visits import record_transition
from ..validation import Invalid
from ..commands.estimates import InShopApproval, LineRequest, RepairOrderTerms
from ..statuses import EstimateStatus, JobStatus, LineDecision

log = logging.getLogger(__name__)

OPEN_FOR_LINES = {VisitState.ESTIMATE.value, VisitState.AUTHORISATION.value, VisitState.REPAIR.value}


def _changed(visit: Visit, what: str):
    publish(DomainEvent("visit.updated", visit.site_id, visit.id,
                        visit.ticket.id if visit.ticket else None, {"what": what}))


# ---------------------------------------------------------------- reading

def estimate_for(visit: Visit) -> Estimate:
    est = visit.estimate
    if est is None:
        est = Estimate(site_id=visit.site_id, visit=visit, tax_rate=visit.site.tax_rate)
        db.session.add(est)
        db.session.flush()
    return est


def labour_rate(site_id: int, kind: str = "default") -> Decimal:
    rates = {r.kind: r.rate for r in db.session.scalars(select(LabourRate).where(LabourRate.site_id == site_id))}
    return rates.get(kind) or rates.get("default") or Decimal("0")


def line_money(line: EstimateLine) -> money.LineMoney:
    return money.LineMoney(line.kind, line.quantity, line.unit_price, line.discount_pct or money.ZERO,
                           line.warranty, line.price_after_diagnosis)


def estimate_totals(est: Estimate, decisions=(LineDecision.PENDING, LineDecision.APPROVED)) -> money.Totals:
    lines = [line_money(line) for line in est.lines if line.decision in decisions]
    return money.totals(lines, est.discount or money.ZERO, est.tax_rate)


@dataclass(frozen=True)
class Availability:
    in_stock: bool
    expected: datetime | None   # UTC, when short


def availability(line: EstimateLine) -> Availability | None:
    if line.kind != "part" or line.part is None:
        return None
    free = line.part.available + (line.quantity if line.reserved else 0)
    if free >= line.quantity:
        return Availability(True, None)
    return Availability(False, utcnow() + timedelta(days=line.part.lead_days or 2))


# ---------------------------------------------------------------- changing lines

def _editable(visit: Visit) -> Estimate:
    if visit.state not in OPEN_FOR_LINES:
        raise ServiceError("estimate_closed", 409)
    est = estimate_for(visit)
    if est.status != EstimateStatus.DRAFT:
        # Shown to the customer already: any change is a new version that needs a new approval.
        est.version += 1
        est.status = EstimateStatus.DRAFT
        for line in est.lines:
            _release(line, visit)
            line.decision = LineDecision.PENDING
            line.decline_reason = None
    return est


# The order in which a line's problems are listed (as the form shows the fields).
LINE_FIELDS = ("concern_id", "operation_id", "part_id", "quantity", "unit_price", "discount_pct", "description")


def _line_from_request(visit: Visit, req: LineRequest) -> EstimateLine:
    """The line ``req`` describes, its records looked up in this visit's site; ``Invalid`` with
    the request's own problems and those of the look-ups together."""
    errors: dict[str, str] = dict(req.problems)
    line = EstimateLine(site_id=visit.site_id, kind=req.kind)
    if req.concern_id is not None:
        concern = db.session.get(Concern, req.concern_id)
        if concern is None or concern.visit_id != visit.id:
            errors["concern_id"] = "invalid"
        else:
            line.concern_id = concern.id
            line.warranty = concern.warranty == "covered"
    if req.warranty is not None:
        line.warranty = req.warranty
    if req.kind == "labour":
        op = db.session.get(LabourOperation, req.operation_id) if req.operation_id else None
        if req.operation_id and (op is None or op.site_id != visit.site_id):
            errors["operation_id"] = "invalid"
        hours = req.quantity
        if hours is None and "quantity" not in errors:
            hours = money.parse_amount(op.hours if op else "", Decimal("0.1"), Decimal("99"))
            if hours is None:
                errors["quantity"] = "hours_invalid"
        line.operation_id = op.id if op else None
        line.description = req.description or (op.name_zh if op else "")
        line.quantity = hours or Decimal("0")
        rate = req.unit_price
        if rate is None and "unit_price" not in errors:
            rate = labour_rate(visit.site_id, op.kind if op else "default")
        line.unit_price = rate or Decimal("0")
    elif req.kind == "part":
        part = db.session.get(Part, req.part_id) if req.part_id else None
        if part is None or part.site_id != visit.site_id:
            errors["part_id"] = "part_invalid"
        qty = req.quantity if req.quantity is not None or "quantity" in errors else Decimal("1")
        line.part_id = part.id if part else None
        line.description = req.description or (part.name_zh if part else "")
        line.quantity = qty or Decimal("0")
        price = req.unit_price
        if price is None and "unit_price" not in errors:
            price = part.unit_price if part else None
            if price is None:
                errors["unit_price"] = "price_invalid"
        line.unit_price = price or Decimal("0")
    else:  # diagnosis
        line.description = req.description or "故障诊断"
        line.price_after_diagnosis = req.price_after_diagnosis
        hours = req.quantity if req.quantity is not None or "quantity" in errors else Decimal("1")
        line.quantity = hours or Decimal("0")
        line.unit_price = labour_rate(visit.site_id, "diagnosis")
    line.discount_pct = req.discount_pct
    if not line.description:
        errors["description"] = "required"
    if errors:
        raise Invalid({name: errors[name] for name in LINE_FIELDS if name in errors})
    return line


def add_line(visit: Visit, req: LineRequest, actor, recommended: str | None = None) -> EstimateLine:
    with db.session.no_autoflush:  # the new line joins the session only once it is complete
        line = _line_from_request(visit, req)
        est = _editable(visit)
        line.position = len(est.lines)
        line.recommended = recommended
        line.added_in_version = est.version
        line.estimate = est
        db.session.add(line)
    _recompute_promise(visit, est)
    db.session.commit()
    _changed(visit, "estimate")
    return line


def _own_line(visit: Visit, line_id: int) -> EstimateLine:
    line = db.session.get(EstimateLine, line_id)
    if line is None or line.estimate.visit_id != visit.id:
        raise ServiceError("line_not_found", 404)
    return line


def delete_line(visit: Visit, line_id: int, actor) -> None:
    line = _own_line(visit, line_id)
    est = _editable(visit)
    _release(line, visit)
    est.lines.remove(line)
    _recompute_promise(visit, est)
    db.session.commit()
    _changed(visit, "estimate")


def set_discount(visit: Visit, amount: Decimal, actor) -> Estimate:
    est = _editable(visit)
    est.discount = amount
    db.session.commit()
    _changed(visit, "estimate")
    return est


# ---------------------------------------------------------------- recommendations

@dataclass(frozen=True)
class Recommendation:
    key: str                 # "m<item id>" maintenance due, "d<line id>" declined before
    why: str                 # maintenance_due, declined_before
    description: str
    operation: LabourOperation | None
    part: Part | None
    part_quantity: Decimal | None
    detail: dict


def recommendations(visit: Visit) -> list[Recommendation]:
    vehicle = visit.vehicle
    if vehicle is None:
        return []
    est = visit.estimate
    present_ops = {line.operation_id for line in est.lines} if est else set()
    mileage = (visit.intake.mileage if visit.intake and visit.intake.mileage is not None else vehicle.last_mileage)
    today = local_day(visit.site.timezone)
    found: list[Recommendation] = _booked(visit, present_ops)
    found += maintenance_due(vehicle, visit.site_id, mileage, today, visit.id, present_ops)
    declined = db.session.execute(
        select(EstimateLine).join(Estimate).join(Visit, Estimate.visit_id == Visit.id)
        .where(Visit.vehicle_id == vehicle.id, Visit.id != visit.id, EstimateLine.decision == LineDecision.DECLINED)
        .order_by(EstimateLine.id.desc()).limit(10)).scalars().all()
    for line in declined:
        if line.operation_id and line.operation_id in present_ops:
            continue
        found.append(Recommendation(f"d{line.id}", "declined_before", line.description, line.operation, line.part,
                                    line.quantity if line.kind == "part" else None,
                                    {"declined_at": line.estimate.updated_at}))
    return found


def maintenance_due(vehicle, site_id: int, mileage: int | None, today, exclude_visit: int | None,
                    present_ops: set) -> list[Recommendation]:
    """The schedule's items due for ``vehicle`` by mileage or time (the estimate's suggestions,
    and the staff booking form's: services/booking_suggestions)."""
    found = []
    items = db.session.scalars(select(MaintenanceItem).where(MaintenanceItem.site_id == site_id)).all()
    for item in items:
        if item.make and item.make != vehicle.make or item.model and item.model != vehicle.model:
            continue
        if item.operation_id in present_ops:
            continue
        last = _last_done(vehicle.id, item.operation_id, exclude_visit)
        due_km = due_time = False
        if item.every_km and mileage is not None:
            last_km = last[1] if last else 0
            due_km = mileage - (last_km or 0) >= item.every_km
        if item.every_months:
            since = last[0] if last else (vehicle.warranty_start or None)
            due_time = since is not None and (today - since).days >= item.every_months * 30
        if due_km or due_time:
            found.append(Recommendation(f"m{item.id}", "maintenance_due", item.operation.name_zh, item.operation,
                                        item.part, item.part_quantity,
                                        {"last": last, "every_km": item.every_km, "every_months": item.every_months}))
    return found


def _booked(visit: Visit, present_ops: set) -> list[Recommendation]:
    """The operations booked with the visit's appointment (issue 13), offered first: reception
    does not ask for them twice."""
    appointment = db.session.get(Appointment, visit.appointment_id) if visit.appointment_id else None
    if appointment is None:
        return []
    return [Recommendation(f"b{booked.id}", "booked", booked.operation.name_zh, booked.operation, None, None, {})
            for booked in appointment.operations if booked.operation_id not in present_ops]


def _last_done(vehicle_id: int, operation_id: int, exclude_visit: int):
    """(local date, mileage) of the last approved line with this operation on the vehicle."""
    row = db.session.execute(
        select(Visit.created_at, Visit.id).join(Estimate, Estimate.visit_id == Visit.id)
        .join(EstimateLine, EstimateLine.estimate_id == Estimate.id)
        .where(Visit.vehicle_id == vehicle_id, Visit.id != exclude_visit,
               EstimateLine.operation_id == operation_id, EstimateLine.decision == LineDecision.APPROVED)
        .order_by(Visit.created_at.desc()).limit(1)).first()
    if row is None:
        return None
    visit = db.session.get(Visit, row.id)
    km = visit.intake.mileage if visit.intake else None
    return (row.created_at.date(), km)


def add_recommended(visit: Visit, key: str, actor) -> list[EstimateLine]:
    rec = next((r for r in recommendations(visit) if r.key == key), None)
    if rec is None:
        raise ServiceError("recommendation_gone", 409)
    added = []
    if rec.operation is not None:
        added.append(add_line(visit, LineRequest("labour", operation_id=rec.operation.id), actor, rec.why))
    if rec.part is not None:
        added.append(add_line(visit, LineRequest("part", part_id=rec.part.id, quantity=rec.part_quantity or Decimal("1")),
                              actor, rec.why))
    return added


# ---------------------------------------------------------------- promise time

def _shop_day(site: Site, day) -> ShopDay:
    shifts = db.session.scalars(select(TechnicianShift).where(TechnicianShift.site_id == site.id,
                                                              TechnicianShift.day == day)).all()
    if shifts:
        pairs = tuple((hm(s.start), hm(s.end)) for s in shifts)
    else:
        # No roster entered: every active technician works the opening hours.
        n = db.session.scalar(select(func.count(User.id)).where(User.site_id == site.id, User.role == TECHNICIAN,
                                                                User.active.is_(True))) or 0
        pairs = tuple((hm(site.opening), hm(site.closing)) for _ in range(n))
    return ShopDay(hm(site.opening), hm(site.closing), hm(site.break_start) if site.break_start else None,
                   hm(site.break_end) if site.break_end else None, pairs)


def booked_hours(site_id: int, exclude_visit: int | None) -> Decimal:
    """Approved labour hours of cars waiting for or in repair (ahead of this one)."""
    value = db.session.scalar(
        select(func.coalesce(func.sum(EstimateLine.quantity), 0))
        .join(Estimate).join(Visit, Estimate.visit_id == Visit.id)
        .where(Visit.site_id == site_id, Visit.id != exclude_visit,
               Visit.state.in_((VisitState.DISPATCH.value, VisitState.REPAIR.value)),
               EstimateLine.kind.in_(("labour", "diagnosis")), EstimateLine.decision == LineDecision.APPROVED))
    return Decimal(value or 0)


def _now_local(site: Site) -> datetime:
    return utcnow().replace(tzinfo=timezone.utc).astimezone(ZoneInfo(site.timezone)).replace(tzinfo=None)


def _promise(site: Site, est: Estimate, day: ShopDay, booked: Decimal, now_local: datetime) -> datetime:
    """UTC promise of ``est``'s work (its labour and diagnosis not declined) after ``booked`` hours."""
    hours = sum((line.quantity for line in est.lines
                 if line.kind in ("labour", "diagnosis") and line.decision != LineDecision.DECLINED), Decimal("0"))
    local = promise_time(now_local, day, booked, hours)
    return local.replace(tzinfo=ZoneInfo(site.timezone)).astimezone(timezone.utc).replace(tzinfo=None)


def _recompute_promise(visit: Visit, est: Estimate):
    db.session.flush()
    site = visit.site
    now_local = _now_local(site)
    est.promised_at = _promise(site, est, _shop_day(site, now_local.date()), booked_hours(site.id, visit.id), now_local)


WAITING_FOR_DECISION = (VisitState.ESTIMATE.value, VisitState.AUTHORISATION.value)


def _refresh_waiting_promises(site_id: int, decided_id: int):
    """The shop's load changed: cars still waiting for their customer's decision get a new
    promise (approved work of the decided car now queues ahead of them).

    Runs after the decision's commit, in a transaction of its own: a decision locks no other
    visit's row (two decisions would each wait for the other's estimate). The waiting estimates
    are locked first, in id order, and the load read after: of refreshes running together the
    last one reads every decision committed before it, so the promises end exact."""
    waiting = (select(Estimate.id).join(Visit, Estimate.visit_id == Visit.id)
               .where(Visit.site_id == site_id, Visit.id != decided_id, Visit.state.in_(WAITING_FOR_DECISION),
                      Estimate.status != EstimateStatus.DECIDED).order_by(Estimate.id))
    if db.session.get_bind().dialect.name == "postgresql":
        ids = db.session.scalars(waiting.with_for_update(of=Estimate, key_share=True)).all()
    else:
        # SQLite: a write first takes the database's write lock, then the reads are current.
        db.session.execute(update(Estimate).where(false()).values(version=Estimate.version)
                           .execution_options(synchronize_session=False))
        ids = db.session.scalars(waiting).all()
    if ids:
        site = db.session.get(Site, site_id)
        now_local = _now_local(site)
        day = _shop_day(site, now_local.date())
        booked = booked_hours(site_id, None)   # the waiting cars are not in it: one figure for all
        for est in db.session.scalars(select(Estimate).where(Estimate.id.in_(ids))
                                      .options(selectinload(Estimate.lines))):
            est.promised_at = _promise(site, est, day, booked, now_local)
    db.session.commit()


def refresh_promise(visit: Visit) -> Estimate:
    """Recompute after the shop's load changed (another car approved, a shift added)."""
    est = estimate_for(visit)
    _recompute_promise(visit, est)
    db.session.commit()
    return est


# ---------------------------------------------------------------- presenting and the repair order

def _draw_ro_number(ro: RepairOrder) -> None:
    """Give ``ro`` (inserted with a provisional number) the next number of its site and day, as
    the last statement before the commit, as a check-in draws its ticket's (issue 15: the counter
    row stays locked for this round trip and the commit, not across the repair order's writes).

    PostgreSQL: one statement (the counter's upsert in a CTE feeding the repair order's UPDATE).
    SQLite: the counter's upsert and an UPDATE, under its single write lock."""
    if db.session.get_bind().dialect.name == "postgresql":
        seq = db.session.execute(text(
            "WITH c AS (INSERT INTO ticket_counter (site_id, day, prefix, value) VALUES (:site, :day, 'RO', 1)"
            " ON CONFLICT (site_id, day, prefix) DO UPDATE SET value = ticket_counter.value + 1 RETURNING value)"
            " UPDATE repair_order SET seq = c.value, number = :head || lpad(c.value::text, 4, '0')"
            " FROM c WHERE repair_order.id = :ro RETURNING repair_order.seq"),
            {"site": ro.site_id, "day": ro.day, "head": f"RO-{ro.day:%Y%m%d}-", "ro": ro.id}).scalar_one()
    else:
        from .checkin import _allocate_seq
        seq = _allocate_seq(ro.site_id, ro.day, "RO")
        table = RepairOrder.__table__
        db.session.execute(update(table).where(table.c.id == ro.id)
                           .values(seq=seq, number=f"RO-{ro.day:%Y%m%d}-{seq:04d}"))
    # What the statement wrote, without marking the row changed (no second UPDATE at commit).
    set_committed_value(ro, "seq", seq)
    set_committed_value(ro, "number", f"RO-{ro.day:%Y%m%d}-{seq:04d}")


def save_repair_order(visit: Visit, terms: RepairOrderTerms, actor) -> RepairOrder:
    """The repair order's terms; numbered (RO-YYYYMMDD-NNNN, gapless per site and day) the
    first time it is saved, the number drawn last (``_draw_ro_number``)."""
    ro = visit.repair_order
    new = ro is None
    if new:
        # seq and number: unique until _draw_ro_number replaces them (visit ids are unique)
        ro = RepairOrder(site_id=visit.site_id, visit=visit, day=local_day(visit.site.timezone), seq=-visit.id,
                         number=f"~{visit.id}")
        db.session.add(ro)
    ro.payment_method = terms.payment_method
    ro.old_parts = terms.old_parts
    ro.car_wash = terms.car_wash
    ro.delivery_explained = True
    ro.additional_work_consent = True
    if new:
        db.session.flush()
        _draw_ro_number(ro)
    db.session.commit()
    _changed(visit, "repair_order")
    return ro


def present(visit: Visit, actor) -> Estimate:
    """Show the estimate to the customer for approval (in the shop or on the phone)."""
    est = estimate_for(visit)
    if not est.lines:
        raise Invalid({"lines": "lines_required"})
    if visit.repair_order is None:
        raise Invalid({"repair_order": "repair_order_required"})
    previous = visit.state
    if visit.state in (VisitState.ESTIMATE.value, VisitState.REPAIR.value):
        record_transition(visit, VisitState.AUTHORISATION, "present_estimate", actor)
    from . import workshop
    workshop.additional_priced(visit, est.version)
    _record_first_showing(visit, est)
    est.status = EstimateStatus.PRESENTED
    _recompute_promise(visit, est)
    db.session.commit()
    publish(DomainEvent("visit.advanced", visit.site_id, visit.id, visit.ticket.id if visit.ticket else None,
                        {"from": previous, "to": visit.state}))
    return est


def _free_for(visit: Visit, part_ids) -> dict[int, Decimal]:
    """Part id → what ``visit`` could take from stock now: on hand − reserved, plus what is already
    set aside for this very visit — its booking's hold (appointment preparation keeps it until the
    decision hands it over) and the lines it has reserved."""
    free = {pid: Decimal(qty or 0) for pid, qty in db.session.execute(
        select(Part.id, Part.on_hand - Part.reserved).where(Part.id.in_(part_ids)))}
    if visit.appointment_id is not None:
        appointment = db.session.get(Appointment, visit.appointment_id)
        ref = appointment_preparation.reference(appointment)
        for pid, qty in appointment_preparation.held_by(visit.site_id, [ref]).get(ref, {}).items():
            if pid in free:
                free[pid] += qty
    for line in visit.estimate.lines:
        if line.reserved and line.part_id in free:
            free[line.part_id] += line.quantity
    return free


def _record_first_showing(visit: Visit, est: Estimate) -> None:
    """Stamp the lines shown to the customer for the first time (the first estimate, or the
    additional work of a later version) with the time and, for a catalogue part, whether the stock
    covered its quantity then — the parts fill rate (备件满足率) of /reports. Lines shown before keep
    what they got: the figure is about the moment of the first estimate, not later re-showings.
    Lines take the free stock in their order, so two lines of the last unit are one in, one out.
    Added work is measured against what is free when it is shown: the new version has let go of the
    earlier lines' reservations, so an earlier line of the same part does not count against it."""
    fresh = [line for line in est.lines if line.presented_at is None]
    if not fresh:
        return
    now = utcnow()
    part_ids = {line.part_id for line in fresh if line.kind == "part" and line.part_id is not None}
    free = _free_for(visit, part_ids) if part_ids else {}
    for line in fresh:
        line.presented_at = now
        if line.kind == "part" and line.part_id in part_ids:
            line.in_stock = free.get(line.part_id, Decimal("0")) >= line.quantity
            if line.in_stock:
                free[line.part_id] -= line.quantity


# ---------------------------------------------------------------- approvals

CONSENT_TEXT = ("本人确认以上项目与金额，同意按此委托维修；维修中发现的新增项目，须经本人同意后方可施工。"
                " / I confirm the items and amounts above and authorise the work; additional work found "
                "during the repair is done only after I agree to it.")


def shown_payload(est: Estimate, locale: str = "zh_CN") -> dict:
    """What the customer is shown for a decision, canonical and without anything personal."""
    lines = []
    for line in est.lines:
        m = line_money(line)
        lines.append({"id": line.id, "kind": line.kind, "description": line.description,
                      "quantity": str(line.quantity), "unit_price": str(line.unit_price),
                      "discount_pct": str(line.discount_pct or 0), "warranty": line.warranty,
                      "price_after_diagnosis": line.price_after_diagnosis,
                      "customer_amount": str(m.customer), "claim": str(m.claim)})
    t = estimate_totals(est)
    return {"estimate": est.id, "version": est.version, "lines": lines,
            "totals": {k: str(v) for k, v in t.__dict__.items() if k != "pending_price"},
            "tax_rate": str(est.tax_rate), "diagnosis_fee": str(est.visit.site.diagnosis_fee)}


def canonical(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _refuse(code):
    db.session.rollback()  # let go of the lock taken for the decision
    return ServiceError(code, 409)


def record_hash(a: Approval) -> str:
    fields = {"site": a.site_id, "visit": a.visit_id, "estimate": a.estimate_id, "version": a.version,
              "channel": a.channel, "shown_sha256": a.shown_sha256, "decisions": a.decisions,
              "signer": a.signer, "signature": a.signature_id, "consent": a.consent_text, "ip": a.ip,
              "user_agent": a.user_agent, "at": a.at.isoformat(), "prev": a.prev_hash}
    return sha256(canonical(fields))


def decide(visit: Visit, version: int, decisions: dict, channel: str, signer: str | None = None,
           signature_id: int | None = None, ip: str | None = None, user_agent: str | None = None,
           actor=None) -> Approval:
    """Record the customer's decision on every line of estimate ``version``.

    ``decisions``: {line id: ("approved" | "declined", reason or None)} covering every line.
    Refused: a version that is not the current one (the estimate changed: show it again), an
    estimate not presented, a version already decided (a double tap or a second device).

    Locks (issue 15, short locks): the estimate's own row first, so a second device or a double
    tap waits there and then reads the first decision; everything else is written touching no row
    another visit needs; the rows every visit of the site shares come last, each in one
    statement: the parts' stock (``_take_stock``), then the site's row with its change sequence
    and the head of its approval chain (``_close_chain``), then the commit. The promises of the
    cars still waiting move after the commit, in a transaction of their own."""
    est = estimate_for(visit)
    db.session.execute(update(Estimate).where(Estimate.id == est.id).values(version=Estimate.version)
                       .execution_options(synchronize_session=False))
    db.session.refresh(est)
    if int(version) != est.version:
        raise _refuse("stale_version")
    if est.status != EstimateStatus.PRESENTED:
        raise _refuse("already_decided" if est.status == EstimateStatus.DECIDED else "not_presented")
    lines = {line.id: line for line in est.lines}
    if set(decisions) != set(lines) or any(
            d[0] not in (LineDecision.APPROVED, LineDecision.DECLINED) for d in decisions.values()):
        db.session.rollback()
        raise Invalid({"decisions": "decide_every_line"})
    head = _chain_head(visit.site_id)
    shown = canonical(shown_payload(est))
    approval = Approval(
        site_id=visit.site_id, visit_id=visit.id, estimate_id=est.id, version=est.version, channel=channel,
        shown=shown, shown_sha256=sha256(shown),
        decisions=canonical({str(k): {"decision": v[0], "reason": (v[1] or None)} for k, v in decisions.items()}),
        signer=(signer or "")[:120] or None, signature_id=signature_id, consent_text=CONSENT_TEXT,
        ip=(ip or "")[:64] or None, user_agent=(user_agent or "")[:255] or None, at=utcnow(), prev_hash=head.prev)
    approval.record_hash = record_hash(approval)   # provisional until _close_chain: the head may move
    reserve: dict[int, Decimal] = {}
    for line_id, (decision, reason) in decisions.items():
        line = lines[line_id]
        line.decision = decision
        line.decline_reason = (reason or "").strip()[:200] or None if decision == LineDecision.DECLINED else None
        if decision == LineDecision.APPROVED:
            _reserve(line, visit, actor, reserve)
    released = appointment_preparation.hand_over(visit, actor)   # the booking's hold becomes the estimate's
    est.status = EstimateStatus.DECIDED
    previous = visit.state
    from . import workshop
    job = visit.job
    if any(d[0] == LineDecision.APPROVED for d in decisions.values()):
        # Additional work decided during the repair: back to the job already under way.
        target = VisitState.REPAIR if job is not None and job.status != JobStatus.WAITING else VisitState.DISPATCH
    else:
        # Everything declined: the inspection/diagnosis fee, and the car goes back unrepaired.
        fee = EstimateLine(site_id=visit.site_id, estimate=est, kind="diagnosis", position=len(est.lines),
                           description="检测/诊断费 Inspection and diagnosis fee", quantity=Decimal("1"),
                           unit_price=visit.site.diagnosis_fee, decision=LineDecision.APPROVED,
                           added_in_version=est.version)
        db.session.add(fee)
        target = VisitState.READY
    if visit.state == VisitState.AUTHORISATION.value:
        record_transition(visit, target, "authorise", actor, {"channel": channel, "version": est.version})
    if target in (VisitState.DISPATCH, VisitState.REPAIR):
        workshop.ensure_job(visit)
        workshop.additional_decided(visit, any(d[0] == LineDecision.APPROVED and lines[i].added_in_version == est.version
                                               and est.version > 1 for i, d in decisions.items()))
    _recompute_promise(visit, est)
    ready_now = visit.state == VisitState.READY.value and previous != VisitState.READY.value   # everything declined
    notice = notify.add_ready_notice(visit) if ready_now else None
    try:
        db.session.flush()
        _take_stock(reserve, released)
        approval_id = _close_chain(approval, visit.site_id, head)
        db.session.commit()
    except IntegrityError:   # the same version and channel stored already
        db.session.rollback()
        raise ServiceError("already_decided", 409) from None
    except Exception:
        db.session.rollback()
        raise
    approval = db.session.get(Approval, approval_id)
    site_id, visit_id = visit.site_id, visit.id
    try:
        _refresh_waiting_promises(site_id, visit_id)
    except Exception:  # noqa: BLE001 - the decision stands; the promises move with the next change
        db.session.rollback()
        log.exception("refreshing the waiting cars' promises after deciding visit %s", visit_id)
    publish(DomainEvent("estimate.decided", visit.site_id, visit.id, visit.ticket.id if visit.ticket else None,
                        {"version": est.version, "channel": channel, "from": previous, "to": visit.state}))
    if ready_now:
        publish(DomainEvent("visit.ready", visit.site_id, visit.id, visit.ticket.id if visit.ticket else None))
        notify.enqueue(notice)
    return approval


@dataclass(frozen=True)
class _Head:
    seen: str | None     # site.approval_head as read (the condition of _close_chain's UPDATE)
    prev: str | None     # the hash the new approval links to


def _chain_head(site_id: int) -> _Head:
    """The site's newest approval as read now, without a lock (``_close_chain`` checks it). A site
    whose head was never set (approvals written before migration 0022 or by bulk SQL) links to
    its newest approval."""
    seen = db.session.scalar(select(Site.approval_head).where(Site.id == site_id))
    if seen is not None:
        return _Head(seen, seen)
    return _Head(None, db.session.scalar(select(Approval.record_hash).where(Approval.site_id == site_id)
                                         .order_by(Approval.id.desc()).limit(1)))


def _close_chain(approval: Approval, site_id: int, head: _Head) -> int:
    """Store ``approval`` and move the site's chain head to it, bumping its change sequence: the
    transaction's last statement, if the head is still the one the approval links to. Another
    decision of the site committed in between: link to that one instead and try again (the chain
    never forks). The approval's id.

    PostgreSQL: one statement (the site's UPDATE in a CTE feeding the approval's INSERT), so the
    site's row is locked for this round trip and the commit, and ids follow the chain's order.
    SQLite: the UPDATE and the INSERT, under its single write lock held since the decision began."""
    approval_t, site_t = Approval.__table__, Site.__table__
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    for _attempt in range(1000):
        bump = (update(site_t).where(site_t.c.id == site_id, site_t.c.approval_head.is_not_distinct_from(head.seen))
                .values(change_seq=site_t.c.change_seq + 1, approval_head=approval.record_hash))
        if postgresql:
            moved = bump.returning(site_t.c.id).cte("moved")
            columns = [c for c in approval_t.c if c.key != "id"]
            new_id = db.session.execute(
                insert(approval_t).from_select(
                    [c.key for c in columns],
                    select(*[literal(getattr(approval, c.key), c.type) for c in columns]).select_from(moved))
                .returning(approval_t.c.id)).scalar()
        elif db.session.execute(bump).rowcount:
            db.session.add(approval)
            db.session.flush()
            new_id = approval.id
        else:
            new_id = None
        if new_id is not None:
            changes.bumped(db.session, site_id)
            return new_id
        seen = db.session.scalar(select(site_t.c.approval_head).where(site_t.c.id == site_id))
        head = _Head(seen, seen)
        approval.prev_hash = seen
        approval.record_hash = record_hash(approval)
    raise RuntimeError("the approval chain's head kept moving")


def _take_stock(reserve: dict[int, Decimal], released: dict[int, Decimal]) -> None:
    """Add the approved parts to ``Part.reserved`` and take off the booking's hold let go (never
    below zero), in one statement locking the parts in id order (no deadlock between decisions
    sharing parts); the row locks are held from here to the commit. NO KEY UPDATE, as an UPDATE
    takes: FOR UPDATE would wait for the key-share locks of every transaction that wrote a stock
    movement of the part, and they for it."""
    ids = sorted(set(reserve) | set(released))
    if not ids:
        return
    zero = Decimal("0")
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(
            "UPDATE part SET reserved = GREATEST(part.reserved + v.res - v.rel, 0)"
            " FROM unnest(CAST(:ids AS integer[]), CAST(:rel AS numeric[]), CAST(:res AS numeric[])) AS v(id, rel, res)"
            " WHERE part.id = v.id AND part.id IN"
            " (SELECT p.id FROM part p WHERE p.id = ANY(CAST(:ids AS integer[])) ORDER BY p.id FOR NO KEY UPDATE)"),
            {"ids": ids, "rel": [released.get(i, zero) for i in ids], "res": [reserve.get(i, zero) for i in ids]})
        return
    for part_id in ids:   # SQLite: one writer at a time already
        delta = reserve.get(part_id, zero) - released.get(part_id, zero)
        db.session.execute(update(Part).where(Part.id == part_id).values(
            reserved=case((Part.reserved + delta > 0, Part.reserved + delta), else_=zero))
            .execution_options(synchronize_session=False))


def approve_in_shop(visit: Visit, answers: InShopApproval, actor, ip: str | None = None,
                    user_agent: str | None = None) -> Approval:
    """The customer decides every line on the advisor's tablet and signs the repair order as
    shown; the signature is committed with the approval, or neither is. Refused like
    ``decide`` (stale version, not presented, decided already); bad input (a line left
    undecided, no signature) is ``Invalid`` with every problem at once."""
    est = estimate_for(visit)
    if answers.version != est.version:
        raise _refuse("stale_version")
    if est.status != EstimateStatus.PRESENTED:
        raise _refuse("already_decided" if est.status == EstimateStatus.DECIDED else "not_presented")
    decisions, errors = {}, {}
    for line in est.lines:
        choice, reason = answers.choices.get(line.id, ("", None))
        if choice not in (LineDecision.APPROVED, LineDecision.DECLINED):
            errors[f"decision-{line.id}"] = "invalid"
            continue
        decisions[line.id] = (choice, reason)
    try:
        stored = store_signature_png(answers.signature, visit.site_id)
    except ImageRefused:
        stored, errors["signature"] = None, "signature_missing"
    if errors:
        if any(k.startswith("decision-") for k in errors):
            errors["decisions"] = "decide_every_line"
        raise Invalid(errors)
    sig = Signature(site_id=visit.site_id, visit_id=visit.id, document="repair_order", signer_name=answers.signer_name,
                    image_path=stored.path, image_sha256=stored.sha256,
                    content_hash=sha256(canonical(shown_payload(est))),
                    ip=(ip or "")[:64] or None, user_agent=(user_agent or "")[:255] or None,
                    witnessed_by_id=getattr(actor, "id", None))
    db.session.add(sig)
    db.session.flush()
    # decide() commits the signature with the approval, or rolls both back when refused.
    return decide(visit, est.version, decisions, "in_shop", signer=answers.signer_name, signature_id=sig.id,
                  ip=ip, user_agent=user_agent, actor=actor)


def _reserve(line: EstimateLine, visit: Visit, actor, reserve: dict[int, Decimal]):
    """Note the approved part line's quantity in ``reserve`` (part id → quantity; ``_take_stock``
    adds it to the part's stock at the end of the decision) and write its movement."""
    if line.kind != "part" or line.part_id is None or line.reserved:
        return
    reserve[line.part_id] = reserve.get(line.part_id, Decimal("0")) + line.quantity
    line.reserved = True
    db.session.add(StockMovement(site_id=visit.site_id, part_id=line.part_id, kind="reserve",
                                 quantity=line.quantity, visit_id=visit.id,
                                 user_id=getattr(actor, "id", None), reference=f"visit {visit.id}"))


def _release(line: EstimateLine, visit: Visit):
    if not line.reserved or line.part is None:
        return
    line.part.reserved = max(Decimal("0"), (line.part.reserved or 0) - line.quantity)
    line.reserved = False
    db.session.add(StockMovement(site_id=visit.site_id, part_id=line.part_id, kind="release",
                                 quantity=line.quantity, visit_id=visit.id, reference=f"visit {visit.id}"))


def verify_chain(site_id: int) -> bool:
    """Every approval of the site hashes to its stored value and points at the one before."""
    prev = None
    for a in db.session.scalars(select(Approval).where(Approval.site_id == site_id).order_by(Approval.id)):
        if a.prev_hash != prev or record_hash(a) != a.record_hash or sha256(a.shown) != a.shown_sha256:
            return False
        prev = a.record_hash
    return True
