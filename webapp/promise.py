"""The promised completion time (预估完工时间), from the work and the shop's real load.

Pure: the caller gives the technicians' shifts today, the hours already booked ahead of this
car, the new hours, the opening hours and the break. Capacity is technician-hours: one hour of
work with two technicians on shift takes half an hour of clock time. Work that does not fit
before closing continues at the next opening (the same shifts are assumed for the next days)."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

STEP = timedelta(minutes=5)
MAX_DAYS = 30


def hm(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


@dataclass(frozen=True)
class ShopDay:
    opening: time
    closing: time
    break_start: time | None = None
    break_end: time | None = None
    shifts: tuple[tuple[time, time], ...] = ()   # one per technician on shift

    def technicians_at(self, at: time) -> int:
        if not self.opening <= at < self.closing:
            return 0
        if self.break_start and self.break_end and self.break_start <= at < self.break_end:
            return 0
        return sum(1 for start, end in self.shifts if start <= at < end)


def promise_time(now: datetime, day: ShopDay, booked_hours: Decimal, new_hours: Decimal) -> datetime:
    """When ``new_hours`` of work will be done after ``booked_hours`` queued ahead of it, in the
    shop's local time. With nobody on shift, it is "now" plus the work on one technician."""
    remaining = (Decimal(booked_hours) + Decimal(new_hours)) * 60   # technician-minutes
    if remaining <= 0:
        return now
    if not day.shifts:
        return now + timedelta(minutes=float(remaining))
    step_minutes = Decimal(STEP.total_seconds() / 60)
    t = now - timedelta(minutes=now.minute % 5, seconds=now.second, microseconds=now.microsecond)
    end = now + timedelta(days=MAX_DAYS)
    while t < end:
        techs = day.technicians_at(t.time())
        if techs:
            capacity = techs * step_minutes
            if capacity >= remaining:
                return t + timedelta(minutes=float(remaining / techs))
            remaining -= capacity
        t += STEP
    return end
