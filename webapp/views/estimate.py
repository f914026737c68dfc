"""The advisor's estimate and repair order on the visit page (/advisor/visits/<id>/estimate/…).

One section (templates/advisor/visit/estimate.html), included by the visit page and rendered
alone as the HTMX answer to each of its forms. Input problems answer 422 with the section, the
typed values and a message next to each field; refusals (a stale version, nothing to present)
answer with their status and a message. The section refetches itself on ``live:refresh`` (the
customer deciding on the phone) but answers 204 when nothing it shows has changed, so a live
hint never wipes out what the advisor is typing.

The in-shop approval: the customer taps approve / decline per line on the tablet and signs; the
signature is stored (document "repair_order", content hash = SHA-256 of what was shown) in the
same transaction as the decision, so a refused decision leaves no orphan signature row."""
from datetime import timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from .. import fragments
from .. import money
from ..extensions import db
from ..models import AdditionalWork, Approval, Concern, LabourOperation, Part, Signature, Visit
from ..roles import ADVISOR
from ..security import roles_required, visit_or_404
from ..services import estimates as svc
from ..workflow import VisitState
from ..commands.estimates import (PAYMENT_METHODS, parse_discount, parse_in_shop_approval, parse_line,
                                 parse_repair_order)
from ..messages import error_text

bp = Blueprint("estimate", __name__, url_prefix="/advisor")

BEFORE_ESTIMATE = {VisitState.WAITING.value, VisitState.CALLED.value, VisitState.NO_SHOW.value,
                   VisitState.RECEPTION.value, VisitState.INSPECTION.value, VisitState.INTERVIEW.value}


def local_time(dt, tz_name):
    """A naive UTC time in the site's own zone (naive, for strftime)."""
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz_name)).replace(tzinfo=None)


def additional_work(visit: Visit) -> list[AdditionalWork]:
    return list(db.session.scalars(select(AdditionalWork).where(AdditionalWork.visit_id == visit.id)
                                   .order_by(AdditionalWork.id)))


def latest_approval(visit: Visit) -> Approval | None:
    return db.session.scalar(select(Approval).where(Approval.visit_id == visit.id)
                             .order_by(Approval.id.desc()).limit(1))


def section_context(visit: Visit, **extra) -> dict:
    est = visit.estimate
    lines = list(est.lines) if est else []
    concerns = db.session.scalars(select(Concern).where(Concern.visit_id == visit.id)
                                  .order_by(Concern.position, Concern.id)).all()
    groups = [(c, [l for l in lines if l.concern_id == c.id]) for c in concerns]
    loose = [l for l in lines if l.concern_id is None or l.concern_id not in {c.id for c in concerns}]
    editable = visit.state in svc.OPEN_FOR_LINES
    ctx = {
        "visit": visit, "est": est, "lines": lines, "groups": groups, "loose": loose, "concerns": concerns,
        "totals": svc.estimate_totals(est) if est else money.totals([]),
        "money_of": svc.line_money, "availability": svc.availability,
        "recommendations": svc.recommendations(visit) if editable else [],
        "operations": db.session.scalars(select(LabourOperation).where(
            LabourOperation.site_id == visit.site_id, LabourOperation.active.is_(True))
            .order_by(LabourOperation.kind, LabourOperation.code)).all() if editable else [],
        "parts": db.session.scalars(select(Part).where(Part.site_id == visit.site_id, Part.active.is_(True))
                                    .order_by(Part.number)).all() if editable else [],
        "ro": visit.repair_order, "payment_methods": PAYMENT_METHODS,
        "editable": editable, "before": visit.state in BEFORE_ESTIMATE,
        "promised": local_time(est.promised_at, visit.site.timezone) if est else None,
        "local_time": lambda dt: local_time(dt, visit.site.timezone),
        "approval": latest_approval(visit),
        "additional": additional_work(visit),
        "shown_hash": svc.sha256(svc.canonical(svc.shown_payload(est))) if est and est.lines else None,
        "own_context": True,
        "errors": {}, "values": None, "error_text": error_text,
    }
    ctx.update(extra)
    return ctx


def render_section(visit: Visit, status: int = 200, before: dict | None = None, **extra):
    body = render_template("advisor/visit/estimate.html", **section_context(visit, **extra))
    if before and status < 400:
        # The visit moved on (presented, decided): the progress block comes along out of band.
        body += fragments.changed_out_of_band(visit, before)
    return body, status, {}


def _guard(visit, action, form_values=None, trigger_progress=False):
    """``trigger_progress``: the save may move the visit on, so the page's progress block is
    drawn before it and sent with the answer when it changed."""
    before = fragments.render_sections(visit, ("progress",) if trigger_progress else ())
    return fragments.refused(action, lambda status, errors: render_section(
        visit, status, errors=errors, values=form_values)) or render_section(visit, before=before)


# The visit page includes the section with the intake's context: it renders itself with its own.
fragments.page_global(bp, "estimate_section",
                      lambda visit: render_template("advisor/visit/estimate.html", **section_context(visit)))
fragments.visit_section("estimate",
                        lambda visit: render_template("advisor/visit/estimate.html", **section_context(visit)))


# ---------------------------------------------------------------- section

@bp.get("/visits/<int:visit_id>/estimate")
@roles_required(ADVISOR)
def section(visit_id):
    visit = visit_or_404(visit_id)
    return render_section(visit)


@bp.post("/visits/<int:visit_id>/estimate/lines")
@roles_required(ADVISOR)
def add_line(visit_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, lambda: svc.add_line(visit, parse_line(request.form), current_user), request.form)


@bp.post("/visits/<int:visit_id>/estimate/lines/<int:line_id>/delete")
@roles_required(ADVISOR)
def delete_line(visit_id, line_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, lambda: svc.delete_line(visit, line_id, current_user))


@bp.post("/visits/<int:visit_id>/estimate/discount")
@roles_required(ADVISOR)
def discount(visit_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, lambda: svc.set_discount(visit, parse_discount(request.form.get("discount")), current_user),
                  request.form)


@bp.post("/visits/<int:visit_id>/estimate/recommended")
@roles_required(ADVISOR)
def add_recommended(visit_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, lambda: svc.add_recommended(visit, request.form.get("key", ""), current_user))


@bp.post("/visits/<int:visit_id>/estimate/repair-order")
@roles_required(ADVISOR)
def repair_order(visit_id):
    visit = visit_or_404(visit_id)
    values = dict(request.form)
    values["form"] = "ro"
    return _guard(visit, lambda: svc.save_repair_order(visit, parse_repair_order(request.form), current_user),
                  values)


@bp.post("/visits/<int:visit_id>/estimate/present")
@roles_required(ADVISOR)
def present(visit_id):
    visit = visit_or_404(visit_id)
    return _guard(visit, lambda: svc.present(visit, current_user), trigger_progress=True)


@bp.post("/visits/<int:visit_id>/estimate/approve")
@roles_required(ADVISOR)
def approve_in_shop(visit_id):
    """The customer's decisions on the tablet, with their signature on the repair order."""
    visit = visit_or_404(visit_id)
    values = dict(request.form)
    values["form"] = "approve"
    values.pop("signature", None)

    def act():
        svc.approve_in_shop(visit, parse_in_shop_approval(request.form), current_user._get_current_object(),
                            ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))

    return _guard(visit, act, values, trigger_progress=True)


# ---------------------------------------------------------------- the printed repair order

@bp.get("/visits/<int:visit_id>/repair-order/print")
@roles_required(ADVISOR)
def print_repair_order(visit_id):
    visit = visit_or_404(visit_id)
    if visit.repair_order is None:
        abort(404)
    ctx = section_context(visit)
    approval = ctx["approval"]
    ctx["signature"] = db.session.get(Signature, approval.signature_id) if approval and approval.signature_id \
        else None
    ctx["concerns"] = db.session.scalars(select(Concern).where(Concern.visit_id == visit.id)
                                         .order_by(Concern.position, Concern.id)).all()
    return render_template("estimate/print.html", copy="shop", **ctx)
