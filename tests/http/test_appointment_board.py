"""The appointment board (/appointments/board): advisors and managers only; each booking's state
on the day — booked, late, arrived (kiosk check-in), in service (taken in), cancelled — and the
day's figures; booking events reach the advisors' room, which the board listens to."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support import login
from webapp.commands.appointments import Cancel
from webapp.events import DomainEvent
from webapp.extensions import db
from webapp.models import Appointment, Ticket
from webapp.realtime import appointment_tv_room, console_room, site_rooms, topics_of
from webapp.services import appointment_board, appointments, calling
from webapp.services.checkin import check_in_appointment
from webapp.timeutil import utcnow


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(factory):
    site = factory.site(code="bj01")
    advisor = factory.user(site, "advisor", display_name="Advisor One")
    cars = [factory.customer_vehicle(site, plate=f"京A1234{i}", mobile=f"1380013800{i}", name=f"客户{i}")
            for i in range(4)]
    return {"site": site, "advisor": advisor, "cars": cars, "csi": factory.user(site, "csi")}


def states(site):
    b = appointment_board.board(site, appointment_board.cap_db.today(site))
    return {card.appointment.vehicle.plate: card.state for cards in b.cells.values() for card in cards}


def test_only_advisors_and_managers(client, shop):
    login(client, shop["csi"])
    assert client.get("/appointments/board").status_code == 403
    assert client.get("/appointments/board/grid").status_code == 403


def test_each_bookings_state(client, shop, factory):
    site, advisor = shop["site"], shop["advisor"]
    (c0, v0), (c1, v1), (c2, v2), (c3, v3) = shop["cars"]
    here = factory.appointment(site, c0, v0, scheduled_at=utcnow())
    taken_in = factory.appointment(site, c1, v1, scheduled_at=utcnow())
    factory.appointment(site, c2, v2, scheduled_at=utcnow() - timedelta(hours=1))
    gone = factory.appointment(site, c3, v3, scheduled_at=utcnow() + timedelta(minutes=5))
    assert states(site) == {"京A12340": "booked", "京A12341": "booked", "京A12342": "late", "京A12343": "booked"}
    check_in_appointment(site, here.id, "k0")
    ticket = check_in_appointment(site, taken_in.id, "k1")
    calling.call_next(advisor)     # the on-time appointments first: the first one checked in
    first = db.session.scalar(select(Ticket).order_by(Ticket.id))
    calling.start_reception(advisor, first.id)
    appointments.cancel(advisor, db.session.get(Appointment, gone.id), Cancel("改天"))
    assert states(site) == {"京A12340": "in_service", "京A12341": "arrived", "京A12342": "late",
                            "京A12343": "cancelled"}
    assert ticket is not None
    login(client, advisor)
    html = client.get("/appointments/board").get_data(as_text=True)
    assert 'data-live-channel="advisor"' in html
    assert re.search(r'data-card="\d+" data-state="arrived"', html)
    assert 'data-count="late"' in html and "No advisor" in html
    assert client.get("/appointments/board/grid").get_data(as_text=True).count('data-card=') == 4


def test_booking_events_reach_the_advisors_room(shop):
    event = DomainEvent("appointment.booked", shop["site"].id, None, None, {"appointment_id": 1})
    assert topics_of(event) == frozenset({"appointments"})
    assert site_rooms(event, topics_of(event)) == [console_room(shop["site"].id), appointment_tv_room(shop["site"].id)]
