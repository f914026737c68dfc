"""Preparation racing, on SQLite and PostgreSQL (issue 13, 接待准备): bookings for the last unit
of a part prepared at once — one holds it, the others are short; one booking prepared by several
runners at once (two worker processes) holds its parts once."""
from datetime import timedelta
from decimal import Decimal as D

from sqlalchemy import select

from tests.factories import Factory
from tests.support import run_together
from webapp.commands.appointments import parse_booking
from webapp.extensions import db
from webapp.models import Appointment, LabourOperation, MaintenanceItem, Part, Site, StockMovement
from webapp.services import appointment_preparation as prep
from webapp.services import appointments
from webapp.timeutil import local_day

RACERS = 4


def seed(app, bookings):
    """A part with one unit on hand and ``bookings`` bookings that need it, made next week (not
    prepared yet) and then brought to tomorrow behind the service's back, ready to race."""
    with app.app_context():
        f = Factory(db)
        site = db.session.scalar(select(Site).where(Site.code == "race"))
        advisor = f.user(site, "advisor")
        f.user(site, "technician")
        op = LabourOperation(site_id=site.id, code="M1", name_zh="保养", name_en="Service", hours=D("0.5"))
        part = Part(site_id=site.id, number="F-1", name_zh="滤清器", name_en="Filter", unit_price=D("50"),
                    on_hand=D("1"), reserved=D("0"))
        db.session.add_all([op, part])
        db.session.flush()
        db.session.add(MaintenanceItem(site_id=site.id, operation_id=op.id, part_id=part.id, part_quantity=D("1")))
        db.session.commit()
        later = local_day(site.timezone) + timedelta(days=6)
        ids = []
        for i in range(bookings):
            car = f.customer_vehicle(site, plate=f"京B2000{i}", mobile=f"1390013900{i}")[1]
            a = appointments.book(advisor, parse_booking({"vehicle_id": str(car.id), "reason": "maintenance",
                                                          "day": later.isoformat(), "slot": ("08:30", "09:00", "09:30", "10:00")[i],
                                                          "operation_ids": [str(op.id)]}), f"race-{i}")
            a.scheduled_at -= timedelta(days=5)
            ids.append(a.id)
        db.session.commit()
        return ids, part.id


def race(app, ids):
    def ready(i):
        ctx = app.app_context()
        ctx.push()
        return ctx

    def act(i, ctx):
        try:
            lines = prep.prepare(db.session.get(Appointment, ids[i]))
            return sum(line.to_reserve for line in lines)
        finally:
            db.session.remove()
            ctx.pop()

    return run_together(RACERS, ready, act)


def test_the_last_unit_goes_to_one_booking(race_app):
    ids, part_id = seed(race_app, RACERS)
    results = race(race_app, ids)
    assert sorted(results) == [0, 0, 0, 1], results
    with race_app.app_context():
        assert db.session.get(Part, part_id).reserved == 1
        assert len(db.session.scalars(select(StockMovement).where(StockMovement.kind == "reserve")).all()) == 1


def test_one_booking_prepared_by_several_runners_holds_once(race_app):
    ids, part_id = seed(race_app, 1)
    results = race(race_app, ids * RACERS)
    assert sorted(results) == [0, 0, 0, 1], results
    with race_app.app_context():
        assert db.session.get(Part, part_id).reserved == 1
