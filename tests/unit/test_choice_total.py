"""The approval card's running total (webapp/approval_total.py): the money rules of the decision."""
from decimal import Decimal

from webapp.approval_total import choice_total
from webapp.money import LineMoney

D = Decimal
LINES = {1: LineMoney("labour", D("1.5"), D("300.00")),                 # 450.00
         2: LineMoney("part", D("1"), D("777.00")),                       # 777.00
         3: LineMoney("part", D("1"), D("480.00"), warranty=True),        # 0 for the customer
         4: LineMoney("labour", D("1"), D("300.00"), D("10"))}            # 270.00 after 10 %


def total(choices, discount=D("0"), fee=D("200.00")):
    return choice_total(LINES, choices, discount, D("0.13"), fee)


def test_nothing_ticked_costs_nothing():
    t = total({})
    assert t.totals.customer_pays == D("0.00") and t.decided == 0 and not t.complete and not t.all_declined


def test_approved_lines_with_tax_rounded_half_up():
    assert total({1: "approved"}).totals.customer_pays == D("508.50")
    t = total({1: "approved", 2: "approved", 3: "approved", 4: "approved"})
    assert t.totals.customer_pays == D("1691.61") and t.complete        # (450 + 777 + 0 + 270) × 1.13


def test_declined_lines_cost_nothing_and_count_as_decided():
    t = total({1: "approved", 2: "declined"})
    assert t.totals.customer_pays == D("508.50") and t.decided == 2


def test_the_estimate_discount_applies_to_what_is_approved_and_never_below_zero():
    assert total({1: "approved"}, discount=D("50")).totals.customer_pays == D("452.00")   # 400 × 1.13
    assert total({3: "approved"}, discount=D("50")).totals.customer_pays == D("0.00")


def test_everything_declined_bills_the_fee_alone():
    t = total({i: "declined" for i in LINES})
    assert t.all_declined and t.complete and t.totals.customer_pays == D("226.00")


def test_unknown_lines_and_words_are_ignored():
    t = total({1: "approved", 99: "approved", 2: "maybe"})
    assert t.decided == 1 and t.totals.customer_pays == D("508.50")
