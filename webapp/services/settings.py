"""Site settings (issue 4, "Estimate" / "Promise time"): the tax rate, the diagnosis fee, opening
hours and the break, the reception figures and ticket prefixes, and the technicians' roster.

The view parses the site form into ``commands.settings.SiteSettings``; each public function
changes the database and commits. Bad input raises ``Invalid`` whose ``errors`` map a field
name to a code (the views put words on the codes). Whatever changes the shop's capacity (opening hours, the break, shifts) is committed
first; then the promise time of every open estimate of the site is recomputed, so it follows
the real load.
"""
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import Site, TechnicianShift, User, Visit
from ..roles import TECHNICIAN
from ..workflow import VisitState
from . import estimates
from ..parsing import parse_id
from ..validation import Invalid
from ..commands.settings import (BOOKING_FIELDS, CAP_FIELDS, FOLLOWUP_FIELDS, SiteSettings,  # noqa: F401 - re-exported
                                 minutes, parse_holidays, parse_shift_hours, parse_time)

PROMISE_STATES = (VisitState.ESTIMATE.value, VisitState.AUTHORISATION.value, VisitState.DISPATCH.value)
CAPACITY_FIELDS = ("opening", "closing", "break_start", "break_end")


def tax_percent(rate) -> str:
    """0.1300 → "13", 0.0650 → "6.5": the rate as people type it."""
    text = f"{(Decimal(rate) * 100).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---------------------------------------------------------------- the site

def save_site_settings(site: Site, settings: SiteSettings, actor=None) -> Site:
    """Store the parsed settings; recompute promise times when the opening hours or the
    break changed."""
    values = settings.values()
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
    hours = parse_shift_hours(start, end, errors)
    if errors:
        raise Invalid(errors)
    shift = db.session.scalar(select(TechnicianShift).where(TechnicianShift.user_id == user.id,
                                                            TechnicianShift.day == day))
    if shift is None:
        shift = TechnicianShift(site_id=site.id, user_id=user.id, day=day)
        db.session.add(shift)
    shift.start, shift.end = hours.start, hours.end
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
