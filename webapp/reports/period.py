"""A report's period: local days [start, end] of the sites' time zone, as naive-UTC bounds, and the
period of the same length just before it (the figure beside each one)."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from ..timeutil import local_to_utc

RANGES = ("today", "week", "month", "custom")
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    start: date          # first local day
    end: date            # last local day (included)
    tz: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[from, to) in naive UTC."""
        return (local_to_utc(self.tz, datetime.combine(self.start, datetime.min.time())),
                local_to_utc(self.tz, datetime.combine(self.end + timedelta(days=1), datetime.min.time())))

    @property
    def utc_offset_minutes(self) -> int:
        """The zone's offset at the start of the period: local days are cut in SQL with it (the
        Chinese zones keep one offset all year; elsewhere a DST change mid-period moves the cut by an
        hour for the rest of it, which the report accepts)."""
        start = datetime.combine(self.start, datetime.min.time()).replace(tzinfo=ZoneInfo(self.tz))
        return int(start.utcoffset().total_seconds() // 60)

    def previous(self) -> "Period":
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1), self.tz)

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def named(kind: str, today: date, tz: str) -> Period:
    """today; week (Monday to today); month (the 1st to today)."""
    if kind == "week":
        return Period(today - timedelta(days=today.weekday()), today, tz)
    if kind == "month":
        return Period(today.replace(day=1), today, tz)
    return Period(today, today, tz)


def utc_day(at: datetime, tz: str) -> date:
    return at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).date()
