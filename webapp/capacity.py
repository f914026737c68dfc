"""Booking capacity of a site's day (预约产能, issue 13) — pure Python, unit-tested by table.

Two limits decide whether a booking fits, as the shops' "time buckets" do:

- reception slots: the opening hours (less the break) cut into slots of ``slot_minutes``; each
  advisor receives ``per_advisor`` customers per slot, so a slot offers advisors × per_advisor;
- labour hours: the technicians' rostered hours (the roster that feeds promise times) × the
  utilisation factor, less the reserve share kept for walk-ins, carry-over and additional work.
  Optional caps per kind (maintenance, diagnosis) keep one kind from filling the day.

Closed days (holidays, closed weekdays) offer nothing. A full slot, advisor, day or kind may be
overbooked by a manager who gives a reason; a closed day or a time that is no slot never.
The caller (webapp/services/appointments.py) reads the database and the settings into these
values; nothing here knows Flask or SQLAlchemy."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Sequence

CAPPED_KINDS = ("maintenance", "diagnosis")
# Refusals a manager may override with a reason; the others ("closed", "not_a_slot") no one may.
OVERBOOKABLE = frozenset({"slot_full", "advisor_full", "hours_full", "cap_full"})
HOURS = Decimal("0.1")


@dataclass(frozen=True)
class Rules:
    slot_minutes: int = 30
    per_advisor: int = 1                        # customers one advisor receives per slot
    utilisation: Decimal = Decimal("0.85")      # share of rostered hours that is productive
    reserve: Decimal = Decimal("0.20")          # share of the productive hours kept off the booking
    caps: tuple[tuple[str, Decimal], ...] = ()  # (kind, hours per day); a kind without one is uncapped
    closed_days: frozenset[date] = frozenset()  # holidays
    closed_weekdays: frozenset[int] = frozenset()  # 0 = Monday … 6 = Sunday

    def cap(self, kind: str | None) -> Decimal | None:
        return dict(self.caps).get(kind) if kind else None

    def closed(self, day: date) -> bool:
        return day in self.closed_days or day.weekday() in self.closed_weekdays


@dataclass(frozen=True)
class ShopHours:
    opening: time
    closing: time
    break_start: time | None = None
    break_end: time | None = None


@dataclass(frozen=True)
class Booking:
    """A booking that holds capacity: its local start, labour hours, capped kind and advisor."""
    start: time
    hours: Decimal = Decimal("0")
    kind: str | None = None
    advisor_id: int | None = None


@dataclass(frozen=True)
class Slot:
    start: time
    offered: int
    taken: int
    taken_by: tuple[tuple[int, int], ...] = ()   # (advisor id, bookings) in this slot

    @property
    def free(self) -> int:
        return max(0, self.offered - self.taken)

    def taken_by_advisor(self, advisor_id: int) -> int:
        return dict(self.taken_by).get(advisor_id, 0)


@dataclass(frozen=True)
class Day:
    day: date
    closed: bool
    slots: tuple[Slot, ...]
    hours_capacity: Decimal
    hours_booked: Decimal
    caps: tuple[tuple[str, Decimal, Decimal], ...] = ()   # (kind, cap hours, booked hours)
    per_advisor: int = 1
    advisor_load: tuple[tuple[int, int], ...] = ()        # (advisor id, bookings that day)

    @property
    def slots_offered(self) -> int:
        return sum(s.offered for s in self.slots)

    @property
    def slots_taken(self) -> int:
        return sum(s.taken for s in self.slots)

    @property
    def hours_left(self) -> Decimal:
        return self.hours_capacity - self.hours_booked

    def slot_at(self, start: time) -> Slot | None:
        return next((s for s in self.slots if s.start == start), None)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _time(m: int) -> time:
    return time(m // 60, m % 60)


def slot_starts(hours: ShopHours, slot_minutes: int) -> list[time]:
    """Starts of the reception slots: whole slots inside the opening hours, none overlapping
    the break (a customer is not received over lunch)."""
    if slot_minutes <= 0:
        return []
    start, end = _minutes(hours.opening), _minutes(hours.closing)
    b_start = _minutes(hours.break_start) if hours.break_start and hours.break_end else None
    b_end = _minutes(hours.break_end) if b_start is not None else None
    starts, m = [], start
    while m + slot_minutes <= end:
        if b_start is not None and m < b_end and m + slot_minutes > b_start:
            m = b_end   # resume right after the break, not on the old grid
            continue
        starts.append(_time(m))
        m += slot_minutes
    return starts


def bookable_hours(technician_hours: Decimal, rules: Rules) -> Decimal:
    """Rostered technician-hours × utilisation, less the reserve share, to a tenth of an hour."""
    productive = Decimal(technician_hours) * rules.utilisation
    return (productive * (1 - rules.reserve)).quantize(HOURS, rounding=ROUND_HALF_UP)


def cap_kind(reason: str | None, operation_kinds: Iterable[str]) -> str | None:
    """Which capped kind a booking counts against: diagnosis when it books a diagnosis
    operation, or a repair/warranty complaint with no operation named yet (the fault is not
    known: inspection first); maintenance for a maintenance booking; otherwise none."""
    kinds = set(operation_kinds)
    if "diagnosis" in kinds or (not kinds and reason in ("repair", "warranty")):
        return "diagnosis"
    if reason == "maintenance":
        return "maintenance"
    return None


def _slot_of(starts: list[time], at: time) -> time | None:
    """The slot holding a booked time (a booking made off the grid counts in the slot it falls in)."""
    held = [s for s in starts if s <= at]
    return held[-1] if held else (starts[0] if starts else None)


def day_capacity(day: date, hours: ShopHours, advisors: Sequence[int], technician_hours: Decimal,
                 rules: Rules, bookings: Iterable[Booking]) -> Day:
    """The day's slots offered and taken, hours bookable and booked, and each cap's use."""
    bookings = list(bookings)
    closed = rules.closed(day)
    starts = [] if closed else slot_starts(hours, rules.slot_minutes)
    per_slot: dict[time, list[Booking]] = {s: [] for s in starts}
    for b in bookings:
        held = _slot_of(starts, b.start)
        if held is not None:
            per_slot[held].append(b)
    offered = len(advisors) * rules.per_advisor
    slots = []
    for s in starts:
        taken_by: dict[int, int] = {}
        for b in per_slot[s]:
            if b.advisor_id is not None:
                taken_by[b.advisor_id] = taken_by.get(b.advisor_id, 0) + 1
        slots.append(Slot(s, offered, len(per_slot[s]), tuple(sorted(taken_by.items()))))
    booked = sum((Decimal(b.hours) for b in bookings), Decimal("0"))
    caps = tuple((kind, cap, sum((Decimal(b.hours) for b in bookings if b.kind == kind), Decimal("0")))
                 for kind, cap in rules.caps)
    load = {a: 0 for a in advisors}
    for b in bookings:
        if b.advisor_id in load:
            load[b.advisor_id] += 1
    return Day(day, closed, tuple(slots), Decimal("0") if closed else bookable_hours(technician_hours, rules),
               booked, caps, rules.per_advisor, tuple(load.items()))


def refusals(capacity: Day, start: time, hours: Decimal, kind: str | None = None,
             advisor_id: int | None = None) -> list[str]:
    """Why a booking of ``hours`` at ``start`` (with ``advisor_id``, when chosen) does not fit;
    empty when it does."""
    if capacity.closed:
        return ["closed"]
    slot = capacity.slot_at(start)
    if slot is None:
        return ["not_a_slot"]
    codes = []
    if slot.free <= 0:
        codes.append("slot_full")
    elif advisor_id is not None and slot.taken_by_advisor(advisor_id) >= capacity.per_advisor:
        codes.append("advisor_full")
    if capacity.hours_booked + Decimal(hours) > capacity.hours_capacity:
        codes.append("hours_full")
    for cap_kind_, cap, used in capacity.caps:
        if cap_kind_ == kind and used + Decimal(hours) > cap:
            codes.append("cap_full")
    return codes


def blocking(codes: Sequence[str], is_manager: bool, overbook_reason: str | None) -> str | None:
    """The refusal that stands, or None when the booking may go ahead: nothing refused, or a
    manager overbooking what may be overbooked and saying why."""
    if not codes:
        return None
    hard = [c for c in codes if c not in OVERBOOKABLE]
    if hard:
        return hard[0]
    if not is_manager:
        return codes[0]
    if not (overbook_reason or "").strip():
        return "overbook_reason_required"
    return None


def least_loaded(capacity: Day, start: time, advisors: Sequence[int]) -> int | None:
    """The advisor with room in the slot and the fewest bookings that day (the earlier in
    ``advisors`` on a tie); None when every advisor's share of the slot is taken."""
    slot = capacity.slot_at(start)
    if slot is None:
        return None
    load = dict(capacity.advisor_load)
    free = [a for a in advisors if slot.taken_by_advisor(a) < capacity.per_advisor]
    if not free:
        return None
    return min(free, key=lambda a: (load.get(a, 0), advisors.index(a)))


def free_times(days: Iterable[Day], hours: Decimal, kind: str | None = None,
               not_before: datetime | None = None, limit: int = 5) -> list[tuple[date, time]]:
    """The first ``limit`` (day, slot) where a booking of ``hours`` of ``kind`` fits, in order,
    skipping slots that start before ``not_before`` (local time)."""
    found = []
    for capacity in days:
        for slot in capacity.slots:
            if not_before is not None and datetime.combine(capacity.day, slot.start) < not_before:
                continue
            if not refusals(capacity, slot.start, hours, kind):
                found.append((capacity.day, slot.start))
                if len(found) >= limit:
                    return found
    return found


def within(days_ahead: int, first: date) -> list[date]:
    """``first`` and the following days, ``days_ahead`` in all (the booking horizon)."""
    return [first + timedelta(days=i) for i in range(days_ahead)]


__all__ = ["Booking", "Day", "Rules", "ShopHours", "Slot", "CAPPED_KINDS", "OVERBOOKABLE", "blocking",
           "bookable_hours", "cap_kind", "day_capacity", "free_times", "least_loaded", "refusals",
           "slot_starts", "within"]
