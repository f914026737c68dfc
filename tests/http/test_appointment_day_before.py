"""The day before and after a booking (periodic tasks): one reminder per booking with the manage
link, from 09:00 the day before, none at night nor for a booking made that day; a booking not here
the no-show window after its time becomes a no-show, gives its capacity back and is listed to call
on /appointments (reached / no answer / rebooked / cancelled). The clock moves as the demo moves it
(timeutil.clock_at), records' times as the other periodic-task tests do."""
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from tests.support import csrf_token, login, run_tasks
from webapp.extensions import db
from webapp.models import Appointment, Notification
from webapp.services import booking_capacity as cap_db
from webapp.tasks.periodic import appointment_no_shows, appointment_reminders
from webapp.timeutil import clock_at, local_day, local_to_utc, utcnow


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(factory):
    site = factory.site(code="bj01")
    return {"site": site, "advisor": factory.user(site, "advisor"), "tech": factory.user(site, "technician")}


def book_online(client, shop, day, slot="09:00", mobile="13912345678"):
    resp = client.post("/book", data={"reason": "maintenance", "day": day.isoformat(), "slot": slot, "plate": "京B54321",
                                      "mobile": mobile, "name": "Li", "email": "li@example.com",
                                      "csrf_token": csrf_token(client, "/book")})
    assert resp.status_code == 303
    return db.session.scalar(select(Appointment).order_by(Appointment.id.desc()))


def local(site, day, hhmm):
    return local_to_utc(site.timezone, datetime.combine(day, time(*hhmm)))


def reminders():
    return db.session.scalars(select(Notification).where(Notification.kind == "appointment_reminder")).all()


def test_one_reminder_the_day_before_with_the_manage_link(client, shop):
    site = shop["site"]
    day = local_day(site.timezone) + timedelta(days=2)
    appt = book_online(client, shop, day)
    with clock_at() as move:
        move(local(site, day - timedelta(days=1), (7, 0)))       # the day before, early morning
        appointment_reminders()
        run_tasks()
        assert reminders() == []
        move(local(site, day - timedelta(days=1), (9, 5)))
        appointment_reminders()
        appointment_reminders()                                   # two consumers, the same minute
        run_tasks()
    [notice] = reminders()
    assert notice.appointment_id == appt.id and notice.status == "sent"
    assert f"/book/{appt.manage_token}" in notice.body and day.isoformat() in notice.body
    assert db.session.get(Appointment, appt.id).reminded_at is not None


def test_a_booking_made_the_day_before_gets_no_reminder(client, shop):
    site = shop["site"]
    appt = book_online(client, shop, local_day(site.timezone) + timedelta(days=1))
    with clock_at() as move:
        move(local(site, local_day(site.timezone), (23, 0)))
        appointment_reminders()
        run_tasks()
    assert reminders() == [] and db.session.get(Appointment, appt.id).reminded_at is None


def test_cancelled_bookings_are_not_reminded(client, shop):
    site = shop["site"]
    day = local_day(site.timezone) + timedelta(days=2)
    appt = book_online(client, shop, day)
    client.post(f"/book/{appt.manage_token}/cancel", data={"csrf_token": csrf_token(client, "/book")})
    with clock_at() as move:
        move(local(site, day - timedelta(days=1), (10, 0)))
        appointment_reminders()
        run_tasks()
    assert reminders() == []


def test_a_no_show_is_released_and_listed_to_call(client, shop):
    site = shop["site"]
    day = local_day(site.timezone) + timedelta(days=1)
    appt = book_online(client, shop, day, "10:00")
    assert cap_db.day_of(site, day).slots_taken == 1
    with clock_at() as move:
        move(local(site, day, (10, 29)))                       # within the 30-minute window
        appointment_no_shows()
        run_tasks()
        assert db.session.get(Appointment, appt.id).status == "booked"
        move(local(site, day, (10, 31)))
        appointment_no_shows()
        appointment_no_shows()
        run_tasks()
        db.session.expire_all()
        assert db.session.get(Appointment, appt.id).status == "no_show"
        assert cap_db.day_of(site, day).slots_taken == 0   # released: the time is free again

        login(client, shop["advisor"])
        board = client.get(f"/appointments/board?day={day.isoformat()}").get_data(as_text=True)
        assert "tag bs no_show" in board and "Missed" in board
        page = client.get("/appointments").get_data(as_text=True)
        assert f'data-no-show="{appt.number}"' in page and "To call: missed appointments" in page
        token = csrf_token(client, "/appointments")
        assert client.post(f"/appointments/{appt.id}/call", data={"outcome": "no_answer", "csrf_token": token}).status_code == 302
        assert f'data-no-show="{appt.number}"' in client.get("/appointments").get_data(as_text=True)   # call again
        assert client.post(f"/appointments/{appt.id}/call", data={"outcome": "rebooked", "csrf_token": token}).status_code == 302
        assert f'data-no-show="{appt.number}"' not in client.get("/appointments").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Appointment, appt.id).call_outcome == "rebooked"
    # The customer's link says it was missed and no longer offers to move it.
    page = client.get(f"/book/{appt.manage_token}").get_data(as_text=True)
    assert 'data-status="no_show"' in page and "data-move-form" not in page


def test_the_site_window_decides_and_arrivals_are_left_alone(client, shop):
    site = shop["site"]
    site.no_show_minutes = 60
    db.session.commit()
    day = local_day(site.timezone) + timedelta(days=1)
    appt = book_online(client, shop, day, "10:00")
    with clock_at() as move:
        move(local(site, day, (10, 45)))
        appointment_no_shows()
        run_tasks()
        assert db.session.get(Appointment, appt.id).status == "booked"
        db.session.get(Appointment, appt.id).status = "arrived"
        db.session.commit()
        move(local(site, day, (12, 0)))
        appointment_no_shows()
        run_tasks()
    db.session.expire_all()
    assert db.session.get(Appointment, appt.id).status == "arrived"


def test_calls_are_for_advisors_of_the_site_with_csrf(client, shop, factory):
    site = shop["site"]
    appt = book_online(client, shop, local_day(site.timezone) + timedelta(days=1))
    other = factory.site(code="sh01")
    login(client, factory.user(other, "advisor"))
    token = csrf_token(client, "/appointments")
    assert client.post(f"/appointments/{appt.id}/call", data={"outcome": "reached", "csrf_token": token}).status_code == 404
    login(client, shop["advisor"])
    assert client.post(f"/appointments/{appt.id}/call", data={"outcome": "reached"}).status_code == 400
    resp = client.post(f"/appointments/{appt.id}/call", data={"outcome": "reached", "csrf_token": csrf_token(client, "/appointments")})
    assert resp.status_code == 302
    assert db.session.get(Appointment, appt.id).call_outcome is None       # not a no-show: nothing noted


def test_the_no_show_window_is_a_site_setting(client, shop, factory):
    from tests.http.test_appointment_settings import BOOKING, GOOD
    site = shop["site"]
    assert site.no_show_minutes == 30                          # the default
    login(client, factory.user(site, "manager"))
    data = {**GOOD, **BOOKING, "no_show_minutes": "3", "csrf_token": csrf_token(client, "/admin/site")}
    resp = client.post("/admin/site", data=data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Enter 5 to 480 minutes." in html and 'value="3"' in html
    resp = client.post("/admin/site", data={**data, "no_show_minutes": "45"})
    assert resp.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(type(site), site.id).no_show_minutes == 45
