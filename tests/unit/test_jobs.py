"""Workshop job rules: the moves, clocked time, the board's lanes and promise warnings."""
from datetime import datetime, timedelta

import pytest

from webapp.jobs import LANES, MOVES, IllegalJobMove, clocked, lane, move, risk

T = datetime(2026, 11, 30, 2, 0)

ALLOWED = {
    ("waiting", "assign"): "assigned", ("assigned", "assign"): "assigned", ("assigned", "start"): "in_progress",
    ("in_progress", "pause"): "paused", ("in_progress", "finish"): "done", ("paused", "resume"): "in_progress",
    ("paused", "assign"): "paused", ("done", "qc_pass"): "passed", ("done", "qc_fail"): "assigned",
}
ACTIONS = ("assign", "start", "pause", "resume", "finish", "qc_pass", "qc_fail")


@pytest.mark.parametrize("status", list(MOVES))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_move(status, action):
    if (status, action) in ALLOWED:
        assert move(status, action) == ALLOWED[(status, action)]
    else:
        with pytest.raises(IllegalJobMove):
            move(status, action)


def test_a_running_job_cannot_be_taken_from_its_technician():
    with pytest.raises(IllegalJobMove):
        move("in_progress", "assign")


def test_clocked_time_adds_the_open_period():
    assert clocked(600, None, T) == 600
    assert clocked(600, T - timedelta(minutes=5), T) == 900


@pytest.mark.parametrize("state,status,reason,mfr,expected", [
    ("dispatch", "waiting", None, False, "dispatch"),
    ("dispatch", "assigned", None, False, "dispatch"),
    ("repair", "in_progress", None, False, "in_progress"),
    ("repair", "paused", "waiting_parts", False, "waiting_parts"),
    ("repair", "paused", "waiting_approval", False, "waiting_approval"),
    ("repair", "paused", "break", False, "in_progress"),
    ("authorisation", "paused", "waiting_approval", False, "waiting_approval"),
    ("dispatch", "waiting", None, True, "waiting_approval"),          # the manufacturer decides first
    ("qc", "done", None, False, "qc"),
    ("wash", "passed", None, False, "wash"),
    ("ready", "passed", None, False, "ready"),
])
def test_lanes(state, status, reason, mfr, expected):
    assert lane(state, status, reason, mfr) == expected
    assert expected in LANES


@pytest.mark.parametrize("promised,remaining,done,expected", [
    (None, 1.0, False, "ok"),
    (T + timedelta(hours=3), 1.0, False, "ok"),
    (T + timedelta(hours=1), 2.0, False, "at_risk"),
    (T - timedelta(minutes=1), 0.0, False, "overdue"),
    (T - timedelta(hours=1), 0.0, True, "ok"),                         # ready: nothing to warn about
])
def test_risk(promised, remaining, done, expected):
    assert risk(T, promised, remaining, done) == expected
