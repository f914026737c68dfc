"""Where a visit stands, for the advisor's visit page (pure Python, no Flask).

The page groups its sections by the stage of the reception process they serve; the stage the
visit is in has its sections open, the others are folded to a one-line summary. The stage strip
at the top of the page shows each stage as done, now or to do and jumps to its first section."""
from dataclasses import dataclass

# (stage, visit states in it, sections of the page that serve it: the first is where the strip jumps)
STAGES: tuple[tuple[str, frozenset[str], tuple[str, ...]], ...] = (
    # Reception ends with "Start walk-around inspection", the inspection section's button.
    ("reception", frozenset({"waiting", "called", "no_show", "reception"}), ("customer", "history", "documents", "inspection")),
    # The customer tells their concerns during the walk-around too: the interview is open then.
    ("inspection", frozenset({"inspection"}), ("inspection", "damage", "signature", "interview")),
    ("interview", frozenset({"interview"}), ("interview",)),
    ("estimate", frozenset({"estimate", "authorisation"}), ("estimate",)),
    # During the repair the estimate section carries the additional work the technician reports.
    ("repair", frozenset({"dispatch", "repair", "qc", "wash"}), ("estimate", "progress")),
    ("delivery", frozenset({"ready", "delivered", "followed_up"}), ("delivery", "bill")),
)
STAGE_NAMES = tuple(name for name, _states, _sections in STAGES)


@dataclass(frozen=True)
class StageMark:
    name: str
    state: str          # done, now, todo
    anchor: str         # the section the strip jumps to


def stage_of(visit_state: str) -> str | None:
    """The stage a visit state belongs to; None for a cancelled visit."""
    return next((name for name, states, _sections in STAGES if visit_state in states), None)


def strip(visit_state: str) -> list[StageMark]:
    """Every stage with its state. A cancelled visit has no "now": every stage reads "to do"."""
    current = stage_of(visit_state)
    index = STAGE_NAMES.index(current) if current else len(STAGE_NAMES) + 1
    if visit_state == "cancelled":
        index = -1
    marks = []
    for i, (name, _states, sections) in enumerate(STAGES):
        state = "done" if i < index else ("now" if i == index else "todo")
        if visit_state in ("delivered", "followed_up") and name == "delivery":
            state = "done"              # handed over: nothing is at hand any more
        marks.append(StageMark(name, state, sections[0]))
    return marks


def section_open(section: str, visit_state: str) -> bool:
    """Open by default when the section serves the stage the visit is in."""
    current = stage_of(visit_state)
    return any(name == current and section in sections for name, _states, sections in STAGES)
