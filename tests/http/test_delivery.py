"""The handover (交车) over HTTP (/advisor/visits/<id>/delivery…): roles and site scoping, CSRF,
wrong state, an incomplete checklist and a stale signature refused with messages, completion
waiting for the cashier, and delivery with a settled bill (vehicle out time, follow-up)."""
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.factories import job_at_dispatch, png_data_url, visit_ready
from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.handover import ITEMS
from webapp.models import Bill, Delivery, FollowUp, Signature, Visit
from webapp.services import delivery as svc

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def ready(shop, factory):
    site, advisor = shop.site, shop.advisor
    return visit_ready(factory, site, advisor)


def post(client, url, data=None, csrf=True):
    headers = dict(HX)
    if csrf:
        headers["X-CSRFToken"] = csrf_token(client, "/advisor")
    return client.post(url, data=data or {}, headers=headers)


def base(visit):
    return f"/advisor/visits/{visit.id}/delivery"


def tick_all(client, visit, items=ITEMS):
    for item in items:
        r = post(client, base(visit) + "/items", {"item": item, "checked": "1"})
        assert r.status_code == 200, r.get_data(as_text=True)[:300]


def shown_hash(html):
    import re
    return re.search(r'data-content-hash="([0-9a-f]{64})"', html).group(1)


def fresh(visit_id):
    db.session.expire_all()
    return db.session.get(Visit, visit_id)


def sign(client, visit, content_hash=None):
    if content_hash is None:
        content_hash = shown_hash(client.get(base(visit), headers=HX).get_data(as_text=True))
    return post(client, base(visit) + "/signature",
                {"signature": png_data_url(), "signer_name": "张三", "content_hash": content_hash})


# ---------------------------------------------------------------- roles, scoping, CSRF

@pytest.mark.parametrize("role, status", [("advisor", 200), ("manager", 200), ("admin", 200),
                                          ("cashier", 403), ("technician", 403), ("qc", 403), ("csi", 403)])
def test_roles(client, factory, shop, ready, role, status):
    site = shop.site
    login(client, factory.user(site, role))
    assert client.get(base(ready), headers=HX).status_code == status
    if status == 403:
        assert post(client, base(ready) + "/items", {"item": "car_fetched", "checked": "1"}).status_code == 403
        assert fresh(ready.id).delivery is None


def test_other_site_is_404(client, factory, ready):
    other = factory.site(code="dl2")
    login(client, factory.user(other, "advisor"))
    assert client.get(base(ready), headers=HX).status_code == 404
    assert post(client, base(ready) + "/items", {"item": "car_fetched", "checked": "1"}).status_code == 404
    assert post(client, base(ready) + "/complete").status_code == 404


def test_csrf_required(client, shop, ready):
    login(client, shop.advisor)
    assert post(client, base(ready) + "/items", {"item": "car_fetched", "checked": "1"}, csrf=False).status_code == 400
    assert post(client, base(ready) + "/complete", csrf=False).status_code == 400
    assert fresh(ready.id).delivery is None


def test_unknown_item_is_400(client, shop, ready):
    login(client, shop.advisor)
    assert post(client, base(ready) + "/items", {"item": "paid", "checked": "1"}).status_code == 400


# ---------------------------------------------------------------- the page

def test_visit_page_shows_the_checklist_with_what_it_is_checked_against(client, shop, ready):
    from webapp.models import DamageMark
    from webapp.services.intake import intake_for
    intake = intake_for(ready)
    intake.valuables_left, intake.valuables = True, "行车记录仪"   # the walk-around's answer
    intake.accessories = '["spare_tyre"]'
    db.session.add(DamageMark(site_id=ready.site_id, intake=intake, zone="front_bumper", kind="scratch", note="左侧"))
    db.session.commit()
    login(client, shop.advisor)
    html = client.get(f"/advisor/visits/{ready.id}").get_data(as_text=True)
    assert 'id="sec-delivery"' in html and "css/delivery.css" in html and 'id="delivery-slot"' in html
    for label in ("Car fetched from the workshop", "Exterior checked against the intake form",
                  "Old parts left at the shop, as agreed", "Work done and advice explained"):
        assert label in html
    assert "Front bumper" in html and "左侧" in html and "行车记录仪" in html and "Spare tyre" in html
    assert f"/advisor/visits/{ready.id}/intake/print" in html
    assert 'data-old-parts="leave"' in html and "the old parts stay at the shop" in html
    assert "No e-mail address on file" in html          # the ready notice was skipped: call the customer
    assert "The customer signs once every item is checked." in html
    assert "data-signature-pad" not in html.split('id="sec-delivery"')[1].split("</section>")[0]


def test_before_ready_the_section_says_so_and_refuses_ticks(client, factory, shop):
    site, advisor = shop.site, shop.advisor
    visit = job_at_dispatch(factory, site, advisor)
    login(client, advisor)
    html = client.get(base(visit), headers=HX).get_data(as_text=True)
    assert "opens when the car is ready for pickup" in html
    r = post(client, base(visit) + "/items", {"item": "car_fetched", "checked": "1"})
    assert r.status_code == 409
    assert "only possible while the car is ready for pickup" in r.get_data(as_text=True)
    assert post(client, base(visit) + "/complete").status_code == 409
    assert fresh(visit.id).delivery is None


# ---------------------------------------------------------------- ticks, refusals

def test_ticks_save_as_made_and_untick(client, shop, ready):
    login(client, shop.advisor)
    r = post(client, base(ready) + "/items", {"item": "car_fetched", "checked": "1"})
    assert r.status_code == 200 and "HX-Retarget" not in r.headers
    assert "1 of 6 checked" in r.get_data(as_text=True)
    assert fresh(ready.id).delivery.car_fetched is True
    post(client, base(ready) + "/items", {"item": "car_fetched"})          # unticked: no "checked"
    assert fresh(ready.id).delivery.car_fetched is False
    assert db.session.query(Delivery).filter_by(visit_id=ready.id).count() == 1


def test_incomplete_checklist_is_refused_with_a_message_per_item(client, shop, ready):
    login(client, shop.advisor)
    tick_all(client, ready, ["car_fetched", "covers_removed"])
    r = post(client, base(ready) + "/complete")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert html.count("Tick this item with the customer first.") == 4
    assert 'id="exterior_checked-error"' in html and 'id="car_fetched-error"' not in html
    assert "The customer has not signed the checklist as it stands." in html
    assert fresh(ready.id).delivery.completed_at is None
    # signing before everything is ticked is refused too
    r = post(client, base(ready) + "/signature", {"signature": png_data_url(), "content_hash": ""})
    assert r.status_code == 422 and "Tick this item" in r.get_data(as_text=True)
    assert db.session.query(Signature).filter_by(visit_id=ready.id, document="delivery").count() == 0


def test_missing_signature_drawing_is_422(client, shop, ready):
    login(client, shop.advisor)
    tick_all(client, ready)
    html = client.get(base(ready), headers=HX).get_data(as_text=True)
    r = post(client, base(ready) + "/signature", {"signature": "", "signer_name": "李四", "content_hash": shown_hash(html)})
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "Ask the customer to sign in the box." in body and 'value="李四"' in body


def test_stale_signature_is_refused(client, shop, ready):
    login(client, shop.advisor)
    tick_all(client, ready)
    html = client.get(base(ready), headers=HX).get_data(as_text=True)
    old_hash = shown_hash(html)
    # the checklist changes while the customer is signing: the signature of the old one is refused
    assert post(client, base(ready) + "/notes", {"notes": "雨刮片建议下次更换"}).status_code == 200
    r = sign(client, ready, old_hash)
    assert r.status_code == 409 and "The checklist changed while the customer was signing" in r.get_data(as_text=True)
    assert sign(client, ready).status_code == 200
    # signed, then changed: completing needs a new signature
    post(client, base(ready) + "/notes", {"notes": "雨刮片建议下次更换。"})
    r = post(client, base(ready) + "/complete")
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "The customer has not signed the checklist as it stands." in body and 'data-delivery-signed="stale"' in body
    assert fresh(ready.id).delivery.completed_at is None


def test_notes_too_long_are_kept(client, shop, ready):
    login(client, shop.advisor)
    r = post(client, base(ready) + "/notes", {"notes": "长" * 2001})
    assert r.status_code == 422 and "At most 2,000 characters." in r.get_data(as_text=True)
    assert "长" * 2001 in r.get_data(as_text=True)


# ---------------------------------------------------------------- completion

def test_completion_waits_for_settlement_then_double_submit_changes_nothing(client, shop, ready):
    login(client, shop.advisor)
    tick_all(client, ready)
    assert sign(client, ready).status_code == 200
    assert sign(client, ready).status_code == 200               # double submit: one signature
    assert db.session.query(Signature).filter_by(visit_id=ready.id, document="delivery").count() == 1
    r = post(client, base(ready) + "/complete")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Waiting for settlement at the cashier" in html
    assert 'data-delivery-state="waiting_settlement"' in html
    visit = fresh(ready.id)
    first = visit.delivery.completed_at
    assert first is not None and visit.delivery.completed_by_id == shop.advisor.id and visit.state == "ready"
    assert visit.delivery.signature_id is not None
    r = post(client, base(ready) + "/complete")
    assert r.status_code == 200
    visit = fresh(ready.id)
    assert visit.delivery.completed_at == first and visit.state == "ready"
    assert db.session.query(Delivery).filter_by(visit_id=ready.id).count() == 1
    # the checklist is closed now
    r = post(client, base(ready) + "/items", {"item": "car_fetched"})
    assert r.status_code == 409 and "already completed" in r.get_data(as_text=True)
    # the cashier settles later: their service calls closing.deliver_if_complete
    from webapp.services import closing
    db.session.add(Bill(site_id=visit.site_id, visit_id=visit.id, status="paid", number="JS-1", total=Decimal("305.10")))
    db.session.commit()
    visit = fresh(ready.id)
    assert closing.deliver_if_complete(visit, shop.advisor) is True
    db.session.commit()
    html = client.get(base(ready), headers=HX).get_data(as_text=True)
    assert "Delivered · vehicle out at" in html and 'data-delivery-state="delivered"' in html


def test_with_a_settled_bill_completion_delivers_and_schedules_the_follow_up(client, shop, ready):
    site, advisor = shop.site, shop.advisor
    db.session.add(Bill(site_id=site.id, visit_id=ready.id, status="paid", number="JS-2", total=Decimal("305.10")))
    db.session.commit()
    login(client, advisor)
    tick_all(client, ready)
    assert sign(client, ready).status_code == 200
    r = post(client, base(ready) + "/complete")
    assert r.status_code == 200
    assert "Delivered · vehicle out at" in r.get_data(as_text=True)
    visit = fresh(ready.id)
    assert visit.state == "delivered" and visit.delivered_at is not None
    assert visit.ticket.status == "done"
    follow = db.session.query(FollowUp).filter_by(visit_id=visit.id).one()
    assert follow.due_at == visit.delivered_at + timedelta(days=site.followup_days)
    # double submit after delivery: nothing more happens
    assert post(client, base(ready) + "/complete").status_code == 200
    assert db.session.query(FollowUp).filter_by(visit_id=visit.id).count() == 1
    assert [e.to_state for e in visit.events].count("delivered") == 1


def test_two_first_ticks_make_one_delivery(app, shop, ready):
    """The unique visit_id: a second first tick retries on the first's row."""
    site, advisor = shop.site, shop.advisor
    svc.set_item(ready, "car_fetched", True, advisor)
    db.session.add(Delivery(site_id=site.id, visit_id=ready.id))
    with pytest.raises(Exception):
        db.session.commit()
    db.session.rollback()
    assert db.session.query(Delivery).filter_by(visit_id=ready.id).count() == 1
