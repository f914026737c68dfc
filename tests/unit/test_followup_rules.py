"""Follow-up scheduling and complaint rules (webapp/followup.py), by table. Shanghai is UTC+8:
08:30–17:30 local is 00:30–09:30 UTC."""
from datetime import datetime, timedelta

import pytest

from webapp import followup as rules

TZ = "Asia/Shanghai"
U = datetime  # naive UTC


@pytest.mark.parametrize("delivered, days, due", [
    (U(2026, 3, 2, 3, 0), 3, U(2026, 3, 5, 3, 0)),
    (U(2026, 3, 2, 3, 0), 0, U(2026, 3, 2, 3, 0)),
    (U(2026, 3, 2, 3, 0), -2, U(2026, 3, 2, 3, 0)),
])
def test_first_due(delivered, days, due):
    assert rules.first_due(delivered, days) == due


@pytest.mark.parametrize("at, expected", [
    (U(2026, 3, 2, 2, 0), U(2026, 3, 2, 2, 0)),      # 10:00 local: open
    (U(2026, 3, 2, 0, 30), U(2026, 3, 2, 0, 30)),    # 08:30 sharp: open
    (U(2026, 3, 2, 0, 0), U(2026, 3, 2, 0, 30)),     # 08:00 local: wait for opening
    (U(2026, 3, 2, 9, 30), U(2026, 3, 3, 0, 30)),    # 17:30 sharp: closed → next morning
    (U(2026, 3, 2, 12, 0), U(2026, 3, 3, 0, 30)),    # 20:00 local → next morning
    (U(2026, 3, 2, 17, 0), U(2026, 3, 3, 0, 30)),    # 01:00 local on the 3rd → 08:30 on the 3rd
])
def test_within_opening(at, expected):
    assert rules.within_opening(at, "08:30", "17:30", TZ) == expected


@pytest.mark.parametrize("now, hours, expected", [
    (U(2026, 3, 2, 2, 0), 2, U(2026, 3, 2, 4, 0)),     # 10:00 + 2 h = 12:00 local, open
    (U(2026, 3, 2, 2, 0), 24, U(2026, 3, 3, 2, 0)),    # same time tomorrow
    (U(2026, 3, 2, 8, 0), 4, U(2026, 3, 3, 0, 30)),    # 16:00 + 4 h = 20:00 → 08:30 next day
    (U(2026, 3, 2, 2, 0), 0, U(2026, 3, 2, 3, 0)),     # at least one hour later
])
def test_next_attempt(now, hours, expected):
    assert rules.next_attempt(now, hours, "08:30", "17:30", TZ) == expected


NOW = U(2026, 3, 5, 2, 0)
DUE = U(2026, 3, 5, 1, 0)


@pytest.mark.parametrize("attempts, outcome, status, n, due, closed", [
    (0, "reached", "reached", 1, DUE, True),
    (0, "wrong_number", "wrong_number", 1, DUE, True),
    (0, "no_answer", "due", 1, U(2026, 3, 6, 2, 0), False),    # 24 h later, within opening hours
    (1, "no_answer", "due", 2, U(2026, 3, 6, 2, 0), False),
    (2, "no_answer", "unreachable", 3, DUE, True),              # third unanswered call of 3
    (2, "reached", "reached", 3, DUE, True),
])
def test_record_outcome(attempts, outcome, status, n, due, closed):
    result = rules.record_outcome("due", attempts, DUE, outcome, NOW, 24, 3, "08:30", "17:30", TZ)
    assert (result.status, result.attempts, result.due_at, result.closed) == (status, n, due, closed)


@pytest.mark.parametrize("status, outcome, code", [
    ("due", "maybe", "bad_outcome"),
    ("reached", "reached", "closed"),
    ("unreachable", "no_answer", "closed"),
    ("wrong_number", "reached", "closed"),
])
def test_record_outcome_refused(status, outcome, code):
    with pytest.raises(rules.CallRefused) as exc:
        rules.record_outcome(status, 1, DUE, outcome, NOW, 24, 3, "08:30", "17:30", TZ)
    assert exc.value.code == code


def test_max_attempts_one_gives_up_at_once():
    result = rules.record_outcome("due", 0, DUE, "no_answer", NOW, 24, 1, "08:30", "17:30", TZ)
    assert result.status == "unreachable" and result.closed


@pytest.mark.parametrize("rating, threshold, opens", [
    (1, 2, True), (2, 2, True), (3, 2, False), (5, 2, False), (3, 3, True),
    (None, 2, False), (0, 2, False), (2, 0, False),
])
def test_opens_complaint(rating, threshold, opens):
    assert rules.opens_complaint(rating, threshold) is opens


def test_complaint_due():
    assert rules.complaint_due(NOW, 2) == NOW + timedelta(days=2)


@pytest.mark.parametrize("status, due, escalated, expected", [
    ("open", NOW - timedelta(minutes=1), None, True),
    ("open", NOW + timedelta(minutes=1), None, False),
    ("open", NOW, None, False),                                  # due exactly now: not yet
    ("open", NOW - timedelta(days=1), NOW - timedelta(hours=1), False),   # once
    ("resolved", NOW - timedelta(days=1), None, False),
])
def test_needs_escalation(status, due, escalated, expected):
    assert rules.needs_escalation(status, due, escalated, NOW) is expected


@pytest.mark.parametrize("raw, value", [("1", 1), (" 5 ", 5), ("0", None), ("6", None), ("x", None),
                                        (None, None), ("", None), (3, 3)])
def test_parse_rating(raw, value):
    assert rules.parse_rating(raw) == value


def test_parse_answers_and_stars():
    answers, errors = rules.parse_answers({"explained": "yes", "on_time": "no", "clean": "maybe"})
    assert answers == {"explained": "yes", "on_time": "no"}
    assert errors == {"clean": "required", "recommend": "required"}
    assert rules.stars(2) == "★★☆☆☆" and rules.stars(5) == "★★★★★"
