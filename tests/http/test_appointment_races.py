"""Bookings racing for the last slot or the last labour hours, on SQLite and PostgreSQL: exactly
one wins; the others get the refusal and the next free times, and nothing is stored twice."""
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests.factories import Factory
from tests.support import run_together
from webapp.commands.appointments import parse_booking
from webapp.extensions import db
from webapp.models import Appointment, LabourOperation, Notification, Site, User
from webapp.services import appointments
from webapp.timeutil import local_day

RACERS = 4


def seed(app, hours="1.0"):
    """One advisor (one customer per slot), one technician (8 h → 5.4 bookable), a car per racer."""
    with app.app_context():
        f = Factory(db)
        site = db.session.scalar(select(Site).where(Site.code == "race"))
        advisor = f.user(site, "advisor")
        f.user(site, "technician")
        op = LabourOperation(site_id=site.id, code="X1", name_zh="作业", name_en="Job", hours=Decimal(hours))
        db.session.add(op)
        db.session.commit()
        cars = [f.customer_vehicle(site, plate=f"京A1000{i}", mobile=f"1380013800{i}")[1].id for i in range(RACERS)]
        day = (local_day(site.timezone) + timedelta(days=1)).isoformat()
        return advisor.id, op.id, cars, day


def race(app, advisor_id, op_id, cars, day, slots):
    def prepare(i):
        ctx = app.app_context()
        ctx.push()
        form = {"vehicle_id": str(cars[i]), "reason": "repair", "operation_ids": [str(op_id)], "day": day,
                "slot": slots[i]}
        return ctx, db.session.get(User, advisor_id), form

    def act(i, prepared):
        ctx, advisor, form = prepared
        try:
            return appointments.book(advisor, parse_booking(form), f"key-{i}").number
        except appointments.BookingRefused as exc:
            return exc
        finally:
            db.session.remove()
            ctx.pop()

    return run_together(RACERS, prepare, act)


def test_racing_for_the_last_slot_one_wins(race_app):
    advisor_id, op_id, cars, day = seed(race_app)
    results = race(race_app, advisor_id, op_id, cars, day, ["09:00"] * RACERS)
    won = [r for r in results if isinstance(r, str)]
    lost = [r for r in results if isinstance(r, appointments.BookingRefused)]
    assert len(won) == 1 and len(lost) == RACERS - 1, results
    for refusal in lost:
        assert refusal.code == "slot_full"
        assert refusal.next_free and refusal.next_free[0].strftime("%H:%M") == "09:30"
    with race_app.app_context():
        assert db.session.scalar(select(func.count(Appointment.id))) == 1
        assert db.session.scalar(select(func.count(Notification.id))) == 1


def test_racing_for_the_last_hours_one_wins(race_app):
    # 3 h each against 5.4 bookable hours: only one fits, whatever the slot
    advisor_id, op_id, cars, day = seed(race_app, hours="3.0")
    results = race(race_app, advisor_id, op_id, cars, day, ["08:30", "09:00", "09:30", "10:00"])
    won = [r for r in results if isinstance(r, str)]
    assert len(won) == 1, results
    assert all(r.code == "hours_full" for r in results if isinstance(r, appointments.BookingRefused)), results
    with race_app.app_context():
        assert db.session.scalar(select(func.sum(Appointment.hours))) == Decimal("3.00")
