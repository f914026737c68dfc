"""The demo shop's bookings are made through the booking service: numbered, with their
operations' hours, on today (while the shop is open) and the coming days."""
from datetime import timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Appointment, Site
from webapp.services import booking_capacity as cap_db


def test_demo_books_the_coming_days_through_the_service(app):
    assert "demo1234" in app.test_cli_runner().invoke(args=["demo-data"]).output
    site = db.session.scalar(select(Site))
    today = cap_db.today(site)
    booked = db.session.scalars(select(Appointment).where(Appointment.number.is_not(None))).all()
    days = {cap_db.local_dt(site, a.scheduled_at).date() for a in booked}
    assert {today + timedelta(days=n) for n in (1, 2, 3)} <= days
    assert all(a.number.startswith("YY-") and a.advisor_id and a.status == "booked" for a in booked)
    tomorrow = cap_db.day_of(site, today + timedelta(days=1))
    assert tomorrow.slots_taken == 2 and tomorrow.hours_booked > 0


def test_demo_has_an_online_booking_with_its_manage_link(app, client):
    app.test_cli_runner().invoke(args=["demo-data"])
    online = db.session.scalars(select(Appointment).where(Appointment.source == "online")).all()
    assert len(online) == 1 and online[0].manage_token and online[0].status == "booked"
    assert client.get(f"/book/{online[0].manage_token}").status_code == 200


def test_demo_tomorrow_has_a_pick_list_with_one_shortage(app):
    from webapp.services import appointment_preparation
    app.test_cli_runner().invoke(args=["demo-data"])
    site = db.session.scalar(select(Site))
    rows = appointment_preparation.pick_list(site, cap_db.today(site) + timedelta(days=1))
    assert len(rows) == 2
    [short] = [p for _a, _at, p in rows if p.short]
    assert [line.part.number for line in short.short] == ["ATF-1L"]
