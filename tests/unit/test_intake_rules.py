"""Walk-around inspection and warranty rules."""
from datetime import date

import pytest

from webapp.intake import (IntakeSnapshot, completion_problems, content_hash, mileage_problem,
                           valuables_answered, valuables_recorded,
                           warranty_suggestion)
from webapp.validation import parse_vin, vin_check_digit


@pytest.mark.parametrize("new,last,reason,expected", [
    (None, 1000, None, "required"), (-1, None, None, "range"), (2_000_001, None, None, "range"),
    (1500, 1000, None, None), (1000, 1000, None, None), (999, 1000, None, "lower_needs_reason"),
    (999, 1000, "  ", "lower_needs_reason"), (999, 1000, "instrument cluster replaced", None),
    (50, None, None, None),
])
def test_mileage(new, last, reason, expected):
    assert mileage_problem(new, last, reason) == expected


def test_completion_needs_covers_mileage_fuel_valuables_and_a_current_signature():
    assert completion_problems((True, True, True), None, "1/2", True, True) == []
    assert completion_problems((True, False, True), None, "1/2", True, True) == ["covers"]
    assert completion_problems((False, False, False), "required", None, False, False) == \
        ["covers", "mileage", "fuel", "valuables", "signature"]
    assert completion_problems((True, True, True), None, "half", True, True) == ["fuel"]
    assert completion_problems((True, True, True), None, "1/2", True, False) == ["valuables"]


@pytest.mark.parametrize("left,text,answered,recorded", [
    (None, None, False, None),            # never asked: no answer
    (None, "墨镜", False, "墨镜"),         # typed on a form from before the answer: still what the handover checks
    (False, None, True, None),            # an explicit "none"
    (False, "墨镜", True, None),           # "none" wins over a leftover list
    (True, "  ", False, None),            # "yes" without the items is no answer yet
    (True, " 行车记录仪、雨伞 ", True, "行车记录仪、雨伞"),
])
def test_valuables_need_an_explicit_answer(left, text, answered, recorded):
    assert valuables_answered(left, text) is answered
    assert valuables_recorded(left, text) == recorded


def test_the_valuables_answer_is_signed_but_old_fingerprints_stay():
    # Forms signed before the answer existed keep their fingerprint; once answered it is covered.
    assert content_hash(snap(valuables_left=None)) == content_hash(snap())
    assert content_hash(snap(valuables=None, valuables_left=False)) != content_hash(snap(valuables=None))
    assert content_hash(snap(valuables_left=True)) != content_hash(snap(valuables_left=None))


def snap(**kw):
    base = dict(plate="京A12345", vin=None, covers=(True, True, True), mileage=1000, mileage_reason=None,
                fuel_level="1/2", warning_lights=["abs", "engine"], accessories=["jack_tools"],
                valuables="sunglasses", marks=[("bonnet", "scratch", "")], photos=["ab" * 32])
    base.update(kw)
    return IntakeSnapshot(**base)


def test_content_hash_is_stable_and_sensitive():
    assert content_hash(snap()) == content_hash(snap(warning_lights=["engine", "abs"]))
    assert len(content_hash(snap())) == 64
    for change in (dict(mileage=1001), dict(fuel_level="F"), dict(marks=[]), dict(valuables="phone"),
                   dict(covers=(True, True, False)), dict(photos=[])):
        assert content_hash(snap(**change)) != content_hash(snap()), change


START = date(2024, 3, 1)


@pytest.mark.parametrize("reason,start,years,km,mileage,today,expected", [
    ("repair", START, 3, 100_000, 40_000, date(2026, 11, 30), "covered"),
    ("warranty", START, 3, 100_000, 40_000, date(2026, 11, 30), "covered"),
    ("repair", START, 3, 100_000, 100_001, date(2026, 11, 30), "not_covered"),
    ("repair", START, 2, 100_000, 40_000, date(2026, 11, 30), "not_covered"),
    ("repair", START, 3, 100_000, 40_000, date(2027, 3, 1), "covered"),      # last day
    ("repair", START, 3, 100_000, 40_000, date(2027, 3, 2), "not_covered"),
    ("repair", None, 3, 100_000, 40_000, date(2026, 11, 30), "undetermined"),
    ("repair", START, None, 100_000, 40_000, date(2026, 11, 30), "undetermined"),
    ("repair", START, 3, 100_000, None, date(2026, 11, 30), "undetermined"),
    ("maintenance", START, 3, 100_000, 40_000, date(2026, 11, 30), "not_covered"),
    ("bodywork", START, 3, 100_000, 40_000, date(2026, 11, 30), "not_covered"),
    ("repair", date(2024, 2, 29), 1, 100_000, 1, date(2025, 2, 28), "covered"),
])
def test_warranty_suggestion(reason, start, years, km, mileage, today, expected):
    assert warranty_suggestion(reason, start, years, km, mileage, today) == expected


@pytest.mark.parametrize("vin,ok", [
    ("1M8GDM9AXKP042788", True),      # textbook example with check digit X
    ("LSVAU2180N2183294", False),     # plausible Chinese VIN with a wrong check digit: warned only
])
def test_vin_check_digit(vin, ok):
    parsed = parse_vin(vin)
    assert parsed is not None and parsed.check_ok is ok


@pytest.mark.parametrize("bad", ["", "1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", "IM8GDM9AXKP042788",
                                 "1M8GDM9AXKPO42788", "1M8GDM9AXKP04278Q"])
def test_vin_refused(bad):
    assert parse_vin(bad) is None


def test_vin_normalised():
    assert parse_vin(" 1m8gdm9axkp042788 ").value == "1M8GDM9AXKP042788"
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"
