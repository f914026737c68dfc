"""Statuses are types: the rules and the labels speak of every member of each enum."""
from webapp import followup, jobs
from webapp.services import closing
from webapp.statuses import BillStatus, FollowUpStatus, JobStatus


def test_every_job_status_has_its_moves():
    assert set(jobs.MOVES) == set(JobStatus)
    assert all(isinstance(to, JobStatus) for moves in jobs.MOVES.values() for to in moves.values())


def test_a_move_answers_a_member_that_still_reads_as_its_string():
    assert jobs.move("waiting", "assign") is JobStatus.ASSIGNED
    assert jobs.move(JobStatus.DONE, "qc_fail") == "assigned"


def test_closed_follow_ups_and_settled_bills_are_members():
    assert set(followup.CLOSED) == set(FollowUpStatus) - {FollowUpStatus.DUE}
    assert set(closing.SETTLED) == {BillStatus.PAID, BillStatus.COMPANY}


def test_job_labels_cover_every_status(app):
    from webapp.workshop_screens import JOB_STATUS
    assert set(JOB_STATUS) == set(JobStatus)
    assert JOB_STATUS["waiting"] is JOB_STATUS[JobStatus.WAITING]
