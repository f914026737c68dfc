"""Queue order and wait estimates (接待顺序)."""
from datetime import datetime, timedelta

import pytest

from webapp.queueing import QueueEntry, estimated_wait_minutes, on_time, order, people_ahead

T0 = datetime(2026, 11, 30, 1, 0)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize("arrived,booked,expected", [
    (at(0), at(0), True), (at(-30), at(0), True), (at(-31), at(0), False),
    (at(15), at(0), True), (at(16), at(0), False), (at(0), None, False),
])
def test_on_time_window(arrived, booked, expected):
    assert on_time(arrived, booked, early_minutes=30, late_minutes=15) is expected


def test_on_time_appointments_first_then_arrival_order():
    entries = [
        QueueEntry(1, at(0)),                                   # walk-in, first to arrive
        QueueEntry(2, at(1), True, at(30)),                     # on time for 9:30
        QueueEntry(3, at(2)),
        QueueEntry(4, at(3), True, at(10)),                     # on time for 9:10 → before 2
        QueueEntry(5, at(4), False, at(-60)),                   # late appointment → like a walk-in
    ]
    assert [e.ticket_id for e in order(entries)] == [4, 2, 1, 3, 5]


def test_transferred_ticket_first_for_its_advisor_and_hidden_from_others():
    entries = [QueueEntry(1, at(0)), QueueEntry(2, at(5), assigned_advisor_id=7)]
    assert [e.ticket_id for e in order(entries, advisor_id=7)] == [2, 1]
    assert [e.ticket_id for e in order(entries, advisor_id=8)] == [1]


def test_ties_broken_by_ticket_id():
    entries = [QueueEntry(2, at(0)), QueueEntry(1, at(0))]
    assert [e.ticket_id for e in order(entries)] == [1, 2]


def test_people_ahead():
    entries = [QueueEntry(1, at(0)), QueueEntry(2, at(1)), QueueEntry(3, at(2), True, at(2))]
    assert people_ahead(entries, 3) == 0
    assert people_ahead(entries, 1) == 1
    assert people_ahead(entries, 2) == 2


@pytest.mark.parametrize("ahead,minutes,desks,expected", [
    (0, 10, 1, 0), (3, 10, 1, 30), (3, 10, 2, 15), (5, 8, 0, 40),
])
def test_estimated_wait(ahead, minutes, desks, expected):
    assert estimated_wait_minutes(ahead, minutes, desks) == expected
