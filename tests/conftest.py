"""Shared fixtures: apps on a real database, staff factories, a live server, real Chromium.

Database: a fresh SQLite file per test by default. ``SERVICELANE_TEST_DB=postgresql`` runs the
same tests on PostgreSQL (``make test`` does a second pass when the server answers).
Browser tests launch Debian's Chromium (``/usr/bin/chromium``) through Playwright.
"""
import os
import re
import shutil
import socket
import threading
import uuid
import zlib
from pathlib import Path

import pytest

from webapp import create_app
from webapp.extensions import db as _db
from webapp.commands.estimates import parse_line, parse_repair_order

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "screenshots"
PG_ADMIN_URL = os.environ.get("SERVICELANE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Under pytest-xdist each worker gets its own databases (and Redis db), so parallel workers never
# share a schema or a Socket.IO channel.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_WORKER_N = int(WORKER[2:]) if WORKER.startswith("gw") and WORKER[2:].isdigit() else 0
# Two checkouts testing at once (e.g. git worktrees) keep apart with SERVICELANE_TEST_NS: it suffixes
# the PostgreSQL database names and picks another block of Redis databases.
NS = os.environ.get("SERVICELANE_TEST_NS", "")
_REDIS_BASE = 15 - 2 * (int(NS) % 7 if NS.isdigit() else 0)
REDIS_URL = os.environ.get("SERVICELANE_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{_REDIS_BASE - _WORKER_N}")
CHROMIUM = os.environ.get("SERVICELANE_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
PASSWORD = "test-pass-123"


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


@pytest.fixture(scope="session")
def redis_url():
    try:
        import redis
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception:  # noqa: BLE001
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    return REDIS_URL


# ---------------------------------------------------------------- apps and databases

USE_PG = os.environ.get("SERVICELANE_TEST_DB") == "postgresql"


# The PostgreSQL pass (`make test-pg`) repeats the HTTP tests whose outcome the database decides:
# concurrent writers, locks and numbering, constraints, transactions that must be all or nothing,
# sessions and lockout counters, bounds of ids and amounts, and the heavier queries (history).
# The rest run once, on SQLite; tests that name both databases themselves ran on both in that
# pass already. Keeps `make test` inside its 10 minutes.
PG_PASS = {"test_concurrency.py", "test_estimate_races.py", "test_kiosk_public_edge.py", "test_login_lockout.py",
           "test_staff_sessions.py", "test_billing.py", "test_input_bounds.py", "test_hostile_input.py",
           "test_parts_desk.py", "test_task_queue.py", "test_intake.py", "test_workshop.py", "test_status_types.py",
           "test_change_seq.py", "test_queue_counts.py", "test_history.py", "test_all_or_nothing_save.py",
           "test_live_rooms.py"}


def pytest_collection_modifyitems(config, items):
    if not USE_PG:
        return
    def on_pg(item):
        params = getattr(item, "callspec", None)
        names_a_db = params is not None and {"sqlite", "postgresql"} & {str(v) for v in params.params.values()}
        return item.path.name in PG_PASS and not names_a_db
    left = [item for item in items if not on_pg(item)]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if on_pg(item)]


@pytest.fixture(scope="session")
def _pg_main():
    url = pg_database("servicelane_test")
    reset_pg_schema(url)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        _db.create_all()
        _db.engine.dispose()
    return url


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
    return create_app(config)


@pytest.fixture
def db_url(tmp_path, request):
    if USE_PG:
        return request.getfixturevalue("_pg_main")
    return f"sqlite:///{tmp_path / 'test.db'}"


def _fresh_g(sender, **extra):
    """Requests reuse the test's app context, so ``g`` would carry one client's signed-in user and
    CSRF token into another client's request. Clear it, as a real server's new context would."""
    from flask import g
    g.__dict__.clear()
    _db.session.expire_all()  # and read the database afresh, as a new request's session would


def _pg_reset_sql() -> str:
    return "".join(f'DELETE FROM "{t.name}";' for t in reversed(_db.metadata.sorted_tables)) + (
        "DO $$ DECLARE s record; BEGIN FOR s IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' "
        "LOOP EXECUTE format('ALTER SEQUENCE %I RESTART', s.sequencename); END LOOP; END $$;")


@pytest.fixture
def app(db_url, tmp_path):
    from flask import request_started
    app = make_app(db_url, UPLOAD_DIR=str(tmp_path / "uploads"))
    request_started.connect(_fresh_g, app)
    with app.app_context():
        if USE_PG:
            # DELETE children before parents and restart the id sequences: the same empty,
            # numbered-from-1 database as TRUNCATE gives, in a tenth of the time on small tables.
            _db.session.execute(_db.text(_pg_reset_sql()))
            _db.session.commit()
        else:
            _db.create_all()
        yield app
        _db.session.remove()
        _db.engine.dispose()


def run_tasks() -> int:
    """Run every queued task (notices, …) now, in this thread; returns how many ran. Tests call it
    where a real deployment's consumer would pick the work up."""
    from webapp.tasks import run_pending
    ran = run_pending()
    _db.session.expire_all()   # the tasks wrote through their own sessions
    return ran


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


# ---------------------------------------------------------------- factories

class Factory:
    """Builds records with sensible defaults; every call commits."""

    def __init__(self, db):
        self.db = db
        self.n = 0

    def _next(self):
        self.n += 1
        return self.n

    def site(self, code=None, **kw):
        from webapp.models import Site
        n = self._next()
        site = Site(code=code or f"s{n}", name_zh=kw.pop("name_zh", f"测试门店{n}"),
                    name_en=kw.pop("name_en", f"Test site {n}"), **kw)
        self.db.session.add(site)
        self.db.session.commit()
        return site

    def user(self, site, role="advisor", username=None, desk=None, **kw):
        from webapp.models import User
        n = self._next()
        user = User(site_id=site.id, username=username or f"{role}{n}", role=role,
                    display_name=kw.pop("display_name", f"{role.title()} {n}"),
                    desk=desk if desk is not None else (str(n) if role == "advisor" else None), **kw)
        user.set_password(PASSWORD)
        self.db.session.add(user)
        self.db.session.commit()
        return user

    def customer_vehicle(self, site, plate="京A12345", mobile="13800138000", name="张三", **vehicle):
        from webapp.models import Customer, Vehicle
        customer = Customer(site_id=site.id, name=name, mobile=mobile)
        self.db.session.add(customer)
        self.db.session.flush()
        car = Vehicle(site_id=site.id, customer_id=customer.id, plate=plate, **vehicle)
        self.db.session.add(car)
        self.db.session.commit()
        return customer, car

    def appointment(self, site, customer, vehicle, scheduled_at=None, reason="maintenance", advisor=None):
        from webapp.models import Appointment
        from webapp.timeutil import utcnow
        appt = Appointment(site_id=site.id, customer_id=customer.id, vehicle_id=vehicle.id,
                           scheduled_at=scheduled_at or utcnow(), reason=reason,
                           advisor_id=advisor.id if advisor else None, description="保养")
        self.db.session.add(appt)
        self.db.session.commit()
        return appt

    def walkin(self, site, plate="京A12345", mobile=None, reason="repair", key=None):
        """A checked-in walk-in through the real service. Returns the ticket. Without a mobile,
        each plate gets one of its own (京A12345: 13800138000): the kiosk gives a mobile already
        in the queue no second number."""
        from webapp.services.checkin import check_in_walkin
        if mobile is None:
            mobile = "13800138000" if plate == "京A12345" else f"137{zlib.crc32(plate.encode()) % 10 ** 8:08d}"
        return check_in_walkin(site, plate, mobile, reason, "异响", True, key or uuid.uuid4().hex)


@pytest.fixture
def factory(db):
    return Factory(db)


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


# ---------------------------------------------------------------- live server and browser

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


@pytest.fixture
def live_app(tmp_path):
    """An app on its own SQLite file (threads of the live server share it through the file)."""
    app = make_app(f"sqlite:///{tmp_path / 'live.db'}", UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        _db.create_all()
    return app


@pytest.fixture
def live_server(live_app):
    from webapp.tasks import start_embedded_consumer
    # As `make run`: a consumer thread beside the server runs the queued tasks (periodic ones are
    # left out: tests run them through their task when they mean to).
    consumer = start_embedded_consumer(periodic=False)
    server = LiveServer(live_app).start()
    yield server
    server.stop()
    consumer.stop(graceful=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


VIEWPORTS = {
    "kiosk": {"width": 1080, "height": 1920},
    "tv": {"width": 1920, "height": 1080},
    "phone": {"width": 390, "height": 844},
    "console": {"width": 1366, "height": 768},
}


@pytest.fixture
def new_page(browser):
    """``new_page("phone", lang="en")`` → a Playwright page in a fresh context of that size."""
    contexts = []

    def make(kind="console", lang=None, **kw):
        opts = {"viewport": VIEWPORTS[kind], "locale": "en-US" if lang == "en" else "zh-CN"}
        if kind == "phone":
            opts.update(device_scale_factor=2, is_mobile=True, has_touch=True)
        if kind == "kiosk":
            opts.update(has_touch=True)
        opts.update(kw)
        ctx = browser.new_context(**opts)
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def screenshot(page, name):
    """Save a screenshot for people to look at (screenshots/ is not committed)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def set_lang(page, base_url, lang):
    """Choose the UI language the way a person does: the language switch (sets the cookie)."""
    page.goto(f"{base_url}/lang/{lang}?next=/start")


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


def draw_signature(page, canvas):
    """Sign with the mouse: two strokes across the signature box."""
    box = canvas.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    strokes = [
        [(0.10, 0.65), (0.18, 0.30), (0.24, 0.70), (0.32, 0.35), (0.40, 0.62), (0.50, 0.40)],
        [(0.55, 0.55), (0.65, 0.32), (0.72, 0.68), (0.82, 0.38), (0.90, 0.55)],
    ]
    for stroke in strokes:
        page.mouse.move(x + stroke[0][0] * w, y + stroke[0][1] * h)
        page.mouse.down()
        for px, py in stroke[1:]:
            page.mouse.move(x + px * w, y + py * h, steps=8)
        page.mouse.up()


def jpeg_bytes(size=(640, 480), colour=(180, 40, 40)):
    """A real JPEG photo, as a phone camera would upload."""
    import io

    from PIL import Image, ImageDraw
    image = Image.new("RGB", size, (200, 205, 210))
    ImageDraw.Draw(image).line((40, 60, size[0] - 40, size[1] - 80), fill=colour, width=8)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    return buf.getvalue()


# ---------------------------------------------------------------- races on both databases

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_app(request, tmp_path):
    """An app on an empty database of each kind, with one site (code ``race``)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.db'}"
    else:
        raw = pg_database("servicelane_concurrency")
        reset_pg_schema(raw)
        url = raw
    app = make_app(url, UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        _db.create_all()
        Factory(_db).site(code="race")
        _db.session.remove()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


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


def sign_in(page, base, username, lang=None, password=PASSWORD, path=None, live=False):
    """Staff sign-in through the login form, in the chosen UI language: lands on ``path`` (asked
    for as ?next=) or, without one, on the advisor console. ``live``: wait until the page's
    Socket.IO connection is up, so what happens next reaches it."""
    import re as _re

    from playwright.sync_api import expect
    if lang:
        set_lang(page, base, lang)
    page.goto(base + "/login" + (f"?next={path}" if path else ""))
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(_re.compile(".*" + _re.escape(path or "/advisor") + "$"))
    if live:
        expect(page.locator("body")).to_have_attribute("data-live-state", "online")


def png_data_url(stroke=((20, 70), (80, 20), (140, 75), (260, 30)), size=(300, 100)) -> str:
    """A signature as the signature pad sends it: a transparent PNG with ink, as a data URL."""
    import base64
    import io

    from PIL import Image, ImageDraw
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    ImageDraw.Draw(image).line(stroke, fill=(0, 0, 0, 255), width=4)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


# ---------------------------------------------------------------- a visit through the real services

RO_TERMS = {"payment_method": "wechat", "old_parts": "leave", "car_wash": "yes",
            "delivery_explained": "1", "additional_work_consent": "1"}


def confirm_suggestion(visit, advisor):
    """What the advisor does at the desk with a walk-in whose plate or mobile is stored: checks it
    with the customer and links it (the kiosk itself never links a walk-in to stored records)."""
    from webapp.services import intake as intake_svc
    if intake_svc.suggested_records(visit):
        intake_svc.link_suggested(visit, advisor)
    return visit


def visit_at_estimate(factory, site, advisor, plate="京A12345", mobile="13800138000", concern="保养"):
    """A walk-in taken through the real services to the estimate stage: called, received,
    inspected (covers, mileage, fuel, signature), one concern, interview done."""
    from werkzeug.datastructures import MultiDict

    from webapp.extensions import db
    from webapp.models import Visit
    from webapp.services import calling
    from webapp.services import intake as intake_svc
    ticket = factory.walkin(site, plate=plate, mobile=mobile)
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    visit = db.session.get(Visit, ticket.visit_id)
    confirm_suggestion(visit, advisor)
    intake_svc.start_inspection(visit, advisor)
    intake_svc.save_inspection(visit, MultiDict({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                                 "mileage": "1000", "fuel_level": "1/2"}), advisor)
    intake_svc.sign_intake(visit, png_data_url(), "客户", None, None, advisor)
    intake_svc.complete_inspection(visit, advisor)
    intake_svc.add_concern(visit, concern, advisor)
    intake_svc.complete_interview(visit, advisor)
    return visit


def job_at_dispatch(factory, site, advisor, plate="京A12345", car_wash="yes"):
    """walk-in → reception → inspection → interview → one labour line → RO → presented → approved."""
    import uuid
    from decimal import Decimal

    from webapp.extensions import db
    from webapp.models import LabourOperation, LabourRate
    from webapp.services import estimates
    RO = RO_TERMS
    if not db.session.query(LabourRate).filter_by(site_id=site.id).first():
        db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("180.00")))
        db.session.commit()
    factory.customer_vehicle(site, plate=plate, mobile="13800138000", make="大众", model="帕萨特")
    visit = visit_at_estimate(factory, site, advisor, plate=plate, concern="刹车异响")
    op = LabourOperation(site_id=site.id, code=f"BRK{uuid.uuid4().hex[:4]}", name_zh="更换前刹车片",
                         name_en="Replace front brake pads", hours=Decimal("1.5"))
    db.session.add(op)
    db.session.commit()
    estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(op.id)}), advisor)
    estimates.save_repair_order(visit, parse_repair_order({**RO, "car_wash": car_wash}), advisor)
    est = estimates.present(visit, advisor)
    estimates.decide(visit, est.version, {line.id: ("approved", None) for line in est.lines}, "remote")
    db.session.refresh(visit)
    assert visit.state == "dispatch" and visit.job is not None
    return visit


def visit_ready(factory, site, advisor, plate="京A12345", car_wash="no"):
    """job_at_dispatch, then through the real workshop services: assigned, started, finished,
    QC passed (and washed when the RO asked for it) — the car is ready for pickup."""
    from webapp.extensions import db
    from webapp.jobs import QC_CHECKLIST
    from webapp.services import workshop
    visit = job_at_dispatch(factory, site, advisor, plate=plate, car_wash=car_wash)
    dispatcher = factory.user(site, role="dispatcher")
    tech = factory.user(site, role="technician")
    inspector = factory.user(site, role="qc")
    workshop.assign(dispatcher, visit.job.id, tech.id, None)
    workshop.start(tech, visit.job.id)
    workshop.finish(tech, visit.job.id)
    workshop.qc(inspector, visit.job.id, {item: True for item in QC_CHECKLIST}, True, None)
    if car_wash == "yes":
        workshop.wash_done(inspector, visit.id)
    db.session.refresh(visit)
    assert visit.state == "ready"
    return visit


# ---------------------------------------------------------------- service history: a delivered visit with all it keeps

def visit_delivered_with_history(factory, site, advisor, plate="京A12345", when=None):
    """A visit through the real services (intake with a scratch, two labour lines: brake pads
    approved, wiper blades declined "下次再换"; RO; workshop; QC) to READY, then — until the
    delivery, cashier and follow-up services exist — the rest written as rows: delivered, a paid
    bill (JS-…) with two payments, a 2-star pickup rating and survey answers, a follow-up call
    reached, an open complaint. ``when`` (naive UTC) back-dates the visit."""
    import json
    from datetime import timedelta
    from decimal import Decimal

    from webapp.extensions import db
    from webapp.jobs import QC_CHECKLIST
    from webapp.models import (Bill, Complaint, DamageMark, FollowUp, FollowUpCall, LabourOperation, LabourRate,
                               Payment, SurveyResponse, Vehicle)
    from webapp.services import estimates, workshop
    from webapp.timeutil import utcnow
    if not db.session.query(LabourRate).filter_by(site_id=site.id).first():
        db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("180.00")))
        db.session.commit()
    if not db.session.query(Vehicle).filter_by(site_id=site.id, plate=plate).first():
        factory.customer_vehicle(site, plate=plate, mobile="13800138000", name="张三", make="大众", model="帕萨特",
                                 vin="LSVAU2180N2183294")
    visit = visit_at_estimate(factory, site, advisor, plate=plate, concern="刹车时有异响")
    db.session.add(DamageMark(site_id=site.id, intake_id=visit.intake.id, zone="front_bumper", kind="scratch",
                              note="右侧 5cm"))
    ops = {}
    for code, zh, en, hours in (("BRK", "更换前刹车片", "Replace front brake pads", "1.5"),
                                ("WIP", "更换雨刮片", "Replace wiper blades", "0.3")):
        op = db.session.query(LabourOperation).filter_by(site_id=site.id, code=code).first()
        if op is None:
            op = LabourOperation(site_id=site.id, code=code, name_zh=zh, name_en=en, hours=Decimal(hours))
            db.session.add(op)
        ops[code] = op
    db.session.commit()
    brake = estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(ops["BRK"].id)}), advisor)
    wiper = estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(ops["WIP"].id)}), advisor)
    estimates.save_repair_order(visit, parse_repair_order({**RO_TERMS, "car_wash": "no"}), advisor)
    est = estimates.present(visit, advisor)
    estimates.decide(visit, est.version, {brake.id: ("approved", None), wiper.id: ("declined", "下次再换")},
                     "in_shop", signer="张三")
    dispatcher = factory.user(site, role="dispatcher")
    tech = factory.user(site, role="technician")
    inspector = factory.user(site, role="qc")
    cashier = factory.user(site, role="cashier", display_name="钱收银")
    csi = factory.user(site, role="csi", display_name="孙回访")
    workshop.assign(dispatcher, visit.job.id, tech.id, None)
    workshop.start(tech, visit.job.id)
    workshop.finish(tech, visit.job.id)
    workshop.qc(inspector, visit.job.id, {item: True for item in QC_CHECKLIST}, True, None)
    db.session.refresh(visit)
    assert visit.state == "ready"
    now = utcnow()
    visit.state, visit.delivered_at = "delivered", now
    n = db.session.query(Bill).filter_by(site_id=site.id).count() + 1
    bill = Bill(site_id=site.id, visit_id=visit.id, number=f"JS-{now:%Y%m%d}-{n:04d}", status="paid",
                labour=Decimal("270.00"), subtotal=Decimal("270.00"), tax=Decimal("35.10"), total=Decimal("305.10"),
                created_by_id=cashier.id, issued_at=now, closed_at=now)
    db.session.add(bill)
    db.session.flush()
    db.session.add_all([
        Payment(site_id=site.id, bill_id=bill.id, method="wechat", amount=Decimal("200.00"), reference="WX8848",
                received_by_id=cashier.id),
        Payment(site_id=site.id, bill_id=bill.id, method="cash", amount=Decimal("105.10"), tendered=Decimal("110.00"),
                change=Decimal("4.90"), received_by_id=cashier.id),
        SurveyResponse(site_id=site.id, visit_id=visit.id, channel="pickup", rating=2, comment="等得太久"),
        SurveyResponse(site_id=site.id, visit_id=visit.id, channel="call", rating=3,
                       answers=json.dumps({"服务态度": "满意", "完工时间": "不满意"}, ensure_ascii=False)),
    ])
    fu = FollowUp(site_id=site.id, visit_id=visit.id, due_at=now + timedelta(days=3), status="reached",
                  attempts=1, closed_at=now)
    db.session.add(fu)
    db.session.flush()
    db.session.add(FollowUpCall(site_id=site.id, follow_up_id=fu.id, outcome="reached", comment="客户说刹车好了",
                                staff_id=csi.id))
    db.session.add(Complaint(site_id=site.id, visit_id=visit.id, source="rating", summary="取车等待时间过长",
                             status="open", owner_id=csi.id, due_at=now + timedelta(days=2)))
    if when is not None:
        visit.created_at = when
        visit.ticket.issued_at = when
        visit.delivered_at = when + timedelta(hours=5)
        visit.repair_order.day = when.date()
    db.session.commit()
    db.session.refresh(visit)
    return visit


# ---------------------------------------------------------------- follow-up: a car delivered through closing.py

def visit_delivered(factory, site, advisor, plate="京A12345", car_wash="no"):
    """visit_ready, then a completed delivery checklist and a paid bill written directly, and the
    real rule (services.closing.deliver_if_complete): DELIVERED, out time, the follow-up scheduled."""
    from decimal import Decimal

    from webapp.extensions import db
    from webapp.models import Bill, Delivery
    from webapp.services import closing
    from webapp.timeutil import utcnow
    visit = visit_ready(factory, site, advisor, plate=plate, car_wash=car_wash)
    now = utcnow()
    db.session.add(Delivery(site_id=site.id, visit_id=visit.id, car_fetched=True, exterior_checked=True,
                            belongings_checked=True, covers_removed=True, old_parts_done=True,
                            work_explained=True, completed_at=now, completed_by_id=advisor.id))
    db.session.add(Bill(site_id=site.id, visit_id=visit.id, number=f"FU-{uuid.uuid4().hex[:10]}", status="paid",
                        labour=Decimal("270.00"), subtotal=Decimal("270.00"), tax=Decimal("35.10"),
                        total=Decimal("305.10"), issued_at=now, closed_at=now))
    db.session.flush()
    db.session.refresh(visit)
    assert closing.deliver_if_complete(visit, advisor)
    db.session.commit()
    closing.publish_delivered(visit)
    db.session.refresh(visit)
    assert visit.state == "delivered" and visit.follow_up is not None
    return visit
