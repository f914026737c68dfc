"""Live hints by concern, over real Socket.IO connections (Flask-SocketIO's test client on the
app's own server and session cookies): who may join which room, and which screens a hint
reaches. A hint names the visit and the topics that changed, never personal data."""
from types import SimpleNamespace

import pytest

from tests.support import login
from webapp.events import DomainEvent, publish
from webapp.extensions import socketio

BOARD_TOKEN = "rooms-board-token-0123456789abcdef"
# The lobby screen joins its room by the site's code.
pytestmark = pytest.mark.shop(code="rooms", board_token=BOARD_TOKEN)


@pytest.fixture
def shop(shop, factory):
    """The shared shop as plain values, with two walk-ins and an advisor of another site (``stranger``)."""
    other = factory.site(code="elsewhere")
    people = {**shop.people, "stranger": factory.user(other, "advisor", username="advisor-elsewhere")}
    ticket = factory.walkin(shop.site, plate="京A11111")
    other_ticket = factory.walkin(shop.site, plate="京B22222")
    # Plain values: every socket connection ends the thread's database session.
    return {"people": {role: SimpleNamespace(username=u.username) for role, u in people.items()},
            "ticket": SimpleNamespace(id=ticket.id, token=ticket.token, number=ticket.number),
            "visit": SimpleNamespace(id=ticket.visit.id, site_id=shop.site.id),
            "other_visit": SimpleNamespace(id=other_ticket.visit.id, token=other_ticket.token)}


def connect(app, auth, user=None):
    from flask import g
    web = app.test_client()
    if user is not None:
        login(web, user)
    # The socket's handler runs in the test's app context: forget the last caller's signed-in
    # user, as a real server's new context would (conftest's _fresh_g does so for requests).
    g.__dict__.clear()
    return socketio.test_client(app, flask_test_client=web, auth=auth)


def names(sock):
    return [(m["name"], m["args"][0]) for m in sock.get_received()]


def test_staff_join_only_the_rooms_their_role_and_site_allow(app, shop):
    p, visit = shop["people"], shop["visit"]
    assert connect(app, {"channel": "visit", "visit": str(visit.id)}, p["advisor"]).is_connected()
    assert not connect(app, {"channel": "visit", "visit": str(visit.id)}, p["stranger"]).is_connected()  # another site
    assert not connect(app, {"channel": "visit", "visit": str(visit.id)}, p["cashier"]).is_connected()   # not their work
    assert not connect(app, {"channel": "visit", "visit": "999999"}, p["advisor"]).is_connected()
    assert not connect(app, {"channel": "visit", "visit": str(visit.id)}).is_connected()                 # signed out
    assert connect(app, {"channel": "cashier"}, p["cashier"]).is_connected()
    assert not connect(app, {"channel": "cashier"}, p["technician"]).is_connected()
    assert connect(app, {"channel": "workshop"}, p["technician"]).is_connected()
    assert not connect(app, {"channel": "workshop"}, p["cashier"]).is_connected()
    assert connect(app, {"channel": "followup"}, p["csi"]).is_connected()
    assert not connect(app, {"channel": "followup"}, p["dispatcher"]).is_connected()
    assert not connect(app, {"channel": "advisor"}).is_connected()


def test_a_ticket_socket_joins_only_with_its_tickets_token(app, shop):
    assert connect(app, {"channel": "status", "token": shop["ticket"].token}).is_connected()
    assert not connect(app, {"channel": "status", "token": "not-a-token"}).is_connected()
    assert not connect(app, {"channel": "board", "token": "not-the-board"}).is_connected()


def test_a_phone_approval_hint_reaches_only_the_screens_concerned(app, shop):
    p, visit, ticket = shop["people"], shop["visit"], shop["ticket"]
    screens = {
        "visit page": connect(app, {"channel": "visit", "visit": str(visit.id)}, p["advisor"]),
        "other visit page": connect(app, {"channel": "visit", "visit": str(shop["other_visit"].id)}, p["advisor"]),
        "console": connect(app, {"channel": "advisor"}, p["advisor"]),
        "workshop": connect(app, {"channel": "workshop"}, p["dispatcher"]),
        "cashier": connect(app, {"channel": "cashier"}, p["cashier"]),
        "follow-up": connect(app, {"channel": "followup"}, p["csi"]),
        "lobby": connect(app, {"channel": "lobby", "site": "rooms"}),
        "board": connect(app, {"channel": "board", "token": BOARD_TOKEN}),
        "phone": connect(app, {"channel": "status", "token": ticket.token}),
        "stranger's console": connect(app, {"channel": "advisor"}, p["stranger"]),
    }
    for sock in screens.values():
        assert sock.is_connected()
        sock.get_received()

    publish(DomainEvent("estimate.decided", visit.site_id, visit.id, ticket.id,
                        {"version": 1, "channel": "remote", "from": "authorisation", "to": "dispatch"}))

    got = {name: names(sock) for name, sock in screens.items()}
    concerned = {"visit page", "console", "workshop", "board", "phone"}
    assert {name for name, messages in got.items() if messages} == concerned
    assert all(len(got[name]) == 1 for name in concerned)               # one hint each
    name, hint = got["visit page"][0]
    assert name == "hint" and hint["visit"] == visit.id and hint["topics"] == ["estimate", "progress"]
    assert got["board"][0][0] == "board" and "seq" in got["board"][0][1]
    assert "13800138000" not in str(got) and "京A11111" not in str(got)  # no personal data


def test_a_call_reaches_the_lobby_the_queue_and_the_status_pages_as_a_number_but_not_the_workshop(app, shop):
    p, visit, ticket = shop["people"], shop["visit"], shop["ticket"]
    lobby = connect(app, {"channel": "lobby", "site": "rooms"})
    console = connect(app, {"channel": "advisor"}, p["advisor"])
    workshop = connect(app, {"channel": "workshop"}, p["dispatcher"])
    waiting_phone = connect(app, {"channel": "status", "token": shop["other_visit"].token})
    for sock in (lobby, console, workshop, waiting_phone):
        sock.get_received()

    publish(DomainEvent("ticket.called", visit.site_id, visit.id, ticket.id, {"number": ticket.number, "desk": "3"}))

    lobby_messages = names(lobby)
    assert [(n, m["event"], m["number"], m["desk"]) for n, m in lobby_messages] == \
        [("lobby", "ticket.called", ticket.number, "3")]                 # the chime and the number
    assert [n for n, _ in names(console)] == ["hint"]
    assert names(workshop) == []
    # The status pages hear only the number that left the queue: each decides if it was ahead.
    assert [(n, m["event"], m["left"]) for n, m in names(waiting_phone)] == [("queue", "queue.moved", ticket.number)]


@pytest.mark.parametrize("event, data, heard", [
    ("ticket.issued", {"number": "W009", "kind": "walkin", "ahead": False}, []),   # joins at the back
    ("ticket.issued", {"number": "A001", "kind": "appointment", "ahead": True}, [{"ahead": True}]),
    ("ticket.recalled", {"number": "W001", "desk": "3"}, []),
    ("ticket.skipped", {"number": "W001", "desk": "3"}, []),
    ("ticket.served", {"number": "W001", "desk": "3"}, []),
    ("visit.advanced", {"from": "waiting", "to": "cancelled"}, [{}]),             # cannot tell: all look
    ("visit.advanced", {"from": "reception", "to": "inspection"}, []),
])
def test_status_pages_hear_the_queue_only_when_a_place_can_have_moved(app, shop, event, data, heard):
    visit = shop["visit"]
    other_phone = connect(app, {"channel": "status", "token": shop["other_visit"].token})
    other_phone.get_received()
    publish(DomainEvent(event, visit.site_id, visit.id, shop["ticket"].id, data))
    got = [m for n, m in names(other_phone) if n == "queue"]
    assert [{k: v for k, v in m.items() if k not in ("event", "sent_at")} for m in got] == heard
    assert all(m["event"] == "queue.moved" for m in got)
