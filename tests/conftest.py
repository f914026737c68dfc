"""Fixtures and pytest hooks: apps on a real database, a factory, a shop, a live server, real Chromium.

Database: a fresh SQLite file per test by default. ``SERVICELANE_TEST_DB=postgresql`` runs the
same tests on PostgreSQL (``make test`` does a second pass when the server answers).
Browser tests launch Debian's Chromium (``/usr/bin/chromium``) through Playwright.

Helpers are not here: data builders are in ``tests/factories.py``, apps/HTTP/live-server/QR helpers in
``tests/support.py``, page helpers in ``tests/browser/helpers.py``; tests import them as
``from tests.factories import …`` (one spelling).
"""
import os
import shutil
import sys
from pathlib import Path

import pytest

# ``tests.…`` imports resolve from the checkout's root however pytest was started (``python -m pytest``
# puts it on the path, the bare ``pytest`` script does not).
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.factories import Factory, build_shop  # noqa: E402
from tests.support import (NS, USE_PG, WORKER_N, LiveServer, empty_sqlite, fresh_g, make_app,  # noqa: E402
                           pg_database, pg_reset_sql, reset_pg_schema)
from webapp import create_app  # noqa: E402
from webapp.extensions import db as _db  # noqa: E402

# ``SERVICELANE_TEST_NOW=2026-12-06T17:05`` (UTC) runs the suite as if it were then: the tests of a
# shop's day must hold at any hour CI may run (late evening, just after midnight in the shop).
if os.environ.get("SERVICELANE_TEST_NOW"):
    from datetime import datetime as _dt
    from datetime import timedelta as _td

    from webapp import timeutil as _timeutil
    _then = _dt.fromisoformat(os.environ["SERVICELANE_TEST_NOW"].replace("Z", "+00:00"))
    # The app's clock is naive UTC: an offset given with the time (…Z, +08:00) is folded in.
    _then = _then.replace(tzinfo=None) - (_then.utcoffset() or _td(0))
    _timeutil._offset = _then - _dt.utcnow()

_REDIS_BASE = 15 - 2 * (int(NS) % 7 if NS.isdigit() else 0)
REDIS_URL = os.environ.get("SERVICELANE_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{_REDIS_BASE - WORKER_N}")
CHROMIUM = os.environ.get("SERVICELANE_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


# ---------------------------------------------------------------- services on this machine

@pytest.fixture(scope="session")
def redis_url():
    try:
        import redis
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception:  # noqa: BLE001
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    return REDIS_URL


# ---------------------------------------------------------------- apps and databases

# The PostgreSQL pass (`make test-pg`) repeats the HTTP tests whose outcome the database decides:
# concurrent writers, locks and numbering, constraints, transactions that must be all or nothing,
# sessions and lockout counters, bounds of ids and amounts, and the heavier queries (history).
# The rest run once, on SQLite; tests that name both databases themselves ran on both in that
# pass already. Keeps `make test` inside its 10 minutes.
PG_PASS = {"test_concurrency.py", "test_estimate_races.py", "test_kiosk_public_edge.py", "test_login_lockout.py",
           "test_staff_sessions.py", "test_billing.py", "test_input_bounds.py", "test_hostile_input.py",
           "test_parts_desk.py", "test_task_queue.py", "test_task_queue_processes.py", "test_scale_queries.py",
           "test_intake.py", "test_workshop.py", "test_status_types.py",
           "test_change_seq.py", "test_queue_counts.py", "test_history.py", "test_all_or_nothing_save.py",
           "test_live_rooms.py", "test_appointment_preparation.py", "test_online_booking_matching.py",
           "test_gevent_server.py", "test_reports.py"}


# A browser flow written for both languages runs in one of them in `make test`, half the flows in
# each: the accessibility walk (tests/browser/test_accessibility.py) still opens every screen in
# both languages and fails on text of the other language, so the second run of a flow repeats
# behaviour already proven. SERVICELANE_BROWSER_LANGS=both runs every flow in both (before a
# release, or when a screen's wording changed). Keeps `make test` inside its 10 minutes.
LANGUAGE_VALUES = {"en", "zh", "zh_CN", "zh-CN"}
ALWAYS_BOTH = {"test_accessibility.py"}


def _one_language_per_flow(config, items):
    if os.environ.get("SERVICELANE_BROWSER_LANGS") == "both":
        return
    groups: dict[tuple, list] = {}
    for item in items:
        spec = getattr(item, "callspec", None)
        if spec is None or "browser" not in item.path.parts or item.path.name in ALWAYS_BOTH:
            continue
        values = {name: str(value) for name, value in spec.params.items()}
        if not LANGUAGE_VALUES & set(values.values()):
            continue
        others = tuple(sorted((n, v) for n, v in values.items() if v not in LANGUAGE_VALUES))
        groups.setdefault((item.path.name, item.originalname, others), []).append(item)
    dropped = []
    for number, key in enumerate(sorted(groups)):
        variants = sorted(groups[key], key=lambda i: i.callspec.id)
        if len(variants) > 1:
            keep = variants[number % len(variants)]
            dropped += [v for v in variants if v is not keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(map(id, dropped))
        items[:] = [item for item in items if id(item) not in gone]


def pytest_collection_modifyitems(config, items):
    _one_language_per_flow(config, items)
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


@pytest.fixture
def db_url(tmp_path, request):
    if USE_PG:
        return request.getfixturevalue("_pg_main")
    return empty_sqlite(tmp_path / "test.db")


@pytest.fixture
def app(db_url, tmp_path):
    from flask import request_started
    app = make_app(db_url, UPLOAD_DIR=str(tmp_path / "uploads"))
    request_started.connect(fresh_g, app)
    with app.app_context():
        if USE_PG:
            # DELETE children before parents and restart the id sequences: the same empty,
            # numbered-from-1 database as TRUNCATE gives, in a tenth of the time on small tables.
            _db.session.execute(_db.text(pg_reset_sql()))
            _db.session.commit()
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


# ---------------------------------------------------------------- factories

@pytest.fixture
def factory(db):
    return Factory(db)


@pytest.fixture
def shop_hours():
    """The clock at 10:00 of today in the shops' time zone (Asia/Shanghai) for the test: bookings
    "in 15 minutes" or "an hour ago" stay within today whatever hour the suite runs at."""
    from datetime import datetime, time

    from webapp.timeutil import clock_at, local_day, local_to_utc
    tz = "Asia/Shanghai"
    with clock_at() as move:
        move(local_to_utc(tz, datetime.combine(local_day(tz), time(10, 0))))
        yield


def pytest_configure(config):
    config.addinivalue_line("markers", "shop(roles=…, staff=…, **site): what the shop fixture builds "
                                       "(tests/factories.py build_shop)")


def shop_options(request) -> dict:
    """The ``shop`` marks on the test, its class and module; the closest one wins for each option."""
    options = {}
    for mark in reversed(list(request.node.iter_markers("shop"))):
        options.update(mark.kwargs)
    return options


@pytest.fixture
def shop(request, factory):
    """The shop most tests work in: a site (bj01, 星驰汽车4S店（朝阳店）) with one user per staff role,
    username ``<role>1``, the advisor at desk 1 (``tests/factories.py``: ``Shop``, ``build_shop``).
    A module asks for fewer roles, display names or site settings with ``pytest.mark.shop(...)``;
    what else it needs (a second site, a bay, a catalogue) it adds in a small fixture built on this one."""
    return build_shop(factory, **shop_options(request))


@pytest.fixture
def live_shop(request, live_app):
    """``shop`` on the live server's database, as plain values (``live_shop.site.code``,
    ``live_shop.advisor.username``): the session that built it has ended when the test runs.
    ``live_shop.factory`` builds more in an app context of the module's own fixture."""
    with live_app.app_context():
        factory = Factory(_db)
        shop = build_shop(factory, **shop_options(request)).plain()
        _db.session.remove()
    shop.factory = factory
    return shop


# ---------------------------------------------------------------- live server and browser

@pytest.fixture
def live_app(tmp_path):
    """An app on its own SQLite file (threads of the live server share it through the file)."""
    return make_app(empty_sqlite(tmp_path / "live.db"), UPLOAD_DIR=str(tmp_path / "uploads"))


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


# ---------------------------------------------------------------- races on both databases

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_app(request, tmp_path):
    """An app on an empty database of each kind, with one site (code ``race``)."""
    if request.param == "sqlite":
        url = empty_sqlite(tmp_path / "race.db")
    else:
        url = pg_database("servicelane_concurrency")
        reset_pg_schema(url)
    app = make_app(url, UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        _db.create_all()  # no-op on the SQLite copy; the PostgreSQL schema was just dropped
        Factory(_db).site(code="race")
        _db.session.remove()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
