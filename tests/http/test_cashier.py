"""The cashier's desk over HTTP (/cashier): bills waiting for payment, payments with their rules
(bad amounts, over the balance, cash and change, several payments, company account), a double
click recording one payment, concurrent payments never overpaying, closing an unpaid bill
refused, the visit delivered once paid and signed, credit notes, the printed pages, roles, site
scoping, CSRF."""
from decimal import Decimal

import pytest

from tests.factories import visit_ready
from tests.support import csrf_token, login, run_together
from webapp.extensions import db
from webapp.models import Bill, Delivery, FollowUp, Payment, Visit
from webapp.services import billing as svc
from webapp.timeutil import utcnow

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


def issued(factory, site, advisor, plate="京A12345") -> Bill:
    visit = visit_ready(factory, site, advisor, plate=plate)
    svc.prepare_bill(visit, advisor)
    return svc.issue_bill(visit, advisor)


def post(client, url, data=None):
    return client.post(url, data=data or {}, headers={"X-CSRFToken": csrf_token(client, "/login"), **HX})


def fresh(bill_id) -> Bill:
    db.session.expire_all()
    return db.session.get(Bill, bill_id)


def payments(bill_id):
    db.session.expire_all()
    return db.session.query(Payment).filter_by(bill_id=bill_id).order_by(Payment.id).all()


# ---------------------------------------------------------------- the list and roles

def test_the_cashier_sees_bills_waiting_for_payment(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued(factory, site, p["advisor"])
    draft_visit = visit_ready(factory, site, p["advisor"], plate="京B99999")
    svc.prepare_bill(draft_visit, p["advisor"])           # a draft is not the cashier's yet
    login(client, p["cashier"])
    resp = client.get("/cashier/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'data-live-channel="cashier"' in html
    assert f'data-bill="{bill.id}"' in html and "京A12345" in html and "张三" in html and "¥305.10" in html
    assert "京B99999" not in html
    assert client.get("/cashier/list", headers=HX).status_code == 200

    page = client.get(f"/cashier/bills/{bill.id}").get_data(as_text=True)
    assert 'name="amount"' in page and 'value="305.10"' in page      # prefilled with the balance
    assert bill.number in page and 'name="key"' in page


def test_roles_and_sites(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued(factory, site, p["advisor"])
    for role in ("technician", "advisor"):
        login(client, p[role])
        assert client.get("/cashier/").status_code == 403
        assert post(client, f"/cashier/bills/{bill.id}/payments", {"method": "wechat", "amount": "10"}).status_code == 403
        assert post(client, f"/cashier/bills/{bill.id}/credit-note", {"reason": "x"}).status_code == 403
        client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert payments(bill.id) == []
    # The advisor may print; the technician may not.
    login(client, p["advisor"])
    assert client.get(f"/cashier/bills/{bill.id}/print").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    other = factory.site(code="cs2")
    stranger = factory.user(other, "cashier", username="cash-other")
    login(client, stranger)
    assert client.get(f"/cashier/bills/{bill.id}").status_code == 404
    assert post(client, f"/cashier/bills/{bill.id}/payments", {"method": "wechat", "amount": "10"}).status_code == 404
    assert client.get(f"/cashier/bills/{bill.id}/print").status_code == 404
    assert "京A12345" not in client.get("/cashier/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    login(client, p["manager"])   # managers pass every role check
    assert client.get("/cashier/").status_code == 200


def test_csrf_is_required(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued(factory, site, p["advisor"])
    login(client, p["cashier"])
    resp = client.post(f"/cashier/bills/{bill.id}/payments", data={"method": "wechat", "amount": "10"}, headers=HX)
    assert resp.status_code == 400
    assert payments(bill.id) == []


# ---------------------------------------------------------------- payments

@pytest.mark.parametrize("method, amount, tendered, field, message", [
    ("wechat", "-5", "", "amount", "The amount must be more than zero."),
    ("card", "abc", "", "amount", "Enter the amount in figures, e.g. 100 or 100.50."),
    ("alipay", "10.123", "", "amount", "At most two decimals (fen)."),
    ("card", "400", "", "amount", "More than the balance of CN¥305.10: only cash may be tendered above it."),
    ("wechat", "", "", "amount", "Enter an amount."),
    ("cash", "305.10", "1O0", "tendered", "Enter the amount in figures, e.g. 100 or 100.50."),
    ("bitcoin", "10", "", "method", "Choose a payment method."),
])
def test_bad_amounts_are_refused_with_a_message(client, factory, shop, method, amount, tendered, field, message):
    site, p = shop.site, shop.people
    bill = issued(factory, site, p["advisor"])
    login(client, p["cashier"])
    resp = post(client, f"/cashier/bills/{bill.id}/payments",
                {"method": method, "amount": amount, "tendered": tendered, "key": "k-bad"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-error"' in html
    if field == "amount":
        assert f'value="{amount}"' in html       # what was typed is kept
    assert payments(bill.id) == []
    assert fresh(bill.id).status == "issued"


def test_two_methods_then_paid_in_full(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued(factory, site, p["advisor"])
    login(client, p["cashier"])
    resp = post(client, f"/cashier/bills/{bill.id}/payments",
                {"method": "wechat", "amount": "100", "reference": "WX4200001", "key": "k1"})
    assert resp.status_code == 200
    assert '<div hx-swap-oob="morph" id="cashier-list"' in resp.get_data(as_text=True)   # the lists come along
    html = resp.get_data(as_text=True)
    assert 'data-balance="205.10"' in html and 'value="205.10"' in html
    assert fresh(bill.id).status == "issued"

    resp = post(client, f"/cashier/bills/{bill.id}/payments",
                {"method": "cash", "amount": "205.10", "tendered": "300", "key": "k2"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "tendered CN¥300.00, change CN¥94.90" in html and "Paid in full." in html
    got = [(x.method, x.amount, x.tendered, x.change, x.reference) for x in payments(bill.id)]
    assert got == [("wechat", Decimal("100.00"), None, None, "WX4200001"),
                   ("cash", Decimal("205.10"), Decimal("300.00"), Decimal("94.90"), None)]
    b = fresh(bill.id)
    assert b.status == "paid" and b.closed_at is not None
    assert db.session.get(Visit, b.visit_id).state == "ready"       # the delivery checklist is not signed yet

    listing = client.get("/cashier/list", headers=HX).get_data(as_text=True)
    assert f'data-settled="{bill.id}"' in listing and f'data-bill="{bill.id}"' not in listing
    resp = post(client, f"/cashier/bills/{bill.id}/payments", {"method": "wechat", "amount": "1", "key": "k3"})
    assert resp.status_code == 409 and "This bill is already settled." in resp.get_data(as_text=True)


def test_a_double_click_records_one_payment(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued(factory, site, p["advisor"])
    login(client, p["cashier"])
    data = {"method": "card", "amount": "50", "key": "same-click"}
    assert post(client, f"/cashier/bills/{bill.id}/payments", data).status_code == 200
    assert post(client, f"/cashier/bills/{bill.id}/payments", data).status_code == 200
    assert [x.amount for x in payments(bill.id)] == [Decimal("50.00")]
    assert svc.bill_balance(fresh(bill.id)) == Decimal("255.10")


def test_company_account_closes_the_bill(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued(factory, site, p["advisor"])
    login(client, p["cashier"])
    post(client, f"/cashier/bills/{bill.id}/payments", {"method": "alipay", "amount": "5.10", "key": "a1"})
    resp = post(client, f"/cashier/bills/{bill.id}/company", {"company_name": " ", "key": "c1"})
    assert resp.status_code == 422 and "Enter the name of the company." in resp.get_data(as_text=True)
    resp = post(client, f"/cashier/bills/{bill.id}/company", {"company_name": "星驰物流有限公司", "key": "c2"})
    assert resp.status_code == 200
    b = fresh(bill.id)
    assert (b.status, b.company_name) == ("company", "星驰物流有限公司")
    assert [(x.method, x.amount) for x in payments(bill.id)] == [("alipay", Decimal("5.10")),
                                                                  ("company", Decimal("300.00"))]


def test_closing_an_unpaid_bill_is_refused(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued(factory, site, p["advisor"])
    login(client, p["cashier"])
    post(client, f"/cashier/bills/{bill.id}/payments", {"method": "card", "amount": "100", "key": "p1"})
    resp = post(client, f"/cashier/bills/{bill.id}/close")
    assert resp.status_code == 409
    assert "cannot be closed before it is paid in full" in resp.get_data(as_text=True)
    assert fresh(bill.id).status == "issued"
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    # Nor does the visit leave: the generic step READY → DELIVERED does not exist.
    login(client, p["advisor"])
    resp = post(client, f"/advisor/visits/{bill.visit_id}/advance", {"to": "delivered"})
    assert resp.status_code >= 400
    assert db.session.get(Visit, bill.visit_id).state == "ready"


def test_paying_the_bill_delivers_a_signed_off_car(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued(factory, site, p["advisor"])
    db.session.add(Delivery(site_id=site.id, visit_id=bill.visit_id, car_fetched=True, exterior_checked=True,
                            belongings_checked=True, covers_removed=True, old_parts_done=True, work_explained=True,
                            completed_at=utcnow(), completed_by_id=p["advisor"].id))
    db.session.commit()
    login(client, p["cashier"])
    resp = post(client, f"/cashier/bills/{bill.id}/payments", {"method": "card", "amount": "305.10", "key": "d1"})
    assert resp.status_code == 200
    assert "The car has been delivered." in resp.get_data(as_text=True)
    db.session.expire_all()
    visit = db.session.get(Visit, bill.visit_id)
    assert visit.state == "delivered" and visit.delivered_at is not None
    assert db.session.query(FollowUp).filter_by(visit_id=visit.id).one().due_at > visit.delivered_at


def test_payment_on_a_draft_bill_is_refused(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_ready(factory, site, p["advisor"])
    bill = svc.prepare_bill(visit, p["advisor"])
    login(client, p["cashier"])
    resp = post(client, f"/cashier/bills/{bill.id}/payments", {"method": "card", "amount": "1", "key": "x"})
    assert resp.status_code == 409 and "has not been issued yet" in resp.get_data(as_text=True)


# ---------------------------------------------------------------- credit notes

def test_credit_note_and_refund(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued(factory, site, p["advisor"])
    login(client, p["cashier"])
    resp = post(client, f"/cashier/bills/{bill.id}/credit-note", {"amount": "10", "reason": "x", "refund_method": "card"})
    assert resp.status_code == 409 and "Only a settled bill" in resp.get_data(as_text=True)
    post(client, f"/cashier/bills/{bill.id}/payments", {"method": "card", "amount": "305.10", "key": "f1"})

    resp = post(client, f"/cashier/bills/{bill.id}/credit-note", {"amount": "50", "reason": "", "refund_method": "card"})
    assert resp.status_code == 422 and "Give the reason for the credit note." in resp.get_data(as_text=True)
    resp = post(client, f"/cashier/bills/{bill.id}/credit-note", {"amount": "400", "reason": "工时多算", "refund_method": "card"})
    assert resp.status_code == 422 and "More than what is left to credit (CN¥305.10)." in resp.get_data(as_text=True)

    resp = post(client, f"/cashier/bills/{bill.id}/credit-note",
                {"amount": "113", "reason": "工时多算0.5小时", "refund_method": "card", "reference": "RF1"})
    assert resp.status_code == 200
    db.session.expire_all()
    (cn,) = svc.credited(fresh(bill.id))
    assert cn.kind == "credit_note" and cn.original_id == bill.id and cn.number.startswith("CN-")
    assert (cn.subtotal, cn.tax, cn.total) == (Decimal("-100.00"), Decimal("-13.00"), Decimal("-113.00"))
    assert [l.amount for l in cn.lines] == [Decimal("-100.00")]
    assert [(x.method, x.amount, x.reference) for x in payments(cn.id)] == [("card", Decimal("-113.00"), "RF1")]
    assert fresh(bill.id).status == "paid" and fresh(bill.id).total == Decimal("305.10")   # the bill itself is untouched

    resp = post(client, f"/cashier/bills/{bill.id}/credit-note", {"amount": "200", "reason": "再退", "refund_method": "card"})
    assert resp.status_code == 422 and "(CN¥192.10)" in resp.get_data(as_text=True)
    # The rest, in full (amount left empty = what is left).
    assert post(client, f"/cashier/bills/{bill.id}/credit-note",
                {"amount": "", "reason": "整单退款", "refund_method": "card"}).status_code == 200
    assert svc.credit_left(fresh(bill.id)) == 0
    html = client.get(f"/cashier/bills/{bill.id}").get_data(as_text=True)
    assert "Correct with a credit note" not in html and html.count("data-credit-note") == 2


def test_full_credit_note_reverses_every_line(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued(factory, site, p["advisor"])
    svc.record_payment(p["cashier"], bill.id, "wechat", "305.10", idempotency_key="w1")
    cn = svc.credit_note(p["manager"], bill.id, "", "客户投诉，整单退款", "wechat")
    assert [(l.kind, l.quantity, l.amount) for l in cn.lines] == [("labour", Decimal("-1.50"), Decimal("-270.00"))]
    assert (cn.labour, cn.tax, cn.total) == (Decimal("-270.00"), Decimal("-35.10"), Decimal("-305.10"))


# ---------------------------------------------------------------- paper

def test_printed_statement_and_receipt(client, factory, shop):
    site, p = shop.site, shop.people
    bill = issued(factory, site, p["advisor"])
    svc.record_payment(p["cashier"], bill.id, "wechat", "100", reference="WX1", idempotency_key="a")
    svc.record_payment(p["cashier"], bill.id, "cash", "205.10", "300", idempotency_key="b")
    login(client, p["cashier"])
    html = client.get(f"/cashier/bills/{bill.id}/print").get_data(as_text=True)
    for text in ("结算单", "Settlement statement", bill.number, "京A12345", "张三", "¥305.10", "微信支付",
                 "¥94.90", "不作为增值税发票", visit_ro(bill)):
        assert text in html, text
    receipt = client.get(f"/cashier/bills/{bill.id}/receipt").get_data(as_text=True)
    assert "receipt.css" in receipt and bill.number in receipt and "¥305.10" in receipt and "¥0.00" in receipt
    draft = svc.prepare_bill(visit_ready(factory, site, p["advisor"], plate="京C33333"), p["advisor"])
    assert client.get(f"/cashier/bills/{draft.id}/print").status_code == 404


def visit_ro(bill):
    return db.session.get(Visit, bill.visit_id).repair_order.number


# ---------------------------------------------------------------- two cashiers at once

def test_concurrent_payments_never_overpay(race_app):
    from tests.factories import Factory
    from webapp.models import Site, User
    with race_app.app_context():
        f = Factory(db)
        site = db.session.query(Site).filter_by(code="race").one()
        advisor = f.user(site, "advisor", username="adv-race")
        cashiers = [f.user(site, "cashier", username=f"cash-race{i}") for i in range(2)]
        bill = issued(f, site, advisor)
        bill_id, ids = bill.id, [c.id for c in cashiers]
        db.session.remove()

    def prepare(i):
        ctx = race_app.app_context()
        ctx.push()
        return ctx, db.session.get(User, ids[i])

    def act(i, prepared):
        ctx, user = prepared
        try:
            return svc.record_payment(user, bill_id, "card", "200", idempotency_key=f"race-{i}").id
        except Exception as exc:  # noqa: BLE001
            return exc
        finally:
            db.session.remove()
            ctx.pop()

    results = run_together(2, prepare, act)
    ok = [r for r in results if isinstance(r, int)]
    assert len(ok) == 1, results
    with race_app.app_context():
        total = sum(x.amount for x in db.session.query(Payment).filter_by(bill_id=bill_id))
        assert total == Decimal("200.00")
