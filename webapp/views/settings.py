"""Site settings (/admin/site) and the technicians' roster (/admin/shifts).

Managers and admins edit the site; the dispatcher (and managers, admins) keep the roster. Plain
forms, as in the catalogue admin: a good POST redirects back, bad input answers 422 with the
page, the message next to the field and what was typed."""
from datetime import date, timedelta
from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from ..roles import DISPATCHER, MANAGER
from ..security import roles_required
from ..commands.settings import (BOOKING_FIELDS, CAP_FIELDS, FOLLOWUP_FIELDS, ONLINE_HOURS_FIELDS, TARGET_FIELDS,
                                 parse_site_settings)
from ..services import settings as svc
from ..timeutil import local_day
from ..parsing import read_id
from ..messages import error_text
from ..validation import Invalid

bp = Blueprint("settings", __name__, url_prefix="/admin")

SITE_FIELDS = ("name_zh", "name_en", "tax_rate", "diagnosis_fee", "opening", "closing", "break_start", "break_end",
               "reception_minutes", "appointment_early_minutes", "appointment_late_minutes",
               "prefix_appointment", "prefix_walkin")


def _site():
    return current_user.site


def _can_edit_site():
    return current_user.role in ("manager", "admin")


def _render(template, status=200, **ctx):
    ctx.setdefault("errors", {})
    ctx.setdefault("values", {})
    return render_template(template, error_text=error_text, can_edit_site=_can_edit_site(), **ctx), status


# ---------------------------------------------------------------- the site

def _site_values(site):
    values = {name: getattr(site, name) for name in SITE_FIELDS}
    values["tax_rate"] = svc.tax_percent(site.tax_rate)
    values["diagnosis_fee"] = f"{site.diagnosis_fee:.2f}"
    values["break_start"] = site.break_start or ""
    values["break_end"] = site.break_end or ""
    values.update({name: getattr(site, name) for name, _b, _c in FOLLOWUP_FIELDS + BOOKING_FIELDS + TARGET_FIELDS})
    for name in CAP_FIELDS:
        values[name] = "" if getattr(site, name) is None else f"{getattr(site, name):.1f}"
    for name in ONLINE_HOURS_FIELDS:   # "1", "0.5", "0.25": as people type hours
        values[name] = format(Decimal(getattr(site, name)).normalize(), "f")
    values["closed_weekdays"] = [d for d in (site.closed_weekdays or "").split(",") if d]
    values["holidays"] = site.holidays or ""
    return values


def _booking_form(form):
    """The booking card's fields as the service reads them (a marker says the card was sent)."""
    form.update({name: request.form[name] for name, _b, _c in BOOKING_FIELDS if name in request.form})
    if "booking" in request.form:
        form.update({name: request.form.get(name, "") for name in CAP_FIELDS})
        form.update({name: request.form[name] for name in ONLINE_HOURS_FIELDS if name in request.form})
        form.update(booking="1", closed_weekdays=request.form.getlist("closed_weekdays"),
                    holidays=request.form.get("holidays", ""))
    return form


@bp.get("/site")
@roles_required(MANAGER)
def site():
    return _render("settings/site.html", values=_site_values(_site()))


@bp.post("/site")
@roles_required(MANAGER)
def save_site():
    site = _site()
    form = {name: request.form.get(name, "") for name in SITE_FIELDS}
    form.update({name: request.form[name] for name, _b, _c in FOLLOWUP_FIELDS + TARGET_FIELDS
                 if name in request.form})
    _booking_form(form)
    try:
        svc.save_site_settings(site, parse_site_settings(form), current_user)
    except Invalid as exc:
        return _render("settings/site.html", 422, values=form, errors=exc.errors)
    flash(_("Site settings saved."))
    return redirect(url_for(".site"))


# ---------------------------------------------------------------- the roster

def _day():
    raw = request.values.get("day") or ""
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return local_day(_site().timezone or "Asia/Shanghai")


def _shifts_page(day, status=200, row_errors=None, row_values=None):
    site = _site()
    shifts = svc.shifts_of(site, day)
    techs = svc.technicians(site)
    hours, counted, rostered = svc.technician_hours(site, day)
    rows = []
    for tech in techs:
        shift = shifts.get(tech.id)
        values = {"start": shift.start if shift else "", "end": shift.end if shift else ""}
        if row_values and tech.id in row_values:
            values = row_values[tech.id]
        rows.append({"user": tech, "shift": shift, "values": values,
                     "errors": (row_errors or {}).get(tech.id, {})})
    today = local_day(site.timezone or "Asia/Shanghai")
    return _render("settings/shifts.html", status, day=day, today=today, prev_day=day - timedelta(days=1),
                   next_day=day + timedelta(days=1), rows=rows, rostered=rostered, counted=counted,
                   hours=format_decimal(hours, format="#,##0.0"), roster_errors=(row_errors or {}).get(None, {}),
                   site=site)


@bp.get("/shifts")
@roles_required(DISPATCHER)
def shifts():
    return _shifts_page(_day())


@bp.post("/shifts")
@roles_required(DISPATCHER)
def save_shift():
    site = _site()
    day = _day()
    user_id = read_id("user_id")
    action = request.form.get("action", "save")
    values = {"start": request.form.get("start", "").strip(), "end": request.form.get("end", "").strip()}
    try:
        if action == "delete":
            if svc.delete_shift(site, user_id, day):
                flash(_("Taken off the roster."))
        else:
            svc.save_shift(site, user_id, day, values["start"], values["end"])
            flash(_("Shift saved."))
    except Invalid as exc:
        if "user_id" in exc.errors:
            return _shifts_page(day, 422, row_errors={None: exc.errors})
        return _shifts_page(day, 422, row_errors={user_id: exc.errors}, row_values={user_id: values})
    return redirect(url_for(".shifts", day=day.isoformat()))
