"""Rules of the handover (交车) checklist (pure Python, no Flask).

The items the advisor ticks with the customer, what the customer's signature covers (a SHA-256
of the checklist as shown, with what it was checked against) and why the handover cannot be
completed yet."""
import hashlib
import json
from dataclasses import dataclass, field

# Delivery columns, in the order they are done at the car.
ITEMS = ("car_fetched", "exterior_checked", "belongings_checked", "covers_removed", "old_parts_done",
         "work_explained")
MAX_NOTES = 2000


@dataclass
class HandoverSnapshot:
    """What the customer signs: the ticks and notes, and what the advisor checked them against."""
    visit_id: int
    plate: str
    ticket: str | None
    ro_number: str | None
    old_parts: str | None                                   # take, leave (the RO's choice)
    items: dict[str, bool] = field(default_factory=dict)
    notes: str | None = None
    marks: list[tuple[str, str, str]] = field(default_factory=list)   # intake damage (zone, kind, note)
    accessories: list[str] = field(default_factory=list)
    valuables: str | None = None


def content_hash(s: HandoverSnapshot) -> str:
    data = {
        "visit": s.visit_id, "plate": s.plate, "ticket": s.ticket, "ro": s.ro_number, "old_parts": s.old_parts,
        "items": {k: bool(s.items.get(k)) for k in ITEMS}, "notes": (s.notes or "").strip() or None,
        "marks": [list(m) for m in s.marks], "accessories": sorted(s.accessories),
        "valuables": (s.valuables or "").strip() or None,
    }
    raw = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def missing_items(items: dict[str, bool]) -> list[str]:
    return [k for k in ITEMS if not items.get(k)]


def completion_problems(items: dict[str, bool], signed_current: bool) -> list[str]:
    """Codes: each unticked item, then "signature" when the current checklist is not signed."""
    problems = missing_items(items)
    if not signed_current:
        problems.append("signature")
    return problems
