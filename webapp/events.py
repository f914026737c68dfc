"""Domain events: what happened, published by services after their commit.

Subscribers (the realtime module today, notifications later) never run inside a transaction,
so a message can never announce something that was rolled back.
"""
import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    name: str                      # e.g. "ticket.issued", "ticket.called", "visit.advanced"
    site_id: int
    visit_id: int | None = None
    ticket_id: int | None = None
    data: dict = field(default_factory=dict)


_subscribers = []


def subscribe(handler):
    """Register ``handler(event)``; returns it so it can be used as a decorator."""
    if handler not in _subscribers:
        _subscribers.append(handler)
    return handler


def unsubscribe(handler):
    if handler in _subscribers:
        _subscribers.remove(handler)


def publish(event: DomainEvent) -> None:
    # One failing subscriber must not hide the event from the others nor fail the request:
    # the change is committed already, and live views rebuild from the server anyway.
    for handler in list(_subscribers):
        try:
            handler(event)
        except Exception:  # noqa: BLE001
            log.exception("event subscriber %r failed on %s", handler, event.name)
