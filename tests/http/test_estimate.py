"""The advisor's estimate and repair order over HTTP: lines of each kind, validation with kept
values, warranty and totals to the fen, recommendations, RO numbering, presenting, versions,
the in-shop signed approval, the printed RO, roles, sites and CSRF."""
import re
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from tests.factories import confirm_suggestion, png_data_url
from tests.support import csrf_token, login
from webapp.commands.intake import parse_inspection
from webapp.extensions import db as _db
from webapp.models import (Approval, Concern, Estimate, LabourOperation, LabourRate, MaintenanceItem, Part,
                           Signature)
from webapp.services import ServiceError, calling
from webapp.services import estimates as est_svc
from webapp.services import intake as svc
from webapp.services import visits as visit_svc
from webapp.timeutil import local_day

pytestmark = pytest.mark.shop(roles=("advisor",), staff={"advisor": {"display_name": "王晓明"}})

HX = {"HX-Request": "true"}



# ---------------------------------------------------------------- catalogue and visits

def catalogue(site):
    """A small catalogue: a labour rate, two operations, two parts (one short), an oil service due
    every 10,000 km."""
    db = _db
    db.session.add_all([LabourRate(site_id=site.id, kind="default", rate=Decimal("300.00")),
                        LabourRate(site_id=site.id, kind="diagnosis", rate=Decimal("250.00"))])
    oil = LabourOperation(site_id=site.id, code="M001", name_zh="更换机油机滤", name_en="Oil and filter change",
                          hours=Decimal("0.5"), kind="mechanical")
    pads = LabourOperation(site_id=site.id, code="B010", name_zh="更换前刹车片", name_en="Replace front brake pads",
                           hours=Decimal("1.2"), kind="mechanical")
    filt = Part(site_id=site.id, number="06L115562", name_zh="机油滤清器", name_en="Oil filter",
                unit_price=Decimal("68.00"), on_hand=Decimal("10"))
    padset = Part(site_id=site.id, number="5QD698151", name_zh="前刹车片", name_en="Front brake pads",
                  unit_price=Decimal("480.00"), on_hand=Decimal("0"), lead_days=3)
    db.session.add_all([oil, pads, filt, padset])
    db.session.flush()
    db.session.add(MaintenanceItem(site_id=site.id, make="大众", operation_id=oil.id, part_id=filt.id,
                                   part_quantity=Decimal("1"), every_km=10000))
    db.session.commit()
    return {"oil": oil, "pads": pads, "filter": filt, "padset": padset}


def to_estimate(factory, advisor, plate="京A12345", mobile="13800138000", mileage="46000", concern="刹车异响"):
    """A visit through the real services up to the estimate stage."""
    ticket = factory.walkin(advisor.site, plate=plate, mobile=mobile)
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    confirm_suggestion(ticket.visit, advisor)  # the advisor links the stored car at the desk
    v = ticket.visit
    svc.start_inspection(v, advisor)
    svc.save_inspection(v, parse_inspection(MultiDict({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                      "mileage": mileage, "fuel_level": "1/2", "valuables_left": "no"})), advisor)
    svc.sign_intake(v, png_data_url(), "张三", "127.0.0.1", "pytest", advisor)
    svc.complete_inspection(v, advisor)
    svc.add_concern(v, concern, advisor)
    svc.complete_interview(v, advisor)
    return v


@pytest.fixture
def advisor(shop):
    return shop.advisor


@pytest.fixture
def cat(advisor):
    return catalogue(advisor.site)


@pytest.fixture
def visit(factory, advisor, cat):
    factory.customer_vehicle(advisor.site, plate="京A12345", mobile="13800138000", name="张三",
                             vin="LSVAM4187C2184847", make="大众", model="帕萨特", last_mileage=45000)
    return to_estimate(factory, advisor)


@pytest.fixture
def desk(client, advisor):
    login(client, advisor)
    client.set_cookie("lang", "en")
    return client


def post(client, url, data=None, csrf=True):
    headers = dict(HX)
    if csrf:
        headers["X-CSRFToken"] = csrf_token(client, "/advisor")
    return client.post(url, data=data or {}, headers=headers)


def add(client, visit, **form):
    form.setdefault("form", "line")
    return post(client, f"/advisor/visits/{visit.id}/estimate/lines", form)


def save_ro(client, visit, **over):
    data = {"payment_method": "wechat", "old_parts": "take", "car_wash": "yes", "delivery_explained": "1",
            "additional_work_consent": "1"}
    data.update(over)
    return post(client, f"/advisor/visits/{visit.id}/estimate/repair-order", data)


def estimate(visit):
    _db.session.expire_all()
    return _db.session.scalar(_db.select(Estimate).where(Estimate.visit_id == visit.id))


# ---------------------------------------------------------------- lines

def test_visit_page_shows_the_estimate_section_live(desk, visit):
    html = desk.get(f"/advisor/visits/{visit.id}").get_data(as_text=True)
    assert 'id="sec-estimate"' in html and f'data-live-channel="visit" data-live-visit="{visit.id}"' in html
    assert "live:estimate from:body" in html
    assert "css/estimate.css" in html


def test_add_labour_part_and_diagnosis_lines(desk, visit, cat):
    concern = _db.session.scalar(_db.select(Concern).where(Concern.visit_id == visit.id))
    r = add(desk, visit, kind="labour", operation_id=cat["pads"].id, concern_id=concern.id)
    assert r.status_code == 200, r.get_data(as_text=True)
    r = add(desk, visit, kind="part", part_id=cat["padset"].id, quantity="1", concern_id=concern.id)
    assert r.status_code == 200
    r = add(desk, visit, kind="labour", description="清洗节气门", quantity="0.8", unit_price="280")
    r = add(desk, visit, kind="diagnosis", description="底盘异响诊断", quantity="1", price_after_diagnosis="1")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    est = estimate(visit)
    kinds = [(l.kind, l.description, l.quantity, l.unit_price) for l in est.lines]
    assert kinds[0] == ("labour", "更换前刹车片", Decimal("1.20"), Decimal("300.00"))
    assert kinds[1] == ("part", "前刹车片", Decimal("1.00"), Decimal("480.00"))
    assert kinds[2] == ("labour", "清洗节气门", Decimal("0.80"), Decimal("280.00"))
    assert kinds[3][0] == "diagnosis" and est.lines[3].price_after_diagnosis
    assert "Concern: 刹车异响" in html and "Other items" in html
    assert 'data-availability="short"' in html and "short, expected" in html   # no brake pads on hand
    assert "price after diagnosis" in html and "Plus the repair found by the diagnosis" in html
    assert est.promised_at is not None and "Promised completion" in html


def test_delete_line(desk, visit, cat):
    add(desk, visit, kind="labour", operation_id=cat["oil"].id)
    line = estimate(visit).lines[0]
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/lines/{line.id}/delete")
    assert r.status_code == 200 and estimate(visit).lines == []


@pytest.mark.parametrize("field,value,message", [
    ("quantity", "-1", "Enter hours between 0.1 and 99"),
    ("quantity", "100000", "Enter hours between 0.1 and 99"),
    ("quantity", "1.255", "Enter hours between 0.1 and 99"),
    ("unit_price", "-5", "Enter an amount between 0 and 1,000,000"),
    ("unit_price", "99999999", "Enter an amount between 0 and 1,000,000"),
    ("unit_price", "12.345", "Enter an amount between 0 and 1,000,000"),
    ("discount_pct", "120", "Enter a discount between 0 and 100"),
])
def test_invalid_numbers_are_refused_with_the_typed_values_kept(desk, visit, field, value, message):
    form = {"kind": "labour", "description": "更换雨刮", "quantity": "1", "unit_price": "100"}
    form[field] = value
    r = add(desk, visit, **form)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert message in html and f'value="{value}"' in html and 'value="更换雨刮"' in html
    assert estimate(visit) is None or estimate(visit).lines == []


def test_part_quantity_bounds_and_missing_part(desk, visit, cat):
    r = add(desk, visit, kind="part", part_id=cat["filter"].id, quantity="1000")
    assert r.status_code == 422 and "Enter a quantity between 0.01 and 999" in r.get_data(as_text=True)
    r = add(desk, visit, kind="part", part_id="")
    assert r.status_code == 422 and "Choose a part from the list." in r.get_data(as_text=True)


def test_warranty_line_costs_the_customer_nothing_and_shows_the_claim(desk, visit, cat):
    r = add(desk, visit, kind="labour", operation_id=cat["pads"].id, warranty="1")
    html = r.get_data(as_text=True)
    line = estimate(visit).lines[0]
    assert line.warranty
    assert "warranty: customer pays CN¥0.00, claim CN¥360.00" in html
    t = est_svc.estimate_totals(estimate(visit))
    assert t.customer_pays == Decimal("0.00") and t.warranty_claims == Decimal("360.00")
    assert 'data-total="warranty_claims">CN¥360.00' in html


def test_totals_with_tax_and_discount_exact_to_the_fen(desk, visit, cat):
    add(desk, visit, kind="labour", description="检查", quantity="1.25", unit_price="333.33", discount_pct="10")
    add(desk, visit, kind="part", part_id=cat["filter"].id, quantity="3")
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/discount", {"discount": "50.55", "form": "discount"})
    html = r.get_data(as_text=True)
    # labour 1.25 × 333.33 = 416.6625 → 416.66, less 10 % = 374.994 → 374.99; parts 3 × 68 = 204.00
    # subtotal 578.99, discount 50.55 → 528.44, tax 13 % = 68.6972 → 68.70, pays 597.14
    assert 'data-total="labour">CN¥374.99' in html and 'data-total="parts">CN¥204.00' in html
    assert 'data-total="discount">−CN¥50.55' in html and 'data-total="tax">CN¥68.70' in html
    assert 'data-total="customer_pays">CN¥597.14' in html and "Tax (13 %)" in html
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/discount", {"discount": "-1", "form": "discount"})
    assert r.status_code == 422 and 'value="-1"' in r.get_data(as_text=True)


# ---------------------------------------------------------------- recommendations

def test_maintenance_due_is_recommended_and_can_be_added(desk, visit, cat):
    html = desk.get(f"/advisor/visits/{visit.id}/estimate").get_data(as_text=True)
    assert 'data-why="maintenance_due"' in html and "Maintenance due" in html
    key = re.search(r'data-rec="(m\d+)"', html).group(1)
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/recommended", {"key": key})
    assert r.status_code == 200
    lines = estimate(visit).lines
    assert [(l.kind, l.recommended) for l in lines] == [("labour", "maintenance_due"), ("part", "maintenance_due")]
    assert 'data-rec="' not in r.get_data(as_text=True)      # added: no longer recommended
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/recommended", {"key": key})
    assert r.status_code == 409 and "no longer open" in r.get_data(as_text=True)


def test_declined_item_is_recommended_on_the_next_visit(desk, factory, advisor, visit, cat):
    add(desk, visit, kind="labour", operation_id=cat["pads"].id)
    add(desk, visit, kind="labour", description="四轮定位", quantity="1", unit_price="200")
    save_ro(desk, visit)
    post(desk, f"/advisor/visits/{visit.id}/estimate/present")
    est = estimate(visit)
    decided = {est.lines[0].id: ("approved", None), est.lines[1].id: ("declined", "下次再做")}
    est_svc.decide(visit, est.version, decided, "remote")
    nxt = to_estimate(factory, advisor, mileage="47000", concern="保养")
    html = desk.get(f"/advisor/visits/{nxt.id}/estimate").get_data(as_text=True)
    assert 'data-why="declined_before"' in html and "四轮定位" in html and "Declined last time" in html


# ---------------------------------------------------------------- repair order and presenting

def test_repair_order_numbers_per_site_and_day(desk, factory, advisor, visit):
    r = save_ro(desk, visit)
    day = local_day("Asia/Shanghai")
    number = f"RO-{day:%Y%m%d}-0001"
    assert r.status_code == 200 and number in r.get_data(as_text=True)
    save_ro(desk, visit, payment_method="cash")     # saving again keeps the number
    _db.session.expire_all()
    assert visit.repair_order.number == number and visit.repair_order.payment_method == "cash"
    other = to_estimate(factory, advisor, plate="京B99999", mobile="13900139000")
    save_ro(desk, other)
    _db.session.expire_all()
    assert other.repair_order.number == f"RO-{day:%Y%m%d}-0002"


def test_repair_order_terms_are_required(desk, visit):
    r = save_ro(desk, visit, payment_method="bitcoin", additional_work_consent="")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Choose one of the options." in html and "Required." in html
    _db.session.expire_all()
    assert visit.repair_order is None


def test_present_needs_lines_and_a_repair_order(desk, visit, cat):
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/present")
    assert r.status_code == 422 and "Add at least one line" in r.get_data(as_text=True)
    add(desk, visit, kind="labour", operation_id=cat["oil"].id)
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/present")
    assert r.status_code == 422 and "Save the repair order terms" in r.get_data(as_text=True)
    save_ro(desk, visit)
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/present")
    assert r.status_code == 200 and "HX-Trigger" not in r.headers
    html = r.get_data(as_text=True)
    assert '<div hx-swap-oob="morph" id="visit-body"' in html      # the progress block, same answer
    assert "data-approve-form" in html and "approve on their phone" in html
    _db.session.expire_all()
    assert visit.state == "authorisation" and estimate(visit).status == "presented"


def test_change_after_presenting_makes_a_new_version_and_resets_decisions(desk, advisor, visit, cat):
    add(desk, visit, kind="labour", operation_id=cat["oil"].id)
    save_ro(desk, visit)
    post(desk, f"/advisor/visits/{visit.id}/estimate/present")
    est = estimate(visit)
    est_svc.decide(visit, 1, {est.lines[0].id: ("approved", None)}, "remote")
    visit_svc.advance(visit, "repair", advisor)          # technician at work, then more is found
    r = add(desk, visit, kind="labour", description="更换空调滤芯", quantity="0.3", unit_price="300")
    assert r.status_code == 200
    est = estimate(visit)
    assert est.version == 2 and est.status == "draft"
    assert {l.decision for l in est.lines} == {"pending"}
    assert "version 2 needs a new approval" in r.get_data(as_text=True)
    # the customer's phone still shows version 1: refused
    post(desk, f"/advisor/visits/{visit.id}/estimate/present")
    with pytest.raises(ServiceError) as exc:
        est_svc.decide(visit, 1, {l.id: ("approved", None) for l in estimate(visit).lines}, "remote")
    assert exc.value.message == "stale_version"


def test_stale_version_in_the_shop_shows_the_message(desk, visit, cat):
    add(desk, visit, kind="labour", operation_id=cat["oil"].id)
    save_ro(desk, visit)
    post(desk, f"/advisor/visits/{visit.id}/estimate/present")
    line = estimate(visit).lines[0]
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/approve",
             {"version": "7", f"decision-{line.id}": "approved", "signature": png_data_url()})
    assert r.status_code == 409
    assert "The estimate changed: show the new version to the customer." in r.get_data(as_text=True)
    assert _db.session.scalar(_db.select(_db.func.count(Signature.id)).where(Signature.document == "repair_order")) == 0


def test_in_shop_decision_with_signature(desk, visit, cat):
    add(desk, visit, kind="labour", operation_id=cat["pads"].id)
    add(desk, visit, kind="part", part_id=cat["filter"].id, quantity="1")
    save_ro(desk, visit)
    post(desk, f"/advisor/visits/{visit.id}/estimate/present")
    a, b = estimate(visit).lines
    # no signature, one line undecided: 422, choices kept
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/approve",
             {"version": "1", f"decision-{a.id}": "approved", "signature": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Approve or decline every line." in html
    assert "Ask the customer to sign in the box." in html
    assert re.search(rf'name="decision-{a.id}" value="approved" checked', html)
    shown = est_svc.sha256(est_svc.canonical(est_svc.shown_payload(estimate(visit))))
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/approve",
             {"version": "1", f"decision-{a.id}": "approved", f"decision-{b.id}": "declined",
              f"reason-{b.id}": "自带配件", "signature": png_data_url(), "signer_name": "张三"})
    assert r.status_code == 200, r.get_data(as_text=True)
    approval = _db.session.scalar(_db.select(Approval).where(Approval.visit_id == visit.id))
    assert approval.channel == "in_shop" and approval.signature_id and approval.signer == "张三"
    assert approval.shown_sha256 == shown
    sig = _db.session.get(Signature, approval.signature_id)
    assert sig.document == "repair_order" and sig.content_hash == shown
    html = r.get_data(as_text=True)
    assert "Signed in the shop by 张三" in html and "自带配件" in html
    assert est_svc.verify_chain(visit.site_id)
    _db.session.expire_all()
    assert visit.state == "dispatch"
    # a double tap is refused
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/approve",
             {"version": "1", f"decision-{a.id}": "approved", f"decision-{b.id}": "approved",
              "signature": png_data_url()})
    assert r.status_code == 409 and "already decided" in r.get_data(as_text=True)


def test_repair_order_print(desk, visit, cat):
    add(desk, visit, kind="labour", operation_id=cat["pads"].id)
    add(desk, visit, kind="part", part_id=cat["filter"].id, quantity="2")
    save_ro(desk, visit)
    assert desk.get(f"/advisor/visits/{visit.id}/repair-order/print").status_code == 200
    post(desk, f"/advisor/visits/{visit.id}/estimate/present")
    a, b = estimate(visit).lines
    post(desk, f"/advisor/visits/{visit.id}/estimate/approve",
         {"version": "1", f"decision-{a.id}": "approved", f"decision-{b.id}": "approved",
          "signature": png_data_url(), "signer_name": "张三"})
    approval = _db.session.scalar(_db.select(Approval).where(Approval.visit_id == visit.id))
    r = desk.get(f"/advisor/visits/{visit.id}/repair-order/print")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert visit.repair_order.number in html and "任务委托书" in html and "Repair order" in html
    assert "更换前刹车片" in html and "机油滤清器" in html
    from webapp.models import Concern
    said = _db.session.scalar(_db.select(Concern.text).where(Concern.visit_id == visit.id))
    assert "客户描述" in html and f"“{said}”" in html   # the workshop copy says what the customer said
    # 1.2 × 300 = 360 + 2 × 68 = 136 → 496, tax 64.48, pays 560.48
    assert "¥560.48" in html and "¥64.48" in html
    assert approval.shown_sha256 in html
    assert f"/advisor/signatures/{approval.signature_id}.png" in html
    assert "<script>" not in html and 'style="' not in html


# ---------------------------------------------------------------- access

def test_technician_is_forbidden(client, factory, advisor, visit):
    tech = factory.user(advisor.site, "technician")
    login(client, tech)
    assert client.get(f"/advisor/visits/{visit.id}/estimate").status_code == 403
    r = post(client, f"/advisor/visits/{visit.id}/estimate/lines", {"kind": "labour"})
    assert r.status_code == 403


def test_other_site_is_not_found(client, factory, visit):
    other = factory.user(factory.site(code="sh01"), "advisor")
    login(client, other)
    assert client.get(f"/advisor/visits/{visit.id}/estimate").status_code == 404
    assert client.get(f"/advisor/visits/{visit.id}/repair-order/print").status_code == 404
    r = post(client, f"/advisor/visits/{visit.id}/estimate/lines", {"kind": "labour", "description": "x"})
    assert r.status_code == 404


def test_csrf_is_required(desk, visit):
    r = post(desk, f"/advisor/visits/{visit.id}/estimate/lines",
             {"kind": "labour", "description": "x", "quantity": "1"}, csrf=False)
    assert r.status_code == 400
    assert estimate(visit) is None
