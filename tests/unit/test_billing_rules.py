"""Settlement rules by table: bill totals, approved vs issued parts, resolutions, payments,
credit notes (webapp/billing.py)."""
from decimal import Decimal as D

import pytest

from webapp import billing as b
from webapp.money import LineMoney
from webapp.validation import Invalid


# ---------------------------------------------------------------- totals

@pytest.mark.parametrize("lines, discount, rate, expect", [
    # labour 1.5 h × 180, nothing else: 270 + 13 % = 305.10
    ([LineMoney("labour", D("1.5"), D("180"))], D("0"), D("0.13"),
     dict(labour=D("270.00"), parts=D("0.00"), tax=D("35.10"), customer_pays=D("305.10"), warranty_claims=D("0.00"))),
    # a warranty part: 0 to the customer, claimed in full
    ([LineMoney("labour", D("1"), D("200")), LineMoney("part", D("2"), D("50"), warranty=True)], D("0"), D("0.13"),
     dict(labour=D("200.00"), parts=D("0.00"), tax=D("26.00"), customer_pays=D("226.00"), warranty_claims=D("100.00"))),
    # line discount 10 %, bill discount 20, tax 6 %
    ([LineMoney("part", D("1"), D("300"), D("10"))], D("20"), D("0.06"),
     dict(labour=D("0.00"), parts=D("270.00"), discount=D("20.00"), tax=D("15.00"), customer_pays=D("265.00"))),
    # all warranty: the customer pays nothing
    ([LineMoney("labour", D("2"), D("180"), warranty=True)], D("0"), D("0.13"),
     dict(customer_pays=D("0.00"), warranty_claims=D("360.00"))),
    # the discount never exceeds the subtotal
    ([LineMoney("diagnosis", D("1"), D("100"))], D("500"), D("0.13"),
     dict(labour=D("100.00"), discount=D("100.00"), customer_pays=D("0.00"))),
])
def test_bill_totals(lines, discount, rate, expect):
    t = b.bill_totals(lines, discount, rate)
    for key, value in expect.items():
        assert getattr(t, key) == value, key


def test_line_amounts():
    assert b.line_amounts(LineMoney("part", D("2"), D("10"), warranty=True)) == (D("0.00"), D("20.00"))
    assert b.line_amounts(LineMoney("part", D("2"), D("10"), D("50"))) == (D("10.00"), D("0.00"))


# ---------------------------------------------------------------- approved vs issued

@pytest.mark.parametrize("movements, expect", [
    ([(1, "issue", D("2")), (1, "issue", D("1"))], {1: D("3")}),
    ([(1, "issue", D("2")), (1, "return", D("1"))], {1: D("1")}),
    ([(1, "reserve", D("2")), (1, "release", D("2")), (2, "receipt", D("9"))], {}),
    ([(1, "issue", D("1")), (1, "return", D("3"))], {1: D("0")}),
])
def test_issued_quantities(movements, expect):
    assert b.issued_quantities(movements) == expect


@pytest.mark.parametrize("approved, issued, expect", [
    ({1: D("2")}, {1: D("2")}, []),                                        # as approved
    ({1: D("2")}, {1: D("3")}, [(1, D("2"), D("3"), "more")]),              # issued more
    ({1: D("2")}, {1: D("1")}, [(1, D("2"), D("1"), "less")]),              # issued less
    ({1: D("2")}, {}, [(1, D("2"), D("0"), "less")]),                       # never issued
    ({}, {5: D("1")}, [(5, D("0"), D("1"), "unapproved")]),                 # issued, never approved
    ({1: D("1"), 2: D("4")}, {2: D("4"), 3: D("1")},
     [(1, D("1"), D("0"), "less"), (3, D("0"), D("1"), "unapproved")]),
])
def test_part_differences(approved, issued, expect):
    got = [(d.part_id, d.approved, d.issued, d.kind) for d in b.part_differences(approved, issued)]
    assert got == expect


@pytest.mark.parametrize("kind, resolution, note, agreed, expect", [
    ("more", "keep_approved", "", False, {}),
    ("more", "charge_issued", "", False, {"note": "note_required"}),
    ("more", "charge_issued", "  ", False, {"note": "note_required"}),
    ("less", "charge_issued", "only one fitted", False, {}),
    ("unapproved", "charge_issued", "customer agreed by phone", False, {"customer_agreed": "customer_agreement_required"}),
    ("unapproved", "charge_issued", "customer agreed by phone", True, {}),
    ("unapproved", "charge_issued", "", True, {"note": "note_required"}),
    ("unapproved", "keep_approved", "", False, {}),
    ("more", "whatever", "x", True, {"resolution": "resolution_invalid"}),
])
def test_resolution_problem(kind, resolution, note, agreed, expect):
    assert b.resolution_problem(kind, resolution, note, agreed) == expect


@pytest.mark.parametrize("quantities, target, expect", [
    ([D("2")], D("3"), [D("3")]),
    ([D("2")], D("1"), [D("1")]),
    ([D("1"), D("2")], D("4"), [D("1"), D("3")]),
    ([D("1"), D("2")], D("0.5"), [D("0.5"), D("0")]),
    ([D("1"), D("2")], D("0"), [D("0"), D("0")]),
    ([], D("2"), []),
])
def test_spread_quantity(quantities, target, expect):
    assert b.spread_quantity(quantities, target) == expect


# ---------------------------------------------------------------- payments

@pytest.mark.parametrize("raw, expect", [
    ("100", (D("100"), None)), ("100.5", (D("100.5"), None)), ("1,234.56", (D("1234.56"), None)),
    ("¥88", (D("88"), None)), ("", (None, "amount_required")), (None, (None, "amount_required")),
    ("abc", (None, "amount_not_number")), ("12a", (None, "amount_not_number")), ("NaN", (None, "amount_not_number")),
    ("Infinity", (None, "amount_not_number")), ("-5", (None, "amount_not_positive")), ("0", (None, "amount_not_positive")),
    ("1.234", (None, "amount_decimals")), ("99999999", (None, "amount_too_large")),
])
def test_read_amount(raw, expect):
    assert b.read_amount(raw) == expect


@pytest.mark.parametrize("method, amount, bal, tendered, company, expect", [
    ("wechat", "100", D("305.10"), None, None, ("wechat", D("100"), None, None)),
    ("card", "305.10", D("305.10"), None, None, ("card", D("305.10"), None, None)),
    ("alipay", "0.01", D("305.10"), None, None, ("alipay", D("0.01"), None, None)),
    # cash above the balance: the balance is applied, the rest is change
    ("cash", "205.10", D("205.10"), "300", None, ("cash", D("205.10"), D("300"), D("94.90"))),
    ("cash", "", D("205.10"), "250", None, ("cash", D("205.10"), D("250"), D("44.90"))),
    ("cash", "500", D("205.10"), "", None, ("cash", D("205.10"), D("500"), D("294.90"))),
    # cash below the balance: a part payment, no change
    ("cash", "205.10", D("205.10"), "100", None, ("cash", D("100"), D("100"), D("0.00"))),
    ("cash", "50", D("205.10"), "100", None, ("cash", D("50"), D("100"), D("50.00"))),
    # the company account takes what is left
    ("company", "", D("205.10"), None, "星驰物流有限公司", ("company", D("205.10"), None, None)),
])
def test_plan_payment(method, amount, bal, tendered, company, expect):
    p = b.plan_payment(method, amount, bal, tendered, company)
    assert (p.method, p.amount, p.tendered, p.change) == expect
    if method == "company":
        assert p.company_name == company


@pytest.mark.parametrize("method, amount, bal, tendered, company, errors", [
    ("card", "400", D("305.10"), None, None, {"amount": "over_balance"}),
    ("wechat", "305.11", D("305.10"), None, None, {"amount": "over_balance"}),
    ("wechat", "-5", D("305.10"), None, None, {"amount": "amount_not_positive"}),
    ("alipay", "abc", D("305.10"), None, None, {"amount": "amount_not_number"}),
    ("card", "1.234", D("305.10"), None, None, {"amount": "amount_decimals"}),
    ("card", "", D("305.10"), None, None, {"amount": "amount_required"}),
    ("cash", "10", D("305.10"), "x", None, {"tendered": "amount_not_number"}),
    ("cash", "-1", D("305.10"), "10", None, {"amount": "amount_not_positive"}),
    ("company", "", D("305.10"), None, "  ", {"company_name": "company_name_required"}),
    ("bitcoin", "1", D("305.10"), None, None, {"method": "method_invalid"}),
    ("wechat", "1", D("0"), None, None, {"amount": "already_paid"}),
])
def test_plan_payment_refused(method, amount, bal, tendered, company, errors):
    with pytest.raises(Invalid) as exc:
        b.plan_payment(method, amount, bal, tendered, company)
    assert exc.value.errors == errors


@pytest.mark.parametrize("total, paid, bal, full", [
    (D("305.10"), [], D("305.10"), False),
    (D("305.10"), [D("100")], D("205.10"), False),
    (D("305.10"), [D("100"), D("205.10")], D("0.00"), True),
    (D("0"), [], D("0.00"), True),
])
def test_balance(total, paid, bal, full):
    assert b.balance(total, paid) == bal
    assert b.paid_in_full(total, paid) is full


# ---------------------------------------------------------------- credit notes

@pytest.mark.parametrize("total, credited, left", [
    (D("305.10"), [], D("305.10")),
    (D("305.10"), [D("-100")], D("205.10")),
    (D("305.10"), [D("-100"), D("-205.10")], D("0.00")),
])
def test_credit_available(total, credited, left):
    assert b.credit_available(total, credited) == left


@pytest.mark.parametrize("amount, rate, net, tax", [
    (D("113"), D("0.13"), D("100.00"), D("13.00")),
    (D("100"), D("0.13"), D("88.50"), D("11.50")),
    (D("10"), D("0"), D("10.00"), D("0.00")),
])
def test_credit_split(amount, rate, net, tax):
    assert b.credit_split(amount, rate) == (net, tax)
    assert net + tax == amount
