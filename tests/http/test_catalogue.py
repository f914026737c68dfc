"""Catalogue admin: roles, CSRF, validation next to the field, stock receipts and issues with
their movements, CSV import (BOM, bad rows with their row number, upsert)."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.models import LabourOperation, LabourRate, MaintenanceItem, Part, StockMovement
from webapp.validation import Invalid

BASE = "/admin/catalogue"


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")   # messages checked in English (zh is the default)


@pytest.fixture
def shop(shop):
    """The shared shop, with one part in stock (5 on hand, 2 reserved) and one labour operation."""
    site = shop.site
    shop.part = Part(site_id=site.id, number="FLT-OIL-01", name_zh="机油滤清器", name_en="Oil filter",
                     unit_price=Decimal("58.00"), on_hand=Decimal("5"), reserved=Decimal("2"))
    shop.op = LabourOperation(site_id=site.id, code="M001", name_zh="更换机油机滤", name_en="Oil change",
                              hours=Decimal("0.5"), kind="mechanical")
    db.session.add_all([shop.part, shop.op])
    db.session.commit()
    return shop


def post(client, url, data=None, **kw):
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, BASE + "/parts"))
    return client.post(url, data=data, **kw)


def part_id(shop):
    return shop.part.id


# ---------------------------------------------------------------- roles and CSRF

def test_needs_login(client, shop):
    resp = client.get(BASE + "/parts")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_technician_is_refused(client, shop):
    login(client, shop.technician)
    for page in ("/operations", "/rates", "/parts", "/maintenance", f"/parts/{part_id(shop)}"):
        assert client.get(BASE + page).status_code == 403
    assert client.post(BASE + f"/parts/{part_id(shop)}/receive", data={"quantity": "1"}).status_code in (400, 403)


def test_advisor_reads_but_cannot_change(client, shop):
    login(client, shop.advisor)
    for page in ("/operations", "/rates", "/parts", "/maintenance", f"/parts/{part_id(shop)}"):
        resp = client.get(BASE + page)
        assert resp.status_code == 200, page
    html = client.get(BASE + "/parts").get_data(as_text=True)
    assert "FLT-OIL-01" in html and 'method="post"' not in html.split('</header>')[1]   # no forms to change anything
    token = csrf_token(client, BASE + "/parts")
    for url, data in ((f"/parts/{part_id(shop)}/receive", {"quantity": "1", "reference": "x"}),
                      (f"/parts/{part_id(shop)}/issue", {"quantity": "1"}),
                      ("/operations", {"code": "X1", "name_zh": "x", "name_en": "x", "hours": "1"}),
                      ("/rates", {"rate_default": "100"}),
                      ("/parts", {"number": "N1", "name_zh": "x", "name_en": "x", "unit_price": "1"})):
        assert client.post(BASE + url, data={**data, "csrf_token": token}).status_code == 403, url
    assert client.get(BASE + "/import/parts").status_code == 403
    assert db.session.get(Part, part_id(shop)).on_hand == Decimal("5")


def test_parts_clerk_keeps_stock_but_not_labour(client, shop):
    login(client, shop.parts)
    assert client.get(BASE + "/import/parts").status_code == 200
    assert client.get(BASE + "/import/operations").status_code == 403
    resp = post(client, BASE + "/operations", {"code": "X1", "name_zh": "x", "name_en": "x", "hours": "1"})
    assert resp.status_code == 403
    resp = post(client, BASE + f"/parts/{part_id(shop)}/receive", {"quantity": "3", "reference": "DN-1"})
    assert resp.status_code == 302


def test_csrf_required(client, shop):
    login(client, shop.parts)
    resp = client.post(BASE + f"/parts/{part_id(shop)}/receive", data={"quantity": "3", "reference": "DN-1"})
    assert resp.status_code == 400
    assert db.session.get(Part, part_id(shop)).on_hand == Decimal("5")


# ---------------------------------------------------------------- stock

def test_receipt_moves_stock_and_records_who(client, shop):
    login(client, shop.parts)
    resp = post(client, BASE + f"/parts/{part_id(shop)}/receive", {"quantity": "10", "reference": "DN-20261129"})
    assert resp.status_code == 302
    part = db.session.get(Part, part_id(shop))
    assert part.on_hand == Decimal("15") and part.available == Decimal("13")
    mv = db.session.scalars(select(StockMovement).where(StockMovement.part_id == part.id)).one()
    assert (mv.kind, mv.quantity, mv.reference, mv.user_id) == ("receipt", Decimal("10"), "DN-20261129", shop.parts.id)
    html = client.get(BASE + f"/parts/{part.id}").get_data(as_text=True)
    assert "DN-20261129" in html and 'id="on-hand">15<' in html


@pytest.mark.parametrize("data,field,message", [
    ({"quantity": "0", "reference": "DN"}, "quantity", "greater than 0"),
    ({"quantity": "-2", "reference": "DN"}, "quantity", "greater than 0"),
    ({"quantity": "abc", "reference": "DN"}, "quantity", "greater than 0"),
    ({"quantity": "1.234", "reference": "DN"}, "quantity", "greater than 0"),
    ({"quantity": "2", "reference": ""}, "reference", "Required."),
])
def test_receipt_validation(client, shop, data, field, message):
    login(client, shop.parts)
    resp = post(client, BASE + f"/parts/{part_id(shop)}/receive", data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f'id="rc-{field}-error"' in html and message in html
    assert f'value="{data["quantity"]}"' in html   # what was typed is kept
    assert db.session.get(Part, part_id(shop)).on_hand == Decimal("5")
    assert db.session.scalar(select(StockMovement.id)) is None


def test_issue_moves_stock(client, shop):
    login(client, shop.parts)
    resp = post(client, BASE + f"/parts/{part_id(shop)}/issue", {"quantity": "3", "reference": "WS-7"})
    assert resp.status_code == 302
    part = db.session.get(Part, part_id(shop))
    assert part.on_hand == Decimal("2") and part.reserved == Decimal("2") and part.available == 0
    mv = db.session.scalars(select(StockMovement)).one()
    assert (mv.kind, mv.quantity, mv.user_id) == ("issue", Decimal("3"), shop.parts.id)


def test_issuing_more_than_available_is_refused(client, shop):
    login(client, shop.parts)
    # 5 on hand, 2 reserved for others: 4 is more than the 3 available.
    resp = post(client, BASE + f"/parts/{part_id(shop)}/issue", {"quantity": "4"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="is-quantity-error"' in html and "Not enough stock" in html
    part = db.session.get(Part, part_id(shop))
    assert part.on_hand == Decimal("5") and db.session.scalar(select(StockMovement.id)) is None


def test_issue_for_a_visit_uses_its_reservation(app, shop, factory):
    """Service level: what is reserved for the visit may be issued to it, and that reservation ends."""
    from webapp.models import Estimate, EstimateLine
    from webapp.services import catalogue as svc
    ticket = factory.walkin(shop.site)
    visit = ticket.visit
    est = Estimate(site_id=visit.site_id, visit_id=visit.id)
    db.session.add(est)
    db.session.flush()
    line = EstimateLine(site_id=visit.site_id, estimate_id=est.id, kind="part", part_id=shop.part.id,
                        description="机油滤清器", quantity=Decimal("2"), unit_price=Decimal("58"), reserved=True)
    db.session.add(line)
    db.session.commit()
    part = db.session.get(Part, shop.part.id)
    with pytest.raises(Invalid):
        svc.issue_stock(part, "6", None, shop.parts, visit)          # 3 free + 2 reserved for it < 6
    svc.issue_stock(part, "5", None, shop.parts, visit)
    assert (part.on_hand, part.reserved) == (Decimal("0"), Decimal("0"))
    assert db.session.get(EstimateLine, line.id).reserved is False
    mv = db.session.scalars(select(StockMovement)).one()
    assert mv.visit_id == visit.id and mv.kind == "issue"


# ---------------------------------------------------------------- catalogue forms

def test_operation_validation_and_create(client, shop):
    login(client, shop.manager)
    resp = post(client, BASE + "/operations", {"code": "m001", "name_zh": "", "name_en": "Wheel alignment",
                                               "hours": "120", "kind": "mechanical"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "This code is used by another operation." in html      # codes are upper-cased: M001 exists
    assert 'id="f-name_zh-error"' in html and 'id="f-hours-error"' in html
    assert 'value="Wheel alignment"' in html
    resp = post(client, BASE + "/operations", {"code": "m011", "name_zh": "四轮定位", "name_en": "Wheel alignment",
                                               "hours": "1.0", "kind": "mechanical", "active": "1"})
    assert resp.status_code == 302
    op = db.session.scalar(select(LabourOperation).where(LabourOperation.code == "M011"))
    assert op.hours == Decimal("1.00") and op.active
    # Edit keeps its own code.
    resp = post(client, BASE + f"/operations/{op.id}", {"code": "M011", "name_zh": "四轮定位", "name_en": "Alignment",
                                                        "hours": "0.1", "kind": "mechanical"})
    assert resp.status_code == 302
    db.session.expire_all()
    op = db.session.get(LabourOperation, op.id)
    assert op.name_en == "Alignment" and op.hours == Decimal("0.10") and op.active is False


def test_part_validation(client, shop):
    login(client, shop.parts)
    resp = post(client, BASE + "/parts", {"number": "flt-oil-01", "name_zh": "x", "name_en": "x",
                                          "unit_price": "1000000.01", "lead_days": "2"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "This part number exists already." in html and "Enter a price from 0 to 1,000,000" in html
    resp = post(client, BASE + "/parts", {"number": "brk-pad-f", "name_zh": "前刹车片", "name_en": "Front brake pads",
                                          "unit_price": "460", "lead_days": "3"})
    assert resp.status_code == 302
    p = db.session.scalar(select(Part).where(Part.number == "BRK-PAD-F"))
    assert p.unit_price == Decimal("460.00") and p.on_hand == 0


def test_rates(client, shop):
    login(client, shop.manager)
    resp = post(client, BASE + "/rates", {"rate_default": "", "rate_paint": "abc"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="f-rate_default-error"' in html and 'id="f-rate_paint-error"' in html
    resp = post(client, BASE + "/rates", {"rate_default": "180", "rate_paint": "260.00", "rate_bodywork": ""})
    assert resp.status_code == 302
    rates = {r.kind: r.rate for r in db.session.scalars(select(LabourRate))}
    assert rates == {"default": Decimal("180.00"), "paint": Decimal("260.00")}


def test_maintenance_item(client, shop):
    login(client, shop.manager)
    resp = post(client, BASE + "/maintenance", {"operation_id": str(shop.op.id), "model": "Camry"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Enter a distance, a time, or both." in html and "Enter the make as well." in html
    resp = post(client, BASE + "/maintenance", {"operation_id": str(shop.op.id), "part_id": str(shop.part.id),
                                                "part_quantity": "1", "every_km": "5000", "every_months": "6"})
    assert resp.status_code == 302
    item = db.session.scalars(select(MaintenanceItem)).one()
    assert (item.every_km, item.every_months, item.part_quantity) == (5000, 6, Decimal("1.00"))
    assert "Oil change" in client.get(BASE + "/maintenance").get_data(as_text=True)


# ---------------------------------------------------------------- CSV import

def upload(client, catalogue, content: bytes):
    import io
    return post(client, BASE + f"/import/{catalogue}",
                {"file": (io.BytesIO(content), "import.csv")}, content_type="multipart/form-data")


def test_parts_csv_with_bom_bad_row_and_upsert(client, shop):
    login(client, shop.parts)
    csv_text = ("number,name_zh,name_en,unit_price,lead_days\n"
                "FLT-OIL-01,机油滤清器(新),Oil filter,62.50,2\n"       # row 2: updates the existing part
                "BRK-PAD-R,后刹车片,Rear brake pads,380,4\n"          # row 3: new
                "BAD-1,坏行,Bad row,-5,2\n"                          # row 4: negative price
                "SPK-PLUG-01,火花塞,Spark plug,95.00,3\n")           # row 5: new
    resp = upload(client, "parts", "\ufeff".encode() + csv_text.encode("utf-8"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="created">2<' in html and 'id="updated">1<' in html and 'id="error-count">1<' in html
    assert '<td class="num">4</td><td class="code">unit_price</td>' in html
    parts = {p.number: p for p in db.session.scalars(select(Part))}
    assert set(parts) == {"FLT-OIL-01", "BRK-PAD-R", "SPK-PLUG-01"}
    assert parts["FLT-OIL-01"].unit_price == Decimal("62.50") and parts["FLT-OIL-01"].name_zh == "机油滤清器(新)"
    assert parts["FLT-OIL-01"].on_hand == Decimal("5")   # import never touches stock


def test_operations_and_maintenance_csv(client, shop):
    login(client, shop.manager)
    resp = upload(client, "operations", (
        "code,name_zh,name_en,hours,kind\r\n"
        "M011,四轮定位,Wheel alignment,1.0,mechanical\r\n"
        "M001,更换机油机滤,Oil and filter change,0.6,mechanical\r\n"
        "X9,,No Chinese name,200,rocket\r\n").encode("utf-8"))      # no BOM, CRLF
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="created">1<' in html and 'id="updated">1<' in html and 'id="error-count">3<' in html
    assert db.session.scalar(select(LabourOperation).where(LabourOperation.code == "M001")).hours == Decimal("0.60")
    resp = upload(client, "maintenance", (
        "make,model,operation_code,part_number,part_quantity,every_km,every_months\n"
        ",,M001,FLT-OIL-01,1,5000,6\n"
        ",,M011,,,20000,\n"
        ",,NOPE,,,20000,\n"
        ",,M001,FLT-OIL-01,1,7500,6\n").encode("utf-8"))             # row 5 updates row 2's item
    html = resp.get_data(as_text=True)
    assert 'id="created">2<' in html and 'id="updated">1<' in html and 'id="error-count">1<' in html
    assert '<td class="num">4</td><td class="code">operation_code</td>' in html
    items = db.session.scalars(select(MaintenanceItem).order_by(MaintenanceItem.id)).all()
    assert [(i.operation.code, i.every_km) for i in items] == [("M001", 7500), ("M011", 20000)]


def test_csv_file_problems(client, shop):
    login(client, shop.parts)
    resp = upload(client, "parts", b"")
    assert resp.status_code == 422 and "Choose a CSV file." in resp.get_data(as_text=True)
    resp = upload(client, "parts", "number,名称\n1,2\n".encode("gbk"))
    assert resp.status_code == 422 and "not UTF-8" in resp.get_data(as_text=True)
    resp = upload(client, "parts", b"foo,bar\n1,2\n")
    assert resp.status_code == 422 and "must name the columns" in resp.get_data(as_text=True)
