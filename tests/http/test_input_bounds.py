"""The security review's hostile inputs, one by one (issue 10, defect 8): ids of 10^26 in URLs and
form fields, amounts of 1e309 / 1E+400 at the cashier, a NUL character. Each used to end in a 500;
now a 404, or a message next to the field with what was typed kept, and nothing written."""
import pytest

from tests.factories import job_at_dispatch, visit_delivered, visit_ready
from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.models import Bill, Complaint, Job, Payment, Visit
from webapp.services import billing as billing_svc
from webapp.services import calling
from webapp.services import complaints as complaints_svc

HX = {"HX-Request": "true"}
HUGE = "1" + "0" * 26


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


def post(client, url, data=None):
    return client.post(url, data=data or {}, headers={"X-CSRFToken": csrf_token(client, "/login"), **HX})


def issued_bill(factory, site, advisor) -> Bill:
    visit = visit_ready(factory, site, advisor)
    billing_svc.prepare_bill(visit, advisor)
    return billing_svc.issue_bill(visit, advisor)


def payment_count(bill_id) -> int:
    db.session.expire_all()
    return db.session.query(Payment).filter_by(bill_id=bill_id).count()


# ---------------------------------------------------------------- ids

@pytest.mark.parametrize("url", ["/advisor/visits/{huge}", "/advisor/visits/{huge}/estimate",
                                 "/cashier/bills/{huge}", "/history/vehicles/{huge}"])
def test_a_url_id_beyond_the_database_integer_is_not_found(client, shop, url):
    p = shop.people
    login(client, p["manager"])
    assert client.get(url.format(huge=HUGE)).status_code == 404


def test_posting_to_a_huge_url_id_is_not_found_and_writes_nothing(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued_bill(factory, site, p["advisor"])
    login(client, p["cashier"])
    resp = post(client, f"/cashier/bills/{HUGE}/payments", {"method": "wechat", "amount": "10", "key": "k"})
    assert resp.status_code == 404
    assert payment_count(bill.id) == 0


def test_a_huge_technician_id_is_refused_and_the_job_stays_unassigned(client, factory, shop):
    site, p = shop.site, shop.people
    job_id = job_at_dispatch(factory, site, p["advisor"]).job.id
    login(client, p["dispatcher"])
    resp = post(client, f"/workshop/jobs/{job_id}/assign", {"technician_id": HUGE, "bay_id": HUGE})
    assert 400 <= resp.status_code < 500
    db.session.expire_all()
    assert db.session.get(Job, job_id).technician_id is None


def test_a_huge_vehicle_id_links_nothing(client, factory, shop):
    site, p = shop.site, shop.people
    ticket = factory.walkin(site, plate="京D12345")
    calling.call_next(p["advisor"])
    calling.start_reception(p["advisor"], ticket.id)
    vehicle_before = db.session.get(Visit, ticket.visit_id).vehicle_id
    login(client, p["advisor"])
    resp = post(client, f"/advisor/visits/{ticket.visit_id}/vehicle", {"vehicle_id": HUGE})
    assert resp.status_code == 404
    db.session.expire_all()
    assert db.session.get(Visit, ticket.visit_id).vehicle_id == vehicle_before


def test_a_huge_complaint_owner_is_refused_next_to_the_field(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"], plate="京E12345")
    case = complaints_svc.new_case(visit, "manual", "等待太久")
    db.session.commit()
    owner_before = case.owner_id
    login(client, p["csi"])
    resp = post(client, f"/complaints/{case.id}/assign", {"owner_id": HUGE})
    assert resp.status_code == 422
    db.session.expire_all()
    assert db.session.get(Complaint, case.id).owner_id == owner_before


# ---------------------------------------------------------------- money

@pytest.mark.parametrize("data, field", [
    ({"method": "card", "amount": "1e309"}, "amount"),
    ({"method": "wechat", "amount": "1E+400"}, "amount"),
    ({"method": "cash", "amount": "305.10", "tendered": "1E+400"}, "tendered"),
    ({"method": "cash", "amount": "", "tendered": "1e309"}, "tendered"),
])
def test_an_astronomic_payment_is_refused_next_to_its_field_and_records_nothing(client, factory, shop, data, field):
    site, p = shop.site, shop.people
    bill = issued_bill(factory, site, p["advisor"])
    login(client, p["cashier"])
    resp = post(client, f"/cashier/bills/{bill.id}/payments", {**data, "key": "k-huge"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "This amount is too large." in html and f'id="{field}-error"' in html
    assert f'value="{data[field]}"' in html          # what was typed is kept
    assert payment_count(bill.id) == 0


def test_an_astronomic_credit_note_is_refused_and_no_note_is_issued(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued_bill(factory, site, p["advisor"])
    billing_svc.record_payment(p["cashier"], bill.id, "wechat", "305.10", idempotency_key="paid")
    login(client, p["manager"])
    resp = post(client, f"/cashier/bills/{bill.id}/credit-note",
                {"amount": "1e309", "reason": "多收", "refund_method": "wechat"})
    assert resp.status_code == 422
    assert "This amount is too large." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(Bill).filter_by(kind="credit_note").count() == 0


# ---------------------------------------------------------------- NUL

def test_a_nul_character_is_refused_before_any_work(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued_bill(factory, site, p["advisor"])
    login(client, p["cashier"])
    resp = post(client, f"/cashier/bills/{bill.id}/payments",
                {"method": "wechat", "amount": "10", "reference": "WX\x00", "key": "k-nul"})
    assert resp.status_code == 400
    assert payment_count(bill.id) == 0
