"""The site settings form and the roster's hours, parsed into typed values (pure Python)."""
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ..money import parse_amount
from .fields import int_field
from ..validation import Invalid

MAX_TAX_PERCENT = Decimal("30")
MAX_DIAGNOSIS_FEE = Decimal("100000")
RECEPTION_RANGE = (1, 120)
WINDOW_RANGE = (0, 240)
# Follow-up and complaints: (field, range, error code). A form without them keeps the stored values.
FOLLOWUP_FIELDS = (("followup_days", (0, 60), "followup_days_range"),
                   ("followup_retry_hours", (1, 168), "retry_hours_range"),
                   ("followup_max_attempts", (1, 10), "max_attempts_range"),
                   ("complaint_rating", (0, 4), "complaint_rating_range"),
                   ("complaint_due_days", (1, 30), "complaint_due_range"))
# Booking capacity (issue 13): (field, range, error code); like the follow-up fields, a form
# without them keeps the stored values.
BOOKING_FIELDS = (("slot_minutes", (10, 240), "slot_minutes_range"),
                  ("slot_customers", (1, 10), "slot_customers_range"),
                  ("utilisation_percent", (10, 100), "utilisation_range"),
                  ("reserve_percent", (0, 90), "reserve_range"),
                  ("no_show_minutes", (5, 480), "no_show_range"))   # a booking not here this long after its time
# The manager's targets on /reports (issue 14), in per cent; kept when not on the form.
TARGET_FIELDS = (("target_on_time", (0, 100), "target_range"),
                 ("target_same_day", (0, 100), "target_range"),
                 ("target_utilisation", (0, 100), "target_range"),
                 ("target_efficiency", (0, 300), "efficiency_target_range"),
                 ("target_parts_fill", (0, 100), "target_range"))
CAP_FIELDS = ("cap_maintenance_hours", "cap_diagnosis_hours")
# Hours an online booking holds by kind (repair and warranty count as maintenance).
ONLINE_HOURS_FIELDS = ("online_hours_maintenance", "online_hours_bodywork", "online_hours_other")
ONLINE_HOURS_RANGE = (Decimal("0.25"), Decimal("8"))
MAX_CAP_HOURS = Decimal("999")
MAX_HOLIDAYS = 400
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_PREFIX = re.compile(r"^[A-Z]{1,2}$")


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


@dataclass(frozen=True)
class SiteSettings:
    name_zh: str
    name_en: str
    tax_rate: Decimal               # a fraction: 13 % is 0.1300
    diagnosis_fee: Decimal
    opening: str                    # "HH:MM"
    closing: str
    break_start: str | None
    break_end: str | None
    reception_minutes: int
    appointment_early_minutes: int
    appointment_late_minutes: int
    prefix_appointment: str
    prefix_walkin: str
    # Only the follow-up fields the form carried: the others keep their stored values.
    followup: dict[str, int] = field(default_factory=dict)
    # Likewise the booking capacity fields (slots, caps, closed weekdays, holidays) the form carried.
    booking: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)     # the report targets the form carried

    def values(self) -> dict:
        """Column name -> value, for every column this command sets."""
        own = {name: getattr(self, name) for name in self.__dataclass_fields__
               if name not in ("followup", "booking", "targets")}
        return {**own, **self.followup, **self.booking, **self.targets}


def parse_site_settings(form) -> SiteSettings:
    """Every field checked at once; ``Invalid`` with all their codes when any is wrong."""
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

    followup = {}
    for name, bounds, code in FOLLOWUP_FIELDS:
        if form.get(name) is None:
            continue   # not on the form: keep what is stored
        followup[name] = int_field(form, name, errors, *bounds, code, required=True)
    booking: dict = {}
    for name, bounds, code in BOOKING_FIELDS:
        if form.get(name) is None:
            continue   # not on the form: keep what is stored
        booking[name] = int_field(form, name, errors, *bounds, code, required=True)
    if form.get("booking") is not None:   # the booking card was on the form
        _booking_values(form, booking, errors)
    targets = {name: int_field(form, name, errors, *bounds, code, required=True)
               for name, bounds, code in TARGET_FIELDS if form.get(name) is not None}
    if errors:
        raise Invalid(errors)
    return SiteSettings(**values, followup=followup, booking=booking, targets=targets)


def _booking_values(form, values, errors):
    for name in CAP_FIELDS:
        raw = str(form.get(name) or "").strip()
        if not raw:
            values[name] = None    # no cap
            continue
        hours = parse_amount(raw, Decimal("0"), MAX_CAP_HOURS)
        if hours is None or hours != hours.quantize(Decimal("0.1")):
            errors[name] = "cap_range"
        else:
            values[name] = hours
    for name in ONLINE_HOURS_FIELDS:
        if form.get(name) is None:
            continue   # not on the form: keep what is stored
        hours = parse_amount(str(form.get(name) or "").strip(), *ONLINE_HOURS_RANGE)
        if hours is None:
            errors[name] = "online_hours_range"
        else:
            values[name] = hours
    days = form.get("closed_weekdays") or []
    days = [days] if isinstance(days, str) else list(days)
    if any(str(d) not in "0123456" or len(str(d)) != 1 for d in days):
        errors["closed_weekdays"] = "weekday_invalid"
    else:
        values["closed_weekdays"] = ",".join(sorted(set(str(d) for d in days)))
    holidays, bad = parse_holidays(form.get("holidays"))
    if bad is not None:
        errors["holidays"] = "holiday_invalid"
    else:
        values["holidays"] = "\n".join(d.isoformat() for d in holidays)


def parse_holidays(raw) -> tuple[list[date], str | None]:
    """Dates as YYYY-MM-DD, one a line (commas too), sorted and once each; the first line that
    is no date comes back as the second value."""
    found = set()
    for part in re.split(r"[\s,，]+", str(raw or "")):
        if not part:
            continue
        try:
            found.add(date.fromisoformat(part))
        except ValueError:
            return [], part
    if len(found) > MAX_HOLIDAYS:
        return [], "…"
    return sorted(found), None


@dataclass(frozen=True)
class ShiftHours:
    start: str | None       # "HH:MM", None when missing or not a time (its code is in errors)
    end: str | None


def parse_shift_hours(start, end, errors: dict) -> ShiftHours:
    """A shift's hours; problems go into ``errors`` so the roster can report them with the
    technician's own (the caller raises)."""
    form = {"start": start, "end": end}
    start_hm = _time(form, "start", errors)
    end_hm = _time(form, "end", errors)
    if start_hm and end_hm and minutes(start_hm) >= minutes(end_hm):
        errors["end"] = "end_before_start"
    return ShiftHours(start_hm, end_hm)
