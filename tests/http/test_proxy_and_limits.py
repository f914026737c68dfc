"""Behind the README's reverse proxy, and in a real shop's lounge.

PROXY_HOPS decides whose X-Forwarded-* headers are believed (werkzeug's ProxyFix): none by
default, since any client can send them. Status pages count per ticket, so fifty phones on the
lounge Wi-Fi (one address) each get their page and their PIN tries, while one ticket's PIN still
gets only a few tries a minute and one address a flood guard. HSTS goes out on secure requests
only, including those the proxy says were HTTPS. Socket.IO keeps working behind the proxy setting.
"""
import threading
import uuid

import pytest
import socketio

from tests.factories import Factory
from tests.support import LiveServer, csrf_token, make_app
from webapp.extensions import db
from webapp.services.checkin import ticket_pin

PROXY = "10.0.0.2"         # the reverse proxy's address, as the app sees the TCP peer
LOUNGE = "198.51.100.7"    # the shop's one public address: every phone on the lounge Wi-Fi


@pytest.fixture
def site(factory):
    return factory.site(code="bj01")


def limited(db_url, **config):
    """The same database, with the rate limits a shop runs with (plus ``config``). Same secret as
    the test's own app, which computes the tickets' PINs."""
    from flask import current_app, has_app_context
    if has_app_context():
        config.setdefault("SECRET_KEY", current_app.config["SECRET_KEY"])
    return make_app(db_url, RATELIMIT_ENABLED=True, **config)


def lobby_codes(app, forwarded_for):
    """GET /lobby once per X-Forwarded-For value, all through the one proxy address."""
    client = app.test_client()
    return [client.get("/lobby", headers={"X-Forwarded-For": addr}, environ_base={"REMOTE_ADDR": PROXY}).status_code
            for addr in forwarded_for]


# ---------------------------------------------------------------- whose address counts

def test_forwarded_for_is_ignored_with_no_proxy_hops(db_url, site):
    """Default 0 hops: a client cannot pick its own address for the limiter with a header."""
    app = limited(db_url, RATELIMIT_STATUS="2 per minute")
    assert lobby_codes(app, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [200, 200, 429]


def test_forwarded_for_is_honoured_with_one_proxy_hop(db_url, site):
    """One proxy of ours: each customer counts as themselves, not as the proxy."""
    app = limited(db_url, RATELIMIT_STATUS="2 per minute", PROXY_HOPS=1)
    assert lobby_codes(app, ["203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2"]) == [200, 200, 429, 200]
    # The proxy appends the peer it saw: a forged first entry from the client changes nothing.
    assert lobby_codes(app, ["1.2.3.4, 203.0.113.1"]) == [429]


def test_negative_proxy_hops_stops_the_start(db_url):
    with pytest.raises(ValueError, match="PROXY_HOPS"):
        make_app(db_url, PROXY_HOPS=-1)


# ---------------------------------------------------------------- the lounge: fifty phones, one address

def test_fifty_phones_behind_one_address_each_open_their_page_and_try_their_pin(app, db_url, factory, site):
    tickets = [factory.walkin(site, plate=f"京A{10000 + i}", mobile=f"139{i:08d}") for i in range(50)]
    shop = limited(db_url)  # the shipped limits; each request gets its own app context, as on a server
    for ticket in tickets:
        phone = shop.test_client()
        phone.environ_base["REMOTE_ADDR"] = LOUNGE
        assert phone.get(f"/t/{ticket.token}").status_code == 200
        assert phone.get(f"/t/{ticket.token}/fragment").status_code == 200
        csrf = csrf_token(phone, f"/t/{ticket.token}")
        wrong = f"{(int(ticket_pin(ticket.token)) + 1) % 1_000_000:06d}"
        typo = phone.post(f"/t/{ticket.token}/unlock", data={"pin": wrong, "csrf_token": csrf})
        assert typo.status_code == 422, ticket.number
        right = phone.post(f"/t/{ticket.token}/unlock", data={"pin": ticket_pin(ticket.token), "csrf_token": csrf})
        assert right.status_code == 303, ticket.number
        assert "139" in phone.get(f"/t/{ticket.token}").get_data(as_text=True)  # unlocked: the mobile shows


def test_one_tickets_pin_tries_are_limited_from_any_number_of_addresses(app, db_url, factory, site):
    """Spreading guesses over many addresses does not buy more tries on one ticket (the database
    lockout is set out of the way here, to see the rate limit itself)."""
    ticket = factory.walkin(site)
    shop = limited(db_url, PROXY_HOPS=1, PIN_MAX_FAILURES=1000)
    client = shop.test_client()
    csrf = csrf_token(client, f"/t/{ticket.token}")
    wrong = f"{(int(ticket_pin(ticket.token)) + 1) % 1_000_000:06d}"
    codes = [client.post(f"/t/{ticket.token}/unlock", data={"pin": wrong, "csrf_token": csrf},
                         headers={"X-Forwarded-For": f"203.0.113.{i}"}, environ_base={"REMOTE_ADDR": PROXY}
                         ).status_code for i in range(11)]
    assert codes == [422] * 10 + [429]


def test_one_address_flooding_status_pages_is_still_refused(app, db_url, factory, site):
    """Unknown or many tokens from one machine: the per-address guard, shared by all status routes."""
    ticket = factory.walkin(site)
    client = limited(db_url, RATELIMIT_STATUS_ADDRESS="5 per minute").test_client()
    codes = [client.get(f"/t/{uuid.uuid4().hex}").status_code for _ in range(4)]
    codes.append(client.get(f"/t/{ticket.token}").status_code)
    codes.append(client.get(f"/t/{ticket.token}/fragment").status_code)
    assert codes == [404] * 4 + [200, 429]


# ---------------------------------------------------------------- HSTS

def test_hsts_only_on_secure_requests(db_url, site):
    direct = make_app(db_url)
    assert "Strict-Transport-Security" not in direct.test_client().get("/login").headers
    secure = direct.test_client().get("/login", base_url="https://service.example.com")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_when_the_trusted_proxy_says_https(db_url, site):
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "service.example.com"}
    behind = make_app(db_url, PROXY_HOPS=1).test_client().get("/login", headers=https)
    assert behind.headers["Strict-Transport-Security"] == "max-age=31536000"
    # and the page's CSP names the public host for the live socket
    assert "wss://service.example.com" in behind.headers["Content-Security-Policy"]
    # 0 hops: the header is anyone's to send, so it proves nothing
    untrusted = make_app(db_url).test_client().get("/login", headers=https)
    assert "Strict-Transport-Security" not in untrusted.headers


# ---------------------------------------------------------------- Socket.IO behind the proxy setting

def test_socketio_lobby_hint_arrives_through_the_proxy_setting(tmp_path):
    """A live server with PROXY_HOPS=1, a Socket.IO client sending what a proxy in front adds
    (and the browser's Origin of the public site): it joins the lobby and hears a check-in."""
    app = make_app(f"sqlite:///{tmp_path / 'proxy.db'}", PROXY_HOPS=1, UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        db.create_all()
        site = Factory(db).site(code="bj01")
        site_id = site.id
    server = LiveServer(app).start()
    heard = threading.Event()
    # The browser on the public site sends that site as its Origin (the engine.io origin check).
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": "https://service.example.com"})
    client.on("lobby", lambda msg: msg.get("event") == "ticket.issued" and heard.set())
    try:
        client.connect(server.url, auth={"channel": "lobby", "site": "bj01"}, transports=["websocket"],
                       wait_timeout=10, headers={
                           "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
                           "X-Forwarded-Host": "service.example.com"})
        with app.app_context():
            from webapp.models import Site
            from webapp.services.checkin import check_in_walkin
            check_in_walkin(db.session.get(Site, site_id), "京A12345", "13800138000", "repair", None, True,
                            uuid.uuid4().hex)
            db.session.remove()
        assert heard.wait(5), "no lobby hint through the proxy setting"
    finally:
        client.disconnect()
        server.stop()
