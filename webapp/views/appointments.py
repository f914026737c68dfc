"""Appointments booked by staff (/appointments, issue 13): the day with its capacity figures,
the booking form (find the car by plate, mobile or name with the service history's search, or
enter a new customer), move and cancel. Advisors and managers (admins) only; every record is
looked up within the signed-in user's site. Plain forms: a good POST redirects to the day, bad
input answers 422 with the message next to the field and what was typed, a time that is no
longer free answers 409 with the next free times. The free slots of a chosen day come as a
fragment (htmx) when the day changes."""
import uuid
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from .. import history as history_rules
from ..commands import appointments as commands
from ..extensions import db, limiter
from .. import messages
from ..labels import REASONS
from ..models import Appointment, LabourOperation, Site, Vehicle
from ..roles import ADVISOR
from ..security import record_of_my_site, roles_required
from ..services import ServiceError
from ..services import appointment_board
from ..services import appointment_calls as calls
from ..services import appointment_day_before as day_before
from ..services import appointments as svc
from ..services import booking_capacity as cap_db
from ..services import booking_suggestions
from ..services import record_matching
from ..services import history as history_svc
from ..parsing import parse_id
from ..timeutil import utcnow
from ..validation import Invalid, mask_plate

bp = Blueprint("appointments", __name__, url_prefix="/appointments")

STATUS = {"booked": _l("Booked"), "arrived": _l("Arrived"), "cancelled": _l("Cancelled"), "no_show": _l("Missed")}
BOARD_STATES = {"booked": _l("Booked"), "confirmed": _l("Confirmed"), "late": _l("Late"), "arrived": _l("Arrived"), "in_service": _l("In service"),
                "cancelled": _l("Cancelled"), "no_show": _l("Missed")}
CALL_OUTCOMES = {"reached": _l("Reached"), "no_answer": _l("No answer"), "rebooked": _l("Rebooked"),
                 "cancelled": _l("Cancelled")}
CONFIRM_OUTCOMES = {"reached": _l("Reached: confirmed"), "no_answer": _l("No answer"), "moved": _l("Wants another time"),
                    "cancelled": _l("Cancels")}
FORM_FIELDS = ("vehicle_id", "name", "mobile", "plate", "email", "reason", "description", "note", "advisor_id",
               "day", "slot", "overbook_reason")


@bp.context_processor
def _helpers():
    # Hours as people read them: one decimal, the locale's separators.
    return {"fmt_hours": lambda value: format_decimal(value or 0, format="#,##0.0"),
            "status_label": STATUS, "reasons": REASONS, "error_text": error_text,
            # the no-shows to call, read only by the templates that show the list
            "to_call_list": lambda: day_before.to_call(_site()), "call_outcomes": CALL_OUTCOMES,
            "to_confirm_list": lambda: calls.to_confirm(_site()), "confirm_outcomes": CONFIRM_OUTCOMES,
            "local_of": lambda at: cap_db.local_dt(_site(), at),
            "record_match": record_matching.match_for}


def error_text(code: str) -> str:
    """The registry's words (messages.py), except where the booking desk words a code its own way."""
    own = {
        "plate_invalid": _("Enter a plate such as 京A12345."),
        "email_invalid": _("Enter an e-mail address such as name@example.com."),
        "reason_invalid": _("Choose a reason."),
        "closed": _("The shop is closed on this day."),
        "not_a_slot": _("This is not a reception time of the day."),
        "slot_full": _("This time is fully booked."),
        "advisor_full": _("This advisor is fully booked at this time."),
        "hours_full": _("The workshop's bookable hours on this day are used up."),
        "cap_full": _("The day's hours for this kind of work are used up."),
        "overbook_reason_required": _("This time is full. To overbook it, give a reason."),
    }
    return own[code] if code in own else messages.error_text(code)


def _site():
    return current_user.site


def _public_limit():
    return current_app.config["RATELIMIT_STATUS"]


def _day_arg(name="day"):
    try:
        return date.fromisoformat(request.values.get(name) or "")
    except ValueError:
        return cap_db.today(_site())


def _posted():
    """The posted form; a click on one of the next free times offered after a refusal
    ("YYYY-MM-DD HH:MM") stands for the day and time fields, the rest as typed."""
    form = request.form.copy()
    picked = (form.get("next_free") or "").split(" ")
    if len(picked) == 2:
        form["day"], form["slot"] = picked
    return form


def _form_values(form):
    values = {name: form.get(name, "") for name in FORM_FIELDS}
    values["operation_ids"] = form.getlist("operation_ids")
    return values


# ---------------------------------------------------------------- the day

@bp.get("")
@roles_required(ADVISOR)
def day():
    site = _site()
    shown = _day_arg()
    view = svc.day_view(site, shown)
    return render_template("appointments/day.html", view=view, status_label=STATUS, reasons=REASONS,
                           today=cap_db.today(site), prev_day=shown - timedelta(days=1),
                           next_day=shown + timedelta(days=1), error_text=error_text)


@bp.get("/day")
@roles_required(ADVISOR)
def day_section():
    """The day's figures and bookings, refetched on every hint of the advisors' room (a booking
    another advisor made, a kiosk check-in) and on reconnect."""
    return render_template("appointments/_day_section.html", view=svc.day_view(_site(), _day_arg()))


# ---------------------------------------------------------------- booking

def _slots_context(site, day, exclude_id=None):
    capacity = cap_db.day_of(site, day, exclude_id)
    now = cap_db.local_dt(site, utcnow())
    return {"capacity": capacity, "now": now, "manager": svc.is_manager(current_user)}


def _booking_page(status=200, values=None, errors=None, refused=None):
    site = _site()
    values = values or {}
    query = request.args.get("q", "")
    result, query_error = None, None
    if query:
        try:
            result = history_svc.search(site.id, query)
        except history_rules.QueryRefused as exc:
            query_error = exc.code
    vehicle = None
    vehicle_id = parse_id(values.get("vehicle_id") or request.args.get("vehicle_id"))
    if vehicle_id:
        vehicle = db.session.get(Vehicle, vehicle_id)
        if vehicle is None or vehicle.site_id != site.id:
            vehicle = None
    values.setdefault("vehicle_id", vehicle.id if vehicle else "")
    values.setdefault("day", _day_arg().isoformat())
    values.setdefault("email", vehicle.customer.email if vehicle and vehicle.customer else "")
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        day = cap_db.today(site)
    operations = db.session.scalars(select(LabourOperation).where(
        LabourOperation.site_id == site.id, LabourOperation.active.is_(True)).order_by(LabourOperation.code)).all()
    suggestions = booking_suggestions.for_vehicle(vehicle) if vehicle else []
    suggested_ops = {sg.operation.id for sg in suggestions if sg.operation}
    return render_template(
        "appointments/book.html", query=query, result=result, query_error=query_error, vehicle=vehicle,
        suggestions=suggestions, suggested_ops=suggested_ops,
        new_customer=request.args.get("new") == "1" or bool(values.get("plate")), values=values,
        errors=errors or {}, refused=refused, operations=operations, reasons=REASONS,
        advisors=cap_db.advisors_of(site), error_text=error_text, idempotency_key=uuid.uuid4().hex,
        selected_ops={str(x) for x in values.get("operation_ids", [])},
        **_slots_context(site, day)), status


@bp.get("/new")
@roles_required(ADVISOR)
def new():
    return _booking_page()


@bp.post("/new")
@roles_required(ADVISOR)
def book():
    form = _posted()
    values = _form_values(form)
    try:
        appointment = svc.book(current_user, commands.parse_booking(form), form.get("idempotency_key"))
    except Invalid as exc:
        return _booking_page(422, values, exc.errors)
    except svc.BookingRefused as exc:
        return _booking_page(409, values, {"slot": exc.code}, refused=exc)
    flash(_("Booked %(number)s for %(when)s.", number=appointment.number,
            when=cap_db.local_dt(_site(), appointment.scheduled_at).strftime("%Y-%m-%d %H:%M")))
    day = cap_db.local_dt(_site(), appointment.scheduled_at).date()
    return redirect(url_for(".day", day=day.isoformat()))


@bp.get("/slots")
@roles_required(ADVISOR)
def slots():
    """The reception slots of a day with what is free (the booking and move forms ask on change)."""
    site = _site()
    exclude = parse_id(request.args.get("appointment_id"))
    if exclude:
        record_of_my_site(Appointment, exclude)
    return render_template("appointments/_slots.html", values={"slot": request.args.get("slot", "")},
                           errors={}, error_text=error_text, **_slots_context(site, _day_arg(), exclude))


# ---------------------------------------------------------------- move and cancel

def _move_page(appointment, status=200, values=None, errors=None, refused=None):
    site = _site()
    values = values or {}
    local = cap_db.local_dt(site, appointment.scheduled_at)
    values.setdefault("day", local.date().isoformat())
    values.setdefault("advisor_id", appointment.advisor_id or "")   # keep the customer's advisor unless changed
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        day = local.date()
    return render_template("appointments/move.html", appointment=appointment, local=local, values=values,
                           errors=errors or {}, refused=refused, advisors=cap_db.advisors_of(site),
                           error_text=error_text, reasons=REASONS,
                           **_slots_context(site, day, appointment.id)), status


@bp.get("/<int:appointment_id>/move")
@roles_required(ADVISOR)
def move_form(appointment_id):
    return _move_page(record_of_my_site(Appointment, appointment_id))


@bp.post("/<int:appointment_id>/move")
@roles_required(ADVISOR)
def move(appointment_id):
    appointment = record_of_my_site(Appointment, appointment_id)
    form = _posted()
    values = {name: form.get(name, "") for name in ("day", "slot", "advisor_id", "overbook_reason")}
    try:
        svc.move(current_user, appointment, commands.parse_move(form))
    except Invalid as exc:
        return _move_page(appointment, 422, values, exc.errors)
    except svc.BookingRefused as exc:
        return _move_page(appointment, 409, values, {"slot": exc.code}, refused=exc)
    except ServiceError as exc:
        flash(error_text(exc.message))
        return redirect(url_for(".day"))
    local = cap_db.local_dt(_site(), appointment.scheduled_at)
    flash(_("Moved %(number)s to %(when)s.", number=appointment.number or appointment.id,
            when=local.strftime("%Y-%m-%d %H:%M")))
    return redirect(url_for(".day", day=local.date().isoformat()))


@bp.post("/<int:appointment_id>/cancel")
@roles_required(ADVISOR)
def cancel(appointment_id):
    appointment = record_of_my_site(Appointment, appointment_id)
    local = cap_db.local_dt(_site(), appointment.scheduled_at)
    try:
        svc.cancel(current_user, appointment, commands.parse_cancel(request.form))
    except Invalid:
        site = _site()
        view = svc.day_view(site, local.date())
        return render_template("appointments/day.html", view=view, status_label=STATUS, reasons=REASONS,
                               today=cap_db.today(site), prev_day=local.date() - timedelta(days=1),
                               next_day=local.date() + timedelta(days=1), error_text=error_text,
                               cancel_error=appointment.id), 422
    except ServiceError as exc:
        flash(error_text(exc.message))
        return redirect(url_for(".day", day=local.date().isoformat()))
    flash(_("Cancelled %(number)s.", number=appointment.number or appointment.id))
    return redirect(url_for(".day", day=local.date().isoformat()))


@bp.post("/<int:appointment_id>/link")
@roles_required(ADVISOR)
def link_records(appointment_id):
    """Link an online booking to the stored customer and car its typed mobile and plate match."""
    appointment = record_of_my_site(Appointment, appointment_id)
    day = cap_db.local_dt(_site(), appointment.scheduled_at).date().isoformat()
    try:
        record_matching.link(appointment, current_user)
    except ServiceError:
        flash(_("This booking is already linked to the stored records."))    # a second click
        return redirect(url_for(".day", day=day), 303)
    flash(_("%(number)s is linked to the stored records.", number=appointment.number or appointment.id))
    return redirect(url_for(".day", day=day), 303)


# ---------------------------------------------------------------- no-shows to call

@bp.post("/<int:appointment_id>/call")
@roles_required(ADVISOR)
def call(appointment_id):
    appointment = record_of_my_site(Appointment, appointment_id)
    try:
        day_before.record_call(current_user, appointment, request.form.get("outcome", ""))
    except ServiceError as exc:
        flash(error_text(exc.message))
        return redirect(url_for(".day"))
    flash(_("Call noted for %(number)s.", number=appointment.number or appointment.id))
    return redirect(url_for(".day"))


# ---------------------------------------------------------------- the day-before confirmation calls

@bp.post("/<int:appointment_id>/confirm-call")
@roles_required(ADVISOR)
def confirm_call(appointment_id):
    appointment = record_of_my_site(Appointment, appointment_id)
    outcome = request.form.get("outcome", "")
    reason = None
    if outcome == "cancelled":
        try:
            reason = commands.parse_cancel(request.form).reason
        except Invalid:
            site = _site()
            shown = cap_db.today(site)
            return render_template("appointments/day.html", view=svc.day_view(site, shown), status_label=STATUS,
                                   reasons=REASONS, today=shown, prev_day=shown - timedelta(days=1),
                                   next_day=shown + timedelta(days=1), error_text=error_text,
                                   confirm_error=appointment.id), 422
    try:
        calls.record(current_user, appointment, outcome, reason)
    except ServiceError as exc:
        flash(error_text(exc.message))
        return redirect(url_for(".day"))
    if outcome == "moved":
        return redirect(url_for(".move_form", appointment_id=appointment.id))
    flash(_("Call noted for %(number)s.", number=appointment.number or appointment.id))
    return redirect(url_for(".day"))


# ---------------------------------------------------------------- the board

@bp.get("/board")
@limiter.limit(_public_limit)   # public with the token; generous enough for staff
def board():
    """Staff (advisors, managers) by sign-in; the reception TV by the site's board token."""
    if "token" in request.args:
        return _tv_page()
    return _staff_board()


@roles_required(ADVISOR)
def _staff_board():
    site = _site()
    shown = _day_arg()
    if request.args.get("view") == "week":
        return render_template("appointments/board.html", week=appointment_board.week(site, shown), board=None,
                               states=BOARD_STATES, today=cap_db.today(site), shown=shown,
                               prev_day=shown - timedelta(days=7), next_day=shown + timedelta(days=7))
    return render_template("appointments/board.html", board=appointment_board.board(site, shown), week=None,
                           states=BOARD_STATES, today=cap_db.today(site), shown=shown,
                           prev_day=shown - timedelta(days=1), next_day=shown + timedelta(days=1))


@bp.get("/board/grid")
@roles_required(ADVISOR)
def board_grid():
    """The board's live part, refetched on every hint of the advisors' room and on reconnect."""
    if request.args.get("view") == "week":
        return render_template("appointments/_week.html", week=appointment_board.week(_site(), _day_arg()),
                               states=BOARD_STATES)
    return render_template("appointments/_board_grid.html", board=appointment_board.board(_site(), _day_arg()),
                           states=BOARD_STATES)


# ---------------------------------------------------------------- the board on the reception TV

def _tv_site() -> Site:
    """The TV's capability is the site's board token, the one the workshop TV uses: wrong or
    missing is a 404, never a sign-in page."""
    token = request.args.get("token", "")
    site = db.session.scalar(select(Site).where(Site.board_token == token)) if 0 < len(token) <= 64 else None
    if site is None:
        abort(404)
    return site


def _tv_response(html):
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"   # the token must not leak
    return response


def _tv_context(site):
    return {"board": appointment_board.board(site, cap_db.today(site)), "states": BOARD_STATES, "site": site,
            "token": site.board_token, "mask_plate": mask_plate, "clock_now": cap_db.local_dt(site, utcnow()).strftime("%H:%M")}


def _tv_page():
    site = _tv_site()
    return _tv_response(render_template("appointments/tv.html", **_tv_context(site)))


@bp.get("/board/tv-grid")
@limiter.limit(_public_limit)
def tv_grid():
    """The TV's live part, refetched on every hint of its room, every reconnect and every minute."""
    site = _tv_site()
    return _tv_response(render_block("appointments/tv.html", "grid", **_tv_context(site)))
