"""The day-before confirmation calls (issue 13, 5): tomorrow's bookings nobody has confirmed are
listed on /appointments to call; reached confirms (the board says so), no answer keeps it listed
with the attempts counted, moved opens the move form, cancelled needs a reason and gives the
capacity back. Every call is an append-only record; a double click records once; only advisors
of the booking's site may note a call, with CSRF."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.http.test_appointment_day_before import book_online
from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.models import Appointment, AppointmentCall
from webapp.services import booking_capacity as cap_db
from webapp.timeutil import local_day


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(factory):
    site = factory.site(code="bj01")
    return {"site": site, "advisor": factory.user(site, "advisor"), "tech": factory.user(site, "technician")}


@pytest.fixture
def booked(client, shop):
    """A booking for tomorrow (online), and the advisor signed in."""
    day = local_day(shop["site"].timezone) + timedelta(days=1)
    appt = book_online(client, shop, day, "10:00")
    login(client, shop["advisor"])
    return appt, day


def call(client, appt, outcome, **extra):
    data = {"outcome": outcome, "csrf_token": csrf_token(client, "/appointments"), **extra}
    return client.post(f"/appointments/{appt.id}/confirm-call", data=data)


def calls_of(appt):
    return db.session.scalars(select(AppointmentCall).where(AppointmentCall.appointment_id == appt.id)
                              .order_by(AppointmentCall.id)).all()


def test_tomorrows_booking_is_listed_and_reached_confirms_it_on_the_board(client, shop, booked):
    appt, day = booked
    page = client.get("/appointments").get_data(as_text=True)
    assert "To confirm by phone: tomorrow's appointments" in page and f'data-confirm="{appt.number}"' in page
    assert "13912345678" in page                                    # the advisor needs the number to call
    assert call(client, appt, "reached").status_code == 302
    assert call(client, appt, "reached").status_code == 302         # a double click
    db.session.expire_all()
    assert db.session.get(Appointment, appt.id).confirmed_at is not None
    assert [(c.purpose, c.outcome, c.user_id) for c in calls_of(appt)] == [("confirm", "reached", shop["advisor"].id)]
    assert f'data-confirm="{appt.number}"' not in client.get("/appointments").get_data(as_text=True)
    board = client.get(f"/appointments/board?day={day.isoformat()}").get_data(as_text=True)
    assert 'data-state="confirmed"' in board and "Confirmed" in board


def test_no_answer_keeps_it_listed_with_the_attempts(client, shop, booked):
    appt, _day = booked
    assert call(client, appt, "no_answer").status_code == 302
    page = client.get("/appointments").get_data(as_text=True)
    assert f'data-confirm="{appt.number}"' in page and "1 call, no answer" in page
    for earlier in calls_of(appt):
        earlier.at -= timedelta(minutes=30)
    db.session.commit()
    call(client, appt, "no_answer")                                   # called again half an hour later
    assert "2 calls, no answer" in client.get("/appointments").get_data(as_text=True)
    assert db.session.get(Appointment, appt.id).confirmed_at is None


def test_moved_opens_the_move_form_and_is_noted(client, booked):
    appt, _day = booked
    resp = call(client, appt, "moved")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/appointments/{appt.id}/move")
    assert [c.outcome for c in calls_of(appt)] == ["moved"]


def test_cancelled_needs_a_reason_then_releases_the_capacity(client, shop, booked):
    appt, day = booked
    resp = call(client, appt, "cancelled", cancel_reason="")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and f'id="cc-{appt.id}-error"' in page and "Required." in page
    assert calls_of(appt) == [] and db.session.get(Appointment, appt.id).status == "booked"
    assert cap_db.day_of(shop["site"], day).slots_taken == 1
    assert call(client, appt, "cancelled", cancel_reason="Car sold").status_code == 302
    db.session.expire_all()
    done = db.session.get(Appointment, appt.id)
    assert done.status == "cancelled" and done.cancel_reason == "Car sold"
    assert [c.outcome for c in calls_of(appt)] == ["cancelled"]
    assert cap_db.day_of(shop["site"], day).slots_taken == 0


def test_only_advisors_of_the_site_with_csrf(client, shop, factory, booked):
    appt, _day = booked
    resp = client.post(f"/appointments/{appt.id}/confirm-call", data={"outcome": "reached"})
    assert resp.status_code == 400                                    # no CSRF token
    login(client, factory.user(factory.site(code="sh01"), "advisor"))
    assert call(client, appt, "reached").status_code == 404           # another site's booking
    login(client, shop["tech"])
    assert call(client, appt, "reached").status_code == 403
    assert calls_of(appt) == [] and db.session.get(Appointment, appt.id).confirmed_at is None


def test_rebook_calls_of_no_shows_are_kept_too(client, shop, booked):
    appt, _day = booked
    appt.status = "no_show"
    db.session.commit()
    client.post(f"/appointments/{appt.id}/call", data={"outcome": "no_answer", "csrf_token": csrf_token(client, "/appointments")})
    assert [(c.purpose, c.outcome) for c in calls_of(appt)] == [("rebook", "no_answer")]
