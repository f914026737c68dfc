"""The reception's customer-and-vehicle form, the walk-around's autosave and a concern's edit, parsed into typed values."""
import re
from dataclasses import dataclass, field
from datetime import date

from .. import intake as rules
from ..notify.address import parse_email
from ..validation import Invalid, parse_mobile, parse_plate, parse_vin


def _int_or_none(value, low, high, code, errors, name):
    value = (value or "").strip() if isinstance(value, str) else value
    if value in ("", None):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[name] = code
        return None
    if not low <= number <= high:
        errors[name] = code
        return None
    return number


@dataclass(frozen=True)
class CustomerVehicle:
    name: str                       # may be empty: the stored name stays
    mobile: str                     # 11 digits
    plate: str                      # normalised
    vin: str | None
    email: str | None
    email_given: bool               # the field was on the form: empty clears the stored address
    make: str | None
    model: str | None
    colour: str | None
    year: int | None
    warranty_start: date | None
    warranty_years: int | None
    warranty_km: int | None


def parse_customer_vehicle(form) -> CustomerVehicle:
    errors: dict[str, str] = {}
    name = (form.get("name") or "").strip()[:120]
    mobile = parse_mobile(form.get("mobile", ""))
    if not mobile:
        errors["mobile"] = "mobile_invalid"
    plate = parse_plate(form.get("plate", ""))
    if plate is None:
        errors["plate"] = "plate_invalid"
    vin_raw = (form.get("vin") or "").strip()
    vin = parse_vin(vin_raw) if vin_raw else None
    if vin_raw and vin is None:
        errors["vin"] = "vin_invalid"
    email_raw = (form.get("email") or "").strip()
    email = parse_email(email_raw) if email_raw else None
    if email_raw and email is None:
        errors["email"] = "email_invalid"
    year = _int_or_none(form.get("year"), 1950, 2100, "year_invalid", errors, "year")
    years = _int_or_none(form.get("warranty_years"), 0, 30, "warranty_years_invalid", errors, "warranty_years")
    km = _int_or_none(form.get("warranty_km"), 0, 2_000_000, "warranty_km_invalid", errors, "warranty_km")
    start = None
    if (form.get("warranty_start") or "").strip():
        try:
            start = date.fromisoformat(form["warranty_start"].strip())
        except ValueError:
            errors["warranty_start"] = "date_invalid"
    if errors:
        raise Invalid(errors)
    make, model, colour = ((form.get(attr) or "").strip()[:60] or None for attr in ("make", "model", "colour"))
    return CustomerVehicle(name, mobile, plate.value, vin.value if vin else None, email, "email" in form,
                           make, model, colour, year, start, years, km)


@dataclass(frozen=True)
class ConcernEdit:
    text: str
    diagnosis: str | None           # None: keep the stored one
    warranty: str | None
    note_internal: str | None
    note_customer: str | None
    proposed_repair: str | None
    problems: dict[str, str] = field(default_factory=dict)   # raised by the service after its own checks


def parse_concern_edit(form) -> ConcernEdit:
    problems = {}
    text = (form.get("text") or "").strip()[:1000]
    if not text:
        problems["text"] = "required"
    diagnosis = form.get("diagnosis") or None
    if diagnosis is not None and diagnosis not in rules.DIAGNOSIS:
        problems["diagnosis"] = "invalid"
    warranty = form.get("warranty") or None
    if warranty is not None and warranty not in rules.WARRANTY:
        problems["warranty"] = "invalid"

    def note(name, limit=2000):
        return (form.get(name) or "").strip()[:limit] or None
    return ConcernEdit(text, diagnosis, warranty, note("note_internal"), note("note_customer"),
                       note("proposed_repair"), problems)


@dataclass(frozen=True)
class Inspection:
    """The walk-around's autosave. It keeps what is valid even when a field is not (the advisor
    goes on ticking while a mileage is being corrected), so parse problems travel with the command
    and a field with a problem is left as it was."""
    cover_seat: bool
    cover_wheel: bool
    cover_floor: bool
    mileage: int | None             # None: cleared (unless "mileage" is in problems: unchanged)
    mileage_reason: str | None
    fuel_level: str | None          # unchanged when "fuel_level" is in problems
    warning_lights: tuple[str, ...]
    accessories: tuple[str, ...]
    valuables_answered: bool        # False: the form did not touch the valuables answer
    valuables_left: bool | None     # True: items listed; False: nothing; None: no answer yet
    valuables: str | None
    problems: dict[str, str] = field(default_factory=dict)


def _chosen(form, name, allowed) -> tuple[str, ...]:
    values = form.getlist(name) if hasattr(form, "getlist") else form.get(name, [])
    return tuple(x for x in values if x in allowed)


def parse_inspection(form) -> Inspection:
    problems: dict[str, str] = {}
    raw_mileage = (form.get("mileage") or "").strip().replace(",", "")
    mileage = None
    if raw_mileage and re.fullmatch(r"\d{1,7}", raw_mileage):
        mileage = int(raw_mileage)
    elif raw_mileage:
        problems["mileage"] = "range"
    fuel = form.get("fuel_level") or None
    if fuel is not None and fuel not in rules.FUEL_LEVELS:
        problems["fuel_level"] = "fuel_invalid"
    # The explicit answer: "no" (nothing left in the car) or "yes" with the list. Items typed
    # without a choice count as "yes": listing them is an explicit answer too.
    answer = form.get("valuables_left")
    text = (form.get("valuables") or "").strip()[:1000] or None
    if answer in ("yes", "no"):
        answered, left = True, answer == "yes"
    elif answer is not None:
        answered, left = True, None
    elif text:
        answered, left = True, True
    else:
        answered, left = False, None
    return Inspection(bool(form.get("cover_seat")), bool(form.get("cover_wheel")), bool(form.get("cover_floor")),
                      mileage, (form.get("mileage_reason") or "").strip()[:500] or None, fuel,
                      _chosen(form, "warning_lights", rules.WARNING_LIGHTS), _chosen(form, "accessories", rules.ACCESSORIES),
                      answered, left, text, problems)
