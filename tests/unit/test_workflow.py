"""The visit workflow, by table: every pair of states is either allowed or raises."""
import pytest

from webapp.workflow import (CUSTOMER_STAGES, IllegalTransition, TRANSITIONS, VisitState as S,
                             allowed, check_transition, customer_stage, next_states)

ALLOWED = {
    (S.WAITING, S.CALLED), (S.WAITING, S.CANCELLED),
    (S.CALLED, S.CALLED), (S.CALLED, S.RECEPTION), (S.CALLED, S.NO_SHOW), (S.CALLED, S.WAITING), (S.CALLED, S.CANCELLED),
    (S.NO_SHOW, S.WAITING), (S.NO_SHOW, S.CANCELLED),
    (S.RECEPTION, S.INSPECTION), (S.RECEPTION, S.CANCELLED),
    (S.INSPECTION, S.INTERVIEW), (S.INSPECTION, S.CANCELLED),
    (S.INTERVIEW, S.ESTIMATE), (S.INTERVIEW, S.CANCELLED),
    (S.ESTIMATE, S.AUTHORISATION), (S.ESTIMATE, S.READY), (S.ESTIMATE, S.CANCELLED),
    (S.AUTHORISATION, S.ESTIMATE), (S.AUTHORISATION, S.DISPATCH), (S.AUTHORISATION, S.REPAIR),
    (S.AUTHORISATION, S.READY), (S.AUTHORISATION, S.CANCELLED),
    (S.DISPATCH, S.REPAIR),
    (S.REPAIR, S.QC), (S.REPAIR, S.AUTHORISATION),
    (S.QC, S.REPAIR), (S.QC, S.WASH), (S.QC, S.READY),
    (S.WASH, S.READY),
    (S.READY, S.DELIVERED),
    (S.DELIVERED, S.FOLLOWED_UP),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_pair(current, target):
    expected = (current, target) in ALLOWED
    assert allowed(current, target) is expected
    if expected:
        assert check_transition(current.value, target.value) is target
    else:
        with pytest.raises(IllegalTransition) as exc:
            check_transition(current, target)
        assert exc.value.current is current and exc.value.target is target


def test_table_covers_every_state():
    assert set(TRANSITIONS) == set(S)


def test_final_states_have_no_way_out():
    assert next_states(S.FOLLOWED_UP) == [] and next_states(S.CANCELLED) == []


def test_next_states_in_process_order_without_self_loop():
    assert next_states(S.CALLED) == [S.WAITING, S.NO_SHOW, S.RECEPTION, S.CANCELLED]
    assert next_states(S.QC) == [S.REPAIR, S.WASH, S.READY]


def test_delivery_needs_the_whole_process():
    """A car cannot be delivered straight from the desk or the repair bay."""
    for state in (S.RECEPTION, S.REPAIR, S.QC, S.WASH):
        assert not allowed(state, S.DELIVERED)


@pytest.mark.parametrize("state,stage", [
    (S.WAITING, "checked_in"), (S.CALLED, "checked_in"), (S.RECEPTION, "with_advisor"),
    (S.INTERVIEW, "inspection"), (S.AUTHORISATION, "estimate"), (S.DISPATCH, "repair"),
    (S.QC, "qc"), (S.WASH, "wash"), (S.READY, "ready"), (S.FOLLOWED_UP, "delivered"),
])
def test_customer_stage(state, stage):
    assert CUSTOMER_STAGES[customer_stage(state)][0] == stage


def test_every_state_but_cancelled_has_a_customer_stage():
    assert customer_stage(S.CANCELLED) == -1
    assert all(customer_stage(s) >= 0 for s in S if s is not S.CANCELLED)
