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

from tests.support import free_port, make_app, pg_database, reset_pg_schema
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
SITE = "bj01"
DELIVERY_SECONDS = 5
pytestmark = pytest.mark.redis




@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_db(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('fanout') / 'shared.db'}"
    raw = pg_database("servicelane_fanout")
    reset_pg_schema(raw)
    return raw


@pytest.fixture(scope="module")
def server_env(shared_db, redis_url, tmp_path_factory):
    """Environment of both servers, with the database migrated and the site added."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICELANE_")}
    env.update({
        "SERVICELANE_DATABASE_URL": shared_db,
        "SERVICELANE_REDIS_URL": redis_url,
        "SERVICELANE_SECRET_KEY": "fanout-" + uuid.uuid4().hex,
        "SERVICELANE_RATELIMIT_ENABLED": "false",
        "SERVICELANE_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
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


class Cluster:
    """Servers A and B on one database and one Redis, each with a lobby listener for bj01.

    Shared by the tests of a module (per database kind): the tests use the numbers they get
    back rather than assuming W001. Teardown stops the servers before closing the clients, since a
    websocket client otherwise waits 3 s for each server's close frame."""

    def __init__(self, env, log_dir):
        self.env = env
        self.servers = []
        self.listeners = []
        try:
            for name in ("A", "B"):
                self.servers.append(ServerProcess(name, env, log_dir))
            for server in self.servers:
                server.wait_ready()
            self.a, self.b = self.servers
            self.on_a = self.listen(self.a)
            self.on_b = self.listen(self.b)
        except BaseException:
            self.close()
            raise

    def listen(self, server, site=SITE):
        listener = LobbyListener(server.url, site)
        self.listeners.append(listener)
        return listener

    def close(self):
        for server in self.servers:
            server.stop()
        for listener in self.listeners:
            listener.close()


@pytest.fixture(scope="module")
def cluster(server_env, tmp_path_factory):
    started = Cluster(server_env, tmp_path_factory.mktemp("logs"))
    try:
        yield started
    finally:
        started.close()


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
TICKET_NUMBER = re.compile(r"\b(W\d{3})\b")



def publish_elsewhere(env, plate, mobile):
    """Check in from a process that serves no sockets (a CLI task, a worker): an app made with
    REDIS_URL set publishes through the same Redis. Returns (ticket number, time sent)."""
    from webapp.models import Site
    from webapp.services.checkin import check_in_walkin

    publisher = make_app(env["SERVICELANE_DATABASE_URL"], REDIS_URL=env["SERVICELANE_REDIS_URL"])
    with publisher.app_context():
        try:
            site = db.session.scalar(db.select(Site).where(Site.code == SITE))
            sent = time.monotonic()
            number = check_in_walkin(site, plate, mobile, "repair", None, True, str(uuid.uuid4())).number
        finally:
            db.session.remove()
            db.engine.dispose()
    return number, sent


def test_checkin_on_a_reaches_lobby_on_b(cluster):
    with requests.Session() as http:
        page = http.get(f"{cluster.a.url}/kiosk/walkin", params={"site": SITE}, timeout=10)
        assert page.status_code == 200, page.text[:300]
        token = CSRF_META.search(page.text).group(1)
        sent = time.monotonic()
        resp = http.post(f"{cluster.a.url}/kiosk/walkin", headers={"X-CSRFToken": token}, timeout=10, data={
            "csrf_token": token, "plate": "京A66666", "mobile": "13912345678", "reason": "repair",
            "consent": "1", "key": str(uuid.uuid4())})
    assert resp.status_code == 200, resp.text[:500]
    number = TICKET_NUMBER.search(resp.text).group(1)
    assert_delivered(cluster.on_b, number, sent, cluster.b)
    assert_delivered(cluster.on_a, number, sent, cluster.a)


def test_event_published_elsewhere_reaches_both_servers(cluster):
    number, sent = publish_elsewhere(cluster.env, "京A77777", "13912345679")
    assert_delivered(cluster.on_b, number, sent, cluster.b)
    assert_delivered(cluster.on_a, number, sent, cluster.a)


def test_lobby_of_another_site_hears_nothing(cluster):
    """Rooms still hold across processes: a second site's lobby on B gets none of bj01's news."""
    add_site(cluster.env["SERVICELANE_DATABASE_URL"], "sh01")
    other = cluster.listen(cluster.b, site="sh01")
    number, sent = publish_elsewhere(cluster.env, "京A88888", "13912345670")
    assert_delivered(cluster.on_b, number, sent, cluster.b)
    time.sleep(0.5)
    assert other.messages == []
