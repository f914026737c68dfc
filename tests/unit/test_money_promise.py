"""Money rules of an estimate (Decimal, half-up to the fen, warranty, discounts, tax) and the
promise time (technician-hours against the shop's day)."""
from datetime import datetime, time
from decimal import Decimal as D

import pytest

from webapp import money
from webapp.money import LineMoney, parse_amount, q, totals
from webapp.promise import ShopDay, promise_time


# ---------------------------------------------------------------- money

def test_rounding_is_half_up_to_the_fen():
    assert q(D("0.005")) == D("0.01")
    assert q(D("2.675")) == D("2.68")         # a float would give 2.67
    assert q(D("2.674999")) == D("2.67")
    assert q(D("-0.005")) == D("-0.01")


def test_line_amount_with_discount_percentage():
    line = LineMoney("labour", D("1.25"), D("333.33"), D("10"))
    assert line.gross == D("416.66")            # 416.6625
    assert line.net == D("374.99")              # 374.994


def test_line_gross_rounds_before_the_discount():
    line = LineMoney("labour", D("1.5"), D("0.03"), D("50"))
    assert line.gross == D("0.05")               # 0.045 → 0.05
    assert line.net == D("0.03")                 # 0.025 → 0.03


def test_warranty_line_costs_nothing_and_claims_the_gross():
    line = LineMoney("part", D("2"), D("480"), D("10"), warranty=True)
    assert line.customer == D("0.00") and line.claim == D("960.00")
    t = totals([line, LineMoney("labour", D("1"), D("300"))])
    assert t.parts == D("0.00") and t.labour == D("300.00")
    assert t.warranty_claims == D("960.00") and t.customer_pays == D("339.00")


def test_price_after_diagnosis_has_no_price_yet():
    line = LineMoney("diagnosis", D("1"), D("250"), price_after_diagnosis=True)
    assert line.customer == D("0.00")
    t = totals([line])
    assert t.pending_price and t.customer_pays == D("0.00")


def test_totals_tax_and_discount():
    lines = [LineMoney("labour", D("1.25"), D("333.33"), D("10")), LineMoney("part", D("3"), D("68"))]
    t = totals(lines, D("50.55"), D("0.13"))
    assert (t.labour, t.parts, t.subtotal) == (D("374.99"), D("204.00"), D("578.99"))
    assert t.discount == D("50.55")
    assert t.tax == D("68.70")                   # 528.44 × 0.13 = 68.6972
    assert t.customer_pays == D("597.14")


def test_estimate_discount_is_capped_at_the_subtotal():
    t = totals([LineMoney("part", D("1"), D("100"))], D("500"), D("0.13"))
    assert t.discount == D("100.00") and t.tax == D("0.00") and t.customer_pays == D("0.00")


def test_no_lines_cost_nothing():
    t = totals([])
    assert t.customer_pays == money.ZERO and not t.pending_price


@pytest.mark.parametrize("raw,expected", [
    ("12.5", D("12.5")), ("1,000.00", D("1000.00")), (" 7 ", D("7")), ("0", D("0")), ("1000000", D("1000000")),
])
def test_parse_amount_accepts(raw, expected):
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("raw", ["-0.01", "1000000.01", "1.234", "abc", "", "NaN", "Infinity", "1e400", None])
def test_parse_amount_refuses(raw):
    assert parse_amount(raw) is None


def test_parse_amount_bounds():
    assert parse_amount("0.05", D("0.1"), D("99")) is None
    assert parse_amount("99.01", D("0.1"), D("99")) is None
    assert parse_amount("0.1", D("0.1"), D("99")) == D("0.1")


# ---------------------------------------------------------------- promise time

def day(*shifts, brk=True):
    return ShopDay(time(8, 30), time(17, 30), time(12, 0) if brk else None, time(13, 0) if brk else None,
                   tuple(shifts) or ())


ALL_DAY = (time(8, 30), time(17, 30))


def test_one_technician_two_hours():
    now = datetime(2026, 3, 2, 9, 0)
    assert promise_time(now, day(ALL_DAY), D("0"), D("2")) == datetime(2026, 3, 2, 11, 0)


def test_two_technicians_halve_the_clock_time():
    now = datetime(2026, 3, 2, 9, 0)
    assert promise_time(now, day(ALL_DAY, ALL_DAY), D("0"), D("2")) == datetime(2026, 3, 2, 10, 0)


def test_booked_hours_come_first():
    now = datetime(2026, 3, 2, 9, 0)
    assert promise_time(now, day(ALL_DAY), D("1"), D("1")) == datetime(2026, 3, 2, 11, 0)


def test_the_lunch_break_is_skipped():
    now = datetime(2026, 3, 2, 11, 0)
    # 1 h before the break, the second hour after it
    assert promise_time(now, day(ALL_DAY), D("0"), D("2")) == datetime(2026, 3, 2, 14, 0)


def test_work_past_closing_continues_at_the_next_opening():
    now = datetime(2026, 3, 2, 16, 30)
    assert promise_time(now, day(ALL_DAY), D("0"), D("2")) == datetime(2026, 3, 3, 9, 30)


def test_before_opening_starts_at_opening():
    now = datetime(2026, 3, 2, 7, 0)
    assert promise_time(now, day(ALL_DAY), D("0"), D("1")) == datetime(2026, 3, 2, 9, 30)


def test_a_short_shift_counts_only_while_on_shift():
    now = datetime(2026, 3, 2, 9, 0)
    half = (time(8, 30), time(10, 0))
    # two technicians until 10:00 (2 technician-hours), then one: 3 h of work ends 11:00
    assert promise_time(now, day(ALL_DAY, half, brk=False), D("0"), D("3")) == datetime(2026, 3, 2, 11, 0)


def test_nobody_on_shift_is_now_plus_the_work():
    now = datetime(2026, 3, 2, 9, 7)
    assert promise_time(now, day(), D("0"), D("1.5")) == datetime(2026, 3, 2, 10, 37)


def test_no_work_is_now():
    now = datetime(2026, 3, 2, 9, 7)
    assert promise_time(now, day(ALL_DAY), D("0"), D("0")) == now
