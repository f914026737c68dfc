"""Booking online (/book, issue 13): a customer books from the phone without an account, then
views, moves or cancels through a capability link (/book/<token>, 192 random bits).

Everything capacity-related is the staff service's (services/appointments.py): the same lock,
the same ``_fit`` against the same day's capacity, the same numbering and notice, so an online
booking and a phone booking racing for the last slot cannot both win. The customer is never a
manager: a full time is refused with the next free times, never overbooked.

No oracle: an online booking keeps what the customer typed on a customer and vehicle record of
its own, never looked up among the stored ones (a stranger must not learn whether a plate or
mobile is on file); staff link it to the stored ones when they confirm or at reception
(services/record_matching), and these provisional records then go. The manage page shows only
that booking, with the plate and mobile masked."""
import secrets
from decimal import Decimal

from sqlalchemy import select

from ..commands import appointments as commands
from ..extensions import db
from ..models import Appointment, Customer, Site, Vehicle
from ..validation import Invalid
from . import appointments as staff
from .appointments import BookingRefused  # noqa: F401 - the view catches it from here

SOURCE = "online"
# Workshop hours an online booking holds, a site setting per kind (staff cannot yet edit a booking's
# operations): the customer picks no operations, and a booking holding nothing would let the web
# fill the workshop's hours. Repair and warranty work is mechanical work: it holds maintenance's.
HOURS_SETTING = {"maintenance": "online_hours_maintenance", "repair": "online_hours_maintenance",
                 "warranty": "online_hours_maintenance", "bodywork": "online_hours_bodywork",
                 "other": "online_hours_other"}


def typical_hours(site: Site, reason: str) -> Decimal:
    return Decimal(getattr(site, HOURS_SETTING[reason]))


def least_hours(site: Site) -> Decimal:
    """The shortest booking the form can make: a day with fewer hours left offers no time."""
    return min(typical_hours(site, reason) for reason in HOURS_SETTING)


def new_token() -> str:
    return secrets.token_urlsafe(24)    # 192 bits


def _read(site: Site, cmd: commands.OnlineBooking) -> tuple[staff.Request, dict]:
    errors: dict[str, str] = {}
    staff._copy(cmd.problems, errors, "reason", "plate", "mobile", "email", "name")
    day, start = staff._when(site, cmd.day, cmd.start, cmd.problems, errors)
    staff._copy(cmd.problems, errors, "description")
    if errors:
        raise Invalid(errors)
    return staff.Request(day, start, reason=cmd.reason, words=cmd.description, note=None, operations=[],
                         advisor=None, overbook_reason=None, typical_hours=typical_hours(site, cmd.reason)), \
        {"name": cmd.name, "plate": cmd.plate, "mobile": cmd.mobile, "email": cmd.email}


def book(site: Site, cmd: commands.OnlineBooking, idempotency_key: str | None) -> Appointment:
    """Book from the public form's command; the same key sent twice gets the first booking back."""
    key = (idempotency_key or "").strip()[:64] or None
    if key:
        done = db.session.scalar(select(Appointment).where(Appointment.idempotency_key == key,
                                                           Appointment.site_id == site.id))
        if done is not None:
            return done
    req, contact = _read(site, cmd)
    staff._lock(site.id)
    advisor_id, overbooked = staff._fit(site, None, req.day, req.start, req.hours, req.kind, None, None)
    customer = Customer(site_id=site.id, name=contact["name"], mobile=contact["mobile"], email=contact["email"])
    db.session.add(customer)
    db.session.flush()
    vehicle = Vehicle(site_id=site.id, customer_id=customer.id, plate=contact["plate"])
    db.session.add(vehicle)
    db.session.flush()
    return staff.store(site, req, key, customer, vehicle, advisor_id, overbooked, created_by_id=None,
                       source=SOURCE, manage_token=new_token())


def by_token(token: str) -> Appointment | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Appointment).where(Appointment.manage_token == token))


def move(appointment: Appointment, cmd: commands.Move) -> Appointment:
    """Another day or time (``commands.parse_online_move``); the advisor is whoever is least loaded
    then (the customer picks none)."""
    return staff.move(None, appointment, commands.Move(cmd.day, cmd.start, None, None,
                                                       {k: v for k, v in cmd.problems.items() if k in ("day", "slot")}))


def cancel(appointment: Appointment, cmd: commands.Cancel) -> Appointment:
    return staff.cancel(None, appointment, cmd)
