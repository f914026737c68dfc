"""Booking capacity rules (webapp/capacity.py), by table: slots, hours, reserve, caps, holidays,
overbooking, the advisor chosen and the next free times."""
from datetime import date, datetime, time
from decimal import Decimal as D

import pytest

from webapp.capacity import (Booking, Rules, ShopHours, blocking, bookable_hours, cap_kind, day_capacity,
                             free_times, least_loaded, refusals, slot_starts)

SHOP = ShopHours(time(8, 30), time(17, 30), time(12, 0), time(13, 0))
MONDAY = date(2026, 12, 7)


def t(hhmm):
    h, m = hhmm.split(":")
    return time(int(h), int(m))


@pytest.mark.parametrize("hours, minutes, first, last, count", [
    (SHOP, 30, "08:30", "17:00", 16),                       # 7 h 30 before/after lunch, no slot over the break
    (SHOP, 60, "08:30", "16:00", 7),                        # 08:30 09:30 10:30 | 13:00 … 16:00
    (ShopHours(t("08:00"), t("12:00")), 45, "08:00", "11:00", 5),   # no whole slot in the last 15 minutes
    (ShopHours(t("09:00"), t("09:20")), 30, None, None, 0),
    (SHOP, 0, None, None, 0),
])
def test_slot_starts(hours, minutes, first, last, count):
    starts = slot_starts(hours, minutes)
    assert len(starts) == count
    if count:
        assert starts[0] == t(first) and starts[-1] == t(last)
        assert not any(t("12:00") <= s < t("13:00") for s in starts if hours is SHOP)


def test_slots_resume_right_after_an_odd_break():
    starts = slot_starts(ShopHours(t("08:00"), t("12:00"), t("09:45"), t("10:15")), 30)
    assert [s.strftime("%H:%M") for s in starts] == ["08:00", "08:30", "09:00", "10:15", "10:45", "11:15"]


@pytest.mark.parametrize("tech_hours, utilisation, reserve, expected", [
    ("32", "0.85", "0.20", "21.8"),     # 4 technicians × 8 h × 85 % = 27.2, less 20 % → 21.76
    ("32", "1", "0", "32.0"),
    ("0", "0.85", "0.20", "0.0"),       # nobody rostered: nothing bookable
    ("16", "0.5", "0.5", "4.0"),
])
def test_bookable_hours(tech_hours, utilisation, reserve, expected):
    rules = Rules(utilisation=D(utilisation), reserve=D(reserve))
    assert bookable_hours(D(tech_hours), rules) == D(expected)


@pytest.mark.parametrize("reason, kinds, expected", [
    ("maintenance", ["mechanical"], "maintenance"),
    ("maintenance", ["diagnosis", "mechanical"], "diagnosis"),
    ("repair", [], "diagnosis"),          # fault not known yet: inspection first
    ("warranty", [], "diagnosis"),
    ("repair", ["electrical"], None),
    ("bodywork", [], None),
])
def test_cap_kind(reason, kinds, expected):
    assert cap_kind(reason, kinds) == expected


def capacity(bookings=(), advisors=(1, 2), tech_hours="32", **rules):
    return day_capacity(MONDAY, SHOP, list(advisors), D(tech_hours), Rules(**rules), bookings)


def test_day_counts_slots_and_hours():
    day = capacity([Booking(t("09:00"), D("1.5"), "maintenance", 1), Booking(t("09:00"), D("2"), None, 2),
                    Booking(t("14:10"), D("0.5"), None, None)])     # off the grid: counts in the 14:00 slot
    assert day.slots_offered == 16 * 2 and day.slots_taken == 3
    assert day.slot_at(t("09:00")).free == 0 and day.slot_at(t("14:00")).taken == 1
    assert day.hours_capacity == D("21.8") and day.hours_booked == D("4.0")
    assert dict(day.advisor_load) == {1: 1, 2: 1}


@pytest.mark.parametrize("case, bookings, ask, rules, expected", [
    ("fits", [], ("09:00", "2", None, None), {}, []),
    ("slot full", [Booking(t("09:00"), D("1"), None, 1), Booking(t("09:00"), D("1"), None, 2)],
     ("09:00", "1", None, None), {}, ["slot_full"]),
    ("this advisor's share taken", [Booking(t("09:00"), D("1"), None, 1)],
     ("09:00", "1", None, 1), {}, ["advisor_full"]),
    ("two per advisor", [Booking(t("09:00"), D("1"), None, 1)], ("09:00", "1", None, 1), {"per_advisor": 2}, []),
    ("hours full", [Booking(t("08:30"), D("21"), None, 1)], ("10:00", "1", None, None), {}, ["hours_full"]),
    ("exactly the last hours", [Booking(t("08:30"), D("20.8"), None, 1)], ("10:00", "1", None, None), {}, []),
    ("cap full", [Booking(t("08:30"), D("3"), "diagnosis", 1)], ("10:00", "1.5", "diagnosis", None),
     {"caps": (("diagnosis", D("4")),)}, ["cap_full"]),
    ("cap of another kind", [Booking(t("08:30"), D("3"), "diagnosis", 1)], ("10:00", "1.5", "maintenance", None),
     {"caps": (("diagnosis", D("4")),)}, []),
    ("holiday", [], ("09:00", "1", None, None), {"closed_days": frozenset({MONDAY})}, ["closed"]),
    ("closed on Mondays", [], ("09:00", "1", None, None), {"closed_weekdays": frozenset({0})}, ["closed"]),
    ("lunch is no slot", [], ("12:00", "1", None, None), {}, ["not_a_slot"]),
    ("off the grid", [], ("09:10", "1", None, None), {}, ["not_a_slot"]),
])
def test_refusals(case, bookings, ask, rules, expected):
    start, hours, kind, advisor = ask
    assert refusals(capacity(bookings, **rules), t(start), D(hours), kind, advisor) == expected, case


@pytest.mark.parametrize("codes, manager, reason, expected", [
    ([], False, None, None),
    (["slot_full"], False, None, "slot_full"),              # advisors never overbook
    (["slot_full", "hours_full"], True, "", "overbook_reason_required"),
    (["slot_full", "hours_full"], True, "  ", "overbook_reason_required"),
    (["hours_full", "cap_full"], True, "VIP fleet customer", None),
    (["closed"], True, "boss said so", "closed"),          # a closed day stays closed
    (["not_a_slot"], True, "x", "not_a_slot"),
])
def test_overbooking_only_by_a_manager_with_a_reason(codes, manager, reason, expected):
    assert blocking(codes, manager, reason) == expected


def test_holiday_offers_nothing():
    day = capacity(closed_days=frozenset({MONDAY}))
    assert day.closed and day.slots_offered == 0 and day.hours_capacity == 0


def test_least_loaded_advisor_with_room_in_the_slot():
    day = capacity([Booking(t("08:30"), D("1"), None, 1), Booking(t("09:00"), D("1"), None, 1),
                    Booking(t("10:00"), D("1"), None, 2)], advisors=(1, 2, 3))
    assert least_loaded(day, t("11:00"), [1, 2, 3]) == 3          # nobody's booked 3 yet
    assert least_loaded(day, t("10:00"), [1, 2]) == 1             # 2 is taken at 10:00
    full = capacity([Booking(t("09:00"), D("1"), None, 1), Booking(t("09:00"), D("1"), None, 2)])
    assert least_loaded(full, t("09:00"), [1, 2]) is None


def test_free_times_skip_full_slots_the_past_and_full_days():
    today = capacity([Booking(t("08:30"), D("1"), None, 1), Booking(t("08:30"), D("1"), None, 2)], advisors=(1, 2))
    found = free_times([today], D("1"), limit=3)
    assert found == [(MONDAY, t("09:00")), (MONDAY, t("09:30")), (MONDAY, t("10:00"))]
    later = free_times([today], D("1"), not_before=datetime(2026, 12, 7, 11, 40), limit=2)
    assert later == [(MONDAY, t("13:00")), (MONDAY, t("13:30"))]
    no_hours = capacity([Booking(t("08:30"), D("21.8"), None, 1)])
    tomorrow = day_capacity(date(2026, 12, 8), SHOP, [1], D("8"), Rules(), [])
    assert free_times([no_hours, tomorrow], D("1"), limit=1) == [(date(2026, 12, 8), t("08:30"))]
