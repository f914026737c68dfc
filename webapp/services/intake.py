"""Advisor intake use cases: readiness, customer and vehicle, documents, walk-around inspection,
damage marks and photos, the customer's signature, concerns and warranty decisions.

Each function commits, then publishes ``visit.updated`` (or ``visit.advanced``) so the status
page and the consoles follow along. Validation problems come back as ``Invalid`` with a
code per field; everything valid in the same request is still saved, so nothing typed is lost."""
import json
import re
from dataclasses import dataclass

from sqlalchemy import or_, select

from .. import intake as rules
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import (Concern, Customer, DamageMark, IntakeForm, ManufacturerRequest, Photo,
                      ReadinessCheck, Signature, Vehicle, VehicleDriver, Visit)
from ..storage import ImageRefused, store_image, store_signature_png
from ..timeutil import local_day, utcnow
from ..validation import parse_mobile, parse_plate, parse_vin
from ..workflow import VisitState
from . import ServiceError
from . import record_matching
from .visits import record_transition
from ..validation import Invalid
from ..commands.intake import ConcernEdit, CustomerVehicle, Inspection


def _changed(visit: Visit, what: str):
    publish(DomainEvent("visit.updated", visit.site_id, visit.id,
                        visit.ticket.id if visit.ticket else None, {"what": what}))


def _advanced(visit: Visit, previous: str):
    publish(DomainEvent("visit.advanced", visit.site_id, visit.id,
                        visit.ticket.id if visit.ticket else None, {"from": previous, "to": visit.state}))


# ---------------------------------------------------------------- readiness (接待准备)

READINESS_ITEMS = ("appearance", "forms_tools", "clean_area")


def readiness_today(user) -> ReadinessCheck | None:
    day = local_day(user.site.timezone)
    return db.session.scalar(select(ReadinessCheck).where(ReadinessCheck.user_id == user.id,
                                                          ReadinessCheck.day == day))


def save_readiness_item(user, item: str, checked: bool) -> ReadinessCheck:
    """Tick or untick one item of today's checklist; completed when all are ticked."""
    if item not in READINESS_ITEMS:
        raise ServiceError("readiness_item_unknown", 400)
    check = readiness_today(user)
    if check is None:
        check = ReadinessCheck(site_id=user.site_id, user_id=user.id, day=local_day(user.site.timezone))
        db.session.add(check)
    setattr(check, item, checked)
    done = all(getattr(check, i) for i in READINESS_ITEMS)
    if done and check.completed_at is None:
        check.completed_at = utcnow()
    elif not done:
        check.completed_at = None
    db.session.commit()
    return check


# ---------------------------------------------------------------- customer and vehicle

def find_records(site_id: int, query: str) -> list[Vehicle]:
    """Vehicles matching a plate, a VIN, a mobile (of owner or driver) or a name."""
    q = (query or "").strip()
    if not q:
        return []
    conditions = []
    plate = parse_plate(q)
    if plate:
        conditions.append(Vehicle.plate == plate.value)
    vin = parse_vin(q)
    if vin:
        conditions.append(Vehicle.vin == vin.value)
    mobile = parse_mobile(q)
    owner_ids = select(Customer.id).where(Customer.site_id == site_id)
    if mobile:
        owner_ids = owner_ids.where(Customer.mobile == mobile)
    else:
        owner_ids = owner_ids.where(Customer.name.contains(q)) if len(q) >= 2 else None
    if owner_ids is not None:
        conditions.append(Vehicle.customer_id.in_(owner_ids))
        driven = select(VehicleDriver.vehicle_id).where(VehicleDriver.customer_id.in_(owner_ids))
        conditions.append(Vehicle.id.in_(driven))
    if not conditions:
        return []
    return list(db.session.scalars(select(Vehicle).where(Vehicle.site_id == site_id, or_(*conditions))
                                   .order_by(Vehicle.plate).limit(20)))


@dataclass(frozen=True)
class Suggestion:
    """Stored records that match what was typed at the kiosk: a hint for the advisor, who checks
    it with the customer at the desk before linking (the kiosk cannot tell who is typing)."""
    customer: Customer | None
    vehicle: Vehicle | None

    def __bool__(self):
        return self.customer is not None or self.vehicle is not None


def suggested_records(visit: Visit) -> Suggestion:
    """The site's stored customer with the visit's mobile and car with its plate, where the
    visit is not linked to one yet."""
    booked = record_matching.match_for(visit.appointment)    # an online booking's provisional records
    if booked:
        return Suggestion(booked.customer, booked.vehicle)
    customer = vehicle = None
    if visit.customer_id is None and visit.mobile:
        customer = db.session.scalar(select(Customer).where(
            Customer.site_id == visit.site_id, Customer.mobile == visit.mobile).order_by(Customer.id).limit(1))
    if visit.vehicle_id is None and visit.plate:
        vehicle = db.session.scalar(select(Vehicle).where(
            Vehicle.site_id == visit.site_id, Vehicle.plate == visit.plate).order_by(Vehicle.id).limit(1))
    return Suggestion(customer, vehicle)


def link_suggested(visit: Visit, actor) -> Visit:
    """The advisor confirmed the suggestion: the visit joins the stored customer's and car's
    history. Recomputed here rather than taken from the form, so only a real match is linked."""
    if record_matching.match_for(visit.appointment):
        record_matching.link(visit.appointment, actor)   # the booking and this visit together
        _changed(visit, "customer")
        return visit
    suggestion = suggested_records(visit)
    if not suggestion:
        raise ServiceError("suggestion_gone", 409)
    if suggestion.customer is not None:
        visit.customer_id = suggestion.customer.id
    if suggestion.vehicle is not None:
        visit.vehicle_id = suggestion.vehicle.id
        if visit.customer_id is None:
            visit.customer_id = suggestion.vehicle.customer_id
    db.session.commit()
    _changed(visit, "customer")
    return visit


def link_vehicle(visit: Visit, vehicle_id: int, actor) -> Visit:
    vehicle = db.session.get(Vehicle, vehicle_id)
    if vehicle is None or vehicle.site_id != visit.site_id:
        raise ServiceError("vehicle_not_found", 404)
    visit.vehicle_id = vehicle.id
    if visit.customer_id is None:
        visit.customer_id = vehicle.customer_id
    db.session.commit()
    _changed(visit, "vehicle")
    return visit


def save_customer_vehicle(visit: Visit, cv: CustomerVehicle, actor) -> Visit:
    """Create or update the visit's customer and vehicle from the reception form.

    A plate already known at the site links that vehicle (no duplicates); a mobile already known
    links that customer. The person at the desk, when not the owner, is added as a driver."""
    name, mobile = cv.name, cv.mobile
    site_id = visit.site_id
    vehicle = visit.vehicle or db.session.scalar(
        select(Vehicle).where(Vehicle.site_id == site_id, Vehicle.plate == cv.plate).limit(1))
    customer = db.session.scalar(
        select(Customer).where(Customer.site_id == site_id, Customer.mobile == mobile).limit(1))
    if customer is None:
        customer = Customer(site_id=site_id, name=name or None, mobile=mobile)
        db.session.add(customer)
        db.session.flush()
    elif name:
        customer.name = name
    if cv.email_given:                  # the field shows the stored address: empty clears it
        customer.email = cv.email
    if vehicle is None:
        vehicle = Vehicle(site_id=site_id, plate=cv.plate, customer_id=customer.id)
        db.session.add(vehicle)
    vehicle.plate = cv.plate
    if cv.vin:
        vehicle.vin = cv.vin
    vehicle.make, vehicle.model, vehicle.colour = cv.make, cv.model, cv.colour
    vehicle.year = cv.year
    vehicle.warranty_start, vehicle.warranty_years = cv.warranty_start, cv.warranty_years
    vehicle.warranty_km = cv.warranty_km
    if vehicle.customer_id is None:
        vehicle.customer_id = customer.id
    db.session.flush()
    if vehicle.customer_id != customer.id:
        exists = db.session.scalar(select(VehicleDriver).where(
            VehicleDriver.vehicle_id == vehicle.id, VehicleDriver.customer_id == customer.id))
        if exists is None:
            db.session.add(VehicleDriver(site_id=site_id, vehicle_id=vehicle.id, customer_id=customer.id))
    visit.customer_id, visit.vehicle_id = customer.id, vehicle.id
    visit.plate, visit.mobile = cv.plate, mobile
    db.session.commit()
    _changed(visit, "customer")
    return visit


# ---------------------------------------------------------------- documents and the intake form

def intake_for(visit: Visit) -> IntakeForm:
    form = visit.intake
    if form is None:
        form = IntakeForm(site_id=visit.site_id, visit=visit)
        db.session.add(form)
        db.session.flush()
    return form


def set_document(visit: Visit, document: str, received: bool, actor) -> IntakeForm:
    if document not in ("licence", "booklet"):
        raise ServiceError("document_unknown", 400)
    form = intake_for(visit)
    setattr(form, f"{document}_received_at", utcnow() if received else None)
    setattr(form, f"{document}_received_by_id", actor.id if received else None)
    db.session.commit()
    _changed(visit, "documents")
    return form


def start_inspection(visit: Visit, actor) -> Visit:
    previous = visit.state
    intake_for(visit)
    record_transition(visit, VisitState.INSPECTION, "start_inspection", actor)
    db.session.commit()
    _advanced(visit, previous)
    return visit


def _require_editable(visit: Visit):
    if visit.state != VisitState.INSPECTION.value:
        raise ServiceError("inspection_not_open", 409)


def save_inspection(visit: Visit, cmd: Inspection, actor) -> IntakeForm:
    """Autosave of the inspection fields. Valid fields are kept even when others are not."""
    _require_editable(visit)
    intake = intake_for(visit)
    errors = dict(cmd.problems)
    intake.cover_seat, intake.cover_wheel, intake.cover_floor = cmd.cover_seat, cmd.cover_wheel, cmd.cover_floor
    intake.mileage_reason = cmd.mileage_reason
    if cmd.mileage is None and "mileage" not in errors:
        intake.mileage = None
    elif cmd.mileage is not None:
        last = visit.vehicle.last_mileage if visit.vehicle else None
        problem = rules.mileage_problem(cmd.mileage, last, intake.mileage_reason)
        if problem == "range":
            errors["mileage"] = "range"
        else:
            intake.mileage = cmd.mileage
            if problem:
                errors["mileage_reason"] = problem
    if "fuel_level" not in errors:
        intake.fuel_level = cmd.fuel_level
    intake.warning_lights = json.dumps(list(cmd.warning_lights))
    intake.accessories = json.dumps(list(cmd.accessories))
    # A "no" keeps the list out of the record, so the handover never asks for items the answer
    # said are not there.
    if cmd.valuables_answered:
        intake.valuables_left = cmd.valuables_left
    intake.valuables = cmd.valuables if intake.valuables_left is not False else None
    db.session.commit()
    _changed(visit, "inspection")
    if errors:
        raise Invalid(errors)
    return intake


def add_mark(visit: Visit, zone: str, kind: str, note: str | None, actor) -> DamageMark:
    _require_editable(visit)
    errors = {}
    if zone not in rules.DAMAGE_ZONES:
        errors["zone"] = "zone_invalid"
    if kind not in rules.DAMAGE_KINDS:
        errors["kind"] = "kind_invalid"
    if errors:
        raise Invalid(errors)
    intake = intake_for(visit)
    mark = DamageMark(site_id=visit.site_id, intake=intake, zone=zone, kind=kind,
                      note=(note or "").strip()[:500] or None, created_by_id=actor.id)
    db.session.add(mark)
    db.session.commit()
    _changed(visit, "damage")
    return mark


def delete_mark(visit: Visit, mark_id: int, actor) -> None:
    _require_editable(visit)
    mark = db.session.get(DamageMark, mark_id)
    if mark is None or mark.intake.visit_id != visit.id:
        raise ServiceError("mark_not_found", 404)
    for photo in list(mark.photos):
        photo.mark = None
    mark.intake.marks.remove(mark)
    db.session.delete(mark)
    db.session.commit()
    _changed(visit, "damage")


def add_photo(visit: Visit, data: bytes, mark_id: int | None, actor) -> Photo:
    _require_editable(visit)
    mark = None
    if mark_id is not None:
        mark = db.session.get(DamageMark, mark_id)
        if mark is None or mark.intake.visit_id != visit.id:
            raise ServiceError("mark_not_found", 404)
    try:
        stored = store_image(data, visit.site_id)
    except ImageRefused as exc:
        raise Invalid({"photo": exc.code}) from None
    photo = Photo(site_id=visit.site_id, visit_id=visit.id, mark=mark, sha256=stored.sha256,
                  content_type=stored.content_type, size=stored.size, width=stored.width,
                  height=stored.height, path=stored.path, thumb_path=stored.thumb_path,
                  uploaded_by_id=actor.id)
    db.session.add(photo)
    db.session.commit()
    _changed(visit, "photo")
    return photo


def snapshot(visit: Visit) -> rules.IntakeSnapshot:
    intake = intake_for(visit)
    photos = db.session.scalars(select(Photo.sha256).where(Photo.visit_id == visit.id)).all()
    return rules.IntakeSnapshot(
        plate=visit.plate, vin=visit.vehicle.vin if visit.vehicle else None,
        covers=(intake.cover_seat, intake.cover_wheel, intake.cover_floor),
        mileage=intake.mileage, mileage_reason=intake.mileage_reason, fuel_level=intake.fuel_level,
        warning_lights=json.loads(intake.warning_lights or "[]"),
        accessories=json.loads(intake.accessories or "[]"), valuables=intake.valuables,
        valuables_left=intake.valuables_left, marks=[(m.zone, m.kind, m.note or "") for m in intake.marks], photos=list(photos),
    )


def latest_signature(visit: Visit, document: str = "intake") -> Signature | None:
    return db.session.scalar(select(Signature).where(Signature.visit_id == visit.id,
                                                     Signature.document == document)
                             .order_by(Signature.id.desc()).limit(1))


def signature_current(visit: Visit) -> bool:
    sig = latest_signature(visit)
    return sig is not None and sig.content_hash == rules.content_hash(snapshot(visit))


def sign_intake(visit: Visit, data_url: str, signer_name: str | None, ip: str | None,
                user_agent: str | None, actor, shown_hash: str | None = None) -> Signature:
    """Store the customer's signature with the hash of the form they saw. ``shown_hash`` is
    the hash the signing screen displayed; if the form changed meanwhile, the signature is
    refused so the customer never signs something other than what they read."""
    _require_editable(visit)
    current = rules.content_hash(snapshot(visit))
    if shown_hash and shown_hash != current:
        raise ServiceError("form_changed", 409)
    try:
        stored = store_signature_png(data_url, visit.site_id)
    except ImageRefused:
        raise Invalid({"signature": "signature_missing"}) from None
    sig = Signature(site_id=visit.site_id, visit_id=visit.id, document="intake",
                    signer_name=(signer_name or "").strip()[:120] or None, image_path=stored.path,
                    image_sha256=stored.sha256, content_hash=current, ip=(ip or "")[:64] or None,
                    user_agent=(user_agent or "")[:255] or None, witnessed_by_id=actor.id)
    db.session.add(sig)
    db.session.commit()
    _changed(visit, "signature")
    return sig


def inspection_problems(visit: Visit) -> list[str]:
    intake = intake_for(visit)
    last = visit.vehicle.last_mileage if visit.vehicle else None
    mileage_issue = rules.mileage_problem(intake.mileage, last, intake.mileage_reason)
    return rules.completion_problems((intake.cover_seat, intake.cover_wheel, intake.cover_floor),
                                     mileage_issue, intake.fuel_level, signature_current(visit),
                                     rules.valuables_answered(intake.valuables_left, intake.valuables))


def complete_inspection(visit: Visit, actor) -> Visit:
    _require_editable(visit)
    problems = inspection_problems(visit)
    if problems:
        raise Invalid({p: p for p in problems})
    intake = intake_for(visit)
    intake.completed_at, intake.completed_by_id = utcnow(), actor.id
    previous = visit.state
    record_transition(visit, VisitState.INTERVIEW, "complete_inspection", actor)
    db.session.commit()
    _advanced(visit, previous)
    return visit


# ---------------------------------------------------------------- interview and warranty

def _require_interview(visit: Visit):
    if visit.state not in (VisitState.INSPECTION.value, VisitState.INTERVIEW.value):
        raise ServiceError("interview_not_open", 409)


def suggest_warranty(visit: Visit) -> str:
    vehicle = visit.vehicle
    mileage = visit.intake.mileage if visit.intake else None
    if mileage is None and vehicle is not None:
        mileage = vehicle.last_mileage
    return rules.warranty_suggestion(
        visit.reason, vehicle.warranty_start if vehicle else None, vehicle.warranty_years if vehicle else None,
        vehicle.warranty_km if vehicle else None, mileage, local_day(visit.site.timezone))


def add_concern(visit: Visit, text: str, actor) -> Concern:
    _require_interview(visit)
    text = (text or "").strip()
    if not text:
        raise Invalid({"text": "required"})
    position = len(db.session.scalars(select(Concern.id).where(Concern.visit_id == visit.id)).all())
    suggestion = suggest_warranty(visit)
    concern = Concern(site_id=visit.site_id, visit_id=visit.id, position=position, text=text[:1000],
                      warranty=suggestion, warranty_suggested=suggestion, created_by_id=actor.id)
    db.session.add(concern)
    db.session.commit()
    _changed(visit, "concern")
    return concern


def _concern(visit: Visit, concern_id: int) -> Concern:
    concern = db.session.get(Concern, concern_id)
    if concern is None or concern.visit_id != visit.id:
        raise ServiceError("concern_not_found", 404)
    return concern


def update_concern(visit: Visit, concern_id: int, edit: ConcernEdit, actor) -> Concern:
    """Save the concern's fields all together or not at all: with one field refused, nothing is
    written and the section shows everything as typed (Invalid)."""
    _require_interview(visit)
    concern = _concern(visit, concern_id)
    errors = dict(edit.problems)
    diagnosis = edit.diagnosis or concern.diagnosis
    if diagnosis not in rules.DIAGNOSIS:
        errors["diagnosis"] = "invalid"
    warranty = edit.warranty or concern.warranty
    if warranty not in rules.WARRANTY:
        errors["warranty"] = "invalid"
    if errors:
        raise Invalid(errors)
    concern.text = edit.text
    concern.note_internal, concern.note_customer = edit.note_internal, edit.note_customer
    concern.diagnosis = diagnosis
    concern.proposed_repair = edit.proposed_repair
    concern.warranty = warranty
    db.session.commit()
    _changed(visit, "concern")
    return concern


def delete_concern(visit: Visit, concern_id: int, actor) -> None:
    _require_interview(visit)
    concern = _concern(visit, concern_id)
    if concern.requests:
        raise ServiceError("concern_has_request", 409)
    db.session.delete(concern)
    db.session.commit()
    _changed(visit, "concern")


def request_manufacturer(visit: Visit, concern_id: int, reference: str, summary: str, actor) -> ManufacturerRequest:
    concern = _concern(visit, concern_id)
    errors = {}
    reference = (reference or "").strip()[:64]
    summary = (summary or "").strip()[:4000]
    if not reference:
        errors["reference"] = "required"
    if not summary:
        errors["summary"] = "required"
    if errors:
        raise Invalid(errors)
    if concern.open_request is not None:
        raise ServiceError("request_pending", 409)
    concern.warranty = "undetermined"
    req = ManufacturerRequest(site_id=visit.site_id, concern=concern, reference=reference,
                              sent_summary=summary, created_by_id=actor.id)
    db.session.add(req)
    db.session.commit()
    _changed(visit, "warranty")
    return req


def decide_manufacturer(visit: Visit, request_id: int, decision: str, note: str | None, actor) -> ManufacturerRequest:
    req = db.session.get(ManufacturerRequest, request_id)
    if req is None or req.concern.visit_id != visit.id:
        raise ServiceError("request_not_found", 404)
    if decision not in ("approved", "rejected"):
        raise Invalid({"decision": "invalid"})
    if req.status != "pending":
        raise ServiceError("request_decided", 409)
    req.status, req.decided_by_id, req.decided_at = decision, actor.id, utcnow()
    req.decision_note = (note or "").strip()[:2000] or None
    req.concern.warranty = "covered" if decision == "approved" else "not_covered"
    db.session.commit()
    _changed(visit, "warranty")
    return req


def pending_manufacturer(visit: Visit) -> list[ManufacturerRequest]:
    return list(db.session.scalars(
        select(ManufacturerRequest).join(Concern).where(Concern.visit_id == visit.id,
                                                        ManufacturerRequest.status == "pending")))


def complete_interview(visit: Visit, actor) -> Visit:
    if visit.state != VisitState.INTERVIEW.value:
        raise ServiceError("interview_not_open", 409)
    if not db.session.scalar(select(Concern.id).where(Concern.visit_id == visit.id).limit(1)):
        raise Invalid({"concerns": "concerns"})
    previous = visit.state
    record_transition(visit, VisitState.ESTIMATE, "complete_interview", actor)
    db.session.commit()
    _advanced(visit, previous)
    return visit
