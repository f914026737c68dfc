"""The handover of the car (交车, stage 15) on the advisor's visit page.

When the visit is READY the advisor goes through the checklist with the customer (each tick is
saved as made), the customer signs the checklist as shown (a Signature with document
"delivery" and the checklist's content hash, webapp/handover.py), and the advisor completes the
handover. Completing needs every item ticked and a signature of the current content; it records
who and when, then asks services/closing.py whether the visit is delivered (the bill may still
be open: the cashier's settlement then delivers it). Each use case commits, then publishes."""
import json

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from .. import handover as rules
from .. import intake as intake_rules
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Delivery, Signature, Visit
from ..storage import ImageRefused, store_signature_png
from ..timeutil import utcnow
from ..workflow import VisitState
from . import ServiceError, closing
from .intake import latest_signature
from ..validation import Invalid

DOCUMENT = "delivery"


def _changed(visit: Visit):
    publish(DomainEvent("visit.updated", visit.site_id, visit.id,
                        visit.ticket.id if visit.ticket else None, {"what": "delivery"}))


def _require_open(visit: Visit) -> None:
    if visit.delivery is not None and visit.delivery.completed_at is not None:
        raise ServiceError("delivery_completed", 409)
    if visit.state != VisitState.READY.value:
        raise ServiceError("delivery_not_ready", 409)


def _save(visit: Visit, change) -> Delivery:
    """Apply ``change`` to the visit's checklist (created on the first tick) and commit. Two first
    ticks at once: the unique visit_id refuses the second row, which then retries on the first's."""
    for attempt in (1, 2):
        d = visit.delivery
        if d is None:
            d = Delivery(site_id=visit.site_id, visit_id=visit.id)
            db.session.add(d)
        change(d)
        try:
            db.session.commit()
            return d
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
            db.session.refresh(visit)
            _require_open(visit)
    raise AssertionError("unreachable")


def items_of(d: Delivery | None) -> dict[str, bool]:
    return {k: bool(getattr(d, k)) for k in rules.ITEMS} if d is not None else {k: False for k in rules.ITEMS}


def intake_lists(visit: Visit) -> tuple[list, list[str], str | None]:
    """The intake form's damage marks, accessories and valuables (the list recorded, None for an
    explicit "none"): exactly what the car is checked against."""
    intake = visit.intake
    if intake is None:
        return [], [], None
    return (list(intake.marks), json.loads(intake.accessories or "[]"),
            intake_rules.valuables_recorded(intake.valuables_left, intake.valuables))


def valuables_answer(visit: Visit) -> str:
    """How the handover words the valuables: "listed", "none" (answered at intake) or "unknown"
    (a form from before the answer was required, with nothing typed: ask the customer)."""
    intake = visit.intake
    if intake is None:
        return "unknown"
    if intake_rules.valuables_recorded(intake.valuables_left, intake.valuables):
        return "listed"
    return "none" if intake.valuables_left is False else "unknown"


def snapshot(visit: Visit) -> rules.HandoverSnapshot:
    d = visit.delivery
    marks, accessories, valuables = intake_lists(visit)
    ro = visit.repair_order
    return rules.HandoverSnapshot(
        visit_id=visit.id, plate=visit.plate, ticket=visit.ticket.number if visit.ticket else None,
        ro_number=ro.number if ro else None, old_parts=ro.old_parts if ro else None, items=items_of(d),
        notes=d.notes if d else None, marks=[(m.zone, m.kind, m.note or "") for m in marks],
        accessories=accessories, valuables=valuables)


def content_hash(visit: Visit) -> str:
    return rules.content_hash(snapshot(visit))


def signature(visit: Visit) -> Signature | None:
    return latest_signature(visit, DOCUMENT)


def signature_current(visit: Visit) -> bool:
    sig = signature(visit)
    return sig is not None and sig.content_hash == content_hash(visit)


def problems(visit: Visit) -> list[str]:
    return rules.completion_problems(items_of(visit.delivery), signature_current(visit))


# ---------------------------------------------------------------- use cases

def set_item(visit: Visit, item: str, checked: bool, actor) -> Delivery:
    if item not in rules.ITEMS:
        raise ServiceError("delivery_item_unknown", 400)
    _require_open(visit)
    d = _save(visit, lambda d: setattr(d, item, bool(checked)))
    _changed(visit)
    return d


def save_notes(visit: Visit, notes: str | None, actor) -> Delivery:
    _require_open(visit)
    text = (notes or "").strip()
    if len(text) > rules.MAX_NOTES:
        raise Invalid({"notes": "notes_too_long"})
    d = _save(visit, lambda d: setattr(d, "notes", text or None))
    _changed(visit)
    return d


def sign(visit: Visit, data_url: str, signer_name: str | None, ip: str | None, user_agent: str | None,
         actor, shown_hash: str | None = None) -> Signature:
    """The customer signs the checklist as shown. Refused when something is not ticked yet (422),
    or when the checklist changed since the screen showed ``shown_hash`` (409: read it again)."""
    _require_open(visit)
    missing = rules.missing_items(items_of(visit.delivery))
    if missing:
        raise Invalid({k: "tick" for k in missing})
    current = content_hash(visit)
    if shown_hash and shown_hash != current:
        raise ServiceError("checklist_changed", 409)
    latest = signature(visit)
    if latest is not None and latest.content_hash == current:
        return latest                      # a double submit: the checklist is signed already
    try:
        stored = store_signature_png(data_url, visit.site_id)
    except ImageRefused:
        raise Invalid({"signature": "signature_missing"}) from None
    sig = Signature(site_id=visit.site_id, visit_id=visit.id, document=DOCUMENT,
                    signer_name=(signer_name or "").strip()[:120] or None, image_path=stored.path,
                    image_sha256=stored.sha256, content_hash=current, ip=(ip or "")[:64] or None,
                    user_agent=(user_agent or "")[:255] or None, witnessed_by_id=actor.id)
    db.session.add(sig)
    db.session.flush()
    visit.delivery.signature_id = sig.id
    db.session.commit()
    _changed(visit)
    return sig


def complete(visit: Visit, actor) -> bool:
    """Complete the handover; True when the visit was delivered by it (the bill was settled).
    A second submit finds it completed and changes nothing."""
    if visit.delivery is not None and visit.delivery.completed_at is not None:
        return False
    _require_open(visit)
    found = problems(visit)
    if found:
        raise Invalid({p: "tick" if p in rules.ITEMS else "delivery_signature" for p in found})
    d = visit.delivery
    result = db.session.execute(
        update(Delivery).where(Delivery.id == d.id, Delivery.completed_at.is_(None))
        .values(completed_at=utcnow(), completed_by_id=actor.id).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        return False                       # completed by a request that came first
    db.session.refresh(d)
    moved = closing.deliver_if_complete(visit, actor)
    db.session.commit()
    _changed(visit)
    if moved:
        closing.publish_delivered(visit)
    return moved
