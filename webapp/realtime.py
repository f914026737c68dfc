"""Turns domain events into Socket.IO hints, from this one place: each goes only where it matters.

A hint names what changed — the visit and its topics (``queue``, ``intake``, ``estimate``, ``job``,
``bill``, ``delivery``, ``progress``, ``followup``) — never personal data: a page answers it (and
every reconnect) by fetching the concerned section from the server, which applies the same
access rules as a page load. A screen that shows nothing of what changed receives nothing.
Rooms, joined on connect only when the caller may (``_on_connect``):

- ``visit:<id>``     the advisor's page of one visit: every topic of that visit
- ``queue:<site>``   advisor consoles and the appointment board: the waiting queue, the visits'
  states, bookings made, moved or cancelled
- ``workshop:<site>`` dispatch, QC, technicians' tablets and the parts desk: jobs, parts issued, cars entering
  or leaving the workshop
- ``cashier:<site>`` the cashier: bills and payments
- ``followup:<site>`` follow-up calls and complaints
- ``lobby:<site>``   lobby TV: calls and queue length (public, numbers only)
- ``ticket:<id>``    one customer's status page (joined with the ticket's capability token)
- ``status-site:<site>`` all status pages of a site, told by a "queue" message when a waiting
  ticket's place can have changed: ``{"left": number}`` when a waiting ticket leaves the queue
  (called), ``{"ahead": true}`` when a ticket joins ahead of others (an on-time appointment),
  ``{}`` when this module cannot tell (a waiting visit cancelled). Only public ticket numbers; a
  walk-in joining at the back, a recall, a no-show or a hand-over moves nobody and sends nothing.
  The page refetches only if the number that left was ahead of it (static/js/status.js)
- ``apboard:<site>`` the appointment board on the reception TV (joined with the site's board
  token): the hints the staff's appointment board gets, no content
- ``board:<site>``   the wall board (joined with the site's board token), messages numbered by
  the site's change sequence

The page that sent the request behind an event already has its answer: its socket (named by
the X-Live-Sid header or the live_sid field live.js adds to requests) is left out.
"""
import logging
import time

from flask import current_app, has_request_context, request
from flask_login import current_user
from flask_socketio import join_room
from sqlalchemy import select

from .events import subscribe
from .extensions import db, socketio
from .models import Site, Ticket, Visit
from .roles import ADVISOR, CASHIER, CSI, DISPATCHER, PARTS, QC, SUPERVISORS, TECHNICIAN

log = logging.getLogger(__name__)


def lobby_room(site_id):
    return f"lobby:{site_id}"


def console_room(site_id):
    return f"queue:{site_id}"


def visit_room(visit_id):
    return f"visit:{visit_id}"


def workshop_room(site_id):
    return f"workshop:{site_id}"


def cashier_room(site_id):
    return f"cashier:{site_id}"


def followup_room(site_id):
    return f"followup:{site_id}"


def ticket_room(ticket_id):
    return f"ticket:{ticket_id}"


def board_room(site_id):
    return f"board:{site_id}"


def appointment_tv_room(site_id):
    return f"apboard:{site_id}"


def queue_room(site_id):
    """Every status page of a site: when the queue moves, "people ahead" changes for all."""
    return f"status-site:{site_id}"


# ---------------------------------------------------------------- what an event is about

# visit.updated's "what" → the topic of the visit page's section that shows it
_UPDATED_TOPIC = {"estimate": "estimate", "repair_order": "estimate", "delivery": "delivery"}
STATE_EVENTS = {"visit.advanced", "estimate.decided", "visit.ready", "visit.delivered"}
QUEUE_STATES = {"waiting", "called", "reception", "cancelled"}
WORKSHOP_STATES = {"dispatch", "repair", "qc", "wash", "ready"}
CLOSING_STATES = {"ready", "delivered", "followed_up", "cancelled"}


def topics_of(event) -> frozenset:
    name = event.name
    what = event.data.get("what")
    if name.startswith("ticket."):
        return frozenset({"queue", "progress"})
    if name == "visit.updated":
        return frozenset({_UPDATED_TOPIC.get(what, "intake")})
    topics = set()
    if name in STATE_EVENTS:
        topics.add("progress")
        if not _states(event) or _states(event) & CLOSING_STATES:
            topics.update({"delivery", "bill"})   # the handover and the settlement open or close
    if name == "estimate.decided":
        topics.add("estimate")
    if name.startswith(("job.", "stock.")):
        topics.add("job")           # parts issued to a job: the parts desk and dispatch follow
    if name.startswith(("bill.", "payment.")) or name == "visit.delivered":
        topics.add("bill")
    if name in ("visit.delivered", "visit.notified"):
        topics.add("delivery")
    if name.startswith(("followup.", "survey.", "complaint.")) or name == "visit.delivered":
        topics.add("followup")
    if name.startswith("appointment."):
        return frozenset({"appointments"})   # booked, moved, cancelled: the appointment board
    return frozenset(topics or {"progress"})


def _states(event) -> set:
    return {event.data.get("from"), event.data.get("to")} - {None}


def site_rooms(event, topics) -> list:
    """The rooms of staff screens and public displays of the site concerned by ``event``."""
    site = event.site_id
    moved = event.name in STATE_EVENTS
    rooms = []
    if topics & {"queue"} or moved:
        rooms.append(console_room(site))
    if "job" in topics or (moved and (not _states(event) or _states(event) & WORKSHOP_STATES)):
        rooms.append(workshop_room(site))
    if "bill" in topics:
        rooms.append(cashier_room(site))
    if "followup" in topics:
        rooms.append(followup_room(site))
    if "appointments" in topics:
        rooms.append(console_room(site))    # the appointment board joins the advisors' room
    if console_room(site) in rooms:
        rooms.append(appointment_tv_room(site))   # the reception TV follows what the staff board follows
    return list(dict.fromkeys(rooms))


def _sender_sid():
    """The socket of the page whose request caused the event: it has its answer already."""
    if not has_request_context():
        return None
    # htmx requests carry it in a header, plain form posts (the phone's approval) in a field.
    sid = request.headers.get("X-Live-Sid") or (request.form.get("live_sid") if request.method == "POST" else None)
    return sid or None


def _emit(name, payload, room, skip_sid=None):
    # The Socket.IO server of the app that handled the request: tests run several apps in one
    # process, and the shared extension object only remembers the last one created.
    server = current_app.extensions.get("servicelane.sio_server") or socketio.server
    try:
        server.emit(name, payload, to=room, namespace="/", skip_sid=skip_sid)
    except Exception:  # noqa: BLE001 - a hint is best-effort: never fail the request, send the others
        log.exception("live hint %s to %s not sent", name, room)


# Room prefix → the message name its pages listen to (the same pairs as on_event uses).
_ROOM_MESSAGES = (("lobby:", "lobby"), ("board:", "board"), ("queue:", "hint"), ("visit:", "hint"),
                  ("workshop:", "hint"), ("cashier:", "hint"), ("followup:", "hint"), ("ticket:", "hint"),
                  ("status-site:", "queue"))


def resync_local(server):
    """Tell every screen connected to this process to refetch its state.

    Called when the Redis message queue is back after an outage: the hints other processes
    published meanwhile were lost, and the browsers' sockets to this process never dropped, so
    no reconnect would make them refetch. A message without ``seq`` makes the wall board
    rebuild; ``resync`` rings no lobby chime. Sent to this process's sockets only."""
    payload = {"event": "resync", "sent_at": time.time()}
    rooms = [room for room in list(server.manager.rooms.get("/", {})) if isinstance(room, str)]
    for room in rooms:
        for prefix, name in _ROOM_MESSAGES:
            if room.startswith(prefix):
                server.emit(name, payload, to=room, namespace="/", ignore_queue=True)


def queue_moved(event) -> dict | None:
    """What the site's status pages hear of ``event``: None when no waiting ticket's place moved.

    Why this rule: a status page mostly shows its own visit (its own room hears that); only a
    waiting ticket shows a place in the queue, and that place changes only when a ticket ahead of
    it leaves the queue or one is put ahead of it. Tickets join at the back except on-time
    appointments, so a morning of walk-ins refetches no status page, and a call refetches only the
    pages that were behind the number called."""
    if event.name == "ticket.called":
        return {"left": event.data.get("number")}
    if event.name == "ticket.issued":
        return {"ahead": True} if event.data.get("ahead") else None
    if event.name in STATE_EVENTS and event.data.get("from") == "waiting" and event.data.get("to") != "called":
        return {}
    return None


def on_event(event):
    sent_at = time.time()
    topics = topics_of(event)
    sender = _sender_sid()
    hint = {"event": event.name, "visit": event.visit_id, "topics": sorted(topics), "sent_at": sent_at}
    if event.visit_id is not None:
        _emit("hint", hint, visit_room(event.visit_id), skip_sid=sender)
    if event.ticket_id is not None:
        _emit("hint", hint, ticket_room(event.ticket_id), skip_sid=sender)
    for room in site_rooms(event, topics):
        _emit("hint", hint, room, skip_sid=sender)
    moved = queue_moved(event)
    if moved is not None:
        _emit("queue", {"event": "queue.moved", **moved, "sent_at": sent_at}, queue_room(event.site_id))
    if event.name.startswith("ticket.") or (event.name in STATE_EVENTS and _states(event) & QUEUE_STATES):
        lobby = {"event": event.name, "sent_at": sent_at}
        if "number" in event.data:
            lobby.update(number=event.data["number"], desk=event.data.get("desk"))
        _emit("lobby", lobby, lobby_room(event.site_id))
    if topics & {"progress", "job", "estimate"} and not event.name.startswith("ticket."):
        # The wall board numbers its messages with the site's change sequence: a gap (a lost
        # message), a reconnect or a restart makes it rebuild from /board/state.
        seq = db.session.scalar(select(Site.change_seq).where(Site.id == event.site_id))
        _emit("board", {"event": event.name, "seq": seq, "visit": event.visit_id, "sent_at": sent_at},
              board_room(event.site_id))


# Staff channel → (roles that may join, room of the user's site)
_STAFF_CHANNELS = {
    "advisor": ((ADVISOR,), console_room),
    "workshop": ((DISPATCHER, QC, TECHNICIAN, PARTS), workshop_room),
    "cashier": ((CASHIER,), cashier_room),
    "followup": ((CSI,), followup_room),
}


def _may(user, roles) -> bool:
    return user.is_authenticated and (user.role in roles or user.role in SUPERVISORS)


def _join_staff(channel, auth) -> bool:
    if channel == "visit":
        visit_id = str(auth.get("visit", ""))
        visit = db.session.get(Visit, int(visit_id)) if visit_id.isdigit() else None
        if visit is None or not _may(current_user, (ADVISOR,)) or visit.site_id != current_user.site_id:
            return False
        join_room(visit_room(visit.id))
        return True
    roles, room = _STAFF_CHANNELS[channel]
    if not _may(current_user, roles):
        return False
    join_room(room(current_user.site_id))
    return True


def _on_connect(auth=None):
    """Join the room the page asked for, if the caller may: returning False refuses the socket."""
    auth = auth if isinstance(auth, dict) else {}
    channel = auth.get("channel") or request.args.get("channel")
    if channel == "lobby":
        site = db.session.scalar(select(Site).where(Site.code == str(auth.get("site", ""))))
        if site is None:
            return False
        join_room(lobby_room(site.id))
    elif channel == "status":
        ticket = db.session.scalar(select(Ticket).where(Ticket.token == str(auth.get("token", ""))))
        if ticket is None:
            return False
        join_room(ticket_room(ticket.id))
        join_room(queue_room(ticket.site_id))
    elif channel == "board":
        site = db.session.scalar(select(Site).where(Site.board_token == str(auth.get("token", ""))))
        if site is None or not site.board_token:
            return False
        join_room(board_room(site.id))
    elif channel == "apboard":
        site = db.session.scalar(select(Site).where(Site.board_token == str(auth.get("token", ""))))
        if site is None or not site.board_token:
            return False
        join_room(appointment_tv_room(site.id))
    elif channel == "visit" or channel in _STAFF_CHANNELS:
        if not _join_staff(channel, auth):
            db.session.remove()
            return False
    else:
        return False
    db.session.remove()
    return True


# Registered once at import: Flask-SocketIO copies its handlers onto every server it creates.
subscribe(on_event)
socketio.on_event("connect", _on_connect)


def init_app(app):
    app.extensions["servicelane.sio_server"] = socketio.server
