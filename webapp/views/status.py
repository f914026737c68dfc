"""Customer status page (/t/<token>): the ticket number, the queue, the visit's stages.

The token in the QR code is the only key the customer holds: the page shows the queue and the
stages with a masked plate; the PIN printed on the ticket unlocks personal data for this browser
(remembered in the session). The live part of the page is one named block of the page template
(``live``), fetched alone by htmx after each Socket.IO hint and every 30 s.

The walk-around inspection shows on the page as it happens (in progress / done, waiting for the
manufacturer); the damage map and the customer's copy of the intake form (/t/<token>/intake, with
its signature and photo thumbnails) are tied to the car, so they need the PIN as well.
"""
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from babel.dates import format_skeleton
from flask import (Blueprint, abort, current_app, redirect, render_template, request, send_file,
                   session, url_for)
from flask_babel import format_time, get_locale, gettext as _, to_user_timezone
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from .. import intake as intake_rules
from ..approval_total import ChoiceTotal, choice_total
from ..extensions import db
from ..i18n import COOKIE as LANG_COOKIE
from ..labels import line_name
from ..models import AdditionalWork, Approval, Concern, Estimate, EstimateLine, Photo, Site, Ticket
from ..ratelimits import per_ticket
from ..readmodels import numbers_ahead, status_state
from ..rendercache import RenderCache, placeholder_csrf, with_csrf
from ..services import ServiceError
from ..services import estimates as estimates_svc
from ..commands.followup import parse_survey
from ..services import followup as followup_svc
from .. import followup as followup_rules
from ..services import intake as intake_svc
from ..services import status_access
from ..storage import open_path
from ..timeutil import utcnow
from ..validation import Invalid, mask_plate
from ..workflow import CUSTOMER_STAGES, VisitState, customer_stage
from ..parsing import parse_id, read_id
from ..statuses import EstimateStatus, LineDecision

bp = Blueprint("status", __name__)

SESSION_KEY = "status_unlocked"   # ids of the tickets unlocked with their PIN in this browser
SESSION_MAX = 20
PAGE = "status/page.html"


def _status_limit():
    return current_app.config["RATELIMIT_STATUS"]


def _pin_limit():
    return current_app.config["RATELIMIT_PIN"]


@bp.after_request
def _private_headers(response):
    # The URL is a capability: never cached, never sent on as a Referer, never indexed.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.errorhandler(429)
def _too_many(exc):
    if request.endpoint == "status.fragment":
        # A polling fragment keeps what it shows rather than swapping in an error.
        response = current_app.response_class("", status=429)
        response.headers["HX-Reswap"] = "none"
        return response
    return render_template("status/unavailable.html", code=429, site=None), 429


# ---------------------------------------------------------------- helpers

def _is_unlocked(ticket: Ticket) -> bool:
    return ticket.id in session.get(SESSION_KEY, [])


def _rating_to_confirm(ticket: Ticket) -> int | None:
    """The low rating this browser tapped and has not confirmed yet (kept in its session, so a
    live refresh of the page keeps asking instead of showing the stars again)."""
    return session.get(f"rate_confirm:{ticket.id}")


def _remember_unlock(ticket: Ticket) -> None:
    ids = [i for i in session.get(SESSION_KEY, []) if i != ticket.id]
    session[SESSION_KEY] = (ids + [ticket.id])[-SESSION_MAX:]


def _forget_unlock(ticket: Ticket) -> None:
    session[SESSION_KEY] = [i for i in session.get(SESSION_KEY, []) if i != ticket.id]


def _when(dt: datetime | None) -> str:
    """A stage time in the customer's time zone: the time today, date and time on other days."""
    if dt is None:
        return ""
    local, today = to_user_timezone(dt), to_user_timezone(utcnow())
    if local.date() == today.date():
        return format_time(dt, "short")
    return f'{format_skeleton("MMMd", local, locale=get_locale())} {format_time(dt, "short")}'


def _phase(state: VisitState) -> str:
    """What the ticket card leads with: the queue states, else the customer stage."""
    if state in (VisitState.WAITING, VisitState.CALLED, VisitState.NO_SHOW, VisitState.CANCELLED):
        return state.value
    return CUSTOMER_STAGES[customer_stage(state)][0]


def _lang_arg():
    lang = request.args.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else None


def _inspection(visit) -> str | None:
    """Where the walk-around inspection stands for the customer: None (not begun), "in_progress"
    or "done" (the intake form was completed)."""
    intake = visit.intake
    if intake is not None and intake.completed_at is not None:
        return "done"
    if visit.state == VisitState.INSPECTION.value:
        return "in_progress"
    return None


def _context(ticket: Ticket, **extra):
    st = status_state(ticket)
    now = utcnow()
    visit = ticket.visit
    ctx = dict(
        token=ticket.token, ticket=ticket, visit=ticket.visit, st=st, phase=_phase(st.state),
        site=_site(ticket),
        masked_plate=mask_plate(ticket.visit.plate), unlocked=_is_unlocked(ticket),
        pin_locked_until=status_access.locked_until(ticket, now),
        fragment_url=url_for("status.fragment", token=ticket.token, lang=_lang_arg()),
        when=_when, survey_questions=survey_questions(), decline_reasons=_decline_reasons(), updated_at=now, pin_error=None, pin_value="", pin_next=None,
        inspection=_inspection(visit), ahead_numbers=numbers_ahead(ticket),
        waiting_manufacturer=bool(intake_svc.pending_manufacturer(visit)),
        marks=list(visit.intake.marks) if visit.intake is not None else [],
        workshop_findings=db.session.scalars(select(AdditionalWork).where(
            AdditionalWork.visit_id == visit.id, AdditionalWork.status == "priced")).all(),
        estimate_ready=_estimate_ready(visit), approval=None, approval_error=None,
        feedback=_feedback(visit), feedback_error=None, feedback_kind=None, survey_errors={}, survey_values={},
        feedback_confirm=_rating_to_confirm(ticket),
    )
    if ctx["unlocked"]:
        # Prices only ever after the PIN: the context has no amounts otherwise.
        ctx["approval"] = _approval_view(visit)
    ctx.update(extra)
    return ctx


# ---------------------------------------------------------------- rating and survey (follow-up)

def _feedback(visit) -> dict:
    """What the rating and survey cards show: the same for everyone holding the link (no personal
    data), and stored with the visit, so the cached page follows through the site's change_seq."""
    pickup = followup_svc.response(visit.id, "pickup")
    return {
        "rate_open": visit.state in followup_svc.RATING_STATES,
        "rating": pickup.rating if pickup else None,
        "complaint": pickup is not None and followup_svc.rating_complaint(visit) is not None,
        "can_change": pickup is not None and followup_rules.may_change_rating(
            pickup.at, utcnow(), followup_svc.rating_complaint(visit) is not None),
        "survey_open": visit.state in followup_svc.SURVEY_STATES,
        "survey_done": followup_svc.response(visit.id, "survey") is not None,
    }


def survey_questions() -> list[tuple[str, str]]:
    return [("explained", _("Did we explain the work well?")),
            ("on_time", _("Was your car ready when promised?")),
            ("clean", _("Was your car clean?")),
            ("recommend", _("Would you recommend us to a friend?"))]


# ---------------------------------------------------------------- the estimate, for the customer's decision

def _decline_reasons() -> list[str]:
    """The optional reasons offered when declining a line (stored as the customer read them)."""
    return [_("Too expensive"), _("Maybe next time"), _("Done elsewhere"), _("Other reason")]


def _all_declined(record) -> bool:
    if record is None:
        return False
    try:
        decisions = json.loads(record.decisions)
    except ValueError:
        return False
    return bool(decisions) and all(d.get("decision") == LineDecision.DECLINED for d in decisions.values())


@dataclass(frozen=True)
class ApprovalLine:
    id: int
    kind: str
    description: str
    quantity: str           # "1.5 h", "× 2"
    amount: Decimal         # what the customer pays for it (before tax), from money.line_money
    warranty: bool
    after_diagnosis: bool
    decision: str           # pending, approved, declined
    reason: str | None
    recommended: bool


@dataclass(frozen=True)
class ApprovalView:
    status: str             # presented (waiting for the customer), decided, draft (being changed again)
    version: int
    lines: list
    full: object            # money.Totals with every line approved
    decided: object         # money.Totals of the approved lines, once decided
    tax_bp: int             # tax rate in 1/10000
    fee: Decimal            # the inspection/diagnosis fee when everything is declined
    chosen: ChoiceTotal     # the running total before any tap (the page asks for it after each)
    record: Approval | None  # the decision recorded for this version
    all_declined: bool
    consent: str


def _number(value: Decimal) -> str:
    text = f"{Decimal(value).normalize():f}"
    return text


def _estimate_ready(visit) -> bool:
    est = visit.estimate
    return est is not None and est.status == EstimateStatus.PRESENTED


def _approval_view(visit) -> ApprovalView | None:
    est: Estimate | None = visit.estimate
    if est is None or (est.status == EstimateStatus.DRAFT and est.version == 1):
        return None
    lines = []
    for line in est.lines:
        m = estimates_svc.line_money(line)
        qty = _number(line.quantity)
        lines.append(ApprovalLine(
            id=line.id, kind=line.kind, description=line_name(line),
            quantity=("× " + qty) if line.kind == "part" else _("%(hours)s h", hours=qty),
            amount=m.customer, warranty=line.warranty,
            after_diagnosis=line.price_after_diagnosis, decision=line.decision, reason=line.decline_reason,
            # a line the customer booked is theirs, not the shop's recommendation
            recommended=bool(line.recommended) and line.recommended != "booked"))
    record = None
    if est.status == EstimateStatus.DECIDED:
        record = db.session.scalar(select(Approval).where(Approval.estimate_id == est.id,
                                                          Approval.version == est.version)
                                   .order_by(Approval.id.desc()).limit(1))
    fee = visit.site.diagnosis_fee
    return ApprovalView(
        status=est.status, version=est.version, lines=lines,
        full=estimates_svc.estimate_totals(est, (LineDecision.PENDING, LineDecision.APPROVED, LineDecision.DECLINED)),
        decided=(estimates_svc.estimate_totals(est, (LineDecision.APPROVED,))
                 if est.status == EstimateStatus.DECIDED else None),
        tax_bp=int((est.tax_rate * 10000).to_integral_value()), fee=fee, chosen=_choice_total(est, {}),
        record=record, all_declined=_all_declined(record),
        consent=estimates_svc.CONSENT_TEXT)


def _choice_total(est: Estimate, choices: dict) -> ChoiceTotal:
    lines = {line.id: estimates_svc.line_money(line) for line in est.lines}
    return choice_total(lines, choices, est.discount, est.tax_rate, est.visit.site.diagnosis_fee)


def _site(ticket: Ticket) -> Site:
    return ticket.site


def _ticket_or_error(token: str):
    """(ticket, None), or (ticket or None, HTTP code) for an unknown (404) or expired (410) link."""
    ticket = status_access.find_ticket(token)
    if ticket is None:
        return None, 404
    if status_access.link_expired(ticket):
        return ticket, 410
    return ticket, None


def _unavailable(code: int, ticket: Ticket | None):
    site = _site(ticket) if ticket is not None else None
    # An expired ticket that never reached a desk gets its own words: "after the visit ends"
    # would be wrong for a customer who never had one.
    unserved = code == 410 and ticket is not None and status_access.never_served(ticket)
    return render_template("status/unavailable.html", code=code, site=site, unserved=unserved,
                           days=current_app.config["STATUS_LINK_DAYS"]), code


# ---------------------------------------------------------------- routes

@bp.get("/t/<token>")
@per_ticket(_status_limit)
def page(token):
    lang = _lang_arg()
    if lang:
        # A link carrying ?lang= (e.g. printed by an English kiosk) sets the language once and
        # lands on the clean URL, so the language switch and the live fragment agree with it.
        response = redirect(url_for("status.page", token=token))
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return response
    ticket, error = _ticket_or_error(token)
    if error:
        return _unavailable(error, ticket)
    html = _cache().get_or_render(_cache_key(ticket, "page"), lambda: render_template(
        PAGE, **_context(ticket, csrf_token=placeholder_csrf)))
    return with_csrf(html)


@bp.get("/t/<token>/fragment")
@per_ticket(_status_limit)
def fragment(token):
    ticket, error = _ticket_or_error(token)
    if error:
        return render_template("status/gone_fragment.html", code=error), error
    html = _cache().get_or_render(_cache_key(ticket, "live"), lambda: render_block(
        PAGE, "live", **_context(ticket, csrf_token=placeholder_csrf)))
    return with_csrf(html)


def _cache() -> RenderCache:
    """This app's cache of rendered status pages (see webapp/rendercache.py for why it is never
    stale). One per app: ids and sequence numbers mean nothing across databases."""
    return current_app.extensions.setdefault("servicelane.status_cache", RenderCache())


def _cache_key(ticket: Ticket, kind: str):
    """Everything the page depends on: the site's data (change_seq), this browser's unlock and
    language, the PIN lock, and the minute (times shown, "today", advisors on duty)."""
    now = utcnow()
    return (kind, ticket.id, ticket.site.change_seq, str(get_locale()), _is_unlocked(ticket), _lang_arg(),
            now.strftime("%Y%m%d%H%M"), status_access.locked_until(ticket, now), _rating_to_confirm(ticket))


@bp.post("/t/<token>/unlock")
@per_ticket(_pin_limit)
def unlock(token):
    ticket, error = _ticket_or_error(token)
    if error:
        return _unavailable(error, ticket)
    result = status_access.try_unlock(ticket, request.form.get("pin", ""))
    pin_next = "intake" if request.form.get("next") == "intake" else None
    if result.ok:
        _remember_unlock(ticket)
        if pin_next == "intake":
            return redirect(url_for("status.intake", token=token), code=303)
        return redirect(url_for("status.page", token=token) + "#details", code=303)
    if result.error == "locked":
        response = current_app.make_response(
            (render_template(PAGE, **_context(ticket, pin_locked_until=result.locked_until, pin_next=pin_next)), 429))
        seconds = int((result.locked_until - utcnow()).total_seconds())
        response.headers["Retry-After"] = str(max(1, seconds))
        return response
    if result.error == "format":
        message = _("Please enter the 6 digits of the PIN printed on your ticket.")
    else:
        message = _("That PIN is not right. Please check your ticket and try again. "
                    "Attempts left: %(n)s.", n=result.attempts_left)
    value = request.form.get("pin", "")[:6] if result.error == "format" else ""
    return render_template(PAGE, **_context(ticket, pin_error=message, pin_value=value, pin_next=pin_next)), 422


@bp.get("/t/<token>/unlock")
def unlock_get(token):
    # The language switch on a page answered by POST links here: go back to the page.
    return redirect(url_for("status.page", token=token))


@bp.post("/t/<token>/hide")
@per_ticket(_status_limit)
def hide(token):
    """"Hide my details": forget the unlock in this browser (a shared or borrowed phone)."""
    ticket = status_access.find_ticket(token)
    if ticket is None:
        abort(404)
    _forget_unlock(ticket)
    return redirect(url_for("status.page", token=token), code=303)


# ---------------------------------------------------------------- the customer's decision on the estimate

_DECISION_FIELD = "decision-"


def _posted_decisions(form) -> dict:
    """{line id: ("approved" | "declined", reason or None)} from decision-<id> and reason-<id>."""
    decisions = {}
    for key, value in form.items():
        line_id = parse_id(key[len(_DECISION_FIELD):]) if key.startswith(_DECISION_FIELD) else None
        if line_id is None or value not in (LineDecision.APPROVED, LineDecision.DECLINED):
            continue
        reason = (form.get(f"reason-{line_id}") or "").strip()[:200] or None
        decisions[line_id] = (value, reason if value == LineDecision.DECLINED else None)
    return decisions


def _approval_answer(ticket: Ticket, message: str, code: int, kind: str):
    """The page with a message on the approval card, rendered per request (never cached)."""
    db.session.expire_all()   # read the estimate as the refusal left it
    html = render_template(PAGE, **_context(ticket, approval_error={"message": message, "kind": kind}))
    return html, code


@bp.post("/t/<token>/approve")
@per_ticket(_pin_limit)
def approve(token):
    """The customer's decision from the status page: PIN first, then services.estimates.decide."""
    ticket, error = _unlocked_ticket_or_error(token)
    if error == 403:
        return _approval_answer(ticket, _("Please enter the PIN from your ticket first."), 403, "locked")
    if error:
        return _unavailable(error, ticket)
    version = read_id("version")
    if version is None:
        abort(400)
    visit = ticket.visit
    try:
        estimates_svc.decide(visit, version, _posted_decisions(request.form), channel="remote",
                             ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))
    except Invalid:
        return _approval_answer(ticket, _("Please approve or decline every line."), 422, "invalid")
    except ServiceError as exc:
        if exc.message == "stale_version":
            return _approval_answer(ticket, _("The estimate was changed by your advisor — please review it again."),
                                    409, "stale")
        if exc.message == "already_decided":
            return _approval_answer(ticket, _("Your decision on this estimate was already recorded."), 409,
                                    "decided")
        return _approval_answer(ticket, _("There is no estimate waiting for your approval right now."), 409,
                                "not_presented")
    return redirect(url_for("status.page", token=token) + "#approval", code=303)


@bp.get("/t/<token>/approve/total")
@per_ticket(_status_limit)
def approval_total(token):
    """The approval card's total for the choices ticked so far (the card's list of lines asks on
    each tap, ?version=&decision-<id>=…): the "You pay" block rendered by the server's money rules and
    Babel formatting. Behind the PIN like the amounts themselves; a GET that changes nothing.
    Anything else than the presented version answers without a swap: the live block brings it."""
    ticket, error = _unlocked_ticket_or_error(token)
    if error:
        return "", error, {"HX-Reswap": "none"}
    visit = ticket.visit
    est = visit.estimate
    if est is None or est.status != "presented" or read_id("version", request.args) != est.version:
        return "", 409, {"HX-Reswap": "none"}
    choices = {line_id: decision for line_id, (decision, _reason) in _posted_decisions(request.args).items()}
    return render_template("status/approval_total.html", approval=_approval_view(visit),
                           chosen=_choice_total(est, choices))


@bp.get("/t/<token>/repair-order")
@per_ticket(_status_limit)
def repair_order(token):
    """The customer's copy of the repair order: PIN first."""
    ticket, error = _unlocked_ticket_or_error(token)
    if error == 403:
        return redirect(url_for("status.page", token=token) + "#unlock", code=303)
    if error:
        return _unavailable(error, ticket)
    visit = ticket.visit
    ro = visit.repair_order
    if ro is None or visit.estimate is None:
        abort(404)
    return render_template("status/repair_order.html", **_context(ticket, ro=ro))


# ---------------------------------------------------------------- the customer's copy of the intake form

def _unlocked_ticket_or_error(token: str):
    """Like _ticket_or_error, and 403 when this browser has not entered the ticket's PIN."""
    ticket, error = _ticket_or_error(token)
    if error is None and not _is_unlocked(ticket):
        error = 403
    return ticket, error


def _completed_intake(visit):
    intake = visit.intake
    return intake if intake is not None and intake.completed_at is not None else None


@bp.get("/t/<token>/intake")
@per_ticket(_status_limit)
def intake(token):
    """The customer copy of the intake form (print view): PIN first, and only once completed."""
    ticket, error = _unlocked_ticket_or_error(token)
    if error == 403:
        return render_template("status/locked.html", **_context(ticket, pin_next="intake")), 403
    if error:
        return _unavailable(error, ticket)
    visit = ticket.visit
    form = _completed_intake(visit)
    if form is None:
        return render_template("status/unavailable.html", code=404, site=_site(ticket), what="intake",
                               back=url_for("status.page", token=token)), 404
    concerns = db.session.scalars(select(Concern).where(Concern.visit_id == visit.id)
                                  .order_by(Concern.position, Concern.id)).all()
    return render_template(
        "intake/print.html", copy="customer", token=token, visit=visit, intake=form, rules=intake_rules,
        signature=intake_svc.latest_signature(visit), signature_current=intake_svc.signature_current(visit),
        content_hash=intake_rules.content_hash(intake_svc.snapshot(visit)), concerns=concerns)


def _private_file(path, mimetype):
    try:
        response = send_file(open_path(path), mimetype=mimetype, max_age=0)
    except FileNotFoundError:
        abort(404)
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.get("/t/<token>/signature.png")
@per_ticket(_status_limit)
def signature(token):
    ticket, error = _unlocked_ticket_or_error(token)
    if error:
        abort(error)
    sig = intake_svc.latest_signature(ticket.visit)
    if sig is None:
        abort(404)
    return _private_file(sig.image_path, "image/png")


@bp.get("/t/<token>/photos/<int:photo_id>/thumb")
@per_ticket(_status_limit)
def intake_photo(token, photo_id):
    ticket, error = _unlocked_ticket_or_error(token)
    if error:
        abort(error)
    photo = db.session.get(Photo, photo_id)
    if photo is None or photo.visit_id != ticket.visit_id:
        abort(404)
    return _private_file(photo.thumb_path, "image/jpeg")


# ---------------------------------------------------------------- rating and survey

def _feedback_answer(ticket: Ticket, code: int, message: str | None = None, errors=None, values=None,
                     kind="rating"):
    """The page with a message on the rating or survey card, rendered per request (never cached)."""
    db.session.expire_all()
    html = render_template(PAGE, **_context(ticket, feedback_error=message, feedback_kind=kind,
                                            survey_errors=errors or {}, survey_values=values or {}))
    return html, code


@bp.post("/t/<token>/rate")
@per_ticket(_pin_limit)
def rate(token):
    """One tap on a star: no PIN (nothing personal is shown or asked). The first tap counts; the
    same tap again is answered like the first, another star is refused politely."""
    ticket, error = _ticket_or_error(token)
    if error:
        return _unavailable(error, ticket)
    pending = f"rate_confirm:{ticket.id}"
    if request.form.get("cancel") == "1":              # "Choose again": the stars once more
        session.pop(pending, None)
        return redirect(url_for("status.page", token=token) + "#feedback", code=303)
    try:
        followup_svc.rate(ticket.visit, request.form.get("rating"), confirmed=request.form.get("confirm") == "1")
    except followup_svc.ConfirmLowRating as exc:
        session[pending] = exc.rating
        return redirect(url_for("status.page", token=token) + "#feedback", code=303)
    except ServiceError as exc:
        session.pop(pending, None)
        text = {
            "already_rated": _("You have already rated this visit — thank you! Your first rating is the one we keep."),
            "rating_not_open": _("You can rate your visit once your car is ready for pickup."),
        }.get(exc.message, _("Please tap one of the five stars."))
        return _feedback_answer(ticket, exc.status, text)
    session.pop(pending, None)
    return redirect(url_for("status.page", token=token) + "#feedback", code=303)


@bp.post("/t/<token>/survey")
@per_ticket(_pin_limit)
def survey(token):
    ticket, error = _ticket_or_error(token)
    if error:
        return _unavailable(error, ticket)
    try:
        followup_svc.survey(ticket.visit, parse_survey(request.form))
    except Invalid as exc:
        errors = {k: (_("Too long.") if v == "too_long" else _("Please choose yes or no."))
                  for k, v in exc.errors.items()}
        values = {k: request.form.get(k, "") for k in ("explained", "on_time", "clean", "recommend", "comment")}
        return _feedback_answer(ticket, 422, _("Please answer every question."), errors, values, "survey")
    except ServiceError as exc:
        text = (_("Thank you — your answers were already recorded.") if exc.message == "survey_done"
                else _("The survey opens after your car is delivered."))
        return _feedback_answer(ticket, exc.status, text, kind="survey")
    return redirect(url_for("status.page", token=token) + "#survey", code=303)
