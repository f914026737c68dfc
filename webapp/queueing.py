"""Who is called next, and how long a customer will wait (pure functions).

Serving "in the right order" (接待顺序) is a promise the shop makes: a customer who booked and
arrives within the booking window is served before walk-ins, everyone else in arrival order.
Kept free of the database so the rule is tested by table and reused by the console, the
kiosk's "people ahead" and the status page.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class QueueEntry:
    ticket_id: int
    queued_at: datetime            # arrival, or return to the queue after a no-show
    on_time_appointment: bool = False
    appointment_at: datetime | None = None
    assigned_advisor_id: int | None = None


def on_time(arrived_at: datetime, appointment_at: datetime | None, early_minutes: int, late_minutes: int) -> bool:
    """An appointment counts as on time from ``early_minutes`` before to ``late_minutes`` after."""
    if appointment_at is None:
        return False
    return (appointment_at - timedelta(minutes=early_minutes)) <= arrived_at <= (
        appointment_at + timedelta(minutes=late_minutes)
    )


def priority(entry: QueueEntry) -> tuple:
    """Sort key: on-time appointments first (by booked time, then arrival), then arrival order."""
    if entry.on_time_appointment:
        return (0, entry.appointment_at or entry.queued_at, entry.queued_at, entry.ticket_id)
    return (1, entry.queued_at, entry.queued_at, entry.ticket_id)


def order(entries, advisor_id: int | None = None) -> list[QueueEntry]:
    """The queue as an advisor sees it. Tickets transferred (or booked) to one advisor come
    first for that advisor and are invisible to the others."""
    visible = [e for e in entries if e.assigned_advisor_id in (None, advisor_id)]
    return sorted(visible, key=lambda e: (e.assigned_advisor_id is None, priority(e)))


def people_ahead(entries, ticket_id: int) -> int:
    """How many waiting tickets will be called before this one (ignoring per-advisor transfers,
    which are a small correction the customer does not need)."""
    ranked = sorted(entries, key=priority)
    for index, entry in enumerate(ranked):
        if entry.ticket_id == ticket_id:
            return index
    return 0


def estimated_wait_minutes(ahead: int, minutes_per_customer: float, advisors_on_duty: int) -> int:
    """Whole minutes until this customer is called; 0 when they are next and a desk is free."""
    desks = max(1, advisors_on_duty)
    return int(round(ahead * minutes_per_customer / desks))
