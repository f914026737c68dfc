"""Rules of the handover checklist: what blocks completion, and what the signature covers."""
import pytest

from webapp.handover import ITEMS, HandoverSnapshot, completion_problems, content_hash, missing_items

ALL = {k: True for k in ITEMS}


@pytest.mark.parametrize("items, signed, problems", [
    (ALL, True, []),
    (ALL, False, ["signature"]),
    ({**ALL, "covers_removed": False}, True, ["covers_removed"]),
    ({}, False, list(ITEMS) + ["signature"]),
    ({"car_fetched": True, "work_explained": True}, True,
     ["exterior_checked", "belongings_checked", "covers_removed", "old_parts_done"]),
])
def test_completion_problems(items, signed, problems):
    assert completion_problems(items, signed) == problems
    assert missing_items(items) == [p for p in problems if p != "signature"]


def snap(**kw):
    base = dict(visit_id=1, plate="京A12345", ticket="W001", ro_number="RO-1", old_parts="leave", items=dict(ALL),
                notes="雨刮", marks=[("bonnet", "chip", "")], accessories=["spare_tyre", "jack_tools"],
                valuables="伞")
    base.update(kw)
    return HandoverSnapshot(**base)


@pytest.mark.parametrize("change", [
    {"items": {**ALL, "car_fetched": False}}, {"notes": "雨刮片"}, {"old_parts": "take"},
    {"marks": []}, {"valuables": "伞、行车记录仪"}, {"visit_id": 2}, {"ro_number": "RO-2"},
])
def test_hash_covers_what_is_shown(change):
    assert content_hash(snap(**change)) != content_hash(snap())


def test_hash_ignores_presentation_noise():
    assert content_hash(snap(notes=" 雨刮 ")) == content_hash(snap())
    assert content_hash(snap(accessories=["jack_tools", "spare_tyre"])) == content_hash(snap())
    assert content_hash(snap(notes="")) == content_hash(snap(notes=None))
    assert len(content_hash(snap())) == 64
