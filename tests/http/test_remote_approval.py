"""The customer's remote authorisation on the status page (/t/<token>, /t/<token>/approve): no
amounts before the PIN, one append-only chained Approval per decision, stale versions and double
taps refused, everything declined closes with the diagnosis fee, CSRF and other tickets refused."""
import hashlib
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import png_data_url
from tests.support import csrf_token
from webapp.commands.intake import parse_inspection
from webapp.extensions import db
from webapp.models import Approval, LabourOperation, LabourRate, Part, Visit
from webapp.services import calling, estimates
from webapp.services import intake as intake_svc
from webapp.services.checkin import ticket_pin
from webapp.commands.estimates import parse_line, parse_repair_order

UA = "Mozilla/5.0 (iPhone; PhoneTest) Mobile"
RO_FORM = {"payment_method": "wechat", "old_parts": "take", "car_wash": "yes",
           "additional_work_consent": "1", "delivery_explained": "1"}



@pytest.fixture
def site(factory):
    return factory.site()


@pytest.fixture
def advisor(factory, site):
    return factory.user(site, "advisor")


@pytest.fixture
def catalogue(site):
    db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("300.00")))
    op = LabourOperation(site_id=site.id, code="BRK-F", name_zh="更换前刹车片", name_en="Replace front brake pads",
                         hours=Decimal("1.5"))
    part = Part(site_id=site.id, number="P-100", name_zh="前刹车片", name_en="Front brake pads",
                unit_price=Decimal("388.50"), on_hand=Decimal("10"))
    db.session.add_all([op, part])
    db.session.commit()
    return {"op": op, "part": part}


def presented(factory, site, advisor, catalogue, plate="京A12345"):
    """A visit taken through reception, inspection and interview to a presented estimate with a
    labour line (450.00) and a part line (2 × 388.50). Returns the ticket."""
    ticket = factory.walkin(site, plate=plate)
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    visit = ticket.visit
    intake_svc.start_inspection(visit, advisor)
    db.session.expire(visit)
    intake_svc.save_inspection(visit, parse_inspection({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                       "mileage": "45000", "fuel_level": "1/2", "valuables_left": "no"}), advisor)
    intake_svc.sign_intake(visit, png_data_url(), "张三", "127.0.0.1", "pytest", advisor)
    intake_svc.complete_inspection(visit, advisor)
    intake_svc.add_concern(visit, "刹车异响", advisor)
    intake_svc.complete_interview(visit, advisor)
    estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(catalogue["op"].id)}), advisor)
    estimates.add_line(visit, parse_line({"kind": "part", "part_id": str(catalogue["part"].id), "quantity": "2"}), advisor)
    estimates.save_repair_order(visit, parse_repair_order(RO_FORM), advisor)
    estimates.present(visit, advisor)
    db.session.expire_all()
    return ticket


@pytest.fixture
def en(client):
    client.set_cookie("lang", "en")
    return client


def unlock(client, ticket):
    token = csrf_token(client, f"/t/{ticket.token}")
    resp = client.post(f"/t/{ticket.token}/unlock", data={"pin": ticket_pin(ticket.token), "csrf_token": token})
    assert resp.status_code == 303
    return token


def lines_of(ticket):
    db.session.expire_all()
    visit = db.session.get(Visit, ticket.visit_id)
    return visit.estimate, sorted(visit.estimate.lines, key=lambda line: line.position)


def approve(client, ticket, decisions, version=None, token=None, reasons=None):
    est, _lines = lines_of(ticket)
    data = {"version": str(version or est.version), "csrf_token": token or csrf_token(client, f"/t/{ticket.token}")}
    for line_id, decision in decisions.items():
        data[f"decision-{line_id}"] = decision
    for line_id, reason in (reasons or {}).items():
        data[f"reason-{line_id}"] = reason
    return client.post(f"/t/{ticket.token}/approve", data=data, headers={"User-Agent": UA})


def approvals():
    return db.session.scalar(select(func.count(Approval.id)))


AMOUNTS = ("450.00", "777.00", "388.50", "1,386.51")   # labour, parts, unit price, total with 13 % tax


# ---------------------------------------------------------------- before the PIN

def test_locked_page_and_fragment_show_no_amounts(en, factory, site, advisor, catalogue):
    ticket = presented(factory, site, advisor, catalogue)
    for url in (f"/t/{ticket.token}", f"/t/{ticket.token}/fragment"):
        html = en.get(url).get_data(as_text=True)
        assert "Your estimate is ready: enter the PIN from your ticket to review and approve it." in html
        assert 'data-approval="locked"' in html
        for secret in AMOUNTS + ("¥", "前刹车片", "Approve all", "decision-"):
            assert secret not in html, (url, secret)
    est, lines = lines_of(ticket)
    resp = approve(en, ticket, {line.id: "approved" for line in lines})
    assert resp.status_code == 403
    assert "Please enter the PIN from your ticket first." in resp.get_data(as_text=True)
    assert approvals() == 0
    assert en.get(f"/t/{ticket.token}/repair-order").status_code == 303


def test_unlocked_card_lists_lines_with_prices(en, factory, site, advisor, catalogue):
    ticket = presented(factory, site, advisor, catalogue)
    unlock(en, ticket)
    est, lines = lines_of(ticket)
    for url in (f"/t/{ticket.token}", f"/t/{ticket.token}/fragment"):
        html = en.get(url).get_data(as_text=True)
        assert "Approve your repair" in html and "Approve all" in html
        assert "Replace front brake pads" in html and "Front brake pads" in html
        assert "¥450.00" in html and "¥777.00" in html and "× 2" in html and "1.5 h" in html
        assert f'name="version" value="{est.version}"' in html
        # The running total is the server's (asked on each tap), no money figures for a script.
        assert f'data-line="{lines[0].id}"' in html and "data-fen" not in html and "data-tax-bp" not in html
        assert f'hx-get="/t/{ticket.token}/approve/total"' in html and "CN¥0.00" in html
        assert "incl. 13% tax" in html
        assert "¥1,386.51" in html                                      # everything approved, with tax
        assert "inspection and diagnosis fee of CN¥200.00" in html
        assert estimates.CONSENT_TEXT in html
        assert 'name="csrf_token" value="' in html and "\x00" not in html


# ---------------------------------------------------------------- deciding

def test_approve_one_decline_one_records_a_chained_approval(en, factory, site, advisor, catalogue):
    first = presented(factory, site, advisor, catalogue)
    unlock(en, first)
    est, (labour, part) = lines_of(first)
    reserved_before = db.session.get(Part, catalogue["part"].id).reserved
    resp = approve(en, first, {labour.id: "declined", part.id: "approved"}, reasons={labour.id: "Too expensive"})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/t/{first.token}#approval")

    html = en.get(f"/t/{first.token}").get_data(as_text=True)
    assert "Thank you — your decision was sent" in html and 'data-approval="decided"' in html
    assert f'data-line="{part.id}" data-decision="approved"' in html
    assert f'data-line="{labour.id}" data-decision="declined"' in html and "Too expensive" in html
    assert "¥878.01" in html                                 # 777.00 + 13 % tax
    assert 'data-repair-order-link' in html

    a = db.session.scalars(select(Approval)).one()
    assert a.channel == "remote" and a.version == est.version and a.estimate_id == est.id
    assert json.loads(a.decisions) == {str(labour.id): {"decision": "declined", "reason": "Too expensive"},
                                       str(part.id): {"decision": "approved", "reason": None}}
    assert a.shown_sha256 == hashlib.sha256(a.shown.encode()).hexdigest()
    shown = json.loads(a.shown)
    assert shown["version"] == est.version and {line["id"] for line in shown["lines"]} == {labour.id, part.id}
    assert a.ip == "127.0.0.1" and a.user_agent == UA
    assert a.consent_text == estimates.CONSENT_TEXT and a.prev_hash is None
    assert db.session.get(Part, catalogue["part"].id).reserved == reserved_before + 2
    assert db.session.get(Visit, first.visit_id).state == "dispatch"

    # A second visit's approval chains onto the first.
    second = presented(factory, site, advisor, catalogue, plate="京B67890")
    unlock(en, second)
    _est2, lines2 = lines_of(second)
    assert approve(en, second, {line.id: "approved" for line in lines2}).status_code == 303
    records = db.session.scalars(select(Approval).order_by(Approval.id)).all()
    assert len(records) == 2 and records[1].prev_hash == records[0].record_hash
    assert estimates.verify_chain(site.id)
    assert db.session.get(Part, catalogue["part"].id).reserved == reserved_before + 4


def test_stale_version_is_refused_with_the_new_version(en, factory, site, advisor, catalogue):
    ticket = presented(factory, site, advisor, catalogue)
    unlock(en, ticket)
    est, lines = lines_of(ticket)
    old = {line.id: "approved" for line in lines}
    visit = db.session.get(Visit, ticket.visit_id)
    estimates.add_line(visit, parse_line({"kind": "labour", "description": "四轮定位", "quantity": "1"}), advisor)  # version 2
    resp = approve(en, ticket, old, version=1)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "The estimate was changed by your advisor — please review it again." in html
    assert "Version 2" in html and 'data-approval="draft"' in html
    estimates.present(db.session.get(Visit, ticket.visit_id), advisor)
    resp = approve(en, ticket, old, version=1)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "please review it again" in html
    assert 'name="version" value="2"' in html and "四轮定位" in html
    assert approvals() == 0
    assert db.session.get(Visit, ticket.visit_id).state == "authorisation"


def test_double_post_records_one_approval(en, factory, site, advisor, catalogue):
    ticket = presented(factory, site, advisor, catalogue)
    token = unlock(en, ticket)
    _est, lines = lines_of(ticket)
    decisions = {line.id: "approved" for line in lines}
    assert approve(en, ticket, decisions, token=token).status_code == 303
    again = approve(en, ticket, decisions, version=1, token=token)
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "Your decision on this estimate was already recorded." in html and 'data-approval="decided"' in html
    assert approvals() == 1


def test_every_line_must_be_decided(en, factory, site, advisor, catalogue):
    ticket = presented(factory, site, advisor, catalogue)
    unlock(en, ticket)
    _est, lines = lines_of(ticket)
    resp = approve(en, ticket, {lines[0].id: "approved"})
    assert resp.status_code == 422
    assert "Please approve or decline every line." in resp.get_data(as_text=True)
    assert approvals() == 0
    assert approve(en, ticket, {lines[0].id: "approved", lines[1].id: "maybe"}).status_code == 422
    assert en.post(f"/t/{ticket.token}/approve", data={"version": "x", "csrf_token": csrf_token(en, f"/t/{ticket.token}")}).status_code == 400


def test_all_declined_closes_with_the_diagnosis_fee(en, factory, site, advisor, catalogue):
    ticket = presented(factory, site, advisor, catalogue)
    unlock(en, ticket)
    _est, lines = lines_of(ticket)
    reserved_before = db.session.get(Part, catalogue["part"].id).reserved
    assert approve(en, ticket, {line.id: "declined" for line in lines}).status_code == 303
    est, all_lines = lines_of(ticket)
    assert db.session.get(Visit, ticket.visit_id).state == "ready"
    fee = [line for line in all_lines if line.id not in {x.id for x in lines}]
    assert len(fee) == 1 and fee[0].kind == "diagnosis" and fee[0].decision == "approved"
    assert fee[0].unit_price == site.diagnosis_fee
    assert db.session.get(Part, catalogue["part"].id).reserved == reserved_before
    html = en.get(f"/t/{ticket.token}").get_data(as_text=True)
    assert "only the inspection and diagnosis fee is charged" in html and "¥226.00" in html


def test_csrf_is_required(en, factory, site, advisor, catalogue):
    ticket = presented(factory, site, advisor, catalogue)
    unlock(en, ticket)
    _est, lines = lines_of(ticket)
    data = {"version": "1", **{f"decision-{line.id}": "approved" for line in lines}}
    assert en.post(f"/t/{ticket.token}/approve", data=data).status_code == 400
    assert approvals() == 0


def test_another_ticket_cannot_approve_this_visit(en, factory, site, advisor, catalogue):
    mine = presented(factory, site, advisor, catalogue)
    theirs = presented(factory, site, advisor, catalogue, plate="京B67890")
    unlock(en, mine)
    _e1, my_lines = lines_of(mine)
    _e2, their_lines = lines_of(theirs)
    # The PIN of one ticket does not unlock another.
    assert approve(en, theirs, {line.id: "approved" for line in their_lines}).status_code == 403
    # Their line ids through my token are not lines of my estimate.
    assert approve(en, mine, {line.id: "approved" for line in their_lines}).status_code == 422
    assert approvals() == 0
    assert db.session.get(Visit, theirs.visit_id).state == "authorisation"


def test_customer_copy_of_the_repair_order(en, factory, site, advisor, catalogue):
    ticket = presented(factory, site, advisor, catalogue)
    unlock(en, ticket)
    visit = db.session.get(Visit, ticket.visit_id)
    resp = en.get(f"/t/{ticket.token}/repair-order")
    assert resp.status_code == 200
    assert visit.repair_order.number in resp.get_data(as_text=True)
