"""The one line a folded section of the advisor's visit page shows (e.g. "4/4 checked · 2 marks",
"v2 · approved ¥1,234"), and the fold each section template opens with.

Read from the visit as it stands, in the reader's language. ``fold(visit, name)`` is a template
global (registered by views/intake.py): every section template, whichever view renders it, asks
it for its key, whether it opens by default and its summary."""
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from . import intake as intake_rules
from . import visit_stages
from .extensions import db
from .labels import yuan
from .models import Concern, ManufacturerRequest, Photo, Signature, Visit


@dataclass(frozen=True)
class Fold:
    key: str            # section@visit-state: a person's open/closed choice holds within one state
    open: bool          # open by default (the section serves the stage the visit is in)
    summary: str


def _count(stmt) -> int:
    return db.session.scalar(stmt) or 0


def customer(visit: Visit) -> str:
    person, car = visit.customer, visit.vehicle
    who = " · ".join(x for x in ((person.name if person else None), (person.mobile if person else None)) if x)
    what = " ".join(x for x in (visit.plate, car.make if car else None, car.model if car else None) if x)
    return " · ".join(x for x in (who, what) if x) or _("Not linked yet")


def documents(visit: Visit) -> str:
    intake = visit.intake
    licence = bool(intake and intake.licence_received_at)
    booklet = bool(intake and intake.booklet_received_at)
    if licence and booklet:
        return _("Vehicle licence and maintenance booklet received")
    if licence:
        return _("Vehicle licence received · maintenance booklet missing")
    if booklet:
        return _("Maintenance booklet received · vehicle licence missing")
    return _("Nothing received yet")


def _marks(visit: Visit) -> int:
    return len(visit.intake.marks) if visit.intake else 0


def inspection(visit: Visit) -> str:
    intake = visit.intake
    if intake is None:
        return _("Not started")
    last = visit.vehicle.last_mileage if visit.vehicle else None
    checked = sum((
        all((intake.cover_seat, intake.cover_wheel, intake.cover_floor)),
        intake_rules.mileage_problem(intake.mileage, last, intake.mileage_reason) is None,
        intake.fuel_level in intake_rules.FUEL_LEVELS,
        intake_rules.valuables_answered(intake.valuables_left, intake.valuables),
    ))
    parts = [_("%(n)s/%(total)s checked", n=checked, total=4),
             ngettext("%(num)d mark", "%(num)d marks", _marks(visit))]
    if intake.mileage is not None:
        parts.append(_("%(km)s km", km="{:,}".format(intake.mileage)))
    recorded = intake_rules.valuables_recorded(intake.valuables_left, intake.valuables)
    if recorded:
        parts.append(_("valuables: %(items)s", items=recorded))
    elif intake.valuables_left is False:
        parts.append(_("no valuables"))
    return " · ".join(parts)


def damage(visit: Visit) -> str:
    marks = _marks(visit)
    photos = _count(select(func.count(Photo.id)).where(Photo.visit_id == visit.id))
    if not marks and not photos:
        return _("No damage recorded")
    return " · ".join((ngettext("%(num)d mark", "%(num)d marks", marks),
                       ngettext("%(num)d photo", "%(num)d photos", photos)))


def signature(visit: Visit) -> str:
    sig = db.session.scalar(select(Signature).where(Signature.visit_id == visit.id, Signature.document == "intake")
                            .order_by(Signature.id.desc()).limit(1))
    if sig is None:
        return _("Not signed yet")
    return _("Signed by %(name)s", name=sig.signer_name or _("the customer"))


def interview(visit: Visit) -> str:
    concerns = _count(select(func.count(Concern.id)).where(Concern.visit_id == visit.id))
    pending = _count(select(func.count(ManufacturerRequest.id)).join(Concern, ManufacturerRequest.concern_id == Concern.id)
                     .where(Concern.visit_id == visit.id, ManufacturerRequest.status == "pending"))
    text = ngettext("%(num)d concern", "%(num)d concerns", concerns) if concerns else _("No concern recorded yet")
    if pending:
        text += " · " + ngettext("%(num)d waiting for the manufacturer", "%(num)d waiting for the manufacturer", pending)
    return text


def estimate(visit: Visit) -> str:
    from .services.estimates import estimate_totals
    est = visit.estimate
    if est is None or not est.lines:
        return _("No lines yet")
    approved = [line for line in est.lines if line.decision == "approved"]
    parts = ["v%s" % est.version]
    if approved:
        parts.append(_("approved %(amount)s", amount=yuan(estimate_totals(est, ("approved",)).customer_pays)))
    else:
        parts.append(ngettext("%(num)d line", "%(num)d lines", len(est.lines)))
    return " · ".join(parts)


def delivery(visit: Visit) -> str:
    from .services import delivery as delivery_svc
    d = visit.delivery
    if visit.state in ("delivered", "followed_up"):
        return _("Delivered")
    if d is not None and d.completed_at is not None:
        return _("Handover completed · waiting for settlement")
    if visit.state != "ready":
        return _("Opens when the car is ready for pickup")
    items = delivery_svc.items_of(d)
    return _("%(n)s of %(total)s checked", n=sum(items.values()), total=len(items))


def bill(visit: Visit) -> str:
    from .services import closing
    current = closing.current_bill(visit)
    if current is None:
        return _("No bill yet")
    return " · ".join(x for x in (current.number, yuan(current.total)) if x)


def history(visit: Visit) -> str:
    return ""          # the section's own pill counts the earlier visits


SUMMARIES = {"customer": customer, "documents": documents, "inspection": inspection, "damage": damage,
             "signature": signature, "interview": interview, "estimate": estimate, "delivery": delivery,
             "bill": bill, "history": history}


def fold(visit: Visit, name: str, force_open: bool = False) -> Fold:
    """How section ``name`` starts: open when it serves the current stage (or must show a message)."""
    return Fold(key=f"{name}@{visit.state}",
                open=force_open or visit_stages.section_open(name, visit.state),
                summary=SUMMARIES[name](visit))
