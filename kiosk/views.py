"""Lobby kiosk (/kiosk): a customer takes a queue ticket, with or without an appointment.

Every screen is a full page whose ``screen`` block is also what htmx swaps in (``#kiosk``), so
the kiosk works with or without JavaScript and a partial is never a copy of its page. The ticket
(with its PIN) is only ever the answer to a POST: no URL shows it again.

Short ways in (issue 12): the plate start most of the site's cars share is filled in; "I have an
appointment" opens today's bookings with masked plates and times only, and a tapped one prints a
ticket only after a proof (the whole plate or the mobile's last 4 digits: one answer for every
wrong one, PROOF_LIMIT per booking); a walk-in's mobile is optional for everyone (required only
for plates not on file, it would tell anyone which plates are the shop's customers).

Idempotency: each form carries a uuid4 key; the check-in services answer a repeated key with the
ticket it already issued, so a double tap, a retry or a resubmitted form never prints two numbers.
"""
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, make_response, render_template, request, url_for
from flask_babel import gettext as _
from jinja2_fragments.flask import render_block
from werkzeug.exceptions import HTTPException
from sqlalchemy import select

from webapp import i18n
from webapp.extensions import db, limiter
from webapp.models import Appointment, Ticket, Vehicle
from webapp.readmodels import position
from webapp.services import ServiceError
from webapp.services.checkin import (REASONS, AlreadyCheckedIn, appointment_proof_matches, check_in_appointment,
                                     check_in_walkin, checked_in_appointment, find_appointments, ticket_for_key,
                                     ticket_in_queue, ticket_pin, todays_open_appointments, usual_plate_prefix)
from webapp.sites import all_sites, public_site, remember
from webapp.timeutil import utcnow
from webapp.validation import PROVINCES, mask_mobile, mask_plate, normalise_plate

from . import matching
from .forms import (CONCERNS, MESSAGES, REASON_HINTS, REASON_LABELS, ProofForm, SearchForm, WalkinForm, clean_key,
                    new_key)
from .qr import qr_svg

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

PREFIX_SCREENS = ("kiosk/walkin.html", "kiosk/appointment.html")   # with a plate keyboard to fill in
RESHOW_MINUTES = 10  # the ticket can be shown again (other language) this long after issue
# Wrong proofs that a listed appointment is one's own, per booking (whichever kiosk they come
# from): then that booking is checked in at the desk only. A few typos pass; guessing does not.
PROOF_LIMIT = "5 per 15 minutes"


def _kiosk_limit():
    return current_app.config["RATELIMIT_KIOSK"]


def _proof_limit():
    return current_app.config.get("RATELIMIT_KIOSK_PROOF", PROOF_LIMIT)


def _proof_key():
    """Wrong proofs count per booking; confirms without a proof (after a search) share one key
    that is never charged (only a 422, a wrong proof, is)."""
    if not request.form.get("proof_by"):
        return "kiosk-proof:none"
    appointment_id = matching.appointment_id_of(request.form.get("match"), request.form.get("pick"))
    return f"kiosk-proof:{appointment_id}"


def _wrong_proof(response):
    return response.status_code == 422


# ---------------------------------------------------------------- rendering


def _render(template, status=200, site=None, **ctx):
    if template in PREFIX_SCREENS and "plate_prefix" not in ctx:
        ctx["plate_prefix"] = usual_plate_prefix(site) if site is not None else ""
    ctx.update(site=site, provinces=PROVINCES, reasons=REASONS, reason_labels=REASON_LABELS,
               reason_hints=REASON_HINTS, concerns=CONCERNS, messages=MESSAGES)
    if request.htmx and not request.htmx.history_restore_request:
        html = render_block(template, "screen", **ctx)
    else:
        html = render_template(template, **ctx)
    response = make_response(html, status)
    if site is not None:
        remember(response, site)
    return response


@bp.after_request
def _kiosk_headers(response):
    # Screens carry phone numbers, plates and PINs: never cache them; partial and full page differ.
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("HX-Request")
    # ``?lang=`` on a form post (the language buttons keep what was typed) sticks like /lang/<code>.
    lang = request.args.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.errorhandler(429)
def _too_many(exc):
    """A booking's wrong proofs used up: the way to the desk, nothing more. Any other limit (a
    flood from this kiosk) keeps the app's short answer, which the screen shows as a banner
    over what was typed (kiosk.js)."""
    site = public_site()
    if site is None or not (request.endpoint == "kiosk.appointment_confirm" and request.form.get("proof_by")):
        app_handler = current_app.error_handler_spec.get(None, {}).get(None, {}).get(HTTPException)
        return app_handler(exc) if app_handler else exc
    return _message(site, 429, _("Please ask at the service desk"),
                    _("Too many attempts. Our service advisors at the front desk will check you in."))


def _site_or_picker():
    """(site, None) or (None, the response that asks which site this kiosk belongs to)."""
    site = public_site()
    if site is not None:
        return site, None
    sites = all_sites()
    return None, _render("kiosk/sites.html", 200 if sites else 503, sites=sites)


def _message(site, status, title, text, walkin=False, search_again=False):
    return _render("kiosk/message.html", status, site=site, title=title, text=text, walkin=walkin,
                   search_again=search_again)


def _already_checked_in(site, refusal: AlreadyCheckedIn):
    """The person already holds a ticket today: its number and the way to the desk, nothing more
    (no PIN, no QR code: whoever typed the plate or mobile may not be its holder)."""
    if refusal.message == "appointment_checked_in":
        return _message(site, 409, _("Already checked in"),
                        _("Already checked in as %(number)s — please ask at the service desk.",
                          number=refusal.number))
    return _message(site, 409, _("You are already in the queue"),
                    _("You are already in the queue as %(number)s. Please wait to be called, "
                      "or ask at the service desk if you need help.", number=refusal.number))


def _replayed(site, key):
    """(ticket, None) for a repeated tap of a check-in this kiosk just made (same idempotency
    key), (None, refusal) for a key of another site or of long ago, (None, None) for a new key."""
    ticket = ticket_for_key(key)
    if ticket is None:
        return None, None
    if ticket.site_id != site.id or ticket.issued_at < utcnow() - timedelta(minutes=RESHOW_MINUTES):
        return None, _message(site, 404, _("This ticket can no longer be shown"),
                              _("Please ask at the service desk if you need it again."))
    return ticket, None


def _local(site, when):
    if when is None:
        return None
    return when.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(site.timezone))


def status_url(token: str) -> str:
    """Absolute link to the customer's status page, for the QR code. Behind a proxy the request's
    host may be internal, so PUBLIC_BASE_URL wins when set. A customer who used the kiosk in
    another language than the default gets the phone page in it too (?lang=, remembered there)."""
    lang = i18n.locale_param()
    args = {"lang": lang} if lang != current_app.config["BABEL_DEFAULT_LOCALE"] else {}
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("status.page", token=token, **args)
    return url_for("status.page", token=token, _external=True, **args)


def _ticket_screen(site, ticket, autoprint=True):
    ahead, wait = position(ticket)
    pin = ticket_pin(ticket.token)
    return _render(
        "kiosk/ticket.html", 200, site=site, ticket=ticket, ahead=ahead, wait=wait,
        pin=pin, pin_display=f"{pin[:3]} {pin[3:]}",
        qr=qr_svg(status_url(ticket.token), label=_("QR code: your service status page")),
        plate=mask_plate(ticket.visit.plate), issued=_local(site, ticket.issued_at),
        appointment_at=_local(site, ticket.appointment_at), autoprint=autoprint,
        key=ticket.idempotency_key,
    )


# ---------------------------------------------------------------- start


@bp.get("")
def start():
    site, picker = _site_or_picker()
    if picker is not None:
        return picker
    return _render("kiosk/start.html", site=site)


# ---------------------------------------------------------------- appointment


@bp.get("/appointment")
def appointment():
    """Today's appointments, plates masked, to pick from; the search when there are none to list
    or the customer asks for it (?search=1)."""
    site, picker = _site_or_picker()
    if picker is not None:
        return picker
    listed = [] if request.args.get("search") else todays_open_appointments(site)
    if not listed:
        return _render("kiosk/appointment.html", site=site, search=SearchForm(), matches=None)
    rows = [{"pick": index, "plate": mask_plate(plate), "at": _local(site, at)}
            for index, (_id, plate, at) in enumerate(listed)]
    return _render("kiosk/appointment_list.html", site=site, rows=rows,
                   match_token=matching.sign(site, [row[0] for row in listed], listed=True))


def _refused_match(site, exc):
    if exc.code == "expired":
        return _message(site, 410, _("Please search again"),
                        _("This search has expired. Please search for your appointment again."),
                        search_again=True)
    return _message(site, 400, _("Please search again"),
                    _("This check-in could not be completed. Please search for your appointment again."),
                    search_again=True)


def _proof_screen(site, token, pick, key, proof, status=200):
    """"Is it yours?": the picked booking (masked) and the proof to type, first two plate
    characters (already shown masked) filled in."""
    match = matching.resolve(site, token, pick)
    row = db.session.execute(select(Appointment.scheduled_at, Vehicle.plate)
                             .join(Vehicle, Appointment.vehicle_id == Vehicle.id)
                             .where(Appointment.id == match.appointment_id, Appointment.site_id == site.id)).first()
    if row is None:
        raise matching.MatchRefused("invalid")
    if not proof.plate and proof.by == "plate":
        proof.plate = normalise_plate(row.plate)[:2]
    return _render("kiosk/appointment_proof.html", status, site=site, proof=proof, match_token=token,
                   pick=pick, key=key, plate=mask_plate(row.plate), at=_local(site, row.scheduled_at),
                   plate_prefix=normalise_plate(row.plate)[:2])


@bp.post("/appointment/pick")
@limiter.limit(_kiosk_limit)
def appointment_pick():
    """A row of the list tapped (or the proof screen in the other language): ask for the proof."""
    site, picker = _site_or_picker()
    if picker is not None:
        return picker
    key = clean_key(request.form.get("key")) or new_key()
    try:
        return _proof_screen(site, request.form.get("match"), request.form.get("pick"), key,
                             ProofForm.from_form(request.form))
    except matching.MatchRefused as exc:
        return _refused_match(site, exc)


@bp.post("/appointment")
@limiter.limit(_kiosk_limit)
def appointment_search():
    site, picker = _site_or_picker()
    if picker is not None:
        return picker
    search = SearchForm.from_form(request.form)
    if request.form.get("edit"):  # "Change" on the results: the search form again, value kept
        return _render("kiosk/appointment.html", site=site, search=search, matches=None)
    if not search.validate():
        return _render("kiosk/appointment.html", 422, site=site, search=search, matches=None)
    matches = find_appointments(site, search.q)
    if not matches:
        earlier = checked_in_appointment(site, search.q) or _queued_for_query(site, search)
        if earlier is not None:
            return _already_checked_in(site, AlreadyCheckedIn(
                "appointment_checked_in" if earlier.kind == "appointment" else "already_queued", earlier.number))
    rows = [{
        "pick": index, "plate": mask_plate(a.vehicle.plate), "at": _local(site, a.scheduled_at),
        "reason": a.reason, "key": new_key(),
    } for index, a in enumerate(matches)]
    # A match is a stored record: echo the query masked, as the matches are. "Not found" shows
    # what was typed, so a typo can be spotted.
    carry = search.carry()
    shown = mask_mobile(carry["mobile"]) if "mobile" in carry else mask_plate(carry["plate"])
    return _render("kiosk/appointment.html", site=site, search=search, matches=rows, carry=carry,
                   match_token=matching.sign(site, [a.id for a in matches]) if matches else None,
                   query_shown=shown if rows else search.q)


def _queued_for_query(site, search):
    carry = search.carry()
    return ticket_in_queue(site, carry.get("plate"), carry.get("mobile"))


@bp.post("/appointment/confirm")
@limiter.limit(_kiosk_limit)
@limiter.limit(_proof_limit, key_func=_proof_key, deduct_when=_wrong_proof)
def appointment_confirm():
    site, picker = _site_or_picker()
    if picker is not None:
        return picker
    key = clean_key(request.form.get("key"))
    replay, refusal = _replayed(site, key)
    if replay is not None or refusal is not None:
        return refusal or _ticket_screen(site, replay)
    try:
        match = matching.resolve(site, request.form.get("match"), request.form.get("pick"))
    except matching.MatchRefused as exc:
        return _refused_match(site, exc)
    if match.needs_proof:
        proof = ProofForm.from_form(request.form)
        if not proof.validate() or not appointment_proof_matches(
                site, match.appointment_id, proof.plate if proof.by == "plate" else None,
                proof.mobile4 if proof.by == "mobile" else None):
            proof.errors = proof.errors or {"proof": "proof_mismatch"}
            # 422 charges the booking's count of wrong proofs (PROOF_LIMIT), shape errors included:
            # every answer looks the same, so none tells a guess from a typo.
            return _proof_screen(site, request.form.get("match"), request.form.get("pick"), key, proof, 422)
    try:
        ticket = check_in_appointment(site, match.appointment_id, key)
    except AlreadyCheckedIn as exc:
        return _already_checked_in(site, exc)
    except ServiceError as exc:
        if exc.message == "appointment_not_found":
            return _message(site, exc.status, _("Appointment not found"), MESSAGES[exc.message], walkin=True)
        return _message(site, exc.status, _("Please ask at the service desk"),
                        MESSAGES.get(exc.message, exc.message))
    return _ticket_screen(site, ticket)


# ---------------------------------------------------------------- walk-in


@bp.get("/walkin")
def walkin():
    site, picker = _site_or_picker()
    if picker is not None:
        return picker
    return _render("kiosk/walkin.html", site=site, form=WalkinForm())


@bp.post("/walkin/prefill")
@limiter.limit(_kiosk_limit)
def walkin_prefill():
    """The walk-in form filled with what the customer already typed: carried over from a search
    that found nothing, or re-shown in the other language. Nothing is checked or stored."""
    site, picker = _site_or_picker()
    if picker is not None:
        return picker
    return _render("kiosk/walkin.html", site=site, form=WalkinForm.from_form(request.form))


@bp.post("/walkin")
@limiter.limit(_kiosk_limit)
def walkin_submit():
    site, picker = _site_or_picker()
    if picker is not None:
        return picker
    form = WalkinForm.from_form(request.form)
    replay, refusal = _replayed(site, form.key)
    if replay is not None or refusal is not None:  # a double tap, a retry: the ticket already issued
        return refusal or _ticket_screen(site, replay)
    if not form.validate():
        return _render("kiosk/walkin.html", 422, site=site, form=form)
    try:
        ticket = check_in_walkin(site, form.plate, form.mobile, form.reason, form.description,
                                 form.consent, form.key)
    except AlreadyCheckedIn as exc:
        return _already_checked_in(site, exc)
    except ServiceError as exc:
        if exc.field:
            form.errors = {exc.field: exc.message}
            return _render("kiosk/walkin.html", exc.status, site=site, form=form)
        return _message(site, exc.status, _("Please ask at the service desk"),
                        MESSAGES.get(exc.message, exc.message))
    return _ticket_screen(site, ticket)


# ---------------------------------------------------------------- ticket again


@bp.post("/ticket")
@limiter.limit(_kiosk_limit)
def ticket_again():
    """The ticket just issued, shown again (the language buttons on the ticket screen). Only by
    its idempotency key, which only the kiosk screen that issued it holds, and only briefly."""
    site, picker = _site_or_picker()
    if picker is not None:
        return picker
    key = clean_key(request.form.get("key"))
    ticket = db.session.scalar(select(Ticket).where(Ticket.idempotency_key == key)) if key else None
    if (ticket is None or ticket.site_id != site.id
            or ticket.issued_at < utcnow() - timedelta(minutes=RESHOW_MINUTES)):
        return _message(site, 404, _("This ticket can no longer be shown"),
                        _("Please ask at the service desk if you need it again."))
    return _ticket_screen(site, ticket, autoprint=False)
