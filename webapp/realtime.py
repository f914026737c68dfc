"""Turns domain events into Socket.IO messages, from this one place.

Messages are small hints ("ticket W012 called at desk 3"), never personal data: every live
page answers a hint (and every reconnect) by fetching its fragment from the server, which
applies the same access rules as a page load. Rooms:

- ``lobby:<site>``   lobby TV: calls and queue length (public, numbers only)
- ``advisor:<site>`` advisor consoles of a site (staff sessions only)
- ``ticket:<id>``    one customer's status page (joined with the ticket's capability token)
- ``status-site:<site>`` all status pages of a site, told when the queue moves (no content)
- ``board:<site>``   the wall board (joined with the site's board token), messages numbered by
  the site's change sequence
"""
import time

from flask import current_app, request
from flask_login import current_user
from flask_socketio import join_room
from sqlalchemy import select

from .events import subscribe
from .extensions import db, socketio
from .models import Site, Ticket


def lobby_room(site_id):
    return f"lobby:{site_id}"


def advisor_room(site_id):
    return f"advisor:{site_id}"


def ticket_room(ticket_id):
    return f"ticket:{ticket_id}"


def board_room(site_id):
    return f"board:{site_id}"


def queue_room(site_id):
    """Every status page of a site: when the queue moves, "people ahead" changes for all."""
    return f"status-site:{site_id}"


def _emit(name, payload, room):
    # The Socket.IO server of the app that handled the request: tests run several apps in one
    # process, and the shared extension object only remembers the last one created.
    server = current_app.extensions.get("servicelane.sio_server") or socketio.server
    server.emit(name, payload, to=room, namespace="/")


def on_event(event):
    payload = {"event": event.name, "sent_at": time.time()}
    if event.name.startswith("ticket.") and "number" in event.data:
        payload.update(number=event.data["number"], desk=event.data.get("desk"))
    _emit("lobby", payload, lobby_room(event.site_id))
    _emit("queue", {"event": event.name, "sent_at": payload["sent_at"]}, advisor_room(event.site_id))
    if event.ticket_id is not None:
        _emit("status", {"event": event.name, "sent_at": payload["sent_at"]}, ticket_room(event.ticket_id))
    if event.name.startswith("ticket."):
        _emit("status", {"event": "queue.moved", "sent_at": payload["sent_at"]}, queue_room(event.site_id))
    if not event.name.startswith("ticket."):
        # The wall board numbers its messages with the site's change sequence: a gap (a lost
        # message), a reconnect or a restart makes it rebuild from /board/state.
        seq = db.session.scalar(select(Site.change_seq).where(Site.id == event.site_id))
        _emit("board", {"event": event.name, "seq": seq, "visit": event.visit_id, "sent_at": payload["sent_at"]},
              board_room(event.site_id))


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
    elif channel == "advisor":
        if not current_user.is_authenticated:
            return False
        join_room(advisor_room(current_user.site_id))
    else:
        return False
    db.session.remove()
    return True


# Registered once at import: Flask-SocketIO copies its handlers onto every server it creates.
subscribe(on_event)
socketio.on_event("connect", _on_connect)


def init_app(app):
    app.extensions["servicelane.sio_server"] = socketio.server
