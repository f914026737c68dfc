"""What one phone approval costs the other screens of the shop, counted in real Chromium.

Seven screens are open as they are in a dealership: the advisor's visit page and console, the
cashier, the dispatcher's workshop panel, the wall board, the lobby TV and the customer's phone.
The customer approves the estimate on the phone; every GET each screen sends afterwards (static
files and the socket's own traffic left out) is recorded until the network has been quiet for a
while. Live hints go by concern: only the screens that show something the approval changed
refetch, once each, and the phone, which got its answer from its own request, gets no hint.
The counts are written to /tmp/shots-live/fanout-counts.json for the record."""
import json
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import Factory, presented_estimate
from webapp.extensions import db

pytestmark = pytest.mark.browser

BOARD_TOKEN = "fanout-board-token-0123456789abcdef"
QUIET_S = 1.5          # "nothing more comes" needs a quiet spell: the count is what arrives before it
MAX_WAIT_S = 20


def shop_with_screens(live_app):
    shop = presented_estimate(live_app)
    with live_app.app_context():
        from webapp.models import Site, Visit
        visit = db.session.get(Visit, shop["visit"])
        site = db.session.get(Site, visit.site_id)
        site.board_token = BOARD_TOKEN
        db.session.commit()
        f = Factory(db)
        shop["cashier"] = f.user(site, "cashier", username="fanout-cashier").username
        shop["dispatcher"] = f.user(site, "dispatcher", username="fanout-dispatcher").username
        shop["site_code"] = site.code
        db.session.remove()
    return shop


def record_gets(page, log):
    def on_request(request):
        path = urlparse(request.url).path
        if request.method == "GET" and not path.startswith(("/static/", "/socket.io/")) and path != "/favicon.ico":
            log.append((time.monotonic(), path))
    page.on("request", on_request)


def pump(page):
    # Not a wait for a screen state: this test measures the absence of requests (QUIET_S with none,
    # on seven pages in seven contexts), which only a span of time can show. Playwright's sync API
    # delivers request events only while it is called, and it has no wait that ends on "no request
    # for N s" across contexts: poll through it in 100 ms steps.
    page.wait_for_timeout(100)


def wait_until_quiet(page, logs):
    """Return once no screen has sent a request for QUIET_S (at most MAX_WAIT_S)."""
    start = time.monotonic()
    while time.monotonic() - start < MAX_WAIT_S:
        last = max([start] + [t for log in logs.values() for t, _ in log])
        if time.monotonic() - last >= QUIET_S:
            return
        pump(page)


def wait_for(page, condition, timeout=MAX_WAIT_S):
    """Poll ``condition`` (the phone's new page connects its socket on its own time)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        pump(page)


def open_screens(new_page, base, shop):
    screens = {}
    visit = screens["visit"] = new_page("console")
    sign_in(visit, base, shop["advisor"], path=f"/advisor/visits/{shop['visit']}", live=True)
    console = screens["console"] = new_page("console")
    sign_in(console, base, shop["advisor"], live=True)
    cashier = screens["cashier"] = new_page("console")
    sign_in(cashier, base, shop["cashier"], path="/cashier/", live=True)
    workshop = screens["workshop"] = new_page("console")
    sign_in(workshop, base, shop["dispatcher"], path="/workshop", live=True)
    board = screens["board"] = new_page("tv")
    board.goto(f"{base}/board?token={BOARD_TOKEN}")
    lobby = screens["lobby"] = new_page("tv")
    lobby.goto(f"{base}/lobby?site={shop['site_code']}")
    phone = screens["phone"] = new_page("phone")
    phone.goto(f"{base}/t/{shop['token']}")
    for page in screens.values():
        expect(page.locator("body")).to_have_attribute("data-live-state", "online")
    return screens


def unlock_and_choose(phone, pin):
    phone.locator("[data-approval-pin]").tap()
    phone.locator("#pin").press_sequentially(pin)
    phone.locator(".st-pin button[type=submit]").tap()
    expect(phone.locator("#approval")).to_have_attribute("data-approval", "presented")
    expect(phone.locator("body")).to_have_attribute("data-live-state", "online")
    phone.locator("[data-approve-all]").tap()
    expect(phone.locator("[data-approve-count]")).to_have_text("4")


def count_after_approval(live_server, new_page, shop):
    screens = open_screens(new_page, live_server.url, shop)
    unlock_and_choose(screens["phone"], shop["pin"])
    logs = {name: [] for name in screens}
    for name, page in screens.items():
        record_gets(page, logs[name])
    wait_until_quiet(screens["visit"], logs)
    for log in logs.values():
        log.clear()

    screens["phone"].locator("[data-approve-confirm]").tap()
    expect(screens["phone"].locator("#approval")).to_have_attribute("data-approval", "decided")
    expect(screens["visit"].locator("#visit-state")).to_have_attribute("data-state", "dispatch")
    wait_for(screens["visit"], lambda: any(path.endswith("/fragment") for _, path in logs["phone"]))   # its new page's resync
    wait_until_quiet(screens["visit"], logs)
    paths = {name: sorted(path for _, path in log) for name, log in logs.items()}
    out = Path("/tmp/shots-live")
    out.mkdir(exist_ok=True)
    (out / "fanout-counts.json").write_text(json.dumps(paths, ensure_ascii=False, indent=1))
    return screens, paths


def test_one_phone_approval_refetches_only_on_the_screens_concerned_once_each(live_app, live_server, new_page):
    shop = shop_with_screens(live_app)
    screens, paths = count_after_approval(live_server, new_page, shop)
    print("GETs after one phone approval:", json.dumps(paths, ensure_ascii=False))
    # Before (main at e7a5b48, measured by this test): 12 GETs — the visit page refetched 4 sections
    # (delivery, estimate, progress, bill), console, cashier, workshop, board and lobby 1 each, the
    # phone its reload, 1 refetch on its old page's hint and 1 resync. Now 7: only the concerned
    # screens, once each:
    visit = shop["visit"]
    assert paths["visit"] == [f"/advisor/visits/{visit}/estimate", f"/advisor/visits/{visit}/section/progress"]
    assert paths["console"] == ["/advisor/panel"]          # the visit's state in "my visits"
    assert paths["workshop"] == ["/workshop/panel"]        # a car waiting for a technician
    assert paths["board"] == ["/board/state"]              # the car moves lane
    assert paths["cashier"] == [] and paths["lobby"] == []  # nothing they show changed
    # The phone has its answer (the page after its own POST) and resyncs once as its new page's
    # socket connects; no hint makes it fetch again.
    assert paths["phone"] == [f"/t/{shop['token']}", f"/t/{shop['token']}/fragment"]
    for page in screens.values():
        assert page.console_errors == []
