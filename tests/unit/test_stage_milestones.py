"""The milestones the report's stage times are read from (workflow.milestones), by table: which
first_*_at columns of a visit a move stamps (record_transition keeps the first of each)."""
import pytest

from webapp.workflow import TRANSITIONS, milestones


@pytest.mark.parametrize("current, target, stamped", [
    (None, "waiting", ()),                                     # check-in: the ticket keeps the arrival
    ("waiting", "called", ()),
    ("called", "reception", ("first_reception_at",)),
    ("reception", "inspection", ()),
    ("inspection", "interview", ()),
    ("interview", "estimate", ("first_estimate_at",)),
    ("estimate", "authorisation", ("first_presented_at",)),
    ("authorisation", "estimate", ("first_estimate_at",)),     # sent back to the estimate: not a decision
    ("authorisation", "dispatch", ("first_decided_at",)),
    ("authorisation", "repair", ("first_decided_at",)),        # additional work decided during the repair
    ("authorisation", "ready", ("first_ready_at", "first_decided_at")),   # everything declined
    ("estimate", "ready", ("first_ready_at",)),
    ("dispatch", "repair", ()),
    ("repair", "qc", ("first_qc_at",)),
    ("qc", "repair", ("first_qc_left_at",)),                   # failed: the first inspection ends
    ("qc", "wash", ("first_wash_at", "first_qc_left_at")),
    ("qc", "ready", ("first_ready_at", "first_qc_left_at")),
    ("wash", "ready", ("first_ready_at", "first_wash_left_at")),
    ("ready", "delivered", ()),
    ("called", "called", ()),                                  # a recall
])
def test_a_move_stamps_these_milestones(current, target, stamped):
    assert milestones(current, target) == stamped


def test_every_allowed_move_has_an_answer():
    for current, targets in TRANSITIONS.items():
        for target in targets:
            assert isinstance(milestones(current, target), tuple)
