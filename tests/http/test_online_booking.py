"""Booking online (/book): the public form books against the same capacity as staff, a double
submit books once, bad input is kept with its message, a full time is refused with the next
free times; the capability link (>=128 bits, no personal data) views, moves and cancels; CSRF,
rate limits per address and per mobile; no oracle (a known plate is never linked nor shown back)."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.support import csrf_token, make_app, run_tasks
from webapp.extensions import db
from webapp.models import Appointment, Customer, Notification, Vehicle
from webapp.services import booking_capacity as cap_db
from webapp.services.checkin import find_appointments
from webapp.timeutil import local_day


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(factory):
    site = factory.site(code="bj01")
    known, car = factory.customer_vehicle(site, plate="京A12345", mobile="13800138001", name="张先生")
    return {"site": site, "advisor": factory.user(site, "advisor"), "tech": factory.user(site, "technician"),
            "known": known, "car": car}


def tomorrow(site):
    return local_day(site.timezone) + timedelta(days=1)


def form(shop, **changes):
    data = {"reason": "maintenance", "day": tomorrow(shop["site"]).isoformat(), "slot": "09:00",
            "plate": "京B54321", "mobile": "13912345678", "name": "Li Lei", "email": "li@example.com",
            "description": "Oil change due", "idempotency_key": ""}
    data.update(changes)
    return data


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/book")})


def count(model=Appointment):
    return db.session.scalar(select(func.count(model.id)))


def field_error(html, name):
    match = re.search(rf'id="bk-{name}-error"[^>]*>([^<]*)<', html)
    return match.group(1) if match else None


def booked(client, shop, **changes):
    resp = post(client, "/book", form(shop, **changes))
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    return resp.headers["Location"]


# ---------------------------------------------------------------- booking

def test_the_form_offers_the_free_times_of_a_day(client, shop):
    page = client.get("/book").get_data(as_text=True)
    assert 'data-slot="09:00"' in page and 'name="csrf_token"' in page
    assert client.get("/book").headers["Cache-Control"] == "no-store"


def test_book_online_confirms_with_a_capability_link(client, shop):
    location = booked(client, shop, idempotency_key="k1")
    token = location.rsplit("/", 1)[1]
    assert len(token) >= 22 and "13912345678" not in location and "54321" not in location
    appt = db.session.scalar(select(Appointment))
    assert appt.source == "online" and appt.manage_token == token and appt.status == "booked"
    assert appt.created_by_id is None and appt.description == "Oil change due"
    assert cap_db.local_dt(shop["site"], appt.scheduled_at).strftime("%H:%M") == "09:00"
    assert appt.advisor_id == shop["advisor"].id           # the least loaded (only) advisor
    page = client.get(location).get_data(as_text=True)
    assert "Your appointment is booked." in page and appt.number in page
    assert "京B·***21" in page and "139****5678" in page   # masked, and only what was typed here
    assert "Li Lei" not in page and "Oil change due" not in page
    notice = db.session.scalar(select(Notification).where(Notification.appointment_id == appt.id))
    assert notice.kind == "appointment_booked" and notice.recipient == "li@example.com"
    assert f"/book/{token}" in notice.body and "京B54321" not in notice.body
    run_tasks()
    assert db.session.get(Notification, notice.id).status == "sent"


def test_a_double_submit_books_once(client, shop):
    assert booked(client, shop, idempotency_key="same") == booked(client, shop, idempotency_key="same")
    assert count() == 1 and count(Notification) == 1


def test_a_known_plate_is_neither_linked_nor_shown_back(client, shop):
    """No oracle: the answer is the same for a plate on file, and the booking gets records of
    its own (staff match them when they confirm or at reception)."""
    location = booked(client, shop, plate="京A12345", mobile="13800138001", name="Someone")
    appt = db.session.scalar(select(Appointment))
    assert appt.vehicle_id != shop["car"].id and appt.customer_id != shop["known"].id
    assert db.session.get(Customer, shop["known"].id).name == "张先生"      # untouched
    page = client.get(location).get_data(as_text=True)
    assert "张先生" not in page and "Someone" not in page
    # ... and the kiosk finds it by plate as any booking (tomorrow's, so look from tomorrow).
    assert count(Vehicle) == 2


def test_bad_input_is_kept_with_its_message(client, shop):
    resp = post(client, "/book", form(shop, plate="##", mobile="123", name="", reason="", slot="",
                                     description="Brakes squeak"))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert field_error(html, "plate") == "Enter a plate such as 京A12345."
    assert field_error(html, "mobile") == "Enter an 11-digit mobile number starting with 1."
    assert field_error(html, "name") == "Required."
    assert field_error(html, "reason") == "Choose what the car needs."
    assert field_error(html, "slot") == "Choose a time."
    assert "value=\"##\"" in html and "Brakes squeak" in html
    assert count() == 0


def test_a_full_time_is_refused_with_the_next_free_times(client, shop):
    booked(client, shop)                                   # one advisor, one customer per slot
    resp = post(client, "/book", form(shop, plate="京C11111", mobile="13911111111"))
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "data-refused" in html and 'name="next_free"' in html and count() == 1
    picked = re.search(r'name="next_free" value="([^"]+)"', html).group(1)
    resp = post(client, "/book", form(shop, plate="京C11111", mobile="13911111111", next_free=picked))
    assert resp.status_code == 303 and count() == 2


def test_csrf_required(client, shop):
    assert client.post("/book", data=form(shop)).status_code == 400
    assert count() == 0


def test_closed_days_and_past_times_cannot_be_booked(client, shop):
    site = shop["site"]
    site.closed_weekdays = str(tomorrow(site).weekday())
    db.session.commit()
    resp = post(client, "/book", form(shop))
    assert resp.status_code == 409 and count() == 0
    assert "data-closed" in client.get(f"/book/slots?day={tomorrow(site).isoformat()}").get_data(as_text=True)


# ---------------------------------------------------------------- the manage link

def test_move_and_cancel_through_the_link(client, shop):
    location = booked(client, shop, email="")
    token = location.rsplit("/", 1)[1]
    appt = db.session.scalar(select(Appointment))
    resp = post(client, f"/book/{token}/move", {"day": tomorrow(shop["site"]).isoformat(), "slot": "10:30"})
    assert resp.status_code == 303
    db.session.refresh(appt)
    assert cap_db.local_dt(shop["site"], appt.scheduled_at).strftime("%H:%M") == "10:30"
    assert "Your appointment is moved." in client.get(location).get_data(as_text=True)
    resp = post(client, f"/book/{token}/cancel", {})
    assert resp.status_code == 303
    db.session.refresh(appt)
    assert appt.status == "cancelled" and appt.cancel_reason
    page = client.get(location).get_data(as_text=True)
    assert "Cancelled" in page and "data-move-form" not in page
    assert post(client, f"/book/{token}/move", {"day": tomorrow(shop["site"]).isoformat(),
                                               "slot": "11:00"}).status_code == 409
    kinds = db.session.scalars(select(Notification.kind).order_by(Notification.id)).all()
    assert kinds == ["appointment_booked", "appointment_moved", "appointment_cancelled"]


def test_a_wrong_link_is_not_found(client, shop):
    booked(client, shop)
    assert client.get("/book/" + "x" * 32).status_code == 404
    assert post(client, "/book/" + "x" * 32 + "/cancel", {}).status_code == 404
    assert db.session.scalar(select(Appointment.status)) == "booked"


def test_staff_see_the_online_booking_on_the_day(client, shop):
    from tests.support import login
    booked(client, shop)
    appt = db.session.scalar(select(Appointment))
    login(client, shop["advisor"])
    day = client.get(f"/appointments?day={tomorrow(shop['site']).isoformat()}").get_data(as_text=True)
    assert appt.number in day


# ---------------------------------------------------------------- rate limits

def test_rate_limit_per_mobile_and_per_address(db_url, shop):
    from flask import current_app
    app = make_app(db_url, RATELIMIT_ENABLED=True, SECRET_KEY=current_app.config["SECRET_KEY"],
                   RATELIMIT_BOOK_MOBILE="2 per hour", RATELIMIT_BOOK_ADDRESS="4 per hour")
    client = app.test_client()
    client.set_cookie("lang", "en")
    codes = [post(client, "/book", form(shop, mobile="13700000000", plate="", name="")).status_code for _ in range(3)]
    assert codes == [422, 422, 429]                        # the same mobile, a third time
    codes = [post(client, "/book", form(shop, mobile=f"1370000000{i}", plate="", name="")).status_code
             for i in range(1, 4)]
    assert codes == [422, 422, 429]                        # the same address, a fifth time


def test_an_online_booking_holds_its_kinds_typical_hours(client, shop):
    """The customer picks no operations; the booking still holds workshop hours (bodywork two),
    so the web cannot fill the workshop's day, and a day without hours left offers no time."""
    booked(client, shop, reason="bodywork")
    appt = db.session.scalar(select(Appointment))
    assert appt.hours == 2 and appt.operations == []
    site = shop["site"]
    day = tomorrow(site)
    assert cap_db.day_of(site, day).hours_booked == 2
    site.utilisation_percent, site.reserve_percent = 30, 0      # one technician: 8 h × 30 % = 2.4 h
    db.session.commit()
    resp = post(client, "/book", form(shop, slot="10:00", reason="maintenance", plate="京C11111", mobile="13911111111"))
    assert resp.status_code == 409 and "The workshop is fully booked on this day." in resp.get_data(as_text=True)
    slots = client.get(f"/book/slots?day={day.isoformat()}").get_data(as_text=True)
    assert "data-day-full" in slots                              # 0.4 h left: not even the smallest kind fits


def test_the_held_hours_follow_the_site_setting(client, shop):
    site = shop["site"]
    site.online_hours_bodywork, site.online_hours_other = Decimal("3.5"), Decimal("0.25")
    db.session.commit()
    booked(client, shop, reason="bodywork")
    assert db.session.scalar(select(Appointment.hours)) == Decimal("3.5")
    assert cap_db.day_of(site, tomorrow(site)).hours_booked == Decimal("3.5")
