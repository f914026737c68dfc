"""Reads a site's booking capacity from the database into the pure rules of webapp/capacity.py:
the settings, the advisors (each receives customers in every reception slot of the opening
hours: advisors have no roster of their own yet), the technicians' hours from the roster that
feeds promise times (webapp/services/settings.technician_hours), and the bookings that hold
capacity (booked or arrived; cancelled ones give it back)."""
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .. import capacity
from ..extensions import db
from ..models import Appointment, Site, User
from ..roles import ADVISOR
from ..timeutil import day_bounds_utc, local_day, utcnow
from .settings import parse_holidays, parse_time, technician_hours

HOLDING = ("booked", "arrived")
HORIZON_DAYS = 60        # how far ahead staff may book
SEARCH_DAYS = 14         # how far the "next free times" look


def _hm(value: str | None) -> time | None:
    value = parse_time(value) if value else None
    return time(*map(int, value.split(":"))) if value else None


def rules_of(site: Site) -> capacity.Rules:
    caps = tuple((kind, Decimal(value)) for kind, value in (("maintenance", site.cap_maintenance_hours),
                                                            ("diagnosis", site.cap_diagnosis_hours))
                 if value is not None)
    holidays, _bad = parse_holidays(site.holidays)
    weekdays = frozenset(int(d) for d in (site.closed_weekdays or "").split(",") if d.strip().isdigit())
    return capacity.Rules(slot_minutes=site.slot_minutes or 30, per_advisor=site.slot_customers or 1,
                          utilisation=Decimal(site.utilisation_percent or 0) / 100,
                          reserve=Decimal(site.reserve_percent or 0) / 100, caps=caps,
                          closed_days=frozenset(holidays), closed_weekdays=weekdays)


def shop_hours(site: Site) -> capacity.ShopHours:
    return capacity.ShopHours(_hm(site.opening), _hm(site.closing), _hm(site.break_start), _hm(site.break_end))


def advisors_of(site: Site) -> list[User]:
    return list(db.session.scalars(select(User).where(User.site_id == site.id, User.role == ADVISOR,
                                                      User.active.is_(True)).order_by(User.desk, User.id)))


def local_dt(site: Site, at_utc: datetime) -> datetime:
    return at_utc.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(site.timezone)).replace(tzinfo=None)


def to_utc(site: Site, day: date, start: time) -> datetime:
    local = datetime.combine(day, start).replace(tzinfo=ZoneInfo(site.timezone))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def holding(site: Site, day: date, exclude_id: int | None = None) -> list[Appointment]:
    start, end = day_bounds_utc(site.timezone, day)
    query = select(Appointment).where(Appointment.site_id == site.id, Appointment.status.in_(HOLDING),
                                      Appointment.scheduled_at >= start, Appointment.scheduled_at < end)
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    return list(db.session.scalars(query.order_by(Appointment.scheduled_at, Appointment.id)))


def day_of(site: Site, day: date, exclude_id: int | None = None, advisors: list[User] | None = None) -> capacity.Day:
    """The capacity of ``day``; ``exclude_id``: leave that booking out (it is being moved)."""
    advisors = advisors_of(site) if advisors is None else advisors
    bookings = [capacity.Booking(local_dt(site, a.scheduled_at).time(), Decimal(a.hours or 0), a.cap_kind, a.advisor_id)
                for a in holding(site, day, exclude_id)]
    hours, _count, _rostered = technician_hours(site, day)
    return capacity.day_capacity(day, shop_hours(site), [a.id for a in advisors], hours, rules_of(site), bookings)


def next_free(site: Site, hours: Decimal, kind: str | None, after: datetime | None = None,
              exclude_id: int | None = None, limit: int = 5) -> list[datetime]:
    """The next free reception times (local) for a booking of ``hours`` of ``kind``, from
    ``after`` (the time asked for) or now, whichever is later."""
    now = local_dt(site, utcnow())
    start = max(after or now, now)
    advisors = advisors_of(site)
    days = (day_of(site, start.date() + timedelta(days=i), exclude_id, advisors) for i in range(SEARCH_DAYS))
    return [datetime.combine(d, t) for d, t in capacity.free_times(days, hours, kind, not_before=start, limit=limit)]


def today(site: Site) -> date:
    return local_day(site.timezone)
