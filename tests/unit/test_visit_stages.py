"""The visit page's stage strip and which sections open by default (pure rules)."""
import pytest

from webapp.visit_stages import STAGE_NAMES, section_open, stage_of, strip


def states(visit_state):
    return {m.name: m.state for m in strip(visit_state)}


def test_every_stage_is_done_now_or_todo_in_order():
    assert states("reception") == {"reception": "now", "inspection": "todo", "interview": "todo",
                                   "estimate": "todo", "repair": "todo", "delivery": "todo"}
    assert states("authorisation") == {"reception": "done", "inspection": "done", "interview": "done",
                                       "estimate": "now", "repair": "todo", "delivery": "todo"}
    assert states("ready")["delivery"] == "now" and states("ready")["repair"] == "done"
    assert set(states("delivered").values()) == {"done"}
    assert set(states("cancelled").values()) == {"todo"}


def test_the_strip_jumps_to_the_first_section_of_each_stage():
    assert [m.anchor for m in strip("reception")] == ["customer", "inspection", "interview", "estimate",
                                                       "estimate", "delivery"]
    assert [m.name for m in strip("reception")] == list(STAGE_NAMES)


@pytest.mark.parametrize("visit_state,open_sections", [
    ("reception", {"customer", "history", "documents", "inspection"}),
    ("inspection", {"inspection", "damage", "signature", "interview"}),
    ("interview", {"interview"}),
    ("estimate", {"estimate"}),
    ("repair", {"estimate", "progress"}),
    ("ready", {"delivery", "bill"}),
    ("cancelled", set()),
])
def test_the_sections_of_the_current_stage_open(visit_state, open_sections):
    every = {"customer", "history", "documents", "inspection", "damage", "signature", "interview",
             "estimate", "progress", "delivery", "bill"}
    assert {s for s in every if section_open(s, visit_state)} == open_sections


def test_every_state_but_cancelled_has_a_stage():
    from webapp.workflow import VisitState
    assert [s.value for s in VisitState if stage_of(s.value) is None] == ["cancelled"]
