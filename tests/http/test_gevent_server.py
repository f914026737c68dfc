"""The many-screens server (webapp/wsgi_gevent.py under gunicorn's gevent worker, as
deploy/gunicorn.conf.py runs it) answers a page and delivers a Socket.IO message end to end.

A real gunicorn process on a migrated database: a lobby screen connects over WebSocket (which
under gevent goes through simple-websocket), a walk-in checks in over HTTP, and the screen hears
its number. On PostgreSQL this also runs psycopg2 through psycogreen's patch."""
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
SITE = "gv01"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
TICKET_NUMBER = re.compile(r"\b(W\d{3})\b")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('gevent') / 'gevent.db'}"
    url = pg_database("servicelane_gevent")
    reset_pg_schema(url)
    return url


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICELANE_")}
    env.update({"SERVICELANE_DATABASE_URL": database, "SERVICELANE_SECRET_KEY": uuid.uuid4().hex,
                "SERVICELANE_RATELIMIT_ENABLED": "false", "SERVICELANE_TASKS_BACKEND": "immediate",
                "SERVICELANE_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads"))})
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "webapp", "db", "upgrade"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    app = make_app(database)
    with app.app_context():
        from webapp.models import Site
        db.session.add(Site(code=SITE, name_zh="门店", name_en="Site"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    log_path = tmp_path_factory.mktemp("log") / "gunicorn.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "webapp.wsgi_gevent:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
            try:
                requests.get(url + "/start", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield url, log_path
    finally:
        proc.terminate()
        proc.wait(15)


def test_gevent_server_serves_a_page_and_a_live_message(server):
    url, log_path = server
    heard, arrived = [], threading.Event()
    screen = socketio.Client(reconnection=False)
    screen.on("lobby", lambda msg: (heard.append(msg), arrived.set()))
    screen.connect(url, auth={"channel": "lobby", "site": SITE}, transports=["websocket"], wait_timeout=10)
    try:
        assert screen.transport() == "websocket"
        with requests.Session() as http:
            page = http.get(f"{url}/kiosk/walkin", params={"site": SITE}, timeout=10)
            assert page.status_code == 200, page.text[:300]
            token = CSRF_META.search(page.text).group(1)
            resp = http.post(f"{url}/kiosk/walkin", headers={"X-CSRFToken": token}, timeout=10, data={
                "csrf_token": token, "plate": "京A12345", "mobile": "13912345678", "reason": "repair",
                "consent": "1", "key": str(uuid.uuid4())})
        assert resp.status_code == 200, resp.text[:500]
        number = TICKET_NUMBER.search(resp.text).group(1)
        assert arrived.wait(5), log_path.read_text()[-3000:]
        assert heard[0]["event"] == "ticket.issued" and heard[0]["number"] == number
    finally:
        screen.disconnect()
    assert "gevent" in log_path.read_text()      # gunicorn says which worker class it booted
