"""On arrival the visit starts from the booking (issue 13): checked in at the kiosk, the visit
carries the customer's words, the interview offers them as the first concern, and the operations
booked by phone are offered first on the estimate ("booked with the appointment")."""
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from tests.factories import png_data_url
from tests.support import login
from webapp.commands.appointments import parse_booking, parse_online_booking
from webapp.commands.intake import parse_inspection
from webapp.extensions import db
from webapp.models import LabourOperation, Visit
from webapp.services import appointments, calling, estimates
from webapp.services import intake as intake_svc
from webapp.services.checkin import check_in_appointment
from webapp.timeutil import clock_at, local_day, local_to_utc


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


def test_the_visit_starts_prefilled_from_the_booking(client, factory):
    site = factory.site(code="bj01")
    advisor = factory.user(site, "advisor", desk="1")
    factory.user(site, "technician")
    _customer, car = factory.customer_vehicle(site, plate="京A12345", mobile="13800138001")
    op = LabourOperation(site_id=site.id, code="M001", name_zh="更换机油机滤", name_en="Oil and filter change",
                         hours=Decimal("1.5"), kind="mechanical")
    db.session.add(op)
    db.session.commit()
    day = local_day(site.timezone) + timedelta(days=1)
    booking = appointments.book(advisor, parse_booking({"vehicle_id": str(car.id), "reason": "maintenance",
                                                        "day": day.isoformat(), "slot": "09:00",
                                                        "description": "到保养里程了，机油灯亮",
                                                        "operation_ids": [str(op.id)]}), "phone-1")
    with clock_at() as move:
        move(local_to_utc(site.timezone, datetime.combine(day, time(8, 50))))
        ticket = check_in_appointment(site, booking.id, "kiosk-1")
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        visit = db.session.get(Visit, ticket.visit_id)
        intake_svc.start_inspection(visit, advisor)
        login(client, advisor)
        page = client.get(f"/advisor/visits/{visit.id}").get_data(as_text=True)
        assert 'id="new-concern" name="text" value="到保养里程了，机油灯亮"' in page   # the words, ready to add

        intake_svc.save_inspection(visit, parse_inspection(MultiDict({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                                     "mileage": "1000", "fuel_level": "1/2", "valuables_left": "no"})), advisor)
        intake_svc.sign_intake(visit, png_data_url(), "客户", None, None, advisor)
        intake_svc.complete_inspection(visit, advisor)
        intake_svc.add_concern(visit, visit.description, advisor)
        intake_svc.complete_interview(visit, advisor)
        [booked] = [r for r in estimates.recommendations(visit) if r.why == "booked"]
        assert booked.operation.id == op.id
        page = client.get(f"/advisor/visits/{visit.id}").get_data(as_text=True)
        assert 'data-why="booked"' in page and "Booked with the appointment" in page
        [line] = estimates.add_recommended(visit, booked.key, advisor)
        assert line.operation_id == op.id and line.recommended == "booked"
        assert not [r for r in estimates.recommendations(visit) if r.why == "booked"]   # offered once


def test_an_online_booking_is_matched_to_the_stored_car_at_the_desk(client, factory):
    """The booking never linked itself to the stored car (no oracle); at reception the advisor is
    offered the stored customer and car, as for a walk-in, and confirms."""
    from tests.support import csrf_token
    from webapp.services import online_booking
    site = factory.site(code="bj01")
    advisor = factory.user(site, "advisor", desk="1")
    factory.user(site, "technician")
    known, car = factory.customer_vehicle(site, plate="京A12345", mobile="13800138001", name="张先生")
    day = local_day(site.timezone) + timedelta(days=1)
    booking = online_booking.book(site, parse_online_booking({"reason": "repair", "day": day.isoformat(), "slot": "09:00",
                                                               "plate": "京A12345", "mobile": "13800138001",
                                                               "name": "张", "description": "异响"}), "web-1")
    assert booking.vehicle_id != car.id
    with clock_at() as move:
        move(local_to_utc(site.timezone, datetime.combine(day, time(8, 50))))
        ticket = check_in_appointment(site, booking.id, "kiosk-1")
        visit = db.session.get(Visit, ticket.visit_id)
        assert visit.vehicle_id is None and visit.customer_id is None and visit.description == "异响"
        suggestion = intake_svc.suggested_records(visit)
        assert suggestion.vehicle.id == car.id and suggestion.customer.id == known.id
        intake_svc.link_suggested(visit, advisor)
        assert (visit.vehicle_id, visit.customer_id) == (car.id, known.id)
