"""Redis going away must not take the public side down, and live hints must come back with it.

A real ``python -m webapp`` process with SERVICELANE_REDIS_URL (rate limits and the Socket.IO
queue in Redis) on this test's OWN redis-server, so stopping it disturbs nobody else. With Redis
stopped: the kiosk still issues a ticket, the lobby, the wall board, the status page and the staff
login all answer (limits count in the process meanwhile). Redis restarted: a Socket.IO client is
told to resync, and hints published through Redis by another process reach it again.
"""
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
import requests
import socketio

from tests.factories import Factory, build_shop
from tests.support import free_port, make_app
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server")
BOARD_TOKEN = "outage-board-token"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server not installed (apt-get install redis-server)")


class RedisServer:
    """A throw-away redis-server on a fixed free port, stopped and started again at will."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Hints:
    """A python-socketio client in a site's lobby room, recording every "lobby" message."""

    def __init__(self, url):
        self.messages = []
        self.arrived = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("lobby", self._on)
        self.client.connect(url, auth={"channel": "lobby", "site": "bj01"}, transports=["websocket"], wait_timeout=10)

    def _on(self, payload):
        with self.arrived:
            self.messages.append(payload)
            self.arrived.notify_all()

    def wait_for(self, match, timeout):
        deadline = time.monotonic() + timeout
        with self.arrived:
            while not any(match(m) for m in self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(left)
        return True


@pytest.fixture
def outage(tmp_path):
    """(server URL, Redis, database URL, staff username, log path); everything stopped afterwards."""
    redis_server = RedisServer().start()
    db_url = f"sqlite:///{tmp_path / 'outage.db'}"
    setup = make_app(db_url)
    with setup.app_context():
        db.create_all()
        # The shared shop (tests/factories.py), on this test's own database.
        username = build_shop(Factory(db), roles=("advisor",), board_token=BOARD_TOKEN).advisor.username
        db.session.remove()
        db.engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICELANE_")}
    env.update({"SERVICELANE_DATABASE_URL": db_url, "SERVICELANE_REDIS_URL": redis_server.url,
                "SERVICELANE_SECRET_KEY": "outage-" + uuid.uuid4().hex, "SERVICELANE_RATELIMIT_ENABLED": "true",
                "SERVICELANE_UPLOAD_DIR": str(tmp_path / "uploads"), "PYTHONUNBUFFERED": "1"})
    port = free_port()
    log_path = tmp_path / "server.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "webapp", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if requests.get(url + "/lobby", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield url, redis_server, db_url, username, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        redis_server.stop()


def check_in(url):
    """A walk-in at the kiosk, as its screen posts it. Returns the response."""
    with requests.Session() as http:
        page = http.get(f"{url}/kiosk/walkin", timeout=10)
        assert page.status_code == 200, page.text[:300]
        token = CSRF_META.search(page.text).group(1)
        return http.post(f"{url}/kiosk/walkin", headers={"X-CSRFToken": token}, timeout=10, data={
            "csrf_token": token, "plate": "京A66666", "mobile": "13912345678", "reason": "repair", "consent": "1",
            "key": str(uuid.uuid4())})


def sign_in(url, username):
    with requests.Session() as http:
        token = CSRF_META.search(http.get(f"{url}/login", timeout=10).text).group(1)
        return http.post(f"{url}/login", data={"username": username, "password": "test-pass-123", "csrf_token": token},
                         allow_redirects=False, timeout=10)


def test_public_side_and_login_keep_working_while_redis_is_down(outage):
    url, redis_server, db_url, username, log_path = outage
    hints = Hints(url)
    try:
        redis_server.stop()
        started = time.monotonic()

        resp = check_in(url)
        assert resp.status_code == 200, resp.text[:500]
        number = re.search(r"\b(W\d{3})\b", resp.text).group(1)
        # The screens on this process still hear it: the hint goes to local sockets first.
        assert hints.wait_for(lambda m: m.get("number") == number, 5), hints.messages
        from webapp.models import Ticket
        reader = make_app(db_url)
        with reader.app_context():
            token = db.session.scalar(db.select(Ticket.token).where(Ticket.number == number))
            db.session.remove()
            db.engine.dispose()
        assert token, "the check-in issued no ticket"

        assert requests.get(f"{url}/lobby", timeout=10).status_code == 200
        assert requests.get(f"{url}/board", params={"token": BOARD_TOKEN}, timeout=10).status_code == 200
        status = requests.get(f"{url}/t/{token}", timeout=10)
        assert status.status_code == 200 and number in status.text
        login = sign_in(url, username)
        assert login.status_code == 302, login.text[:300]
        assert time.monotonic() - started < 10, "requests waited on the dead Redis"

        # Redis back: the listener resubscribes and tells this process's screens to refetch ...
        redis_server.start()
        assert hints.wait_for(lambda m: m.get("event") == "resync", 10), hints.messages
        # ... and hints published through Redis by another process arrive again.
        other = make_app(db_url, REDIS_URL=redis_server.url)
        with other.app_context():
            from webapp.models import Site
            from webapp.services.checkin import check_in_walkin
            site = db.session.scalar(db.select(Site).where(Site.code == "bj01"))
            later = check_in_walkin(site, "京A77777", "13912345679", "repair", None, True, str(uuid.uuid4())).number
            db.session.remove()
            db.engine.dispose()
        assert hints.wait_for(lambda m: m.get("number") == later, 5), hints.messages
    finally:
        hints.client.disconnect()
    assert failures_outside_the_queue_consumer(log_path.read_text()) == []


def failures_outside_the_queue_consumer(log_text):
    """Log records carrying a traceback, except the task consumer's own "Error reading from queue".

    The consumer polling a dead Redis is expected to report it (that is how an operator notices);
    what must not happen is a request or a publish failing with an exception.
    """
    records = re.split(r"\n(?=(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):)", log_text)
    return [r[:300] for r in records if "Traceback" in r and not r.startswith("ERROR:huey.consumer")]
