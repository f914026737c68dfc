"""What to offer when staff book a known vehicle (issue 13): the maintenance items due from the
schedule (by the last known mileage and time, the estimate's own rule) and the declined items
still open (the service history's rule), so the phone call can book them with the rest."""
from dataclasses import dataclass

from ..extensions import db
from ..models import LabourOperation, Site, Vehicle
from ..timeutil import local_day
from . import history as history_svc
from .estimates import maintenance_due


@dataclass
class Suggestion:
    why: str                                # maintenance_due, declined_before
    description: str
    operation: LabourOperation | None       # what to tick on the form (none: a part or free text)
    reason: str | None = None               # why it was declined


def for_vehicle(vehicle: Vehicle) -> list[Suggestion]:
    site = db.session.get(Site, vehicle.site_id)
    due = [Suggestion("maintenance_due", r.description, r.operation)
           for r in maintenance_due(vehicle, site.id, vehicle.last_mileage, local_day(site.timezone), 0, set())]
    seen = {s.operation.id for s in due if s.operation}
    declined = []
    for item in history_svc.vehicle_history(vehicle.site_id, vehicle.id).open_declined:
        if item.operation_id in seen and item.operation_id is not None:
            continue
        operation = db.session.get(LabourOperation, item.operation_id) if item.operation_id else None
        declined.append(Suggestion("declined_before", item.description, operation, item.reason))
        if item.operation_id:
            seen.add(item.operation_id)
    return due + declined
