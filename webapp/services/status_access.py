"""Who may see what on the customer status page (/t/<token>).

The token in the link is the capability to follow the visit; personal data (name, full plate,
mobile, later prices and approvals) also needs the 6-digit PIN printed on the ticket. Wrong PINs
are counted on the ticket itself, so guessing is bounded per ticket whatever the number of IPs:
after ``PIN_MAX_FAILURES`` the ticket refuses every PIN, the right one included, for
``PIN_LOCK_MINUTES``. The per-IP limit is the view's (Flask-Limiter).
"""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Ticket
from ..timeutil import local_day, utcnow
from ..workflow import VisitState
from .checkin import pin_matches

_PIN = re.compile(r"^[0-9]{6}$")
_CLOSED = {VisitState.DELIVERED.value, VisitState.FOLLOWED_UP.value}
_NEVER_SERVED = {VisitState.WAITING.value, VisitState.CALLED.value}


def find_ticket(token: str) -> Ticket | None:
    if not token or len(token) > 64:
        return None
    # The visit and site come along in the same query: every status request needs both.
    return db.session.scalar(select(Ticket).where(Ticket.token == token)
                             .options(joinedload(Ticket.visit), joinedload(Ticket.site)))


def link_expired(ticket: Ticket, now: datetime | None = None) -> bool:
    """A link works while the car is here and for ``STATUS_LINK_DAYS`` after the visit ended
    (delivered, or cancelled: then counted from the last change). A ticket that never became a
    visit lives ``NO_SHOW_LINK_HOURS`` after its last activity: a no-show from the skip, a ticket
    never called once its day is over (while the day lasts, a long queue must not end it)."""
    now = now or utcnow()
    visit = ticket.visit
    if visit.state == VisitState.NO_SHOW.value:
        return _quiet_for(ticket, now) > timedelta(hours=current_app.config["NO_SHOW_LINK_HOURS"])
    if visit.state in _NEVER_SERVED:
        day_over = ticket.day < local_day(ticket.site.timezone, now)
        return day_over and _quiet_for(ticket, now) > timedelta(hours=current_app.config["NO_SHOW_LINK_HOURS"])
    if visit.state in _CLOSED:
        ended = visit.delivered_at or visit.updated_at
    elif visit.state == VisitState.CANCELLED.value:
        ended = visit.updated_at
    else:
        return False
    return ended is not None and now - ended > timedelta(days=current_app.config["STATUS_LINK_DAYS"])


def _quiet_for(ticket: Ticket, now: datetime) -> timedelta:
    """Time since anything last happened to the ticket (issued, re-queued, called, skipped)."""
    moments = [m for m in (ticket.issued_at, ticket.queued_at, ticket.called_at, ticket.visit.updated_at) if m]
    return now - max(moments)


def never_served(ticket: Ticket) -> bool:
    return ticket.visit.state in _NEVER_SERVED or ticket.visit.state == VisitState.NO_SHOW.value


def locked_until(ticket: Ticket, now: datetime | None = None) -> datetime | None:
    """When PIN entry opens again, or None if it is open now."""
    now = now or utcnow()
    if ticket.pin_locked_until is not None and ticket.pin_locked_until > now:
        return ticket.pin_locked_until
    return None


@dataclass(frozen=True)
class UnlockResult:
    ok: bool
    error: str | None = None                  # "format", "wrong" or "locked"
    attempts_left: int | None = None          # after a wrong PIN
    locked_until: datetime | None = None      # when error == "locked" (naive UTC)


def try_unlock(ticket: Ticket, pin: str, now: datetime | None = None) -> UnlockResult:
    """Check a PIN for ``ticket``, counting failures; commits. Input that cannot be a PIN
    (not six digits) is refused without counting: it is a typo, not a guess."""
    now = now or utcnow()
    until = locked_until(ticket, now)
    if until is not None:
        return UnlockResult(False, "locked", locked_until=until)
    pin = (pin or "").strip()
    if not _PIN.match(pin):
        return UnlockResult(False, "format")

    if ticket.pin_locked_until is not None:
        # A lock that has run out: the customer starts again with the full number of tries.
        ticket.pin_failures = 0
        ticket.pin_locked_until = None
        db.session.flush()

    if pin_matches(ticket.token, pin):
        if ticket.pin_failures:
            ticket.pin_failures = 0
        db.session.commit()
        return UnlockResult(True)

    # Counted in the database, not in Python, so parallel guesses cannot share one failure.
    failures = db.session.execute(
        update(Ticket).where(Ticket.id == ticket.id)
        .values(pin_failures=Ticket.pin_failures + 1)
        .returning(Ticket.pin_failures)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    maximum = current_app.config["PIN_MAX_FAILURES"]
    if failures >= maximum:
        until = now + timedelta(minutes=current_app.config["PIN_LOCK_MINUTES"])
        db.session.execute(
            update(Ticket).where(Ticket.id == ticket.id).values(pin_locked_until=until)
            .execution_options(synchronize_session=False))
        db.session.commit()
        db.session.refresh(ticket)
        return UnlockResult(False, "locked", locked_until=until)
    db.session.commit()
    db.session.refresh(ticket)
    return UnlockResult(False, "wrong", attempts_left=maximum - failures)
