"""Times are stored as naive UTC; a site's own day (for daily ticket numbers) uses its time zone."""
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

# Moved only by ``clock_at``: the demo data tells a visit of some days ago through the real
# services, which read the time here, so every record of it carries the times it would have had.
_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None) + _offset


@contextmanager
def clock_at():
    """``with clock_at() as move: move(when_utc)`` — utcnow() reads ``when_utc`` (then runs on
    from it) until the block ends. Single-threaded command-line use only."""
    global _offset
    before = _offset     # a clock already set (tests pinned to a time of day) comes back after

    def move(when_utc: datetime):
        global _offset
        _offset = when_utc - datetime.now(timezone.utc).replace(tzinfo=None)

    try:
        yield move
    finally:
        _offset = before


def local_day(tz_name: str, at: datetime | None = None) -> date:
    at = at or utcnow()
    return at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz_name)).date()


def local_to_utc(tz_name: str, local: datetime) -> datetime:
    return local.replace(tzinfo=ZoneInfo(tz_name)).astimezone(timezone.utc).replace(tzinfo=None)


def day_bounds_utc(tz_name: str, day: date) -> tuple[datetime, datetime]:
    """[start, end) of a site's local day, in naive UTC."""
    start = local_to_utc(tz_name, datetime(day.year, day.month, day.day))
    from datetime import timedelta
    return start, start + timedelta(days=1)
