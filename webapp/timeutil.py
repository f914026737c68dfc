"""Times are stored as naive UTC; a site's own day (for daily ticket numbers) uses its time zone."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


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
