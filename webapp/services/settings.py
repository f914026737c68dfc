"""Site settings (issue 4, "Estimate" / "Promise time"): the tax rate, the diagnosis fee, opening
hours and the break, the reception figures and ticket prefixes, and the technicians' roster.

Each public function validates, changes the database and commits. Bad input raises
``Invalid`` whose ``errors`` map a field name to a code (the views put words on the
codes). Whatever changes the shop's capacity (opening hours, the break, shifts) is committed
first; then the promise time of every open estimate of the site is recomputed, so it follows
the real load.
"""
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import Site, TechnicianShift, User, Visit
from ..money import parse_amount
from ..roles import TECHNICIAN
from ..workflow import VisitState
from . import estimates
from .fields import int_field
from ..parsing import parse_id
from ..validation import Invalid

MAX_TAX_PERCENT = Decimal("30")
MAX_DIAGNOSIS_FEE = Decimal("100000")
RECEPTION_RANGE = (1, 120)
WINDOW_RANGE = (0, 240)
PROMISE_STATES = (VisitState.ESTIMATE.value, VisitState.AUTHORISATION.value, VisitState.DISPATCH.value)
CAPACITY_FIELDS = ("opening", "closing", "break_start", "break_end")
# Follow-up and complaints: (field, range, error code). A form without them keeps the stored values.
FOLLOWUP_FIELDS = (("followup_days", (0, 60), "followup_days_range"),
                   ("followup_retry_hours", (1, 168), "retry_hours_range"),
                   ("followup_max_attempts", (1, 10), "max_attempts_range"),
                   ("complaint_rating", (0, 4), "complaint_rating_range"),
                   ("complaint_due_days", (1, 30), "complaint_due_range"))
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_PREFIX = re.compile(r"^[A-Z]{1,2}$")


# ---------------------------------------------------------------- field checks

def parse_time(raw) -> str | None:
    """"8:30" or "08:30" → "08:30"; None unless a time of day 00:00–23:59."""
    match = _TIME.match(str(raw or "").strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def minutes(hhmm: str) -> int:
    hour, minute = hhmm.split(":")
    return int(hour) * 60 + int(minute)


def _text(form, name, errors, max_len=120):
    value = str(form.get(name) or "").strip()
    if not value:
        errors[name] = "required"
    elif len(value) > max_len:
        errors[name] = "too_long"
    return value


def _time(form, name, errors, required=True):
    raw = str(form.get(name) or "").strip()
    if not raw:
        if required:
            errors[name] = "required"
        return None
    value = parse_time(raw)
    if value is None:
        errors[name] = "time_invalid"
    return value


def tax_percent(rate) -> str:
    """0.1300 → "13", 0.0650 → "6.5": the rate as people type it."""
    text = f"{(Decimal(rate) * 100).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---------------------------------------------------------------- the site

def _site_values(form) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    values: dict = {}
    values["name_zh"] = _text(form, "name_zh", errors)
    values["name_en"] = _text(form, "name_en", errors)

    raw_tax = str(form.get("tax_rate") or "").strip().rstrip("%").strip()
    if not raw_tax:
        errors["tax_rate"] = "required"
    else:
        percent = parse_amount(raw_tax, Decimal("0"), MAX_TAX_PERCENT)
        if percent is None:
            errors["tax_rate"] = "tax_range"
        else:
            values["tax_rate"] = (percent / 100).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    raw_fee = str(form.get("diagnosis_fee") or "").strip()
    if not raw_fee:
        errors["diagnosis_fee"] = "required"
    else:
        fee = parse_amount(raw_fee, Decimal("0"), MAX_DIAGNOSIS_FEE)
        if fee is None:
            errors["diagnosis_fee"] = "fee_range"
        else:
            values["diagnosis_fee"] = fee

    opening = _time(form, "opening", errors)
    closing = _time(form, "closing", errors)
    if opening and closing and minutes(opening) >= minutes(closing):
        errors["closing"] = "closing_before_opening"
    break_start = _time(form, "break_start", errors, required=False)
    break_end = _time(form, "break_end", errors, required=False)
    has_start = bool(str(form.get("break_start") or "").strip())
    has_end = bool(str(form.get("break_end") or "").strip())
    if has_start != has_end:
        errors["break_end" if has_start else "break_start"] = "break_pair"
    elif break_start and break_end:
        if minutes(break_start) >= minutes(break_end):
            errors["break_end"] = "break_order"
        elif opening and closing and "closing" not in errors and not (
                minutes(opening) <= minutes(break_start) and minutes(break_end) <= minutes(closing)):
            errors["break_start"] = "break_outside"
    values.update(opening=opening, closing=closing, break_start=break_start, break_end=break_end)

    for name, bounds, code in (("reception_minutes", RECEPTION_RANGE, "reception_range"),
                               ("appointment_early_minutes", WINDOW_RANGE, "window_range"),
                               ("appointment_late_minutes", WINDOW_RANGE, "window_range")):
        values[name] = int_field(form, name, errors, *bounds, code, required=True)

    for name in ("prefix_appointment", "prefix_walkin"):
        raw = str(form.get(name) or "").strip()
        if not raw:
            errors[name] = "required"
        elif not _PREFIX.match(raw):
            errors[name] = "prefix_invalid"
        values[name] = raw
    if ("prefix_appointment" not in errors and "prefix_walkin" not in errors
            and values["prefix_appointment"] == values["prefix_walkin"]):
        errors["prefix_walkin"] = "prefix_same"

    for name, bounds, code in FOLLOWUP_FIELDS:
        if form.get(name) is None:
            continue   # not on the form: keep what is stored
        values[name] = int_field(form, name, errors, *bounds, code, required=True)
    return values, errors


def save_site_settings(site: Site, form, actor=None) -> Site:
    """Validate every field, then store them all; recompute promise times when the opening
    hours or the break changed."""
    values, errors = _site_values(form)
    if errors:
        raise Invalid(errors)
    capacity_changed = any(getattr(site, name) != values[name] for name in CAPACITY_FIELDS)
    for key, value in values.items():
        setattr(site, key, value)
    db.session.commit()
    if capacity_changed:
        refresh_promises(site)
    return site


# ---------------------------------------------------------------- the roster

def technicians(site: Site) -> list[User]:
    return list(db.session.scalars(select(User).where(User.site_id == site.id, User.role == TECHNICIAN,
                                                      User.active.is_(True))
                                   .order_by(User.display_name, User.id)))


def shifts_of(site: Site, day: date) -> dict[int, TechnicianShift]:
    rows = db.session.scalars(select(TechnicianShift).where(TechnicianShift.site_id == site.id,
                                                            TechnicianShift.day == day))
    return {s.user_id: s for s in rows}


def _technician(site: Site, user_id) -> User | None:
    user_id = parse_id(user_id)
    user = db.session.get(User, user_id) if user_id else None
    if user is None or user.site_id != site.id or user.role != TECHNICIAN or not user.active:
        return None
    return user


def save_shift(site: Site, user_id, day: date, start, end) -> TechnicianShift:
    """Put a technician of the site on shift on ``day`` (or change their hours)."""
    errors: dict[str, str] = {}
    user = _technician(site, user_id)
    if user is None:
        errors["user_id"] = "not_technician"
    if not isinstance(day, date):
        errors["day"] = "day_invalid"
    form = {"start": start, "end": end}
    start_hm = _time(form, "start", errors)
    end_hm = _time(form, "end", errors)
    if start_hm and end_hm and minutes(start_hm) >= minutes(end_hm):
        errors["end"] = "end_before_start"
    if errors:
        raise Invalid(errors)
    shift = db.session.scalar(select(TechnicianShift).where(TechnicianShift.user_id == user.id,
                                                            TechnicianShift.day == day))
    if shift is None:
        shift = TechnicianShift(site_id=site.id, user_id=user.id, day=day)
        db.session.add(shift)
    shift.start, shift.end = start_hm, end_hm
    db.session.commit()
    refresh_promises(site)
    return shift


def delete_shift(site: Site, user_id, day: date) -> bool:
    """Take a technician off the roster of ``day``. False when they were not on it."""
    user = _technician(site, user_id)
    if user is None:
        raise Invalid({"user_id": "not_technician"})
    shift = db.session.scalar(select(TechnicianShift).where(TechnicianShift.user_id == user.id,
                                                            TechnicianShift.day == day,
                                                            TechnicianShift.site_id == site.id))
    if shift is None:
        return False
    db.session.delete(shift)
    db.session.commit()
    refresh_promises(site)
    return True


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def technician_hours(site: Site, day: date) -> tuple[Decimal, int, bool]:
    """Technician-hours of ``day`` as the promise time counts them (shift ∩ opening hours, less
    the break): (hours, technicians counted, whether a roster was entered). Without a roster
    every active technician counts for the opening hours."""
    shifts = shifts_of(site, day)
    if shifts:
        pairs = [(minutes(s.start), minutes(s.end)) for s in shifts.values()]
    else:
        pairs = [(minutes(site.opening), minutes(site.closing))] * len(technicians(site))
    open_m, close_m = minutes(site.opening), minutes(site.closing)
    total = 0
    for start, end in pairs:
        worked = _overlap(start, end, open_m, close_m)
        if site.break_start and site.break_end:
            b_start, b_end = minutes(site.break_start), minutes(site.break_end)
            worked -= _overlap(max(start, open_m), min(end, close_m), b_start, b_end)
        total += max(0, worked)
    return (Decimal(total) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), len(pairs), bool(shifts)


# ---------------------------------------------------------------- promise times

def refresh_promises(site: Site) -> int:
    """Recompute the promise time of every visit of the site with an estimate still open
    (estimate, authorisation, dispatch). Returns how many were recomputed."""
    visits = db.session.scalars(select(Visit).where(Visit.site_id == site.id, Visit.state.in_(PROMISE_STATES))
                                .order_by(Visit.id)).all()
    done = 0
    for visit in visits:
        if visit.estimate is None:
            continue
        estimates.refresh_promise(visit)
        done += 1
    return done
