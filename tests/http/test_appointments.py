"""Booking by staff (/appointments): roles and site scope, CSRF, booking a known car and a new
customer, the number and the confirmation notice, a double submit, bad input kept with its
message, capacity refusals with the next free times, overbooking by a manager with a reason,
move and cancel, and the kiosk still finding a booking made here."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.support import csrf_token, login, run_tasks
from webapp.extensions import db
from webapp.models import Appointment, Customer, LabourOperation, Notification, Site, Vehicle
from webapp.services import booking_capacity as cap_db
from webapp.services.checkin import find_appointments
from webapp.timeutil import local_day


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(factory):
    site = factory.site(code="bj01")
    other = factory.site(code="sh01")
    customer, car = factory.customer_vehicle(site, plate="京A12345", mobile="13800138001", name="张先生",
                                             make="大众", model="帕萨特")
    customer.email = "zhang@example.com"
    ops = {code: LabourOperation(site_id=site.id, code=code, name_zh=zh, name_en=en, hours=Decimal(h), kind=kind)
           for code, zh, en, h, kind in (("M001", "更换机油机滤", "Oil and filter change", "1.5", "mechanical"),
                                         ("D001", "故障诊断", "Fault diagnosis", "1.0", "diagnosis"),
                                         ("B001", "钣金喷漆", "Panel repair", "4.0", "bodywork"))}
    db.session.add_all(ops.values())
    db.session.commit()
    other_customer, other_car = factory.customer_vehicle(other, plate="沪A99999", mobile="13900000000")
    return {"site": site, "car": car, "customer": customer, "ops": ops,
            "advisor1": factory.user(site, "advisor", display_name="Advisor One"),
            "advisor2": factory.user(site, "advisor", display_name="Advisor Two"),
            "manager": factory.user(site, "manager"), "csi": factory.user(site, "csi"),
            "tech": factory.user(site, "technician"), "tech2": factory.user(site, "technician"),
            "other_advisor": factory.user(other, "advisor"), "other_car": other_car}


def tomorrow(site):
    return local_day(site.timezone) + timedelta(days=1)


def form(shop, **changes):
    data = {"vehicle_id": str(shop["car"].id), "reason": "maintenance", "description": "到保养里程了",
            "operation_ids": [str(shop["ops"]["M001"].id)], "advisor_id": "", "day": tomorrow(shop["site"]).isoformat(),
            "slot": "09:00", "idempotency_key": ""}
    data.update(changes)
    return data


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/login")})


def book(client, shop, **changes):
    return post(client, "/appointments/new", form(shop, **changes))


def count(model=Appointment):
    return db.session.scalar(select(func.count(model.id)))


def field_error(html, field_id):
    match = re.search(rf'id="{field_id}-error"[^>]*>([^<]*)<', html)
    return match.group(1) if match else None


# ---------------------------------------------------------------- roles, scope, CSRF

def test_only_advisors_and_managers(client, shop):
    assert client.get("/appointments").status_code == 302          # to the login
    login(client, shop["csi"])
    assert client.get("/appointments").status_code == 403
    assert client.get("/appointments/new").status_code == 403
    assert post(client, "/appointments/new", form(shop)).status_code == 403
    assert count() == 0


def test_screens_menu_lists_appointments_for_advisors(client, shop):
    login(client, shop["advisor1"])
    assert 'href="/appointments"' in client.get("/appointments").get_data(as_text=True)


def test_csrf_required(client, shop):
    login(client, shop["advisor1"])
    assert client.post("/appointments/new", data=form(shop)).status_code == 400
    assert count() == 0


def test_another_sites_records_are_not_found(client, shop, factory):
    login(client, shop["other_advisor"])
    assert book(client, shop).status_code == 422          # the car is not of this site
    login(client, shop["advisor1"])
    assert book(client, shop).status_code == 302
    appt = db.session.scalar(select(Appointment))
    login(client, shop["other_advisor"])
    assert client.get(f"/appointments/{appt.id}/move").status_code == 404
    assert post(client, f"/appointments/{appt.id}/cancel", {"cancel_reason": "x"}).status_code == 404
    assert db.session.get(Appointment, appt.id).status == "booked"


# ---------------------------------------------------------------- booking

def test_book_a_known_car_with_number_hours_and_confirmation(client, shop):
    login(client, shop["advisor1"])
    page = client.get("/appointments/new?q=京A12345").get_data(as_text=True)
    assert f'data-vehicle="{shop["car"].id}"' in page            # the service history's search found it
    resp = book(client, shop, idempotency_key="k1")
    assert resp.status_code == 302 and f"day={tomorrow(shop['site']).isoformat()}" in resp.headers["Location"]
    appt = db.session.scalar(select(Appointment))
    site = shop["site"]
    assert re.fullmatch(rf"YY-{local_day(site.timezone):%Y%m%d}-001", appt.number)
    assert appt.hours == Decimal("1.5") and appt.cap_kind == "maintenance" and appt.status == "booked"
    assert cap_db.local_dt(site, appt.scheduled_at).strftime("%H:%M") == "09:00"
    assert appt.advisor_id in (shop["advisor1"].id, shop["advisor2"].id)
    assert [o.operation.code for o in appt.operations] == ["M001"]
    notice = db.session.scalar(select(Notification).where(Notification.appointment_id == appt.id))
    assert notice.kind == "appointment_booked" and notice.status == "pending"
    assert notice.recipient == "zhang@example.com" and appt.number in notice.subject
    assert "京A12345" not in notice.body and "张" not in notice.body   # no name or plate in a notice
    run_tasks()
    assert db.session.get(Notification, notice.id).status == "sent"
    day = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert appt.number in day and "Booked " + appt.number in day
    assert re.search(r"data-hours-booked>1\.5<", day) and re.search(r"data-slots-taken>1<", day)


def test_a_double_submit_books_once(client, shop):
    login(client, shop["advisor1"])
    assert book(client, shop, idempotency_key="same").status_code == 302
    assert book(client, shop, idempotency_key="same").status_code == 302
    assert count() == 1 and count(Notification) == 1


def test_book_a_new_customer_and_vehicle(client, shop):
    login(client, shop["advisor1"])
    resp = book(client, shop, vehicle_id="", plate="京b 88888", mobile="139 0013 9002", name="李女士",
                reason="repair", operation_ids=[], description="空调不凉")
    assert resp.status_code == 302
    appt = db.session.scalar(select(Appointment))
    assert appt.vehicle.plate == "京B88888" and appt.customer.mobile == "13900139002"
    assert appt.cap_kind == "diagnosis" and appt.hours == 0      # fault not known yet: inspection first
    notice = db.session.scalar(select(Notification))
    assert notice.status == "skipped" and notice.error == "no_address"


@pytest.mark.parametrize("changes, field, message", [
    ({"vehicle_id": "", "plate": "12", "mobile": "13900139002", "name": "李"}, "plate", "plate such as"),
    ({"vehicle_id": "", "plate": "京A12345", "mobile": "13900139002", "name": "李"}, "plate", "on file already"),
    ({"vehicle_id": "", "plate": "京B88888", "mobile": "12345", "name": "李"}, "mobile", "11-digit"),
    ({"vehicle_id": "", "plate": "京B88888", "mobile": "13900139002", "name": ""}, "name", "Required."),
    ({"reason": ""}, "reason", "Choose a reason."),
    ({"email": "not-an-address"}, "email", "e-mail address"),
    ({"description": "x" * 2001}, "description", None),
])
def test_bad_input_is_named_next_to_the_field_and_kept(client, shop, changes, field, message):
    login(client, shop["advisor1"])
    resp = book(client, shop, **changes)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    if message:
        assert message in (field_error(html, f"f-{field}") or ""), html[:2000]
    for name in ("plate", "mobile", "email"):
        if changes.get(name):
            assert f'value="{changes[name]}"' in html          # what was typed stays
    assert count() == 0


def test_no_time_chosen_or_a_day_out_of_range(client, shop):
    login(client, shop["advisor1"])
    html = book(client, shop, slot="").get_data(as_text=True)
    assert "Choose a time." in html
    far = local_day(shop["site"].timezone) + timedelta(days=61)
    assert "60 days ahead" in book(client, shop, day=far.isoformat()).get_data(as_text=True)
    assert count() == 0


# ---------------------------------------------------------------- capacity

def test_a_full_slot_is_refused_with_the_next_free_times(client, shop):
    login(client, shop["advisor1"])
    assert book(client, shop, idempotency_key="a").status_code == 302
    assert book(client, shop, idempotency_key="b").status_code == 302     # two advisors: two customers at 09:00
    resp = book(client, shop, idempotency_key="c")
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "This time is fully booked." in html
    assert f'value="{tomorrow(shop["site"]).isoformat()} 09:30"' in html      # the next free time, one click
    assert count() == 2
    # the advisors were spread: one customer each
    assert {a.advisor_id for a in db.session.scalars(select(Appointment))} == {shop["advisor1"].id, shop["advisor2"].id}
    # one click on the next free time books it with what was typed
    resp = post(client, "/appointments/new", {**form(shop, idempotency_key="d"),
                                             "next_free": f"{tomorrow(shop['site']).isoformat()} 09:30"})
    assert resp.status_code == 302 and count() == 3


def test_the_chosen_advisors_share_of_a_slot(client, shop):
    login(client, shop["advisor1"])
    assert book(client, shop, advisor_id=str(shop["advisor1"].id), idempotency_key="a").status_code == 302
    html = book(client, shop, advisor_id=str(shop["advisor1"].id), idempotency_key="b").get_data(as_text=True)
    assert "This advisor is fully booked at this time." in html


def test_bookable_hours_run_out(client, shop):
    # two technicians × 8 h × 85 % less 20 % = 10.9 h; bodywork takes 4 h
    login(client, shop["advisor1"])
    body = [str(shop["ops"]["B001"].id)]
    for i, slot in enumerate(("08:30", "09:00")):
        assert book(client, shop, operation_ids=body, reason="bodywork", slot=slot, idempotency_key=f"b{i}").status_code == 302
    html = book(client, shop, operation_ids=body, reason="bodywork", slot="10:00", idempotency_key="b3").get_data(as_text=True)
    assert "bookable hours on this day are used up" in html
    assert book(client, shop, operation_ids=[str(shop["ops"]["M001"].id)], slot="10:00").status_code == 302   # 1.5 h still fit


def test_overbooking_only_by_a_manager_with_a_reason(client, shop):
    login(client, shop["advisor1"])
    for key in ("a", "b"):
        book(client, shop, idempotency_key=key)
    assert "overbook" not in book(client, shop, idempotency_key="c", overbook_reason="VIP").get_data(as_text=True).lower()
    assert count() == 2                                     # an advisor's reason counts for nothing
    login(client, shop["manager"])
    html = book(client, shop, idempotency_key="d").get_data(as_text=True)
    assert "To overbook it, give a reason." in html and count() == 2
    assert book(client, shop, idempotency_key="e", overbook_reason="Fleet customer, agreed").status_code == 302
    appt = db.session.scalar(select(Appointment).where(Appointment.idempotency_key == "e"))
    assert appt.overbook_reason == "Fleet customer, agreed" and appt.advisor_id is not None
    day = client.get(f"/appointments?day={tomorrow(shop['site']).isoformat()}").get_data(as_text=True)
    assert re.search(r"data-slots-taken>3<", day) and "Overbooked: Fleet customer, agreed" in day


def test_holidays_and_caps_from_the_site_settings(client, shop):
    site = db.session.get(Site, shop["site"].id)
    site.holidays = tomorrow(site).isoformat()
    db.session.commit()
    login(client, shop["advisor1"])
    html = book(client, shop).get_data(as_text=True)
    assert "The shop is closed on this day." in html and count() == 0
    site = db.session.get(Site, shop["site"].id)
    site.holidays, site.cap_diagnosis_hours = "", Decimal("1.0")
    db.session.commit()
    diag = [str(shop["ops"]["D001"].id)]
    assert book(client, shop, operation_ids=diag, reason="repair", idempotency_key="a").status_code == 302
    html = book(client, shop, operation_ids=diag, reason="repair", slot="10:00", idempotency_key="b").get_data(as_text=True)
    assert "hours for this kind of work are used up" in html


# ---------------------------------------------------------------- move and cancel

def test_move_then_cancel_gives_the_capacity_back(client, shop):
    login(client, shop["advisor1"])
    book(client, shop, idempotency_key="a")
    appt = db.session.scalar(select(Appointment))
    day = tomorrow(shop["site"]).isoformat()
    assert client.get(f"/appointments/{appt.id}/move").status_code == 200
    resp = post(client, f"/appointments/{appt.id}/move", {"day": day, "slot": "14:00", "advisor_id": ""})
    assert resp.status_code == 302
    appt = db.session.get(Appointment, appt.id)
    assert cap_db.local_dt(shop["site"], appt.scheduled_at).strftime("%H:%M") == "14:00"
    advisor_id = appt.advisor_id
    # the same move sent again (a double click) changes nothing and tells the customer once
    assert post(client, f"/appointments/{appt.id}/move",
                {"day": day, "slot": "14:00", "advisor_id": str(advisor_id)}).status_code == 302
    kinds = [n.kind for n in db.session.scalars(select(Notification).order_by(Notification.id))]
    assert kinds == ["appointment_booked", "appointment_moved"]
    # no reason: refused next to the field, nothing changed
    resp = post(client, f"/appointments/{appt.id}/cancel", {"cancel_reason": " "})
    assert resp.status_code == 422 and "Required." in resp.get_data(as_text=True)
    assert db.session.get(Appointment, appt.id).status == "booked"
    resp = post(client, f"/appointments/{appt.id}/cancel", {"cancel_reason": "Customer is travelling"})
    assert resp.status_code == 302
    appt = db.session.get(Appointment, appt.id)
    assert appt.status == "cancelled" and appt.cancel_reason == "Customer is travelling"
    html = client.get(f"/appointments?day={day}").get_data(as_text=True)
    assert re.search(r"data-slots-taken>0<", html) and re.search(r"data-hours-booked>0\.0<", html)
    # cancelling twice changes nothing; a cancelled booking cannot be moved
    assert post(client, f"/appointments/{appt.id}/cancel", {"cancel_reason": "again"}).status_code == 302
    assert db.session.get(Appointment, appt.id).cancel_reason == "Customer is travelling"
    assert post(client, f"/appointments/{appt.id}/move", {"day": day, "slot": "15:00"}).status_code == 302
    assert cap_db.local_dt(shop["site"], db.session.get(Appointment, appt.id).scheduled_at).strftime("%H:%M") == "14:00"


def test_moving_to_a_full_slot_is_refused(client, shop):
    login(client, shop["advisor1"])
    for key in ("a", "b"):
        book(client, shop, idempotency_key=key)
    book(client, shop, idempotency_key="c", slot="11:00")
    moving = db.session.scalar(select(Appointment).where(Appointment.idempotency_key == "c"))
    resp = post(client, f"/appointments/{moving.id}/move", {"day": tomorrow(shop["site"]).isoformat(), "slot": "09:00"})
    assert resp.status_code == 409 and "This time is fully booked." in resp.get_data(as_text=True)
    # its own place does not count against it
    assert post(client, f"/appointments/{moving.id}/move",
                {"day": tomorrow(shop["site"]).isoformat(), "slot": "11:00"}).status_code == 302


def test_the_kiosk_finds_a_booking_made_here_today(client, shop, shop_hours):
    login(client, shop["advisor1"])
    site = shop["site"]
    now = cap_db.local_dt(site, cap_db.utcnow())
    later = [s for s in cap_db.day_of(site, now.date()).slots if s.start > now.time()]
    if not later:
        pytest.skip("no reception slot left today")
    assert book(client, shop, day=now.date().isoformat(), slot=later[0].start.strftime("%H:%M")).status_code == 302
    found = find_appointments(db.session.get(Site, site.id), "京A12345")
    assert [a.number for a in found] == [db.session.scalar(select(Appointment.number))]


def test_slots_fragment(client, shop):
    login(client, shop["advisor1"])
    html = client.get(f"/appointments/slots?day={tomorrow(shop['site']).isoformat()}").get_data(as_text=True)
    assert 'data-slot="08:30"' in html and 'data-slot="12:00"' not in html and "2 free" in html
    assert count(Customer) == 2 and count(Vehicle) == 2
