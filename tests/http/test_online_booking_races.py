"""An online booking (/book, over HTTP) and staff bookings racing for the last slot, on SQLite and
PostgreSQL: exactly one wins, the others are refused with the next free times, nothing is stored
twice. The online booking reuses the staff service's lock and capacity check."""
import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests.factories import Factory
from tests.support import run_together
from webapp.commands.appointments import parse_booking
from webapp.extensions import db
from webapp.models import Appointment, Site, User
from webapp.services import appointments
from webapp.timeutil import local_day

RACERS = 4      # 0, 1 online; 2, 3 staff


def seed(app):
    """One advisor receiving one customer per slot: 09:00 takes exactly one booking."""
    with app.app_context():
        f = Factory(db)
        site = db.session.scalar(select(Site).where(Site.code == "race"))
        advisor = f.user(site, "advisor")
        f.user(site, "technician")
        cars = [f.customer_vehicle(site, plate=f"京A2000{i}", mobile=f"1380013900{i}")[1].id for i in range(RACERS)]
        day = (local_day(site.timezone) + timedelta(days=1)).isoformat()
        return advisor.id, cars, day


def test_online_and_staff_racing_for_the_last_slot_one_wins(race_app):
    advisor_id, cars, day = seed(race_app)

    def prepare(i):
        if i < 2:
            client = race_app.test_client()
            client.set_cookie("lang", "en")
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/book").get_data(as_text=True)).group(1)
            return client, {"csrf_token": token, "reason": "repair", "day": day, "slot": "09:00",
                            "plate": f"京B3000{i}", "mobile": f"1391234560{i}", "name": "Online", "idempotency_key": f"o{i}"}
        ctx = race_app.app_context()
        ctx.push()
        return ctx, db.session.get(User, advisor_id)

    def act(i, prepared):
        if i < 2:
            client, data = prepared
            resp = client.post("/book", data=data)
            return "won" if resp.status_code == 303 else (resp.status_code, "data-refused" in resp.get_data(as_text=True))
        ctx, advisor = prepared
        try:
            form = {"vehicle_id": str(cars[i]), "reason": "repair", "day": day, "slot": "09:00"}
            appointments.book(advisor, parse_booking(form), f"s{i}")
            return "won"
        except appointments.BookingRefused as exc:
            return (409, bool(exc.next_free))
        finally:
            db.session.remove()
            ctx.pop()

    results = run_together(RACERS, prepare, act)
    assert results.count("won") == 1, results
    assert sorted(r for r in results if r != "won") == [(409, True)] * (RACERS - 1), results
    with race_app.app_context():
        assert db.session.scalar(select(func.count(Appointment.id))) == 1
        # the winner holds its hours: an online repair its typical hour, a staff one its operations' (none)
        won = db.session.scalar(select(Appointment))
        assert won.hours == (Decimal("1.0") if won.source == "online" else Decimal("0"))
