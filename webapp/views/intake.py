"""Advisor intake on the visit page (/advisor/visits/<id>/…): customer and vehicle, documents,
walk-around inspection, damage marks and photos, signature, interview and warranty.

Each section is one template under templates/advisor/visit/, included by the page and rendered
alone as the HTMX answer to its own form, so every save shows the server's state of that
section; the other sections the save changed (of those DEPENDS names, drawn before and after it)
come in the same answer, swapped out of band (fragments.changed_out_of_band): one request per
save, never one refetch per section. Input problems come back with status 422 and the section
re-rendered with the typed values and a message next to each field."""
from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from .. import fragments
from .. import section_summaries, visit_stages
from .. import intake as rules
from ..commands.intake import parse_inspection
from ..extensions import db
from ..models import Concern, IntakeForm, Photo, Signature, Visit
from ..roles import ADVISOR
from ..security import roles_required, visit_or_404
from ..services import visits
from ..services import intake as svc
from ..workflow import IllegalTransition, VisitState, next_states
from ..storage import open_path
from ..validation import parse_vin
from ..messages import error_text
from ..validation import Invalid
from ..commands.intake import parse_concern_edit, parse_customer_vehicle
from ..parsing import read_id

bp = Blueprint("intake", __name__, url_prefix="/advisor")
# Every section template (whichever view renders it) folds through this: key, default, summary.
bp.app_context_processor(lambda: {"fold": section_summaries.fold, "valuables_recorded": rules.valuables_recorded})
SECTIONS = ("customer", "documents", "inspection", "damage", "signature", "interview")
# section saved -> sections that may show something it changes (sent when their HTML did change)
DEPENDS = {
    "customer": ("inspection", "signature", "interview", "progress", "history"),  # last mileage, VIN, warranty; the vehicle's history
    "documents": (),
    "inspection": ("damage", "signature", "interview", "progress"),     # opens/closes editing, the signed content
    "damage": ("signature",),
    "signature": ("inspection",),                                        # "not signed" leaves the to-do list
    "interview": ("progress", "estimate"),
}


def section_context(visit: Visit, **extra) -> dict:
    intake = visit.intake
    previous = previous_marks(visit)
    ctx = {
        "visit": visit, "intake": intake, "rules": rules, "errors": {}, "values": None,
        "previous_marks": previous, "problems": svc.inspection_problems(visit) if intake else None,
        "signature": svc.latest_signature(visit) if intake else None,
        "signature_current": svc.signature_current(visit) if intake else False,
        "content_hash": rules.content_hash(svc.snapshot(visit)) if intake else None,
        "concerns": db.session.scalars(select(Concern).where(Concern.visit_id == visit.id)
                                       .order_by(Concern.position, Concern.id)).all(),
        "error_text": error_text,
        "loose_photos": db.session.scalars(select(Photo).where(Photo.visit_id == visit.id, Photo.mark_id.is_(None))
                                           .order_by(Photo.id)).all(),
        "vin_ok": lambda vin: bool(parse_vin(vin) and parse_vin(vin).check_ok),
        "suggestion": svc.suggested_records(visit),
        "stages": visit_stages.strip(visit.state),
    }
    ctx.update(extra)
    return ctx


def previous_marks(visit: Visit):
    """Damage marks of the vehicle's last completed intake, shown faded so new ones stand out."""
    if visit.vehicle_id is None:
        return []
    last = db.session.scalar(
        select(IntakeForm).join(Visit, IntakeForm.visit_id == Visit.id)
        .where(Visit.vehicle_id == visit.vehicle_id, Visit.id != visit.id, IntakeForm.completed_at.is_not(None))
        .order_by(IntakeForm.completed_at.desc()).limit(1))
    return list(last.marks) if last else []


# Stages whose steps have their own use cases (and rules) above; the generic "next step"
# buttons only drive the middle stages. Delivery needs the signed checklist and a settled bill
# (services/closing.py), the follow-up a call: neither is a button here.
GENERIC_FROM = {VisitState.ESTIMATE, VisitState.AUTHORISATION, VisitState.DISPATCH, VisitState.REPAIR,
                VisitState.QC, VisitState.WASH}


def generic_moves(visit: Visit) -> list[VisitState]:
    moves = next_states(visit.state)
    if VisitState(visit.state) in GENERIC_FROM:
        return moves
    return [s for s in moves if s == VisitState.CANCELLED]


def render_section(visit: Visit, name: str, status: int = 200, before: dict | None = None, **extra):
    body = render_template(f"advisor/visit/{name}.html", **section_context(visit, **extra))
    if request.method == "GET":
        return body, status, {}   # a refresh: merged (morph) into the section that asked for it
    # Swap into the element that is on the page when the answer arrives: a refresh of the same
    # section may have replaced the one the request was sent from.
    target = "#inspection-status" if name == "inspection_status" else f"#sec-{name}"
    headers = {"HX-Retarget": target, "HX-Reswap": "outerHTML"}
    if status < 400 and before:
        # Sections that show something this save changed (a new damage mark makes the signature
        # stale, a completed inspection opens the interview) ride along out of band; only
        # those, so a click elsewhere is never swapped away mid-way.
        body += fragments.changed_out_of_band(visit, before)
    return body, status, headers


def render_progress(visit: Visit, ctx: dict | None = None) -> str:
    """The page's progress block (state, next steps, events): a block of the page itself."""
    ctx = ctx if ctx is not None else section_context(visit)
    return render_block("advisor/visit.html", "visit_body", **{**ctx, "next_states": generic_moves(visit)})


def render_sections(visit: Visit, names) -> dict:
    """This module's sections in ``names``, drawn with one context (a save draws several twice:
    before and after it, fragments.changed_out_of_band)."""
    ctx = section_context(visit)
    return {name: render_progress(visit, ctx) if name == "progress"
            else render_template(f"advisor/visit/{name}.html", **ctx) for name in names}


fragments.visit_sections(SECTIONS + ("inspection_status", "progress"), render_sections)


def _guard(visit, name, action, form_values=None):
    """Run a service; on bad input answer 422 with the section, the messages and what was typed.
    Success: the section, and those of DEPENDS[name] that the save changed."""
    before = fragments.render_sections(visit, DEPENDS.get(name, ()))
    return fragments.refused(action, lambda status, errors: render_section(
        visit, name, status, errors=errors, values=form_values)) or render_section(visit, name, before=before)


# ---------------------------------------------------------------- page and sections

@bp.get("/visits/<int:visit_id>")
@roles_required(ADVISOR)
def visit(visit_id):
    v = visit_or_404(visit_id)
    return render_template("advisor/visit.html", **section_context(v, next_states=generic_moves(v)))


@bp.post("/visits/<int:visit_id>/advance")
@roles_required(ADVISOR)
def advance(visit_id):
    v = visit_or_404(visit_id)
    target = request.form.get("to", "")
    if target not in {s.value for s in VisitState}:
        abort(400)
    if VisitState(target) not in generic_moves(v):
        raise IllegalTransition(v.state, target)
    visits.advance(v, target, current_user._get_current_object())
    if request.htmx:
        return render_progress(v)
    return redirect(url_for(".visit", visit_id=v.id))


@bp.get("/visits/<int:visit_id>/section/<name>")
@roles_required(ADVISOR)
def section(visit_id, name):
    visit = visit_or_404(visit_id)
    if name == "progress":
        return render_progress(visit)
    if name not in SECTIONS + ("inspection_status",):
        abort(404)
    return render_section(visit, name)


@bp.get("/visits/<int:visit_id>/records")
@roles_required(ADVISOR)
def records(visit_id):
    visit = visit_or_404(visit_id)
    found = svc.find_records(visit.site_id, request.args.get("q", ""))
    return render_template("advisor/visit/records.html", visit=visit, found=found, q=request.args.get("q", ""))


@bp.post("/visits/<int:visit_id>/vehicle")
@roles_required(ADVISOR)
def link_vehicle(visit_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, "customer", lambda: svc.link_vehicle(visit, read_id("vehicle_id") or 0,
                                                              current_user))


@bp.post("/visits/<int:visit_id>/suggested")
@roles_required(ADVISOR)
def link_suggested(visit_id):
    """Link the stored customer and car suggested from the kiosk entry, once the advisor has
    checked them with the customer at the desk."""
    visit = visit_or_404(visit_id)
    return _guard(visit, "customer", lambda: svc.link_suggested(visit, current_user))


@bp.post("/visits/<int:visit_id>/customer")
@roles_required(ADVISOR)
def save_customer(visit_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, "customer", lambda: svc.save_customer_vehicle(visit, parse_customer_vehicle(request.form), current_user),
                  request.form)


@bp.post("/visits/<int:visit_id>/documents")
@roles_required(ADVISOR)
def documents(visit_id):
    visit = visit_or_404(visit_id)
    document = request.form.get("document", "")
    if document not in ("licence", "booklet"):
        abort(400)
    return _guard(visit, "documents",
                  lambda: svc.set_document(visit, document, bool(request.form.get("received")), current_user))


@bp.post("/visits/<int:visit_id>/inspection/start")
@roles_required(ADVISOR)
def start_inspection(visit_id):
    visit = visit_or_404(visit_id)
    before = fragments.render_sections(visit, DEPENDS["inspection"])
    svc.start_inspection(visit, current_user)
    return render_section(visit, "inspection", before=before)


@bp.post("/visits/<int:visit_id>/inspection")
@roles_required(ADVISOR)
def save_inspection(visit_id):
    """Autosave. Success leaves the form being filled alone (hx-swap="none", see inspection.html)
    and answers with the to-do list and the dependent sections, out of band; a refusal
    re-renders the section with the messages."""
    visit = visit_or_404(visit_id)
    before = fragments.render_sections(visit, DEPENDS["inspection"] + ("inspection_status",))
    refused = fragments.refused(lambda: svc.save_inspection(visit, parse_inspection(request.form), current_user),
                                lambda status, errors: render_section(
                                    visit, "inspection", status, errors=errors, values=request.form))
    if refused:
        return refused
    return fragments.changed_out_of_band(visit, before), 200, {}


@bp.post("/visits/<int:visit_id>/inspection/complete")
@roles_required(ADVISOR)
def complete_inspection(visit_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, "inspection", lambda: svc.complete_inspection(visit, current_user))


@bp.post("/visits/<int:visit_id>/marks")
@roles_required(ADVISOR)
def add_mark(visit_id):
    visit = visit_or_404(visit_id)
    def act():
        mark = svc.add_mark(visit, request.form.get("zone", ""), request.form.get("kind", ""),
                            request.form.get("note"), current_user)
        upload = request.files.get("photo")
        if upload and upload.filename:
            try:
                svc.add_photo(visit, upload.read(), mark.id, current_user)
            except Invalid:
                svc.delete_mark(visit, mark.id, current_user)   # all or nothing: the kept form is sent again
                raise
    return _guard(visit, "damage", act, request.form)


@bp.post("/visits/<int:visit_id>/marks/<int:mark_id>/delete")
@roles_required(ADVISOR)
def delete_mark(visit_id, mark_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, "damage", lambda: svc.delete_mark(visit, mark_id, current_user))


@bp.post("/visits/<int:visit_id>/photos")
@roles_required(ADVISOR)
def add_photo(visit_id):
    visit = visit_or_404(visit_id)
    upload = request.files.get("photo")
    data = upload.read() if upload else b""
    return _guard(visit, "damage", lambda: svc.add_photo(
        visit, data, read_id("mark_id"), current_user))


@bp.get("/photos/<int:photo_id>")
@bp.get("/photos/<int:photo_id>/<variant>")
@roles_required(ADVISOR)
def photo(photo_id, variant="full"):
    p = db.session.get(Photo, photo_id)
    if p is None or p.site_id != current_user.site_id or variant not in ("full", "thumb"):
        abort(404)
    path = open_path(p.thumb_path if variant == "thumb" else p.path)
    mimetype = "image/jpeg" if variant == "thumb" else p.content_type
    response = send_file(path, mimetype=mimetype, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/visits/<int:visit_id>/signature")
@roles_required(ADVISOR)
def sign(visit_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, "signature", lambda: svc.sign_intake(
        visit, request.form.get("signature", ""), request.form.get("signer_name"),
        request.remote_addr, request.headers.get("User-Agent"), current_user,
        request.form.get("content_hash")), request.form)


@bp.get("/signatures/<int:signature_id>.png")
@roles_required(ADVISOR)
def signature_image(signature_id):
    sig = db.session.get(Signature, signature_id)
    if sig is None or sig.site_id != current_user.site_id:
        abort(404)
    response = send_file(open_path(sig.image_path), mimetype="image/png", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/visits/<int:visit_id>/concerns")
@roles_required(ADVISOR)
def add_concern(visit_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, "interview", lambda: svc.add_concern(visit, request.form.get("text", ""), current_user),
                  request.form)


@bp.post("/visits/<int:visit_id>/concerns/<int:concern_id>")
@roles_required(ADVISOR)
def update_concern(visit_id, concern_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, "interview", lambda: svc.update_concern(visit, concern_id, parse_concern_edit(request.form), current_user),
                  request.form)


@bp.post("/visits/<int:visit_id>/concerns/<int:concern_id>/delete")
@roles_required(ADVISOR)
def delete_concern(visit_id, concern_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, "interview", lambda: svc.delete_concern(visit, concern_id, current_user))


@bp.post("/visits/<int:visit_id>/concerns/<int:concern_id>/manufacturer")
@roles_required(ADVISOR)
def manufacturer_request(visit_id, concern_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, "interview", lambda: svc.request_manufacturer(
        visit, concern_id, request.form.get("reference", ""), request.form.get("summary", ""), current_user),
        request.form)


@bp.post("/visits/<int:visit_id>/manufacturer/<int:request_id>")
@roles_required(ADVISOR)
def manufacturer_decision(visit_id, request_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, "interview", lambda: svc.decide_manufacturer(
        visit, request_id, request.form.get("decision", ""), request.form.get("note"), current_user))


@bp.post("/visits/<int:visit_id>/interview/complete")
@roles_required(ADVISOR)
def complete_interview(visit_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, "interview", lambda: svc.complete_interview(visit, current_user))


@bp.get("/visits/<int:visit_id>/intake/print")
@roles_required(ADVISOR)
def print_intake(visit_id):
    visit = visit_or_404(visit_id)
    return render_template("intake/print.html", **section_context(visit, copy="shop"))
