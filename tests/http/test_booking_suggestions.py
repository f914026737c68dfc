"""Suggestions on the staff booking form (issue 13): for a known vehicle, the maintenance items
due from the schedule and the declined items still open, each ticked books its operation."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import visit_delivered_with_history
from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.models import Appointment, LabourOperation, MaintenanceItem, Vehicle
from webapp.services import booking_capacity as cap_db
from webapp.services.booking_suggestions import for_vehicle
from webapp.timeutil import local_day
from datetime import timedelta


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(factory):
    site = factory.site(code="bj01")
    advisor = factory.user(site, "advisor", desk="1")
    factory.user(site, "technician")
    factory.user(site, "technician")
    visit_delivered_with_history(factory, site, advisor)
    car = db.session.scalar(select(Vehicle).where(Vehicle.plate == "京A12345"))
    car.last_mileage = 12000
    oil = LabourOperation(site_id=site.id, code="OIL", name_zh="更换机油机滤", name_en="Oil and filter change",
                          hours=Decimal("1.0"), kind="mechanical")
    db.session.add(oil)
    db.session.flush()
    db.session.add(MaintenanceItem(site_id=site.id, operation_id=oil.id, every_km=10000))
    db.session.commit()
    return {"site": site, "advisor": advisor, "car": car, "oil": oil}


def test_due_maintenance_and_open_declined_items_are_suggested(shop):
    found = {(s.why, s.operation.code if s.operation else None) for s in for_vehicle(shop["car"])}
    assert ("maintenance_due", "OIL") in found and ("declined_before", "WIP") in found
    assert not any(code == "BRK" for _why, code in found)      # approved last time: nothing open


def test_the_form_offers_them_and_a_ticked_one_is_booked(client, shop):
    login(client, shop["advisor"])
    page = client.get(f"/appointments/new?vehicle_id={shop['car'].id}").get_data(as_text=True)
    assert "data-suggestions" in page and 'data-why="declined_before"' in page and 'data-why="maintenance_due"' in page
    assert "下次再换" in page                                     # why it was declined
    wiper = db.session.scalar(select(LabourOperation).where(LabourOperation.code == "WIP"))
    day = (local_day(shop["site"].timezone) + timedelta(days=1)).isoformat()
    resp = client.post("/appointments/new", data={
        "vehicle_id": str(shop["car"].id), "reason": "maintenance", "day": day, "slot": "09:00",
        "operation_ids": [str(wiper.id), str(shop["oil"].id)], "csrf_token": csrf_token(client, "/appointments")})
    assert resp.status_code == 302
    appt = db.session.scalar(select(Appointment).where(Appointment.vehicle_id == shop["car"].id,
                                                       Appointment.status == "booked"))
    assert sorted(o.operation.code for o in appt.operations) == ["OIL", "WIP"]
    assert appt.hours == Decimal("1.3")
