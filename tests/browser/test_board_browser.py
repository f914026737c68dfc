"""The wall board in real Chromium on a 1920×1080 TV: a change made through the workshop services
moves the card without reload; a long outage (the socket fails to reconnect three times, about 7 s)
while two changes happen ends equal to the server's state (with the banner shown meanwhile); a
server restart is recovered from by itself."""
import select
import subprocess
import sys
from datetime import timedelta

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.helpers import screenshot, set_lang
from tests.factories import workshop_cars
from tests.support import ROOT, free_port
from webapp.extensions import db
from webapp.models import Site
from webapp.readmodels import board_state
from webapp.services import workshop
from webapp.timeutil import utcnow

TOKEN = "tv-board-token-0123456789abcdef"
pytestmark = pytest.mark.shop(roles=(), board_token=TOKEN)
SNAPSHOT_JS = """() => {
  const out = {};
  document.querySelectorAll('#lanes section[data-lane]').forEach(s => {
    out[s.dataset.lane] = {count: Number(s.querySelector('.count').dataset.count),
                           cards: [...s.querySelectorAll('[data-visit]')].map(c => Number(c.dataset.visit))};
  });
  return {seq: Number(document.getElementById('lanes').dataset.seq), lanes: out};
}"""


def server_view(site_id):
    db.session.expire_all()
    state = board_state(db.session.get(Site, site_id))
    return {"seq": state.seq,
            "lanes": {lane: {"count": len(cards), "cards": [c.visit_id for c in cards]}
                      for lane, cards in state.lanes.items()}}


# The board shows the server's state: the same lanes, counts, cards and change sequence (keys sorted,
# so the comparison does not depend on the order the lanes come in).
SAME_AS_JS = """expected => {
  const canon = v => Array.isArray(v) ? '[' + v.map(canon).join(',') + ']'
    : (v && typeof v === 'object') ? '{' + Object.keys(v).sort().map(k => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}'
    : JSON.stringify(v);
  return canon((%s)()) === canon(expected);
}""" % SNAPSHOT_JS


def wait_equal(page, site_id, timeout=10):
    """Wait until the board shows the server's state (which the test does not change meanwhile)."""
    expected = server_view(site_id)
    try:
        page.wait_for_function(SAME_AS_JS, arg=expected, timeout=timeout * 1000)
    except PlaywrightTimeoutError:
        pass   # the assertion below says what differs
    shown = page.evaluate(SNAPSHOT_JS)
    assert shown == expected
    return shown


@pytest.fixture
def shop(live_shop, live_app):
    """The shared shop (the board's token, no staff of its own) and four cars waiting for dispatch with
    the staff to move them; the test runs in this app context (it moves the cars through the services)."""
    with live_app.app_context():
        site = db.session.get(Site, live_shop.site.id)
        yield (site.id, *workshop_cars(site, 4, live_shop.factory))


def open_board(new_page, base, lang=None):
    page = new_page("tv", lang=lang)
    if lang:
        set_lang(page, base, "en" if lang == "en" else "zh_CN")
    page.goto(f"{base}/board?token={TOKEN}")
    page.wait_for_selector("body[data-live-state=online]")
    return page


def test_started_job_moves_to_in_progress_without_reload(live_server, shop, new_page):
    site_id, (v1, v2, v3, v4), dispatcher, tech, bay = shop
    page = open_board(new_page, live_server.url)
    page.evaluate("window.__sameDocument = true")
    assert page.locator("section[data-lane=dispatch] [data-visit]").count() == 4

    workshop.assign(dispatcher, v1.job.id, tech.id, bay.id)
    workshop.start(tech, v1.job.id)
    page.wait_for_selector(f"section[data-lane=in_progress] [data-visit='{v1.id}']", timeout=5000)
    assert page.evaluate("window.__sameDocument") is True  # no reload
    wait_equal(page, site_id)

    # More variety for the screenshots: parts, QC, rework, an overdue promise.
    workshop.assign(dispatcher, v2.job.id, tech.id, None)
    workshop.start(tech, v2.job.id)
    workshop.pause(tech, v2.job.id, "waiting_parts")
    workshop.assign(dispatcher, v3.job.id, tech.id, bay.id)
    workshop.start(tech, v3.job.id)
    workshop.finish(tech, v3.job.id)
    v4.estimate.promised_at = utcnow() - timedelta(minutes=40)
    db.session.commit()
    workshop.assign(dispatcher, v4.job.id, tech.id, None)
    wait_equal(page, site_id)
    assert page.locator(f"[data-visit='{v4.id}'].risk-overdue").count() == 1
    assert page.console_errors == []
    screenshot(page, "board-tv-zh")
    en = open_board(new_page, live_server.url, lang="en")
    wait_equal(en, site_id)
    screenshot(en, "board-tv-en")


def test_a_long_outage_then_equal_to_the_server(live_server, shop, new_page):
    site_id, (v1, v2, v3, v4), dispatcher, tech, bay = shop
    page = open_board(new_page, live_server.url)
    banner = page.locator("#live-banner")
    assert banner.is_hidden()
    page.context.set_offline(True)
    workshop.assign(dispatcher, v1.job.id, tech.id, bay.id)
    workshop.start(tech, v1.job.id)
    workshop.assign(dispatcher, v2.job.id, tech.id, None)
    banner.wait_for(state="visible", timeout=10_000)
    screenshot(page, "board-tv-offline")
    # A long outage, by what the screen goes through rather than by the clock: the socket has tried to
    # reconnect and failed three times (backing off, about 1 + 2 + 4 s), the banner still up.
    page.evaluate("() => { window.__failedReconnects = 0;"
                  " window.serviceLaneSocket.io.on('reconnect_error', () => { window.__failedReconnects += 1; }); }")
    page.wait_for_function("() => window.__failedReconnects >= 3", timeout=30_000)
    assert banner.is_visible()
    page.context.set_offline(False)
    banner.wait_for(state="hidden", timeout=15_000)
    shown = wait_equal(page, site_id)
    assert v1.id in shown["lanes"]["in_progress"]["cards"]


SERVER_SCRIPT = """
import sys, logging
sys.path.insert(0, {root!r})
from tests.support import make_app
from werkzeug.serving import make_server
logging.getLogger("werkzeug").setLevel(logging.WARNING)
app = make_app({db!r})
server = make_server("127.0.0.1", {port}, app, threaded=True)   # bound and listening from here on
print("listening", flush=True)
server.serve_forever()
"""


class ServerProcess:
    """The app in its own process on a fixed port: stopping it closes every socket, as a restart does."""

    def __init__(self, db_url, port):
        self.code = SERVER_SCRIPT.format(root=str(ROOT), db=db_url, port=port)
        self.port, self.proc = port, None

    def start(self):
        import urllib.request
        self.proc = subprocess.Popen([sys.executable, "-c", self.code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        # The process says when its socket listens (or exits): no polling of the port.
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        assert ready and self.proc.stdout.readline().strip() == "listening", "server did not start"
        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/board?token={TOKEN}", timeout=10).read()
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def test_board_recovers_from_a_server_restart(live_app, shop, new_page):
    site_id, (v1, v2, v3, v4), dispatcher, tech, bay = shop
    port = free_port()
    server = ServerProcess(live_app.config["SQLALCHEMY_DATABASE_URI"], port).start()
    try:
        page = open_board(new_page, f"http://127.0.0.1:{port}")
        page.evaluate("window.__sameDocument = true")
        wait_equal(page, site_id)
        server.stop()
        page.locator("#live-banner").wait_for(state="visible", timeout=10_000)
        workshop.assign(dispatcher, v1.job.id, tech.id, bay.id)  # while it is down: no message will come
        workshop.start(tech, v1.job.id)
        server.start()
        page.wait_for_selector(f"section[data-lane=in_progress] [data-visit='{v1.id}']", timeout=15_000)
        page.locator("#live-banner").wait_for(state="hidden")
        assert page.evaluate("window.__sameDocument") is True
        wait_equal(page, site_id)
    finally:
        server.stop()


def test_busy_lane_is_compact_and_counts_all(live_app, live_server, new_page):
    with live_app.app_context():
        from tests.factories import Factory
        f = Factory(db)
        site = f.site(code="busy", board_token=TOKEN)
        visits, dispatcher, tech, bay = workshop_cars(site, 10, f)
        for v in visits[:3]:
            workshop.assign(dispatcher, v.job.id, tech.id, bay.id)
            workshop.start(tech, v.job.id)
        page = open_board(new_page, live_server.url, lang="en")
        lane = page.locator("section[data-lane=dispatch]")
        assert lane.locator(".count").inner_text() == "7"
        assert "dense" in lane.get_attribute("class")
        # every shown card fits the lane: nothing cut off at the bottom
        assert page.evaluate("""() => [...document.querySelectorAll('#lanes .cards')].every(
            c => c.scrollHeight <= c.clientHeight + 1)""")
        screenshot(page, "board-tv-busy-en")
