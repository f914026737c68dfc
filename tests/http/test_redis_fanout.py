"""Two server processes behind one Redis: an event on one reaches lobby screens on the other.

A shop with more than one server process (gunicorn workers, two hosts behind a proxy) relies on
the Socket.IO message queue in Redis: a check-in handled by process A must reach the lobby TV
whose socket is held by process B. This starts two real ``python -m webapp`` processes on one
database (migrated with ``flask db upgrade``, demo site ``bj01`` loaded with ``flask demo-data``),
connects a python-socketio client to B's lobby room, checks in on A, and waits for B's message.

Skips when Redis does not answer (``redis_url`` fixture); the PostgreSQL variant also skips
without a PostgreSQL server.
"""
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import socketio

from conftest import free_port, make_app, pg_database, reset_pg_schema
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
SITE = "bj01"
DELIVERY_SECONDS = 5
pytestmark = pytest.mark.redis


def psycopg2_url(url):
    # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, but the project ships psycopg2.
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_db(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    raw = pg_database("servicelane_fanout")
    reset_pg_schema(raw)
    return psycopg2_url(raw)


@pytest.fixture
def server_env(shared_db, redis_url, tmp_path):
    """Environment of both servers, with the database migrated and the demo site loaded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICELANE_")}
    env.update({
        "SERVICELANE_DATABASE_URL": shared_db,
        "SERVICELANE_REDIS_URL": redis_url,
        "SERVICELANE_SECRET_KEY": "fanout-" + uuid.uuid4().hex,
        "SERVICELANE_RATELIMIT_ENABLED": "false",
        "SERVICELANE_UPLOAD_DIR": str(tmp_path / "uploads"),
        "PYTHONUNBUFFERED": "1",
    })
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "webapp", "db", "upgrade"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"flask db upgrade failed:\n{done.stdout}\n{done.stderr}"
    add_site(shared_db, SITE)
    return env


def add_site(url, code):
    """Just the site: the lobby room needs nothing else (demo-data would also hash 12 passwords)."""
    from webapp.models import Site
    app = make_app(url)
    with app.app_context():
        db.session.add(Site(code=code, name_zh=f"门店{code}", name_en=f"Site {code}"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


class ServerProcess:
    """``python -m webapp --port P`` in its own process group; output kept in a log file."""

    def __init__(self, name, env, log_dir):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_dir) / f"server-{name}.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "webapp", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server {self.name} exited ({self.proc.returncode}):\n{self.log()}")
            try:
                if requests.get(self.url + "/start", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server {self.name} not ready after {timeout}s:\n{self.log()}")

    def log(self):
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


@pytest.fixture
def servers(server_env, tmp_path):
    started = []
    try:
        for name in ("A", "B"):
            started.append(ServerProcess(name, server_env, tmp_path))
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()


class LobbyListener:
    """A python-socketio client in a site's lobby room, recording every "lobby" message."""

    def __init__(self, url, site=SITE):
        self.messages = []
        self.arrived = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("lobby", self._on_lobby)
        self.client.connect(url, auth={"channel": "lobby", "site": site}, transports=["websocket"],
                            wait_timeout=10)

    def _on_lobby(self, payload):
        with self.arrived:
            self.messages.append((time.monotonic(), payload))
            self.arrived.notify_all()

    def wait_for(self, number, timeout=DELIVERY_SECONDS):
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for at, payload in self.messages:
                    if payload.get("number") == number:
                        return at, payload
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.arrived.wait(left)

    def close(self):
        self.client.disconnect()


def close_all(listeners):
    # A websocket client waits up to 3 s for the server's close frame: close them side by side.
    threads = [threading.Thread(target=listener.close) for listener in listeners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)


@pytest.fixture
def listeners(servers):
    opened = []
    try:
        for server in servers:
            opened.append(LobbyListener(server.url))
        yield opened
    finally:
        close_all(opened)


def assert_delivered(listener, number, sent, server):
    got = listener.wait_for(number)
    assert got is not None, (f"no lobby message for {number} on server {server.name} within "
                             f"{DELIVERY_SECONDS}s; got {[p for _, p in listener.messages]}\n{server.log()}")
    at, payload = got
    assert payload["event"] == "ticket.issued"
    assert at - sent < DELIVERY_SECONDS
    return at - sent


# ---------------------------------------------------------------- via HTTP on server A

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def kiosk_ready():
    from kiosk import views
    return "STUB" not in (views.__doc__ or "")


@pytest.mark.skipif(not kiosk_ready(), reason="the kiosk walk-in endpoint is not built yet")
def test_checkin_on_a_reaches_lobby_on_b(servers, listeners):
    a, b = servers
    on_a, on_b = listeners
    with requests.Session() as http:
        page = http.get(f"{a.url}/kiosk/walkin", params={"site": SITE}, timeout=10)
        assert page.status_code == 200, page.text[:300]
        token = CSRF_META.search(page.text).group(1)
        sent = time.monotonic()
        resp = http.post(f"{a.url}/kiosk/walkin", headers={"X-CSRFToken": token}, timeout=10, data={
            "csrf_token": token, "plate": "京A66666", "mobile": "13912345678", "reason": "repair",
            "consent": "1", "key": str(uuid.uuid4())})
    assert resp.status_code == 200, resp.text[:500]
    assert "W001" in resp.text
    assert_delivered(on_b, "W001", sent, b)
    assert_delivered(on_a, "W001", sent, a)


# ---------------------------------------------------------------- via a third, in-process app

def test_event_published_elsewhere_reaches_both_servers(server_env, servers, listeners):
    """A process that is not serving sockets at all (a CLI task, a worker) publishes through the
    same Redis: both servers' lobby clients get the message."""
    from webapp.services.checkin import check_in_walkin
    from webapp.models import Site

    a, b = servers
    publisher = make_app(server_env["SERVICELANE_DATABASE_URL"], REDIS_URL=server_env["SERVICELANE_REDIS_URL"])
    with publisher.app_context():
        site = db.session.scalar(db.select(Site).where(Site.code == SITE))
        sent = time.monotonic()
        ticket = check_in_walkin(site, "京A77777", "13912345679", "maintenance", None, True, uuid.uuid4().hex)
        number = ticket.number
        db.session.remove()
        db.engine.dispose()
    assert number == "W001"
    assert_delivered(listeners[1], number, sent, b)
    assert_delivered(listeners[0], number, sent, a)


def test_lobby_of_another_site_hears_nothing(server_env, servers, listeners):
    """Rooms still hold across processes: a second site's lobby on B gets none of bj01's news."""
    from webapp.models import Site
    from webapp.services.checkin import check_in_walkin

    a, b = servers
    publisher = make_app(server_env["SERVICELANE_DATABASE_URL"], REDIS_URL=server_env["SERVICELANE_REDIS_URL"])
    add_site(server_env["SERVICELANE_DATABASE_URL"], "sh01")
    other = LobbyListener(b.url, site="sh01")
    with publisher.app_context():
        try:
            site = db.session.scalar(db.select(Site).where(Site.code == SITE))
            sent = time.monotonic()
            number = check_in_walkin(site, "京A88888", "13912345670", "repair", None, True, None).number
            assert_delivered(listeners[1], number, sent, b)
            time.sleep(0.5)
            assert other.messages == []
        finally:
            db.session.remove()
            db.engine.dispose()
            close_all([other])
