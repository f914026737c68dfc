"""Delivery on the advisor's visit page (/advisor/visits/<id>/delivery…): the handover checklist
and the customer's signature; ready-for-pickup notices go out through webapp/notify.

One section (templates/advisor/visit/delivery.html), included by the visit page (which renders
it with this module's context through ``delivery_section``) and rendered alone as the HTMX
answer to each of its forms. Ticks and notes save as made; input problems answer 422 with the
section and a message next to each item; a visit at another stage answers 409 with a message.
The section refetches itself on live hints (the cashier settling delivers the visit) but
answers 204 when nothing it shows changed, so a hint never wipes out notes being typed."""
from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from .. import fragments
from .. import handover as rules
from ..messages import error_text
from ..models import Visit
from ..notify import latest_notice
from ..roles import ADVISOR
from ..security import roles_required, visit_or_404
from ..services import closing
from ..services import delivery as svc

bp = Blueprint("delivery", __name__, url_prefix="/advisor")


def section_context(visit: Visit, **extra) -> dict:
    d = visit.delivery
    marks, accessories, valuables = svc.intake_lists(visit)
    ctx = {
        "visit": visit, "d": d, "items": svc.items_of(d), "item_keys": rules.ITEMS,
        "marks": marks, "accessories": accessories, "valuables": valuables,
        "valuables_answer": svc.valuables_answer(visit), "ro": visit.repair_order,
        "dsig": svc.signature(visit), "dsig_current": svc.signature_current(visit),
        "dhash": svc.content_hash(visit), "bill": closing.current_bill(visit),
        "settled": closing.bill_settled(visit), "notice": latest_notice(visit.id),
        "own_context": True, "errors": {}, "values": None, "error_text": error_text,
    }
    ctx.update(extra)
    return ctx


def render_section(visit: Visit, status: int = 200, before: dict | None = None, **extra):
    body = render_template("advisor/visit/delivery.html", **section_context(visit, **extra))
    # No HX-Retarget: htmx would resolve it from the element that sent the request, which a
    # live refetch may have swapped out meanwhile; the forms target the page's #delivery-slot.
    if before and status < 400:
        # A handover step may deliver the visit: the progress block comes along out of band
        # when it changed.
        body += fragments.changed_out_of_band(visit, before)
    return body, status, {}


def _guard(visit, action, form_values=None):
    before = fragments.render_sections(visit, ("progress",))
    return fragments.refused(action, lambda status, errors: render_section(
        visit, status, errors=errors, values=form_values)) or render_section(visit, before=before)


# The visit page includes the section with the intake's context: it renders itself with its own.
fragments.page_global(bp, "delivery_section",
                      lambda visit: render_template("advisor/visit/delivery.html", **section_context(visit)))
fragments.visit_section("delivery",
                        lambda visit: render_template("advisor/visit/delivery.html", **section_context(visit)))


@bp.get("/visits/<int:visit_id>/delivery")
@roles_required(ADVISOR)
def section(visit_id):
    visit = visit_or_404(visit_id)
    return render_section(visit)


@bp.post("/visits/<int:visit_id>/delivery/items")
@roles_required(ADVISOR)
def item(visit_id):
    visit = visit_or_404(visit_id)
    name = request.form.get("item", "")
    if name not in rules.ITEMS:
        abort(400)
    return _guard(visit, lambda: svc.set_item(visit, name, request.form.get("checked") in ("1", "on", "true"),
                                              current_user))


@bp.post("/visits/<int:visit_id>/delivery/notes")
@roles_required(ADVISOR)
def notes(visit_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, lambda: svc.save_notes(visit, request.form.get("notes"), current_user), request.form)


@bp.post("/visits/<int:visit_id>/delivery/signature")
@roles_required(ADVISOR)
def sign(visit_id):
    visit = visit_or_404(visit_id)
    values = {k: v for k, v in request.form.items() if k != "signature"}
    return _guard(visit, lambda: svc.sign(
        visit, request.form.get("signature", ""), request.form.get("signer_name"), request.remote_addr,
        request.headers.get("User-Agent"), current_user._get_current_object(),
        request.form.get("content_hash")), values)


@bp.post("/visits/<int:visit_id>/delivery/complete")
@roles_required(ADVISOR)
def complete(visit_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, lambda: svc.complete(visit, current_user._get_current_object()))
