"""One answer for one save on the advisor's visit page: the answer holds the saved section and,
swapped out of band (hx-swap-oob="morph"), every other section the save changed — and none that
it left as it was. No save asks the page to refetch (no HX-Trigger)."""
import re
from decimal import Decimal

import pytest

from tests.factories import RO_TERMS, confirm_suggestion, png_data_url, visit_at_estimate, visit_ready
from tests.support import csrf_token, login
from webapp.commands.intake import parse_inspection
from webapp.extensions import db
from webapp.models import Concern, LabourRate, Visit
from webapp.services import billing, calling
from webapp.services import intake as intake_svc

HX = {"HX-Request": "true"}
OOB = re.compile(r'<(\w+) hx-swap-oob="morph"[^>]*?\sid="([^"]+)"')


def answer(resp):
    """(ids of the sections swapped out of band, id of the answer's own root element or None)."""
    assert "HX-Trigger" not in resp.headers          # nothing is told to refetch itself
    html = resp.get_data(as_text=True)
    oob = [m.group(2) for m in OOB.finditer(html)]
    assert len(oob) == len(set(oob))                 # each section at most once
    own = re.match(r'\s*<\w+[^>]*?\sid="([^"]+)"', html[:html.find('hx-swap-oob=')] if oob else html)
    return set(oob), own.group(1) if own else None


def post(client, url, data=None):
    return client.post(url, data=data or {}, headers={"X-CSRFToken": csrf_token(client, "/login"), **HX})


@pytest.fixture
def shop(factory):
    site = factory.site(code="bj01")
    advisor = factory.user(site, "advisor", username="a1", desk="1")
    return site, advisor


@pytest.fixture
def at_reception(factory, shop):
    """A walk-in whose stored car the advisor linked at the desk."""
    site, advisor = shop
    factory.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三", make="大众",
                             model="帕萨特", last_mileage=45000)
    ticket = factory.walkin(site, plate="京A12345", mobile="13800138000")
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    return confirm_suggestion(ticket.visit, advisor)


@pytest.fixture
def desk(client, shop):
    login(client, shop[1])
    return client


def url(visit, path):
    return f"/advisor/visits/{visit.id}/{path}"


def inspecting(visit, advisor, **fields):
    intake_svc.start_inspection(visit, advisor)
    if fields:
        from werkzeug.datastructures import MultiDict
        intake_svc.save_inspection(visit, parse_inspection(MultiDict(fields)), advisor)
    return visit


COVERS = {"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1", "mileage": "46000", "fuel_level": "1/2", "valuables_left": "no"}


# ---------------------------------------------------------------- customer and documents

def test_saving_the_customer_as_shown_changes_no_other_section(desk, at_reception):
    r = post(desk, url(at_reception, "customer"),
             {"name": "张三", "mobile": "13800138000", "plate": "京A12345", "vin": "1M8GDM9AXKP042788",
              "make": "大众", "model": "帕萨特", "year": "2021", "warranty_start": "2024-01-01",
              "warranty_years": "3", "warranty_km": "100000"})
    assert r.status_code == 200
    # VIN, year and warranty terms show in no other section before the inspection (no concern
    # to judge under warranty yet, nothing signed); same car, same plate: nothing else is sent.
    assert answer(r) == (set(), "sec-customer")


def test_a_new_plate_changes_the_progress_block_too(desk, at_reception):
    r = post(desk, url(at_reception, "customer"),
             {"name": "张三", "mobile": "13800138000", "plate": "京A54321", "make": "大众", "model": "帕萨特"})
    assert r.status_code == 200
    oob, own = answer(r)
    assert own == "sec-customer" and "visit-body" in oob and "京A54321" in r.get_data(as_text=True)


def test_documents_change_no_other_section(desk, at_reception):
    r = post(desk, url(at_reception, "documents"), {"document": "licence", "received": "1"})
    assert r.status_code == 200 and answer(r) == (set(), "sec-documents")


def test_a_refused_save_answers_with_its_section_alone(desk, at_reception):
    r = post(desk, url(at_reception, "customer"), {"name": "李四", "mobile": "12345", "plate": "京A12345"})
    assert r.status_code == 422 and answer(r) == (set(), "sec-customer")


# ---------------------------------------------------------------- the walk-around

def test_starting_the_inspection_opens_the_map_and_moves_the_visit_on(desk, at_reception):
    r = post(desk, url(at_reception, "inspection/start"))
    assert r.status_code == 200
    assert answer(r) == ({"sec-damage", "sec-signature", "sec-interview", "visit-body"}, "sec-inspection")


def test_an_autosave_answers_with_the_to_do_list_and_the_signed_copy_only(desk, shop, at_reception):
    inspecting(at_reception, shop[1])
    r = post(desk, url(at_reception, "inspection"), {"cover_seat": "1", "fuel_level": "1/2"})
    assert r.status_code == 200
    # The form itself is not sent back (it is being filled); the to-do list (fuel level done)
    # and the signature box (what the customer would sign) changed.
    assert answer(r) == ({"inspection-status", "sec-signature"}, None)
    lights = {"cover_seat": "1", "fuel_level": "1/2", "warning_lights": "tpms"}
    r = post(desk, url(at_reception, "inspection"), lights)
    assert answer(r) == ({"sec-signature"}, None)                          # the to-do list stays
    again = post(desk, url(at_reception, "inspection"), lights)
    assert again.status_code == 200 and again.get_data(as_text=True) == ""   # nothing changed


def test_a_refused_autosave_answers_with_the_inspection_alone(desk, shop, at_reception):
    inspecting(at_reception, shop[1])
    r = post(desk, url(at_reception, "inspection"), {"mileage": "abc"})
    assert r.status_code == 422 and answer(r) == (set(), "sec-inspection")


def test_a_damage_mark_makes_the_signature_stale(desk, shop, at_reception):
    inspecting(at_reception, shop[1], **COVERS)
    r = post(desk, url(at_reception, "marks"), {"zone": "bonnet", "kind": "scratch"})
    assert r.status_code == 200 and answer(r) == ({"sec-signature"}, "sec-damage")


def test_signing_empties_the_inspection_to_do_list(desk, shop, at_reception):
    inspecting(at_reception, shop[1], **COVERS)
    page = desk.get(url(at_reception, "section/signature"), headers=HX).get_data(as_text=True)
    content_hash = re.search(r'name="content_hash" value="([^"]+)"', page).group(1)
    r = post(desk, url(at_reception, "signature"),
             {"signature": png_data_url(), "signer_name": "张三", "content_hash": content_hash})
    assert r.status_code == 200 and answer(r) == ({"sec-inspection"}, "sec-signature")


def test_completing_the_inspection_opens_the_interview(desk, shop, at_reception):
    inspecting(at_reception, shop[1], **COVERS)
    intake_svc.sign_intake(at_reception, png_data_url(), "张三", None, None, shop[1])
    r = post(desk, url(at_reception, "inspection/complete"))
    assert r.status_code == 200
    # The map closes, the interview opens, the visit moves on; the signature, signed, folds
    # away with the walk-around stage (its fold's default changes, so it is sent too).
    assert answer(r) == ({"sec-damage", "sec-interview", "sec-signature", "visit-body"}, "sec-inspection")


# ---------------------------------------------------------------- interview

@pytest.fixture
def interviewing(shop, at_reception):
    inspecting(at_reception, shop[1], **COVERS)
    intake_svc.sign_intake(at_reception, png_data_url(), "张三", None, None, shop[1])
    intake_svc.complete_inspection(at_reception, shop[1])
    return at_reception


def test_a_concern_changes_the_interview_alone(desk, interviewing):
    # Before its stage the estimate section shows no concerns: it is not sent.
    r = post(desk, url(interviewing, "concerns"), {"text": "刹车异响"})
    assert r.status_code == 200 and answer(r) == (set(), "sec-interview")


def test_completing_the_interview_opens_the_estimate(desk, shop, interviewing):
    intake_svc.add_concern(interviewing, "刹车异响", shop[1])
    r = post(desk, url(interviewing, "interview/complete"))
    assert r.status_code == 200 and answer(r) == ({"sec-estimate", "visit-body"}, "sec-interview")


# ---------------------------------------------------------------- estimate, delivery, cashier

def test_estimate_lines_change_the_estimate_alone_and_presenting_moves_the_visit(desk, factory, shop):
    site, advisor = shop
    db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("300.00")))
    db.session.commit()
    visit = visit_at_estimate(factory, site, advisor)
    concern = Concern.query.filter_by(visit_id=visit.id).one()
    r = post(desk, url(visit, "estimate/lines"), {"form": "line", "kind": "diagnosis", "hours": "1",
                                                  "concern_id": concern.id})
    assert r.status_code == 200 and answer(r) == (set(), "sec-estimate")
    r = post(desk, url(visit, "estimate/repair-order"), RO_TERMS)
    assert r.status_code == 200 and answer(r) == (set(), "sec-estimate")
    r = post(desk, url(visit, "estimate/present"))
    assert r.status_code == 200 and answer(r) == ({"visit-body"}, "sec-estimate")


def test_delivery_ticks_change_the_checklist_alone(desk, factory, shop):
    site, advisor = shop
    visit = visit_ready(factory, site, advisor)
    r = post(desk, url(visit, "delivery/items"), {"item": "car_fetched", "checked": "1"})
    assert r.status_code == 200 and answer(r) == (set(), "sec-delivery")


def test_a_payment_brings_the_bill_lists_along(client, factory, shop):
    site, advisor = shop
    cashier = factory.user(site, "cashier", username="c1")
    visit = visit_ready(factory, site, advisor)
    billing.prepare_bill(visit, advisor)
    bill = billing.issue_bill(visit, advisor)
    login(client, cashier)
    r = post(client, f"/cashier/bills/{bill.id}/payments",
             {"method": "wechat", "amount": "1.00", "reference": "WX1", "key": "k1"})
    assert r.status_code == 200
    oob, own = answer(r)
    assert oob == {"cashier-list"} and own == "bill-panel"
    assert db.session.get(Visit, visit.id).state == "ready"


def test_a_plain_form_post_gets_no_out_of_band_sections(desk, at_reception):
    """Without htmx nothing would merge them into the page: they are neither drawn nor sent."""
    r = desk.post(url(at_reception, "inspection/start"), headers={"X-CSRFToken": csrf_token(desk, "/login")})
    assert r.status_code == 200 and "hx-swap-oob" not in r.get_data(as_text=True)
