"""Advisor intake over HTTP: customer and vehicle, documents, inspection rules, interview,
warranty and the manufacturer's decision; roles, sites and CSRF."""
import re

import pytest

from tests.factories import confirm_suggestion
from tests.support import csrf_token, login
from webapp.models import Concern, Customer, IntakeForm, ManufacturerRequest, Vehicle, VehicleDriver, Visit
from webapp.services import calling

# The records name who did what: the advisor signs in as a1.
pytestmark = pytest.mark.shop(roles=("advisor",), staff={"advisor": {"username": "a1"}})
HX = {"HX-Request": "true"}


@pytest.fixture
def visit(shop, factory):
    site, advisor = shop.site, shop.advisor
    factory.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三", make="大众",
                             model="帕萨特", last_mileage=45000)
    ticket = factory.walkin(site, plate="京A12345", mobile="13800138000")
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    confirm_suggestion(ticket.visit, advisor)  # the advisor links the stored car at the desk
    return ticket.visit


@pytest.fixture
def advisor_client(client, visit):
    from webapp.models import User
    login(client, User.query.filter_by(username="a1").one())
    return client


def post(client, url, data=None):
    token = csrf_token(client, "/advisor")
    return client.post(url, data=data or {}, headers={"X-CSRFToken": token, **HX})


def alerts(resp):
    return re.findall(r'role="alert">([^<]+)<', resp.get_data(as_text=True))


def test_visit_page_renders_every_section(advisor_client, visit):
    html = advisor_client.get(f"/advisor/visits/{visit.id}?lang=en").get_data(as_text=True)
    for section in ("customer", "documents", "inspection", "damage", "signature", "interview"):
        assert f'id="sec-{section}"' in html
    assert "Start walk-around inspection" in html


def test_advisor_linked_the_known_vehicle_the_plate_suggested(visit):
    assert visit.vehicle is not None and visit.vehicle.plate == "京A12345"
    assert visit.customer is not None and visit.customer.name == "张三"


def test_find_records(advisor_client, visit):
    for q in ("京A12345", "13800138000", "张三"):
        html = advisor_client.get(f"/advisor/visits/{visit.id}/records?q={q}").get_data(as_text=True)
        assert "京A12345" in html, q
    assert "京A12345" not in advisor_client.get(f"/advisor/visits/{visit.id}/records?q=沪Z99999").get_data(as_text=True)


def test_save_customer_bad_input_keeps_values(advisor_client, visit):
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/customer?lang=en",
                {"name": "李四", "mobile": "12345", "plate": "京A12345", "vin": "IOQ", "year": "1800"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Enter an 11-digit mobile number starting with 1." in html
    assert "A VIN has 17 letters and digits, without I, O or Q." in html
    assert "Enter a year between 1950 and 2100." in html
    assert 'value="李四"' in html and 'value="12345"' in html


def test_new_driver_for_a_known_car(advisor_client, visit, db):
    """A different person brings the owner's car: they become a driver, the owner stays."""
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/customer",
                {"name": "王五", "mobile": "13900139000", "plate": "京A12345", "vin": "1M8GDM9AXKP042788",
                 "make": "大众", "model": "帕萨特", "year": "2021", "warranty_start": "2024-01-01",
                 "warranty_years": "3", "warranty_km": "100000"})
    assert resp.status_code == 200
    assert "hx-swap-oob" not in resp.get_data(as_text=True)   # no other section shows the driver
    db.session.expire_all()
    car = Vehicle.query.filter_by(plate="京A12345").one()
    assert car.vin == "1M8GDM9AXKP042788" and car.warranty_years == 3
    assert car.customer.name == "张三"
    assert [d.customer.name for d in VehicleDriver.query.filter_by(vehicle_id=car.id)] == ["王五"]
    v = db.session.get(Visit, visit.id)
    assert v.customer.name == "王五" and Vehicle.query.count() == 1 and Customer.query.count() == 2


def test_vin_check_digit_is_a_warning(advisor_client, visit, db):
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/customer?lang=en",
                {"name": "张三", "mobile": "13800138000", "plate": "京A12345", "vin": "LSVAU2180N2183294"})
    assert resp.status_code == 200
    assert "check digit does not match" in resp.get_data(as_text=True)


def test_documents_record_who_and_when(advisor_client, visit, db):
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/documents", {"document": "licence", "received": "1"})
    assert resp.status_code == 200
    form = IntakeForm.query.one()
    assert form.licence_received_at and form.licence_received_by.username == "a1"
    assert form.booklet_received_at is None
    post(advisor_client, f"/advisor/visits/{visit.id}/documents", {"document": "booklet", "received": "1"})
    post(advisor_client, f"/advisor/visits/{visit.id}/documents", {"document": "licence"})
    assert post(advisor_client, f"/advisor/visits/{visit.id}/documents", {"document": "x"}).status_code == 400
    db.session.expire_all()
    form = IntakeForm.query.one()
    assert form.licence_received_at is None and form.booklet_received_at is not None


def start(client, visit):
    resp = post(client, f"/advisor/visits/{visit.id}/inspection/start")
    assert resp.status_code == 200


def test_covers_before_completion(advisor_client, visit, db):
    start(advisor_client, visit)
    post(advisor_client, f"/advisor/visits/{visit.id}/inspection",
         {"cover_seat": "1", "mileage": "46000", "fuel_level": "1/2"})
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/inspection/complete?lang=en")
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    assert "Fit the seat cover, steering-wheel cover and floor mat first." in text
    assert "The customer has not signed the current form." in text
    assert db.session.get(Visit, visit.id).state == "inspection"


def test_mileage_lower_than_last_needs_a_reason(advisor_client, visit, db):
    start(advisor_client, visit)
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/inspection?lang=en",
                {"mileage": "44000", "fuel_level": "F", "valuables": "墨镜"})
    assert resp.status_code == 422
    assert any("Lower than the last visit" in a for a in alerts(resp))
    form = IntakeForm.query.one()
    assert form.mileage == 44000 and form.fuel_level == "F" and form.valuables == "墨镜"  # nothing lost
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/inspection",
                {"mileage": "44000", "fuel_level": "F", "mileage_reason": "换过仪表"})
    assert resp.status_code == 200


@pytest.mark.parametrize("mileage", ["-5", "abc", "99999999"])
def test_mileage_range(advisor_client, visit, mileage):
    start(advisor_client, visit)
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/inspection?lang=en", {"mileage": mileage})
    assert resp.status_code == 422
    assert "Enter the odometer reading in km" in resp.get_data(as_text=True)
    assert f'value="{mileage}"' in resp.get_data(as_text=True)


def test_inspection_fields_saved(advisor_client, visit):
    start(advisor_client, visit)
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/inspection",
                {"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1", "mileage": "46,000",
                 "fuel_level": "3/4", "warning_lights": ["engine", "tpms", "bogus"],
                 "accessories": ["spare_tyre", "jack_tools"]})
    assert resp.status_code == 200
    form = IntakeForm.query.one()
    assert (form.cover_seat, form.cover_wheel, form.cover_floor) == (True, True, True)
    assert form.mileage == 46000 and form.fuel_level == "3/4"
    assert form.warning_lights == '["engine", "tpms"]'


def test_inspection_closed_outside_its_stage(advisor_client, visit):
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/inspection", {"mileage": "1"})
    assert resp.status_code == 409


def test_interview_concerns_and_warranty(advisor_client, visit, db):
    car = visit.vehicle
    car.warranty_start, car.warranty_years, car.warranty_km = __import__("datetime").date(2025, 1, 1), 3, 100000
    db.session.commit()
    start(advisor_client, visit)
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/concerns", {"text": ""})
    assert resp.status_code == 422
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/concerns", {"text": "低速刹车有异响"})
    assert resp.status_code == 200
    concern = Concern.query.one()
    assert concern.warranty_suggested == "covered" and concern.warranty == "covered"   # repair within terms
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/concerns/{concern.id}",
                {"concern_id": concern.id, "text": "低速刹车有异响", "note_internal": "查刹车片",
                 "note_customer": "先检查", "diagnosis": "needs_diagnosis", "warranty": "undetermined"})
    assert resp.status_code == 200
    db.session.expire_all()
    concern = Concern.query.one()
    assert concern.diagnosis == "needs_diagnosis" and concern.warranty == "undetermined"
    # Undetermined → ask the manufacturer; pending until someone records the answer.
    bad = post(advisor_client, f"/advisor/visits/{visit.id}/concerns/{concern.id}/manufacturer",
               {"concern_id": concern.id, "reference": "", "summary": ""})
    assert bad.status_code == 422
    ok = post(advisor_client, f"/advisor/visits/{visit.id}/concerns/{concern.id}/manufacturer?lang=en",
              {"concern_id": concern.id, "reference": "FAW-2026-0042", "summary": "照片与描述已发送"})
    assert ok.status_code == 200 and "Waiting for the manufacturer" in ok.get_data(as_text=True)
    req = ManufacturerRequest.query.one()
    assert req.status == "pending" and req.created_by.username == "a1"
    again = post(advisor_client, f"/advisor/visits/{visit.id}/concerns/{concern.id}/manufacturer",
                 {"concern_id": concern.id, "reference": "X", "summary": "Y"})
    assert again.status_code == 409
    assert post(advisor_client, f"/advisor/visits/{visit.id}/concerns/{concern.id}/delete").status_code == 409
    decided = post(advisor_client, f"/advisor/visits/{visit.id}/manufacturer/{req.id}",
                   {"decision": "approved", "note": "同意保修"})
    assert decided.status_code == 200
    db.session.expire_all()
    req = ManufacturerRequest.query.one()
    assert req.status == "approved" and req.decided_at and req.decided_by.username == "a1"
    assert Concern.query.one().warranty == "covered"
    assert post(advisor_client, f"/advisor/visits/{visit.id}/manufacturer/{req.id}",
                {"decision": "rejected"}).status_code == 409


def test_interview_needs_a_concern_and_its_stage(advisor_client, visit, db):
    assert post(advisor_client, f"/advisor/visits/{visit.id}/interview/complete").status_code == 409
    db.session.get(Visit, visit.id).state = "interview"
    db.session.commit()
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/interview/complete?lang=en")
    assert resp.status_code == 422 and "Record at least one customer concern." in resp.get_data(as_text=True)
    post(advisor_client, f"/advisor/visits/{visit.id}/concerns", {"text": "保养"})
    assert post(advisor_client, f"/advisor/visits/{visit.id}/interview/complete").status_code == 200
    assert db.session.get(Visit, visit.id).state == "estimate"


def test_generic_moves_cannot_skip_the_intake(advisor_client, visit):
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/advance", {"to": "inspection"})
    assert resp.status_code == 409
    assert post(advisor_client, f"/advisor/visits/{visit.id}/advance", {"to": "nonsense"}).status_code == 400


@pytest.mark.parametrize("role", ["technician", "cashier", "csi"])
def test_roles(client, factory, visit, role):
    login(client, factory.user(visit.site, role))
    assert client.get(f"/advisor/visits/{visit.id}").status_code == 403
    assert post(client, f"/advisor/visits/{visit.id}/inspection/start").status_code in (400, 403)


def test_other_site_cannot_see_or_touch(client, factory, visit):
    other = factory.site()
    login(client, factory.user(other, "advisor"))
    assert client.get(f"/advisor/visits/{visit.id}").status_code == 404
    assert post(client, f"/advisor/visits/{visit.id}/inspection/start").status_code == 404
    assert client.get(f"/advisor/visits/{visit.id}/records?q=京A12345").status_code == 404


def test_csrf_required(advisor_client, visit):
    resp = advisor_client.post(f"/advisor/visits/{visit.id}/inspection/start", headers=HX)
    assert resp.status_code == 400 and resp.headers.get("HX-Retarget") == "#flash"
