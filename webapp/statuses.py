"""The statuses of the records a visit moves through, as types (pure Python).

Each is a ``StrEnum``: a member *is* its string ("approved" == LineDecision.APPROVED), so templates,
JSON hints and existing comparisons read the same, while the database refuses any other value
(CHECK constraints, migration 0011) and the model refuses it before the flush. A new status is
added here, to the migration that widens the constraint, and to the labels that name it."""
from enum import StrEnum

import sqlalchemy as sa


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVED = "served"          # the advisor started the reception: the visit took over
    SKIPPED = "skipped"        # called, did not come (no-show); can be requeued
    DONE = "done"
    CANCELLED = "cancelled"


class EstimateStatus(StrEnum):
    DRAFT = "draft"
    PRESENTED = "presented"
    DECIDED = "decided"


class LineDecision(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class JobStatus(StrEnum):
    WAITING = "waiting"        # for a technician
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    DONE = "done"              # waiting for QC
    PASSED = "passed"


class BillStatus(StrEnum):
    DRAFT = "draft"            # being prepared, differences open
    ISSUED = "issued"          # to pay
    PAID = "paid"
    COMPANY = "company"        # on a company account
    VOID = "void"


class ComplaintStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class FollowUpStatus(StrEnum):
    DUE = "due"
    REACHED = "reached"
    UNREACHABLE = "unreachable"
    WRONG_NUMBER = "wrong_number"


def status_type(enum_cls: type[StrEnum], name: str = "status") -> sa.Enum:
    """A VARCHAR column holding one of ``enum_cls``'s values, with a CHECK constraint named
    ck_<table>_<name> (the metadata's naming convention), the same on SQLite and PostgreSQL."""
    return sa.Enum(enum_cls, name=name, native_enum=False, create_constraint=True, length=16,
                   values_callable=lambda members: [m.value for m in members], validate_strings=True)
