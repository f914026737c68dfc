"""Bookings (issue 13): the staff booking, move and cancel forms and the customer's online booking
and move, parsed into typed values (pure Python).

A booking's checks against the database (the chosen car, a plate already on file, the operations
and the advisor of the site) and against the site's calendar (how far ahead, a time already past)
belong to the service, and the service refuses a booking that is no longer open or a key already
booked before it looks at the input. So these commands carry their parse problems (``problems``:
field → code) and the service raises them, with its own, in the form's order, as before."""
from dataclasses import dataclass, field
from datetime import date, time

from ..labels import REASONS
from ..notify.address import parse_email
from ..parsing import parse_id
from ..validation import Invalid, parse_mobile, parse_plate
from .settings import parse_time

MAX_WORDS = 2000
MAX_REASON = 500
MAX_NAME = 120
MAX_OPERATIONS = 20
MAX_ONLINE_WORDS = 1000


def _text(form, name, problems, max_len, required=False) -> str | None:
    value = str(form.get(name) or "").strip()
    if not value:
        if required:
            problems[name] = "required"
        return None
    if len(value) > max_len:
        problems[name] = "too_long"
    return value


def _when(form, problems) -> tuple[date | None, time | None]:
    """The day and reception slot. An unreadable day names no slot problem (the slot of no day)."""
    try:
        day = date.fromisoformat(str(form.get("day") or "").strip())
    except ValueError:
        problems["day"] = "day_invalid"
        return None, None
    hhmm = parse_time(form.get("slot"))
    if hhmm is None:
        problems["slot"] = "slot_required"
        return day, None
    return day, time(*map(int, hhmm.split(":")))


def _plate_and_mobile(form, problems) -> tuple[str | None, str | None]:
    plate_raw = str(form.get("plate") or "").strip()
    mobile_raw = str(form.get("mobile") or "").strip()
    plate, mobile = parse_plate(plate_raw), parse_mobile(mobile_raw)
    if not plate_raw:
        problems["plate"] = "required"
    elif plate is None:
        problems["plate"] = "plate_invalid"
    if not mobile_raw:
        problems["mobile"] = "required"
    elif mobile is None:
        problems["mobile"] = "mobile_invalid"
    return (plate.value if plate else None), mobile


def _email(form, problems) -> str | None:
    if not str(form.get("email") or "").strip():
        return None
    email = parse_email(form.get("email"))
    if email is None:
        problems["email"] = "email_invalid"
    return email


def _reason(form, problems) -> str:
    reason = str(form.get("reason") or "").strip()
    if reason not in REASONS:
        problems["reason"] = "reason_invalid"
    return reason


def _advisor_id(form, problems) -> int | None:
    raw = str(form.get("advisor_id") or "").strip()
    if not raw:
        return None     # least loaded
    advisor_id = parse_id(raw)
    if advisor_id is None:
        problems["advisor_id"] = "advisor_invalid"
    return advisor_id


def _operation_ids(form, problems) -> tuple[int, ...]:
    raw = form.getlist("operation_ids") if hasattr(form, "getlist") else (form.get("operation_ids") or [])
    ids = [parse_id(x) for x in ([raw] if isinstance(raw, str) else raw) if str(x).strip()]
    if any(i is None for i in ids) or len(ids) > MAX_OPERATIONS:
        problems["operation_ids"] = "operation_invalid"
        return ()
    return tuple(ids)


@dataclass(frozen=True)
class Booking:
    """The staff booking form. Either ``vehicle_id`` (a car on file) or the new customer's
    ``name``, ``plate`` and ``mobile``; ``advisor_id`` None: the least loaded advisor. The
    overbooking reason counts only for a manager (the service knows who books)."""
    vehicle_id: int | None
    name: str | None
    plate: str | None               # normalised
    mobile: str | None              # 11 digits
    reason: str
    email: str | None
    day: date | None
    start: time | None
    description: str | None
    note: str | None
    operation_ids: tuple[int, ...]
    advisor_id: int | None
    overbook_reason: str | None
    problems: dict[str, str] = field(default_factory=dict)   # raised by the service after its own checks


def parse_booking(form) -> Booking:
    problems: dict[str, str] = {}
    vehicle_id = parse_id(form.get("vehicle_id"))
    name = plate = mobile = None
    if not vehicle_id:
        name = _text(form, "name", problems, MAX_NAME, required=True)
        plate, mobile = _plate_and_mobile(form, problems)
    reason = _reason(form, problems)
    email = _email(form, problems)
    day, start = _when(form, problems)
    return Booking(vehicle_id or None, name, plate, mobile, reason, email, day, start,
                   _text(form, "description", problems, MAX_WORDS), _text(form, "note", problems, MAX_WORDS),
                   _operation_ids(form, problems), _advisor_id(form, problems),
                   _text(form, "overbook_reason", problems, MAX_REASON), problems)


@dataclass(frozen=True)
class Move:
    """Another day, slot or advisor for a booking (``advisor_id`` None: the least loaded)."""
    day: date | None
    start: time | None
    advisor_id: int | None
    overbook_reason: str | None     # counts only for a manager
    problems: dict[str, str] = field(default_factory=dict)


def parse_move(form) -> Move:
    problems: dict[str, str] = {}
    day, start = _when(form, problems)
    return Move(day, start, _advisor_id(form, problems), _text(form, "overbook_reason", problems, MAX_REASON),
                problems)


def parse_online_move(form) -> Move:
    """The customer's move: a day and a time only; the advisor is whoever is least loaded then."""
    return parse_move({"day": form.get("day"), "slot": form.get("slot")})


@dataclass(frozen=True)
class Cancel:
    reason: str


def parse_cancel(form) -> Cancel:
    problems: dict[str, str] = {}
    reason = _text(form, "cancel_reason", problems, MAX_REASON, required=True)
    if problems:
        raise Invalid(problems)
    return Cancel(reason)


@dataclass(frozen=True)
class OnlineBooking:
    """The customer's booking from the phone: what they typed, never matched with the records."""
    reason: str
    plate: str | None
    mobile: str | None
    email: str | None
    name: str | None
    day: date | None
    start: time | None
    description: str | None
    problems: dict[str, str] = field(default_factory=dict)


def parse_online_booking(form) -> OnlineBooking:
    problems: dict[str, str] = {}
    reason = _reason(form, problems)
    plate, mobile = _plate_and_mobile(form, problems)
    email = _email(form, problems)
    name = _text(form, "name", problems, MAX_NAME, required=True)
    day, start = _when(form, problems)
    return OnlineBooking(reason, plate, mobile, email, name, day, start,
                         _text(form, "description", problems, MAX_ONLINE_WORDS), problems)
