"""The advisor's settlement section over HTTP (/cashier/visits/<id>/bill…): preparing the bill of
a car ready for pickup, part differences flagged and resolved, issuing (numbers, immutability,
an all-warranty bill closing at once), the declined-everything diagnosis fee, roles, site
scoping, CSRF."""
from decimal import Decimal

import pytest

from tests.factories import RO_TERMS, visit_at_estimate, visit_ready
from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.models import Bill, BillLine, EstimateLine, Part, Payment, Visit
from webapp.services import ServiceError
from webapp.services import billing as svc
from webapp.services import catalogue
from webapp.commands.estimates import parse_line, parse_repair_order

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


def post(client, url, data=None):
    return client.post(url, data=data or {}, headers={"X-CSRFToken": csrf_token(client, "/login"), **HX})


def bill_of(visit_id) -> Bill | None:
    db.session.expire_all()
    return svc.current_bill(db.session.get(Visit, visit_id))


def add_part(site, number="P-001", price="80.00", on_hand="10"):
    part = Part(site_id=site.id, number=number, name_zh=f"机油滤清器{number}", name_en=f"Oil filter {number}",
                unit_price=Decimal(price), on_hand=Decimal(on_hand))
    db.session.add(part)
    db.session.commit()
    return part


def approve_part(visit, part, quantity="2", warranty=False):
    """An approved part line on the visit's estimate (as if the customer had approved it)."""
    est = visit.estimate
    db.session.add(EstimateLine(site_id=visit.site_id, estimate=est, kind="part", part_id=part.id,
                                description=part.name_zh, quantity=Decimal(quantity), unit_price=part.unit_price,
                                decision="approved", position=len(est.lines), warranty=warranty))
    db.session.commit()


def issue_part(part, visit, quantity, user):
    catalogue.issue_stock(part, quantity, "领料", user, visit)


# ---------------------------------------------------------------- preparing

def test_prepare_bill_from_the_approved_lines(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_ready(factory, site, p["advisor"])
    login(client, p["advisor"])
    page = client.get(f"/advisor/visits/{visit.id}").get_data(as_text=True)
    assert 'id="sec-bill"' in page and "Prepare the bill" in page

    resp = post(client, f"/cashier/visits/{visit.id}/bill/prepare")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    bill = bill_of(visit.id)
    assert bill.status == "draft" and bill.number is None
    assert [(l.kind, l.quantity, l.unit_price, l.amount) for l in bill.lines] == \
        [("labour", Decimal("1.50"), Decimal("180.00"), Decimal("270.00"))]
    assert (bill.labour, bill.tax, bill.total) == (Decimal("270.00"), Decimal("35.10"), Decimal("305.10"))
    assert "¥305.10" in html and "Issue the bill" in html


def test_prepare_refused_before_the_car_is_ready(client, factory, shop):
    from tests.factories import job_at_dispatch
    site, p = shop.site, shop.people
    visit = job_at_dispatch(factory, site, p["advisor"])
    login(client, p["advisor"])
    page = client.get(f"/advisor/visits/{visit.id}").get_data(as_text=True)
    assert "The bill is prepared when the car is ready for pickup." in page
    resp = post(client, f"/cashier/visits/{visit.id}/bill/prepare")
    assert resp.status_code == 409
    assert "The bill is prepared when the car is ready for pickup." in resp.get_data(as_text=True)
    assert bill_of(visit.id) is None


def test_roles_site_and_csrf(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_ready(factory, site, p["advisor"])
    for role in ("cashier", "technician", "parts"):
        login(client, p[role])
        assert post(client, f"/cashier/visits/{visit.id}/bill/prepare").status_code == 403
        assert post(client, f"/cashier/visits/{visit.id}/bill/issue").status_code == 403
        client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert bill_of(visit.id) is None

    other = factory.site(code="bl2")
    stranger = factory.user(other, "advisor", username="adv-other")
    login(client, stranger)
    assert client.get(f"/cashier/visits/{visit.id}/bill").status_code == 404
    assert post(client, f"/cashier/visits/{visit.id}/bill/prepare").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    login(client, p["advisor"])
    assert client.post(f"/cashier/visits/{visit.id}/bill/prepare", headers=HX).status_code == 400
    assert bill_of(visit.id) is None


# ---------------------------------------------------------------- parts: approved vs issued

def test_part_issued_more_is_flagged_and_charged_only_with_a_note(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_ready(factory, site, p["advisor"])
    part = add_part(site)
    approve_part(visit, part, "2")
    issue_part(part, visit, "3", p["parts"])
    login(client, p["advisor"])
    html = post(client, f"/cashier/visits/{visit.id}/bill/prepare").get_data(as_text=True)
    assert "Issued more than approved: 3 issued, 2 approved." in html
    assert "1 difference to decide before issuing." in html
    bill = bill_of(visit.id)
    (diff,) = bill.differences
    assert [l.quantity for l in bill.lines if l.kind == "part"] == [Decimal("2.00")]   # never charged silently

    resp = post(client, f"/cashier/visits/{visit.id}/bill/issue")
    assert resp.status_code == 409
    assert "Resolve every difference between approved and issued parts first." in resp.get_data(as_text=True)
    assert bill_of(visit.id).status == "draft"

    resp = post(client, f"/cashier/visits/{visit.id}/bill/differences/{diff.id}",
                {"resolution": "charge_issued", "note": ""})
    assert resp.status_code == 422
    assert "Write a note: why the issued quantity is charged." in resp.get_data(as_text=True)

    resp = post(client, f"/cashier/visits/{visit.id}/bill/differences/{diff.id}",
                {"resolution": "charge_issued", "note": "第三个滤芯装在副油路上，客户已电话确认"})
    assert resp.status_code == 200
    bill = bill_of(visit.id)
    assert [l.quantity for l in bill.lines if l.kind == "part"] == [Decimal("3.00")]
    assert bill.parts == Decimal("240.00")
    assert bill.total == Decimal("576.30")   # (270 + 240) × 1.13

    resp = post(client, f"/cashier/visits/{visit.id}/bill/issue")
    assert resp.status_code == 200
    bill = bill_of(visit.id)
    assert bill.status == "issued" and bill.number.startswith("JS-") and bill.number.endswith("-0001")
    assert bill.issued_at is not None


def test_part_issued_less_keep_approved(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_ready(factory, site, p["advisor"])
    part = add_part(site)
    approve_part(visit, part, "2")
    issue_part(part, visit, "1", p["parts"])
    login(client, p["advisor"])
    html = post(client, f"/cashier/visits/{visit.id}/bill/prepare").get_data(as_text=True)
    assert "Issued less than approved: 1 issued, 2 approved." in html
    diff = bill_of(visit.id).differences[0]
    assert post(client, f"/cashier/visits/{visit.id}/bill/differences/{diff.id}",
                {"resolution": "keep_approved"}).status_code == 200
    assert post(client, f"/cashier/visits/{visit.id}/bill/issue").status_code == 200
    bill = bill_of(visit.id)
    assert [l.quantity for l in bill.lines if l.kind == "part"] == [Decimal("2.00")]
    assert bill.differences[0].resolution == "keep_approved"


def test_part_never_approved_needs_the_customers_agreement(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_ready(factory, site, p["advisor"])
    part = add_part(site, "P-777", "35.50")
    issue_part(part, visit, "1", p["parts"])
    login(client, p["advisor"])
    html = post(client, f"/cashier/visits/{visit.id}/bill/prepare").get_data(as_text=True)
    assert "Issued but never approved by the customer: 1 issued." in html
    bill = bill_of(visit.id)
    diff = bill.differences[0]
    assert not [l for l in bill.lines if l.kind == "part"]

    resp = post(client, f"/cashier/visits/{visit.id}/bill/differences/{diff.id}",
                {"resolution": "charge_issued", "note": "已换"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "charged only when the customer agreed" in html
    assert 'value="已换"' in html   # what was typed is kept

    resp = post(client, f"/cashier/visits/{visit.id}/bill/differences/{diff.id}",
                {"resolution": "charge_issued", "note": "客户在交车时同意", "customer_agreed": "1"})
    assert resp.status_code == 200
    bill = bill_of(visit.id)
    (line,) = [l for l in bill.lines if l.kind == "part"]
    assert (line.part_id, line.quantity, line.amount) == (part.id, Decimal("1.00"), Decimal("35.50"))
    assert "customer agreed" in bill.differences[0].note


def test_prepare_again_picks_up_parts_issued_since(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_ready(factory, site, p["advisor"])
    part = add_part(site)
    approve_part(visit, part, "2")
    issue_part(part, visit, "2", p["parts"])
    login(client, p["advisor"])
    post(client, f"/cashier/visits/{visit.id}/bill/prepare")
    assert bill_of(visit.id).differences == []

    issue_part(part, visit, "1", p["parts"])       # one more, after the draft was made
    resp = post(client, f"/cashier/visits/{visit.id}/bill/issue")
    assert resp.status_code == 409                 # issuing recomputes and finds it
    assert len(bill_of(visit.id).differences) == 1
    html = post(client, f"/cashier/visits/{visit.id}/bill/prepare").get_data(as_text=True)
    assert "Issued more than approved: 3 issued, 2 approved." in html


# ---------------------------------------------------------------- issuing

def test_issued_bill_is_immutable(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_ready(factory, site, p["advisor"])
    login(client, p["advisor"])
    post(client, f"/cashier/visits/{visit.id}/bill/prepare")
    assert post(client, f"/cashier/visits/{visit.id}/bill/issue").status_code == 200
    bill = bill_of(visit.id)
    number, total = bill.number, bill.total

    resp = post(client, f"/cashier/visits/{visit.id}/bill/prepare")
    assert resp.status_code == 409
    assert "can no longer be changed: correct it with a credit note" in resp.get_data(as_text=True)
    assert post(client, f"/cashier/visits/{visit.id}/bill/issue").status_code == 409

    # Whoever tries, through the ORM: lines, discount, total are frozen; payments append-only.
    bill = bill_of(visit.id)
    bill.lines[0].quantity = Decimal("9")
    with pytest.raises(ServiceError):
        db.session.commit()
    db.session.rollback()
    bill = bill_of(visit.id)
    bill.discount = Decimal("50")
    with pytest.raises(ServiceError):
        db.session.commit()
    db.session.rollback()
    bill = bill_of(visit.id)
    db.session.delete(bill.lines[0])
    with pytest.raises(ServiceError):
        db.session.commit()
    db.session.rollback()
    bill = bill_of(visit.id)
    assert (bill.number, bill.total, bill.lines[0].quantity) == (number, total, Decimal("1.50"))
    # The status may still move on (payments close it).
    bill.status = "paid"
    db.session.commit()


def test_numbers_are_gapless_per_site_and_day(client, factory, shop):
    site, p = shop.site, shop.people
    a = visit_ready(factory, site, p["advisor"], plate="京A11111")
    b = visit_ready(factory, site, p["advisor"], plate="京B22222")
    for v in (a, b):
        svc.prepare_bill(v, p["advisor"])
        svc.issue_bill(v, p["advisor"])
    na, nb = bill_of(a.id).number, bill_of(b.id).number
    assert na[:-4] == nb[:-4] and (na[-4:], nb[-4:]) == ("0001", "0002")


def test_all_warranty_bill_closes_at_once(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_ready(factory, site, p["advisor"])
    for line in visit.estimate.lines:
        line.warranty = True
    db.session.commit()
    login(client, p["advisor"])
    post(client, f"/cashier/visits/{visit.id}/bill/prepare")
    bill = bill_of(visit.id)
    assert (bill.total, bill.warranty_claims) == (Decimal("0.00"), Decimal("270.00"))
    assert bill.lines[0].amount == 0 and bill.lines[0].claim == Decimal("270.00")
    html = post(client, f"/cashier/visits/{visit.id}/bill/issue").get_data(as_text=True)
    bill = bill_of(visit.id)
    assert bill.status == "paid" and bill.closed_at is not None and bill.number
    assert "Paid in full" in html
    assert db.session.query(Payment).filter_by(bill_id=bill.id).count() == 0


def test_declined_everything_bills_the_diagnosis_fee(client, factory, shop):
    from webapp.models import LabourRate
    from webapp.services import estimates
    site, p = shop.site, shop.people
    db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("180.00")))
    db.session.commit()
    visit = visit_at_estimate(factory, site, p["advisor"])
    estimates.add_line(visit, parse_line({"kind": "labour", "description": "更换刹车盘", "quantity": "2"}), p["advisor"])
    estimates.save_repair_order(visit, parse_repair_order(RO_TERMS), p["advisor"])
    est = estimates.present(visit, p["advisor"])
    estimates.decide(visit, est.version, {l.id: ("declined", "太贵") for l in est.lines}, "remote")
    db.session.refresh(visit)
    assert visit.state == "ready"
    bill = svc.prepare_bill(visit, p["advisor"])
    assert [(l.kind, l.amount) for l in bill.lines] == [("diagnosis", Decimal("200.00"))]
    assert bill.total == Decimal("226.00")


def test_a_bill_shows_on_the_visit_page_once_issued(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_ready(factory, site, p["advisor"])
    svc.prepare_bill(visit, p["advisor"])
    svc.issue_bill(visit, p["advisor"])
    login(client, p["advisor"])
    html = client.get(f"/advisor/visits/{visit.id}").get_data(as_text=True)
    assert "waiting for payment at the cashier" in html
    assert bill_of(visit.id).number in html
    assert "Print settlement" in html
