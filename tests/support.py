"""What tests use besides data: apps on a test database, the services on this machine (PostgreSQL),
HTTP helpers (CSRF token, sign-in), a live server, threads that race, and reading QR codes.
Import them from here (``from tests.support import …``); fixtures live in ``tests/conftest.py``.
"""
import os
import re
import shutil
import socket
import tempfile
import threading
import uuid
from pathlib import Path

import jinja2
import pytest

from tests.factories import PASSWORD
from webapp import create_app
from webapp.extensions import db as _db

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("SERVICELANE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")

# Under pytest-xdist each worker gets its own databases (and Redis db), so parallel workers never
# share a schema or a Socket.IO channel.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_N = int(WORKER[2:]) if WORKER.startswith("gw") and WORKER[2:].isdigit() else 0

# Two checkouts testing at once (e.g. git worktrees) keep apart with SERVICELANE_TEST_NS: it suffixes
# the PostgreSQL database names and picks another block of Redis databases.
NS = os.environ.get("SERVICELANE_TEST_NS", "")
USE_PG = os.environ.get("SERVICELANE_TEST_DB") == "postgresql"


# ---------------------------------------------------------------- services on this machine

def _pg_reachable():
    try:
        import psycopg2
        psycopg2.connect(PG_ADMIN_URL, connect_timeout=2).close()
        return True
    except Exception:  # noqa: BLE001
        return False


def pg_database(name: str) -> str:
    """URL of a PostgreSQL database ``name`` (per xdist worker), created if missing; skips the test
    without a server."""
    if WORKER:
        name = f"{name}_{WORKER}"
    if NS:
        name = f"{name}_ns{NS}"
    if not _pg_reachable():
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    import psycopg2
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def reset_pg_schema(url: str):
    import psycopg2
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    conn.close()


# ---------------------------------------------------------------- apps and databases

class _CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled templates, kept for the whole test process. Each test builds its own app and
    with it a new Jinja environment, which parsed and compiled every template it rendered again:
    about a quarter of the HTTP tests' time. The bucket checks the source's checksum, so an edited
    template is compiled afresh."""

    def __init__(self):
        self.codes = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.codes:
            bucket.bytecode_from_string(self.codes[bucket.key])

    def dump_bytecode(self, bucket):
        self.codes[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


def make_app(db_url, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # Tasks wait in this process's memory until the test runs them (run_tasks) or a live
        # server's consumer thread does: deterministic, no sleeps.
        "TASKS_BACKEND": "memory",
    }
    config.update(overrides)
    app = create_app(config)
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


_EMPTY_SCHEMA: dict[str, Path] = {}


def empty_sqlite(path) -> str:
    """URL of a new SQLite file at ``path`` that holds the app's empty schema: a copy of one file
    made by ``create_all`` once per test process (creating the tables took a tenth of the HTTP
    tests' time). Run from an app context or none."""
    template = _EMPTY_SCHEMA.get("file")
    if template is None:
        template = Path(tempfile.mkdtemp(prefix="servicelane-schema-")) / "empty.db"
        maker = make_app(f"sqlite:///{template}")
        with maker.app_context():
            _db.create_all()
            _db.session.remove()
            _db.engine.dispose()  # the last connection closes: the WAL is folded into the file
        _EMPTY_SCHEMA["file"] = template
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def fresh_g(sender, **extra):
    """Requests reuse the test's app context, so ``g`` would carry one client's signed-in user and
    CSRF token into another client's request. Clear it, as a real server's new context would."""
    from flask import g
    g.__dict__.clear()
    _db.session.expire_all()  # and read the database afresh, as a new request's session would


def pg_reset_sql() -> str:
    return "".join(f'DELETE FROM "{t.name}";' for t in reversed(_db.metadata.sorted_tables)) + (
        "DO $$ DECLARE s record; BEGIN FOR s IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' "
        "LOOP EXECUTE format('ALTER SEQUENCE %I RESTART', s.sequencename); END LOOP; END $$;")


def run_tasks() -> int:
    """Run every queued task (notices, …) now, in this thread; returns how many ran. Tests call it
    where a real deployment's consumer would pick the work up."""
    from webapp.tasks import run_pending
    ran = run_pending()
    _db.session.expire_all()   # the tasks wrote through their own sessions
    return ran


# ---------------------------------------------------------------- HTTP helpers

def csrf_token(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, f"no csrf meta on {path}"
    return match.group(1)


def login(client, user, password=PASSWORD):
    token = csrf_token(client)
    resp = client.post("/login", data={"username": user.username, "password": password, "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return resp


# ---------------------------------------------------------------- live server and races

class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_together(n, prepare, act, timeout=120):
    """Run ``act(i, prepare(i))`` in ``n`` threads; ``prepare`` runs before the barrier (app
    context, detached rows, HTTP session), ``act`` after it, so only the race itself overlaps.
    Returns each thread's result or exception, in thread order."""
    barrier = threading.Barrier(n, timeout=60)
    results = [None] * n

    def worker(i):
        try:
            prepared = prepare(i)
            barrier.wait()
            results[i] = act(i, prepared)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a racing thread hung"
    return results


# ---------------------------------------------------------------- QR codes

def decode_qr_png(png: bytes) -> str:
    """Read a QR code from a screenshot the way a phone camera would (OpenCV)."""
    import cv2
    import numpy as np
    return decode_qr_image(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE))


def decode_qr_image(image) -> str:
    """OpenCV's detector misses some perfectly sharp codes at some scales: try a few scales and
    a slight blur; the first reading wins."""
    import cv2
    detectors = [cv2.QRCodeDetector()] + ([cv2.QRCodeDetectorAruco()] if hasattr(cv2, "QRCodeDetectorAruco") else [])
    for detector in detectors:
        for scale in (1.0, 0.5, 1.5):
            img = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            for variant in (img, cv2.GaussianBlur(img, (5, 5), 0)):
                data, _points, _ = detector.detectAndDecode(variant)
                if data:
                    return data
    return ""


def qr_svg_grid(svg: str):
    """Rasterise a ticket QR SVG: one unit per module, as qrcode's SVG path image draws them
    ("Mx,yHx2Vy2Hxz" squares, or runs); 0 is dark."""
    import numpy as np
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    grid = np.full((size, size), 255, np.uint8)
    for x0, y0, x1, y1 in re.findall(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z", svg):
        grid[int(y0):int(y1), int(x0):int(x1)] = 0
    return grid


def decode_qr_svg(svg: str) -> str:
    import cv2
    grid = qr_svg_grid(svg)
    size = grid.shape[0]
    return decode_qr_image(cv2.resize(grid, (size * 8, size * 8), interpolation=cv2.INTER_NEAREST))



def get_counting_statements(client, path):
    """GET ``path`` (it must answer 200): its HTML and the number of SQL statements it sent."""
    from sqlalchemy import event

    from webapp.extensions import db
    seen = []

    def record(*_args):
        seen.append(1)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200
    return response.get_data(as_text=True), len(seen)
