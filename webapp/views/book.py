"""Booking online (/book, issue 13): public, phone first, no account. The form offers the
reception times the day's capacity allows (the staff booking's capacity service); a good POST
redirects to the booking's manage page (/book/<token>), which confirms it and lets the customer
move or cancel it. Public edge as the kiosk: CSRF on every POST, rate limits per address and per
mobile on the booking, per link on the manage page, nothing stored shown back (see
services/online_booking), no personal data in any URL, no caching, no Referer."""
import hashlib
import uuid
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..commands import appointments as commands
from ..extensions import db, limiter
from ..labels import REASONS
from ..models import Site
from ..ratelimits import per_ticket
from ..services import ServiceError
from ..services import booking_capacity as cap_db
from ..services import online_booking as svc
from ..sites import all_sites, public_site, remember
from ..timeutil import utcnow
from ..validation import Invalid, mask_mobile, mask_plate, normalise_mobile

bp = Blueprint("book", __name__, url_prefix="/book")

FORM_FIELDS = ("reason", "day", "slot", "plate", "mobile", "name", "email", "description")
STATUS = {"booked": _l("Booked"), "arrived": _l("Arrived"), "cancelled": _l("Cancelled"),
          "no_show": _l("Missed")}
# What the customer may pick: the staff reasons (their capacity kind follows from them).
KIND_HINTS = {"maintenance": _l("Scheduled service, oil, filters"), "repair": _l("A fault, a noise, a warning light"),
              "warranty": _l("A repair under the manufacturer's warranty"), "bodywork": _l("Dents, scratches, paint"),
              "other": _l("Anything else")}


def error_text(code: str) -> str:
    return {
        "required": _("Required."),
        "too_long": _("Too long."),
        "day_invalid": _("Choose a day."),
        "day_range": _("Choose a day from today to 60 days ahead."),
        "slot_required": _("Choose a time."),
        "slot_past": _("This time has passed: choose a later one."),
        "plate_invalid": _("Enter a plate such as 京A12345."),
        "mobile_invalid": _("Enter an 11-digit mobile number starting with 1."),
        "email_invalid": _("Enter an e-mail address such as name@example.com."),
        "reason_invalid": _("Choose what the car needs."),
        "closed": _("The shop is closed on this day."),
        "not_a_slot": _("This is not a reception time of the day."),
        "slot_full": _("This time has just been booked."),
        "advisor_full": _("This time has just been booked."),
        "hours_full": _("The workshop is fully booked on this day."),
        "cap_full": _("The workshop is fully booked for this kind of work on this day."),
        "overbook_reason_required": _("This time has just been booked."),
        "not_booked": _("This appointment can no longer be changed online. Please call us."),
    }.get(code, _("Please check this."))


# ---------------------------------------------------------------- rate limits

def _address_limit():
    return current_app.config.get("RATELIMIT_BOOK_ADDRESS", "30 per hour")


def _mobile_limit():
    return current_app.config.get("RATELIMIT_BOOK_MOBILE", "5 per hour")


def _mobile_key() -> str:
    # Hashed: a mobile number must not sit in Redis keys or their logs.
    mobile = normalise_mobile(request.form.get("mobile") or "") or "-"
    return "book-mobile:" + hashlib.sha256(mobile.encode()).hexdigest()[:32]


def _manage_limit():
    return current_app.config["RATELIMIT_STATUS"]


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# ---------------------------------------------------------------- the form

def _site_or_404():
    site = public_site()
    if site is None:
        abort(404)
    return site


def _day(value, site):
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return cap_db.today(site)


def _slots_context(site, day, exclude_id=None):
    return {"capacity": cap_db.day_of(site, day, exclude_id), "now": cap_db.local_dt(site, utcnow()),
            "least_hours": svc.least_hours(site),
            "today": cap_db.today(site), "last_day": cap_db.today(site) + timedelta(days=cap_db.HORIZON_DAYS)}


def _first_open_day(site):
    """Tomorrow, or the next day the shop opens (a phone booking for today is rare and late)."""
    day = cap_db.today(site) + timedelta(days=1)
    for _i in range(14):
        if not cap_db.day_of(site, day).closed:
            return day
        day += timedelta(days=1)
    return cap_db.today(site) + timedelta(days=1)


def _form_page(site, status=200, values=None, errors=None, refused=None):
    values = values or {}
    values.setdefault("day", (_first_open_day(site)).isoformat())
    day = _day(values["day"], site)
    response = current_app.make_response((render_template(
        "book/form.html", site=site, values=values, errors=errors or {}, refused=refused, reasons=REASONS,
        kind_hints=KIND_HINTS, error_text=error_text, idempotency_key=uuid.uuid4().hex,
        **_slots_context(site, day)), status))
    remember(response, site)
    return response


@bp.get("")
def form():
    site = public_site()
    if site is None:
        return render_template("book/sites.html", sites=all_sites(), site=None), 200 if all_sites() else 503
    return _form_page(site)


@bp.get("/slots")
@limiter.limit(_manage_limit)
def slots():
    """The free reception times of a day (the form asks when the day changes)."""
    site = _site_or_404()
    return render_template("book/_slots.html", values={"slot": request.args.get("slot", "")}, errors={},
                           error_text=error_text, **_slots_context(site, _day(request.args.get("day"), site)))


def _posted():
    """The form; a tap on one of the next free times offered after a refusal stands for day and time."""
    form = request.form.copy()
    picked = (form.get("next_free") or "").split(" ")
    if len(picked) == 2:
        form["day"], form["slot"] = picked
    return form


@bp.post("")
@limiter.limit(_address_limit)
@limiter.limit(_mobile_limit, key_func=_mobile_key)
def book():
    site = _site_or_404()
    form = _posted()
    values = {name: form.get(name, "") for name in FORM_FIELDS}
    try:
        appointment = svc.book(site, commands.parse_online_booking(form), form.get("idempotency_key"))
    except Invalid as exc:
        return _form_page(site, 422, values, exc.errors)
    except svc.BookingRefused as exc:
        return _form_page(site, 409, values, {"slot": exc.code}, refused=exc)
    flash(_("Your appointment is booked."))
    return redirect(url_for(".manage", token=appointment.manage_token), 303)


# ---------------------------------------------------------------- the manage page

def _appointment(token):
    appointment = svc.by_token(token)
    if appointment is None:
        abort(404)
    return appointment


def _manage_page(appointment, status=200, values=None, errors=None, refused=None):
    site = db.session.get(Site, appointment.site_id)
    local = cap_db.local_dt(site, appointment.scheduled_at)
    values = values or {}
    values.setdefault("day", local.date().isoformat())
    day = _day(values["day"], site)
    return render_template(
        "book/manage.html", site=site, appointment=appointment, local=local, values=values, errors=errors or {},
        refused=refused, reason_label=REASONS.get(appointment.reason, appointment.reason),
        status_label=STATUS.get(appointment.status, appointment.status),
        plate=mask_plate(appointment.vehicle.plate if appointment.vehicle else ""),
        mobile=mask_mobile(appointment.customer.mobile if appointment.customer else ""),
        error_text=error_text, **_slots_context(site, day, appointment.id)), status


@bp.get("/<token>")
@per_ticket(_manage_limit)
def manage(token):
    return _manage_page(_appointment(token))


@bp.post("/<token>/move")
@per_ticket(_manage_limit)
def move(token):
    appointment = _appointment(token)
    form = _posted()
    values = {name: form.get(name, "") for name in ("day", "slot")}
    try:
        svc.move(appointment, commands.parse_online_move(form))
    except Invalid as exc:
        return _manage_page(appointment, 422, values, exc.errors)
    except svc.BookingRefused as exc:
        return _manage_page(appointment, 409, values, {"slot": exc.code}, refused=exc)
    except ServiceError as exc:
        return _manage_page(appointment, 409, values, {"slot": exc.message})
    flash(_("Your appointment is moved."))
    return redirect(url_for(".manage", token=token), 303)


@bp.post("/<token>/cancel")
@per_ticket(_manage_limit)
def cancel(token):
    appointment = _appointment(token)
    try:
        svc.cancel(appointment, commands.parse_cancel({"cancel_reason": _("Cancelled by the customer online")}))
    except ServiceError as exc:
        return _manage_page(appointment, 409, errors={"cancel": exc.message})
    flash(_("Your appointment is cancelled."))
    return redirect(url_for(".manage", token=token), 303)
