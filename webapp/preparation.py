"""Preparation of a booking (接待准备, issue 13): which parts its operations need, and what the
store can reserve for it. Pure: the caller reads the schedule and the stock figures."""
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0")


@dataclass(frozen=True)
class Item:
    """One schedule row (MaintenanceItem): this operation takes ``quantity`` of this part."""
    operation_id: int
    part_id: int
    quantity: Decimal
    make: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class Line:
    part_id: int
    need: Decimal
    held: Decimal
    to_reserve: Decimal = ZERO
    to_release: Decimal = ZERO

    @property
    def short(self) -> Decimal:
        return max(ZERO, self.need - self.held - self.to_reserve)


def _rank(item: Item, make: str | None, model: str | None) -> int | None:
    """2: the car's model, 1: its make, 0: every car; None: not this car."""
    if item.make and item.make != make:
        return None
    if item.model:
        return 2 if item.model == model else None
    return 1 if item.make else 0


def needs(operation_ids, make: str | None, model: str | None, items) -> dict[int, Decimal]:
    """Part id -> quantity for the booked operations; per operation and part the most specific
    schedule row wins (the model's own quantity over the make's)."""
    out: dict[int, Decimal] = {}
    for op in operation_ids:
        best: dict[int, tuple[int, Decimal]] = {}
        for item in items:
            if item.operation_id != op:
                continue
            rank = _rank(item, make, model)
            if rank is not None and (item.part_id not in best or rank > best[item.part_id][0]):
                best[item.part_id] = (rank, item.quantity)
        for part_id, (_, qty) in best.items():
            if qty > 0:
                out[part_id] = out.get(part_id, ZERO) + qty
    return out


def plan(needed: dict[int, Decimal], held: dict[int, Decimal], available: dict[int, Decimal]) -> list[Line]:
    """Per part: what to reserve more (at most what is free), release (no longer needed) and
    what stays short."""
    lines = []
    for part_id in sorted(set(needed) | set(held)):
        need, have = needed.get(part_id, ZERO), held.get(part_id, ZERO)
        want = need - have
        reserve = min(want, max(available.get(part_id, ZERO), ZERO)) if want > 0 else ZERO
        release = -want if want < 0 else ZERO
        lines.append(Line(part_id, need, have, reserve, release))
    return lines


def shortages(lines: list[Line]) -> list[Line]:
    return [line for line in lines if line.short > 0]
