"""The states of a visit and the moves allowed between them.

Pure Python on purpose: the rules of the reception process are the product's core and are
tested by table, without a database or a request. Services ask ``check_transition`` before
they change a visit; a view turns :class:`IllegalTransition` into HTTP 409.

Stages follow ``shared/domain.md`` 3–16: greeting (ticket, call) → walk-around inspection →
interview and fault confirmation → estimate → repair order and authorisation → repair →
quality inspection → wash → ready → delivery (with settlement) → follow-up.
"""
from enum import Enum


class VisitState(str, Enum):
    WAITING = "waiting"              # ticket taken, in the lobby queue
    CALLED = "called"                # number shown on the lobby display
    NO_SHOW = "no_show"              # called but did not come to the desk
    RECEPTION = "reception"          # with the advisor at the desk
    INSPECTION = "inspection"        # walk-around inspection, intake form
    INTERVIEW = "interview"          # customer concern, fault confirmation, warranty
    ESTIMATE = "estimate"            # parts, labour, promise time
    AUTHORISATION = "authorisation"  # repair order waiting for the customer's signature/approval
    DISPATCH = "dispatch"            # approved, waiting for a technician
    REPAIR = "repair"                # work in progress
    QC = "qc"                        # final quality inspection
    WASH = "wash"
    READY = "ready"                  # ready for pickup
    DELIVERED = "delivered"          # handed over and settled
    FOLLOWED_UP = "followed_up"      # follow-up call done
    CANCELLED = "cancelled"

    def __str__(self):
        return self.value


S = VisitState

# state -> states it may move to. Rework is QC -> REPAIR; a customer who declines all work
# goes from ESTIMATE/AUTHORISATION straight to READY (car returned unrepaired).
TRANSITIONS: dict[VisitState, frozenset[VisitState]] = {
    S.WAITING: frozenset({S.CALLED, S.CANCELLED}),
    S.CALLED: frozenset({S.CALLED, S.RECEPTION, S.NO_SHOW, S.WAITING, S.CANCELLED}),
    S.NO_SHOW: frozenset({S.WAITING, S.CANCELLED}),
    S.RECEPTION: frozenset({S.INSPECTION, S.CANCELLED}),
    S.INSPECTION: frozenset({S.INTERVIEW, S.CANCELLED}),
    S.INTERVIEW: frozenset({S.ESTIMATE, S.CANCELLED}),
    S.ESTIMATE: frozenset({S.AUTHORISATION, S.READY, S.CANCELLED}),
    # Back to REPAIR when the customer decided on additional work found during the repair.
    S.AUTHORISATION: frozenset({S.ESTIMATE, S.DISPATCH, S.REPAIR, S.READY, S.CANCELLED}),
    S.DISPATCH: frozenset({S.REPAIR}),
    S.REPAIR: frozenset({S.QC, S.AUTHORISATION}),
    S.QC: frozenset({S.REPAIR, S.WASH, S.READY}),
    S.WASH: frozenset({S.READY}),
    S.READY: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.FOLLOWED_UP}),
    S.FOLLOWED_UP: frozenset(),
    S.CANCELLED: frozenset(),
}

# The milestones the customer sees on the status page, in order, and the states that reach each.
CUSTOMER_STAGES: tuple[tuple[str, frozenset[VisitState]], ...] = (
    ("checked_in", frozenset({S.WAITING, S.CALLED, S.NO_SHOW})),
    ("with_advisor", frozenset({S.RECEPTION})),
    ("inspection", frozenset({S.INSPECTION, S.INTERVIEW})),
    ("estimate", frozenset({S.ESTIMATE, S.AUTHORISATION})),
    ("repair", frozenset({S.DISPATCH, S.REPAIR})),
    ("qc", frozenset({S.QC})),
    ("wash", frozenset({S.WASH})),
    ("ready", frozenset({S.READY})),
    ("delivered", frozenset({S.DELIVERED, S.FOLLOWED_UP})),
)

# States in which the car is on the premises: the status link stays valid at least until it leaves.
OPEN_STATES = frozenset(TRANSITIONS) - {S.DELIVERED, S.FOLLOWED_UP, S.CANCELLED}


class IllegalTransition(Exception):
    """A move the reception process does not allow, e.g. delivering a car that has not passed QC."""

    def __init__(self, current, target):
        self.current = VisitState(current)
        self.target = VisitState(target)
        super().__init__(f"cannot move a visit from {self.current.value} to {self.target.value}")


def allowed(current, target) -> bool:
    return VisitState(target) in TRANSITIONS[VisitState(current)]


def check_transition(current, target) -> VisitState:
    """Return the target state, or raise IllegalTransition."""
    if not allowed(current, target):
        raise IllegalTransition(current, target)
    return VisitState(target)


def next_states(current) -> list[VisitState]:
    """Allowed moves in the order of the process (for buttons), self-loops left out."""
    order = list(VisitState)
    cur = VisitState(current)
    return sorted((s for s in TRANSITIONS[cur] if s != cur), key=order.index)


def customer_stage(state) -> int:
    """Index into CUSTOMER_STAGES for a state; -1 for a cancelled visit."""
    st = VisitState(state)
    for i, (_, states) in enumerate(CUSTOMER_STAGES):
        if st in states:
            return i
    return -1


# The milestones of the report's stage times (reports.month): the first time a visit entered these
# states, left QC or the wash, and was decided on. Kept on the visit by record_transition as it
# moves (Visit.first_*_at), so a month's report reads one row per visit instead of its event log.
ENTERED = {S.RECEPTION: "first_reception_at", S.ESTIMATE: "first_estimate_at",
           S.AUTHORISATION: "first_presented_at", S.QC: "first_qc_at", S.WASH: "first_wash_at",
           S.READY: "first_ready_at"}
LEFT = {S.QC: "first_qc_left_at", S.WASH: "first_wash_left_at"}
DECIDED = frozenset({S.DISPATCH, S.REPAIR, S.READY})     # the customer's answer moves the visit on


def milestones(current, target) -> tuple[str, ...]:
    """The Visit.first_*_at columns a move from ``current`` (None at check-in) to ``target``
    stamps, when they are still empty. A rework (QC -> repair -> QC) stamps nothing new: the
    first inspection stays the one the report times."""
    target = VisitState(target)
    current = VisitState(current) if current else None
    names = []
    if target in ENTERED:
        names.append(ENTERED[target])
    if current in LEFT and current != target:
        names.append(LEFT[current])
    if current == S.AUTHORISATION and target in DECIDED:
        names.append("first_decided_at")
    return tuple(names)
