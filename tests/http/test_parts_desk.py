"""The parts desk (/parts): approved parts still on the shelf are listed per car and issued with one
tap, so the bill is no longer blocked by "issued 0, approved 2" that nobody was asked to fix."""
from decimal import Decimal

import pytest

from tests.factories import visit_ready
from tests.support import csrf_token, login
from tests.http.test_billing import add_part, approve_part
from webapp.extensions import db
from webapp.models import Part, StockMovement, Visit
from webapp.services import billing

pytestmark = pytest.mark.shop(roles=("advisor", "parts", "dispatcher", "cashier"))

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def desk(shop, factory):
    site, people = shop.site, shop.people
    visit = visit_ready(factory, site, people["advisor"], plate="京A30001")
    part = add_part(site, number="FLT-01", on_hand="5")
    approve_part(db.session.get(Visit, visit.id), part, quantity="2")
    return site, people, visit, part


def issue(client, visit_id, part_id):
    return client.post("/parts/issue", data={"visit_id": visit_id, "part_id": part_id},
                       headers={"X-CSRFToken": csrf_token(client, "/login"), **HX})


def test_the_parts_clerk_sees_and_issues_what_the_customer_approved(client, desk):
    site, p, visit, part = desk
    login(client, p["parts"])
    page = client.get("/parts/").get_data(as_text=True)
    assert f'data-issue="{visit.id}-{part.id}"' in page and "FLT-01" in page

    resp = issue(client, visit.id, part.id)
    assert resp.status_code == 200 and "Issued 2 × Oil filter FLT-01" in resp.get_data(as_text=True)
    assert f'data-issue="{visit.id}-{part.id}"' not in resp.get_data(as_text=True)
    assert db.session.get(Part, part.id).on_hand == Decimal("3")

    # A double tap or a replay issues nothing twice.
    assert issue(client, visit.id, part.id).status_code == 409
    moves = db.session.scalars(db.select(StockMovement).where(StockMovement.visit_id == visit.id)).all()
    assert [(m.kind, m.quantity) for m in moves] == [("issue", Decimal("2"))]

    # ... and the bill has no difference left to resolve.
    bill = billing.prepare_bill(db.session.get(Visit, visit.id), p["cashier"])
    assert bill.differences == []


def test_the_advisor_is_told_who_clears_an_unissued_part(client, desk):
    site, p, visit, part = desk
    login(client, p["advisor"])
    client.post(f"/cashier/visits/{visit.id}/bill/prepare", headers={"X-CSRFToken": csrf_token(client), **HX})
    html = client.get(f"/cashier/visits/{visit.id}/bill", headers=HX).get_data(as_text=True)
    assert "Issued less than approved" in html and "Parts to issue" in html


def test_the_dispatcher_sees_parts_not_issued_and_only_the_parts_desk_issues(client, factory, desk):
    site, p, visit, part = desk
    login(client, p["dispatcher"])
    assert "FLT-01" in client.get("/parts/").get_data(as_text=True)
    assert issue(client, visit.id, part.id).status_code == 403
    other = factory.site(code="pd2")
    stranger = factory.user(other, "parts", username="parts-other")
    login(client, stranger)
    assert "FLT-01" not in client.get("/parts/").get_data(as_text=True)
    assert issue(client, visit.id, part.id).status_code == 409          # not theirs: nothing to issue
    assert db.session.get(Part, part.id).on_hand == Decimal("5")


def test_not_enough_stock_is_said_and_nothing_moves(client, desk):
    site, p, visit, part = desk
    db.session.get(Part, part.id).on_hand = Decimal("1")
    db.session.commit()
    login(client, p["parts"])
    resp = issue(client, visit.id, part.id)
    assert resp.status_code == 409 and "Not enough in stock" in resp.get_data(as_text=True)
    assert db.session.get(Part, part.id).on_hand == Decimal("1")
