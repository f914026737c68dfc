"""The customer's status page in real Chromium on a phone (390×844): live updates without a
reload when the advisor calls and serves, PIN unlock by tapping, catching up after going
offline, and screenshots of each state in both languages."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, set_lang
from tests.factories import confirm_suggestion
from webapp.extensions import db
from webapp.models import Site
from webapp.services import calling
from webapp.services.checkin import ticket_pin
from webapp.services.visits import advance

pytestmark = [pytest.mark.browser,
              pytest.mark.shop(roles=("advisor",), staff={"advisor": {"display_name": "李娜"}})]

PLATE = "京A12345"


@pytest.fixture
def shop(live_shop, live_app):
    """The shared shop's advisor (李娜, desk 1) and ours (王晓明, desk 3), and two walk-ins: someone ahead
    of us, and us (张三's car, on file)."""
    with live_app.app_context():
        f, site = live_shop.factory, db.session.get(Site, live_shop.site.id)
        our_desk = f.user(site, "advisor", desk="3", display_name="王晓明")
        f.customer_vehicle(site, plate=PLATE, mobile="13800138000", name="张三", make="大众", model="帕萨特")
        f.walkin(site, plate="京B67890", mobile="13900139000")          # one person ahead of us
        ours = f.walkin(site, plate=PLATE, mobile="13800138000")
        return {"token": ours.token, "id": ours.id, "number": ours.number, "pin": ticket_pin(ours.token),
                "first": live_shop.advisor.id, "ours": our_desk.id}


def serve(live_app, fn):
    """Run ``fn`` server side, in the live app, as a service call would from another screen."""
    from webapp.models import Ticket, User
    with live_app.app_context():
        result = fn(db, Ticket, User)
        db.session.remove()
        return result


def open_page(new_page, live_server, token, lang):
    page = new_page("phone", lang="en" if lang == "en" else None)
    if lang == "en":
        set_lang(page, live_server.url, "en")
    page.goto(f"{live_server.url}/t/{token}")
    # live.js marks the body once the socket joined the ticket's room.
    expect(page.locator("body")).to_have_attribute("data-live-state", "online")
    return page


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_live_status_on_a_phone(live_app, live_server, new_page, lang, shop):
    page = open_page(new_page, live_server, shop["token"], lang)
    live = page.locator("#status-live")

    expect(page.locator("[data-number]")).to_have_text(shop["number"])
    expect(page.locator("[data-ahead]")).to_have_text("1")
    expect(page.locator("[data-plate]")).to_have_text("京A·***45")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390      # nothing overflows
    screenshot(page, f"status-waiting-{lang}")
    page.evaluate("window.__noReload = 'still here'")

    # Desk 1 calls the customer ahead of us: the queue message names that number, which this page
    # holds as ahead of it, so it refetches its place. Then desk 3 calls us: no reload on the phone.
    serve(live_app, lambda db, T, U: calling.call_next(db.session.get(U, shop["first"])))
    expect(page.locator("[data-ahead]")).to_have_text("0")
    expect(live).to_have_attribute("data-ahead-numbers", "")
    serve(live_app, lambda db, T, U: calling.call_next(db.session.get(U, shop["ours"])))
    expect(live).to_have_attribute("data-phase", "called")
    expect(page.locator("[data-desk]")).to_contain_text("3")
    if lang == "en":
        expect(page.locator(".st-ticket__headline")).to_have_text("Your number is being called")
        expect(page.locator("[data-desk]")).to_have_text("Please go to Desk 3")
    expect(page).to_have_title(re.compile("^▶ " + shop["number"]))     # status.js: the tab says it too
    assert page.evaluate("window.__noReload") == "still here"
    screenshot(page, f"status-called-{lang}")

    # The advisor starts the reception: the timeline moves on, still without a reload.
    def receive(db, T, U):
        advisor = db.session.get(U, shop["ours"])
        calling.start_reception(advisor, shop["id"])
        confirm_suggestion(db.session.get(T, shop["id"]).visit, advisor)   # the stored customer, checked at the desk
    serve(live_app, receive)
    expect(live).to_have_attribute("data-phase", "with_advisor")
    expect(page.locator('[data-stage="checked_in"]')).to_have_attribute("data-step", "done")
    expect(page.locator('[data-stage="with_advisor"]')).to_have_attribute("data-step", "current")
    expect(page.locator('[data-stage="inspection"]')).to_have_attribute("data-step", "pending")
    assert page.evaluate("window.__noReload") == "still here"

    # PIN unlock: type the digits from the ticket, tap the button.
    pin = page.locator("#pin")
    pin.tap()
    pin.press_sequentially(shop["pin"])
    page.locator(".st-pin button[type=submit]").tap()
    expect(page.locator("[data-plate]")).to_have_text(PLATE)
    expect(page.locator("[data-customer]")).to_have_text("张三")
    expect(page.locator("body")).to_have_attribute("data-live-state", "online")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"status-unlocked-{lang}")
    page.locator("#unlock").scroll_into_view_if_needed()
    screenshot(page, f"status-unlocked-bottom-{lang}")
    assert page.console_errors == []


def test_wrong_pin_then_locked(live_app, live_server, new_page, shop):
    page = open_page(new_page, live_server, shop["token"], "en")
    wrong = f"{(int(shop['pin']) + 1) % 1_000_000:06d}"
    page.locator("#pin").fill(wrong)
    page.locator(".st-pin button[type=submit]").tap()
    expect(page.locator("#pin-error")).to_contain_text("That PIN is not right")
    expect(page.locator("#pin")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-number]")).to_have_text(shop["number"])     # still the page, still live
    expect(page.locator("body")).to_have_attribute("data-live-state", "online")
    page.locator("#unlock").scroll_into_view_if_needed()
    screenshot(page, "status-wrong-pin-en")
    for _ in range(4):
        page.locator("#pin").fill(wrong)
        page.locator(".st-pin button[type=submit]").tap()
        page.wait_for_load_state()
    expect(page.locator("[data-pin-locked]")).to_contain_text("try again after")
    expect(page.locator("#pin")).to_have_count(0)
    page.locator("#unlock").scroll_into_view_if_needed()
    screenshot(page, "status-locked-en")


def test_catches_up_after_going_offline(live_app, live_server, new_page, shop):
    serve(live_app, lambda db, T, U: calling.call_next(db.session.get(U, shop["first"])))
    serve(live_app, lambda db, T, U: calling.call_next(db.session.get(U, shop["ours"])))
    page = open_page(new_page, live_server, shop["token"], "en")
    live = page.locator("#status-live")
    expect(live).to_have_attribute("data-phase", "called")
    page.evaluate("window.__noReload = 'still here'")

    page.context.set_offline(True)
    serve(live_app, lambda db, T, U: calling.start_reception(db.session.get(U, shop["ours"]), shop["id"]))
    serve(live_app, lambda db, T, U: advance(db.session.get(T, shop["id"]).visit, "inspection",
                                             db.session.get(U, shop["ours"])))
    # Offline: the page says so (the socket dropped, the banner shows), the hint was lost and the
    # page still shows the old state.
    expect(page.locator("#live-banner")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-live-state", "offline")
    assert live.get_attribute("data-phase") == "called"
    page.context.set_offline(False)
    # The socket reconnects and live.js refetches; htmx polling (30 s) would be the fallback.
    expect(live).to_have_attribute("data-phase", "inspection", timeout=40_000)
    expect(page.locator('[data-stage="with_advisor"]')).to_have_attribute("data-step", "done")
    expect(page.locator('[data-stage="inspection"]')).to_have_attribute("data-step", "current")
    expect(page.locator("#live-banner")).to_be_hidden()
    assert page.evaluate("window.__noReload") == "still here"
    screenshot(page, "status-inspection-en")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_unknown_link_is_friendly(live_app, live_server, new_page, lang):
    page = new_page("phone", lang="en" if lang == "en" else None)
    if lang == "en":
        set_lang(page, live_server.url, "en")
    resp = page.goto(f"{live_server.url}/t/not-a-real-token")
    assert resp.status == 404
    expect(page.locator(".st-unavailable h1")).to_be_visible()
    if lang == "en":
        expect(page.locator(".st-unavailable h1")).to_have_text("We can't find this ticket")
    expect(page.locator(".lang-switch")).to_be_visible()
    screenshot(page, f"status-404-{lang}")
    # The only console line is Chromium reporting the 404 document itself (no CSP violation).
    assert [e for e in page.console_errors if "status of 404" not in e] == []
