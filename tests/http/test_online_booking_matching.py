"""Online bookings matched to the stored records by staff (issue 13): the public form stores what
was typed on provisional records of its own; the advisor sees the stored customer and car that
match exactly (plate, mobile) on the day's booking and on the visit it became, and links them:
the booking and its visit move to the stored records, the provisional ones go, nothing twice."""
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.models import Appointment, Customer, Vehicle, Visit
from webapp.services.checkin import check_in_appointment
from webapp.timeutil import clock_at, local_day, local_to_utc


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(factory):
    site = factory.site(code="bj01")
    known, car = factory.customer_vehicle(site, plate="京A12345", mobile="13800138001", name="张先生")
    return {"site": site, "advisor": factory.user(site, "advisor", desk="1"), "tech": factory.user(site, "technician"),
            "known": known, "car": car}


def tomorrow(site):
    return local_day(site.timezone) + timedelta(days=1)


def book_online(client, shop, **changes):
    data = {"reason": "maintenance", "day": tomorrow(shop["site"]).isoformat(), "slot": "09:00",
            "plate": "京A12345", "mobile": "13800138001", "name": "Zhang", "email": "", "description": "Oil"}
    data.update(changes)
    resp = client.post("/book", data={**data, "csrf_token": csrf_token(client, "/book")})
    assert resp.status_code == 303
    return db.session.scalar(select(Appointment).order_by(Appointment.id.desc()).limit(1)), resp.headers["Location"]


def count(model):
    db.session.expire_all()
    return db.session.scalar(select(func.count(model.id)))


def day_page(client, shop):
    return client.get(f"/appointments?day={tomorrow(shop['site']).isoformat()}").get_data(as_text=True)


def link(client, appt):
    return client.post(f"/appointments/{appt.id}/link", data={"csrf_token": csrf_token(client, "/appointments")})


def test_the_advisor_links_an_online_booking_and_nothing_stays_twice(client, shop):
    appt, manage = book_online(client, shop)
    assert count(Vehicle) == 2 and count(Customer) == 2          # provisional until staff match
    public = client.get(manage).get_data(as_text=True)
    login(client, shop["advisor"])
    page = day_page(client, shop)
    assert "data-link-records" in page and "Stored records match what was typed" in page and "张先生" in page
    assert link(client, appt).status_code == 303
    db.session.expire_all()
    appt = db.session.get(Appointment, appt.id)
    assert (appt.vehicle_id, appt.customer_id) == (shop["car"].id, shop["known"].id)
    assert count(Vehicle) == 1 and count(Customer) == 1
    assert db.session.get(Customer, shop["known"].id).name == "张先生"    # the stored record is untouched
    assert "data-link-records" not in day_page(client, shop)
    # A second click (double submit, a colleague's tab) changes nothing and says so.
    resp = link(client, appt)
    assert resp.status_code == 303 and count(Vehicle) == 1
    assert "already linked" in client.get(resp.headers["Location"]).get_data(as_text=True)
    # Nothing public changes: the manage page shows no stored data, before or after.
    client.get("/logout")
    for html in (public, client.get(manage).get_data(as_text=True)):
        assert "张先生" not in html and "13800138001" not in html and "京A12345" not in html


def test_a_new_car_of_a_known_customer_moves_to_them(client, shop):
    appt, _ = book_online(client, shop, plate="京B77777")
    login(client, shop["advisor"])
    assert link(client, appt).status_code == 303
    db.session.expire_all()
    appt = db.session.get(Appointment, appt.id)
    assert appt.customer_id == shop["known"].id and appt.vehicle.plate == "京B77777"
    assert appt.vehicle.customer_id == shop["known"].id and count(Customer) == 1 and count(Vehicle) == 2


def test_a_stranger_booking_offers_no_match(client, shop):
    appt, _ = book_online(client, shop, plate="京C11111", mobile="13912345678")
    login(client, shop["advisor"])
    assert "data-link-records" not in day_page(client, shop)
    assert link(client, appt).status_code == 303 and count(Vehicle) == 2     # refused, nothing linked


def test_only_advisors_of_the_site_link_with_csrf(client, shop, factory):
    appt, _ = book_online(client, shop)
    login(client, shop["tech"])
    assert link(client, appt).status_code == 403
    other = factory.site(code="sh01")
    login(client, factory.user(other, "advisor"))
    assert link(client, appt).status_code == 404
    login(client, shop["advisor"])
    assert client.post(f"/appointments/{appt.id}/link").status_code == 400     # no CSRF token
    assert count(Vehicle) == 2


def test_an_arrived_online_booking_is_linked_from_the_visit(client, shop):
    appt, _ = book_online(client, shop)
    site = shop["site"]
    with clock_at() as move:
        move(local_to_utc(site.timezone, datetime.combine(tomorrow(site), time(8, 50))))
        ticket = check_in_appointment(site, appt.id, "kiosk-1")
        visit_id = ticket.visit_id
        login(client, shop["advisor"])
        page = client.get(f"/advisor/visits/{visit_id}").get_data(as_text=True)
        assert 'id="link-suggested"' in page and "张先生" in page and "match the online booking" in page
        token = csrf_token(client, f"/advisor/visits/{visit_id}")
        resp = client.post(f"/advisor/visits/{visit_id}/suggested", data={"csrf_token": token})
        assert resp.status_code == 200
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    assert (visit.vehicle_id, visit.customer_id) == (shop["car"].id, shop["known"].id)
    assert db.session.get(Appointment, appt.id).vehicle_id == shop["car"].id
    assert count(Vehicle) == 1 and count(Customer) == 1


def test_two_advisors_linking_at_once_link_once(race_app):
    """Two colleagues click "Link to this record" on the same booking at the same moment, on
    SQLite and PostgreSQL: one links, the other is told it is done, the provisional records go once."""
    from tests.factories import Factory
    from tests.support import run_together
    from webapp.commands.appointments import parse_online_booking
    from webapp.models import Site
    from webapp.services import online_booking, record_matching
    from webapp.services import ServiceError
    with race_app.app_context():
        f = Factory(db)
        site = db.session.scalar(select(Site).where(Site.code == "race"))
        f.user(site, "advisor")
        f.user(site, "technician")
        known, car = f.customer_vehicle(site, plate="京A12345", mobile="13800138001")
        appt = online_booking.book(site, parse_online_booking({
            "reason": "maintenance", "day": tomorrow(site).isoformat(), "slot": "09:00",
            "plate": "京A12345", "mobile": "13800138001", "name": "Zhang"}), None)
        ids = appt.id, known.id, car.id
        db.session.remove()

    def prepare(_i):
        ctx = race_app.app_context()
        ctx.push()
        return ctx, db.session.get(Appointment, ids[0])

    def act(_i, prepared):
        ctx, booking = prepared
        try:
            return record_matching.link(booking).vehicle_id
        except ServiceError as exc:
            return exc.message
        finally:
            db.session.remove()
            ctx.pop()

    results = run_together(2, prepare, act)
    assert sorted(results, key=str) == sorted([ids[2], "nothing_to_link"], key=str), results
    with race_app.app_context():
        assert db.session.scalar(select(func.count(Vehicle.id))) == 1
        assert db.session.scalar(select(func.count(Customer.id))) == 1
        db.session.remove()
