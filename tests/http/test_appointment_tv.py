"""The appointment board on the reception TV (/appointments/board?token=…) and the week view.

The TV opens with the site's board token, no sign-in (wrong or missing token: 404, never another
site's day); it shows masked plates and no customer's name or phone; it joins its own Socket.IO
room with that token and gets the hints the staff board gets (bookings, check-ins). The week view
(staff) shows Monday to Sunday with each day's hours and slots against capacity."""
from datetime import timedelta

import pytest

from tests.support import login
from webapp.events import DomainEvent
from webapp.realtime import appointment_tv_room, site_rooms, topics_of
from webapp.services import appointment_board
from webapp.services.checkin import check_in_appointment
from webapp.timeutil import utcnow


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(factory, shop_hours):
    site = factory.site(code="bj01")
    site.board_token = "tv-token-" + "x" * 30
    other = factory.site(code="sh01")
    other.board_token = "tv-token-" + "y" * 30
    advisor = factory.user(site, "advisor", display_name="Advisor One")
    customer, car = factory.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张先生")
    booking = factory.appointment(site, customer, car, scheduled_at=utcnow() + timedelta(minutes=20),
                                  advisor=advisor)
    return {"site": site, "other": other, "advisor": advisor, "booking": booking}


def test_the_tv_opens_with_the_token_and_shows_no_personal_data(client, shop):
    page = client.get(f"/appointments/board?token={shop['site'].board_token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-live-channel="apboard"' in html
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert "京A·***45" in html and "京A12345" not in html
    assert "张先生" not in html and "13800138000" not in html
    assert "Advisor One" in html and "Appointments today" in html
    grid = client.get(f"/appointments/board/tv-grid?token={shop['site'].board_token}").get_data(as_text=True)
    assert 'data-state="booked"' in grid and "京A12345" not in grid


@pytest.mark.parametrize("token", ["", "nope", "x" * 65])
def test_a_wrong_token_is_a_404_never_a_sign_in(client, shop, token):
    assert client.get(f"/appointments/board?token={token}").status_code == 404
    assert client.get(f"/appointments/board/tv-grid?token={token}").status_code == 404


def test_another_sites_token_shows_that_site_only(client, shop):
    html = client.get(f"/appointments/board?token={shop['other'].board_token}").get_data(as_text=True)
    assert "京A·***45" not in html


def test_without_a_token_it_is_the_staff_board(client, shop):
    assert client.get("/appointments/board").status_code == 302           # to sign in
    login(client, shop["advisor"])
    html = client.get("/appointments/board").get_data(as_text=True)
    assert 'data-live-channel="advisor"' in html and "京A12345" in html


def test_bookings_and_check_ins_reach_the_tv_room(shop):
    site = shop["site"]
    for name in ("appointment.booked", "appointment.confirm_call", "ticket.created"):
        event = DomainEvent(name, site.id, None, None, {})
        assert appointment_tv_room(site.id) in site_rooms(event, topics_of(event)), name
    job = DomainEvent("job.started", site.id, 1, None, {})
    assert appointment_tv_room(site.id) not in site_rooms(job, topics_of(job))


def test_the_tv_socket_needs_the_token(app, shop):
    server_client = app.extensions["servicelane.sio_server"]
    from flask_socketio import SocketIOTestClient
    from webapp.extensions import socketio
    good = SocketIOTestClient(app, socketio, auth={"channel": "apboard", "token": shop["site"].board_token})
    assert good.is_connected()
    good.disconnect()
    bad = SocketIOTestClient(app, socketio, auth={"channel": "apboard", "token": "nope"})
    assert not bad.is_connected()
    assert server_client is not None


def test_a_kiosk_check_in_turns_the_tv_card_to_arrived(client, shop):
    check_in_appointment(shop["site"], shop["booking"].id, "k-tv")
    grid = client.get(f"/appointments/board/tv-grid?token={shop['site'].board_token}").get_data(as_text=True)
    assert 'data-state="arrived"' in grid


def test_the_week_view_shows_seven_days_with_their_figures(client, shop):
    site = shop["site"]
    login(client, shop["advisor"])
    today = appointment_board.cap_db.today(site)
    html = client.get(f"/appointments/board?view=week&day={today.isoformat()}").get_data(as_text=True)
    assert html.count("data-week-day=") == 7 and f'data-week-day="{today.isoformat()}"' in html
    assert 'class="ap-week-day today' in html and "京A12345" in html
    week = appointment_board.week(site, today)
    assert [d.board.day.weekday() for d in week] == list(range(7))
    assert sum(len(d.cards) for d in week) == 1
    grid = client.get(f"/appointments/board/grid?view=week&day={today.isoformat()}").get_data(as_text=True)
    assert grid.count("data-week-day=") == 7
    nxt = client.get(f"/appointments/board?view=week&day={(today + timedelta(days=7)).isoformat()}").get_data(as_text=True)
    assert "京A12345" not in nxt and 'class="ap-week-day today' not in nxt
