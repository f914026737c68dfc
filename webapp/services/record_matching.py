"""Online bookings matched to the stored records by staff (issue 13: "matching to stored customers
happens when staff confirm or at reception").

The public form (services/online_booking) must not look anything up, so each online booking
stores what was typed on a customer and vehicle of its own: provisional records. Here the staff
see the stored customer with the same mobile and the stored car with the same plate (both are
normalised when typed, so equality is an exact match) and link the booking to them; the
provisional records then go, so the car's history is one again.

Provisional needs no flag: an online booking's own records are created with it, so a stored
record that matches is always older (a smaller id). Once linked, the booking points at the
oldest match and nothing older is left to suggest, which also makes a second click harmless."""
from dataclasses import dataclass

from sqlalchemy import func, select

from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Appointment, Customer, Vehicle, VehicleDriver, Visit
from . import ServiceError
from . import appointments as staff

ONLINE = "online"


@dataclass(frozen=True)
class Match:
    """Stored records an online booking's typed plate and mobile match (a hint until staff link)."""
    customer: Customer | None
    vehicle: Vehicle | None

    def __bool__(self):
        return self.customer is not None or self.vehicle is not None


def match_for(appointment: Appointment | None) -> Match:
    if appointment is None or appointment.source != ONLINE:
        return Match(None, None)
    own_customer, own_vehicle = appointment.customer, appointment.vehicle
    customer = vehicle = None
    if own_customer is not None and own_customer.mobile:
        customer = db.session.scalar(select(Customer).where(
            Customer.site_id == appointment.site_id, Customer.mobile == own_customer.mobile,
            Customer.id < own_customer.id).order_by(Customer.id).limit(1))
    if own_vehicle is not None and own_vehicle.plate:
        vehicle = db.session.scalar(select(Vehicle).where(
            Vehicle.site_id == appointment.site_id, Vehicle.plate == own_vehicle.plate,
            Vehicle.id < own_vehicle.id).order_by(Vehicle.id).limit(1))
    return Match(customer, vehicle)


def link(appointment: Appointment, actor=None) -> Appointment:
    """Re-point the booking (and the visit it became) to the stored records; the match is
    recomputed here, never taken from the form, so only a real match is ever linked; under the
    site's booking lock, so two advisors clicking at once link once (the second finds no match)."""
    staff._lock(appointment.site_id)
    db.session.refresh(appointment)
    match = match_for(appointment)
    if not match:
        raise ServiceError("nothing_to_link", 409)
    old_customer, old_vehicle = appointment.customer, appointment.vehicle
    vehicle = match.vehicle or old_vehicle
    customer = match.customer or (vehicle.customer if match.vehicle and vehicle.customer else old_customer)
    if vehicle is old_vehicle and old_vehicle.customer_id == old_customer.id:
        old_vehicle.customer_id = customer.id     # a new car of a known customer: theirs now
    visits = db.session.scalars(select(Visit).where(Visit.appointment_id == appointment.id)).all()
    for visit in visits:
        if visit.customer_id in (None, old_customer.id):
            visit.customer_id = customer.id
        if visit.vehicle_id in (None, old_vehicle.id):
            visit.vehicle_id = vehicle.id
    appointment.customer_id, appointment.vehicle_id = customer.id, vehicle.id
    db.session.flush()
    if vehicle is not old_vehicle:
        _drop_if_unused(old_vehicle)
    if customer is not old_customer:
        _drop_if_unused(old_customer)
    db.session.commit()
    publish(DomainEvent("appointment.linked", appointment.site_id, None, None,
                        {"appointment_id": appointment.id, "status": appointment.status}))
    return appointment


def _count(model, column, value) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(column == value)) or 0


def _drop_if_unused(record) -> None:
    """Delete a provisional record nothing else points at (another booking or a visit may: then
    it stays, and that booking is linked on its own)."""
    if isinstance(record, Vehicle):
        refs = (_count(Appointment, Appointment.vehicle_id, record.id) + _count(Visit, Visit.vehicle_id, record.id)
                + _count(VehicleDriver, VehicleDriver.vehicle_id, record.id))
    else:
        refs = (_count(Appointment, Appointment.customer_id, record.id) + _count(Visit, Visit.customer_id, record.id)
                + _count(VehicleDriver, VehicleDriver.customer_id, record.id)
                + _count(Vehicle, Vehicle.customer_id, record.id))
    if refs == 0:
        db.session.delete(record)
