"""The lobby kiosk in real Chromium at 1080×1920, used as a customer does: tapping the on-screen
keys (province first, then letters and digits; the number keypad), the reason tiles and the
notice and its button; then reading the ticket's QR code back with OpenCV."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.helpers import screenshot, set_lang
from tests.factories import Factory
from tests.support import decode_qr_png
from webapp.extensions import db
from webapp.models import Ticket, Visit
from webapp.timeutil import utcnow

# Bookings "in 15 minutes": the shop's clock reads 10:00 whatever hour the suite runs at.
pytestmark = [pytest.mark.browser, pytest.mark.shop(roles=()), pytest.mark.usefixtures("shop_hours")]

LANGS = [("zh_CN", "zh-CN"), ("en", "en")]
# Count print() calls instead of opening the print pipeline (CSP does not apply to this injection).
COUNT_PRINTS = "window.__prints = 0; window.print = function () { window.__prints += 1; };"


@pytest.fixture
def shop(live_shop):
    """The shared shop (no staff: the kiosk serves customers): its code and id."""
    return {"site": live_shop.site.code, "id": live_shop.site.id}


def open_kiosk(new_page, base, lang="zh_CN"):
    page = new_page("kiosk", lang="en" if lang == "en" else None)
    page.add_init_script(COUNT_PRINTS)
    set_lang(page, base, lang, then="/kiosk")
    expect(page.locator("#kiosk")).to_have_attribute("data-kiosk-screen", "start")
    return page


def tap(page, keyboard, keys):
    """Press on-screen keys one by one, like a finger."""
    for key in keys:
        page.locator(f'{keyboard} [data-key="{key}"]').click()


def real_errors(page):
    # A 422 answer is logged by Chromium as a failed resource; it is the expected "fix this" reply.
    return [e for e in page.console_errors if "status of 422" not in e]


def tickets(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Ticket.id)))


@pytest.mark.parametrize("lang, tag", LANGS)
def test_walkin_with_the_on_screen_keyboards(live_server, live_app, shop, new_page, lang, tag):
    base = live_server.url
    page = open_kiosk(new_page, base, lang)
    expect(page.locator("html")).to_have_attribute("lang", tag)
    screenshot(page, f"kiosk-start-{tag}")

    page.click("#choose-walkin")
    expect(page.locator("#walkin-form")).to_be_visible()
    # The plate keyboard is up, on the province panel.
    plate_kb = page.locator('.osk-plate[data-osk-target="plate"]')
    expect(plate_kb).to_be_visible()
    expect(plate_kb.locator('[data-osk-panel="province"]')).to_be_visible()
    expect(plate_kb.locator('[data-osk-panel="alnum"]')).to_be_hidden()
    box = plate_kb.locator('[data-key="京"]').bounding_box()
    assert box["width"] >= 64 and box["height"] >= 64

    tap(page, ".osk-plate", ["京"])
    expect(plate_kb.locator('[data-osk-panel="alnum"]')).to_be_visible()  # then letters and digits
    expect(plate_kb.locator('[data-key="I"]')).to_have_count(0)
    expect(plate_kb.locator('[data-key="O"]')).to_have_count(0)
    tap(page, ".osk-plate", "A12346")
    plate_kb.locator('[data-osk-action="backspace"]').click()
    tap(page, ".osk-plate", "5")
    expect(page.locator("#plate")).to_have_value("京A12345")

    plate_kb.locator('[data-osk-action="next"]').click()
    keypad = page.locator('.osk-mobile[data-osk-target="mobile"]')
    expect(keypad).to_be_visible()
    expect(plate_kb).to_be_hidden()
    tap(page, ".osk-mobile", "1380013800")  # one digit short
    expect(page.locator("#mobile")).to_have_value("1380013800")
    keypad.locator('[data-osk-action="next"]').click()
    expect(keypad).to_be_hidden()

    # Forgot the digit and the reason: told next to each field, nothing lost.
    page.click("#walkin-submit")
    expect(page.locator("#mobile-error")).to_be_visible()
    expect(page.locator("#field-mobile #mobile-error")).to_have_count(1)
    expect(page.locator("#field-reason #reason-error")).to_be_visible()
    expect(page.locator("#field-plate .k-error")).to_have_count(0)
    expect(page.locator("#plate")).to_have_value("京A12345")
    expect(page.locator("#mobile")).to_have_value("1380013800")
    expect(page.locator("#mobile")).to_have_attribute("aria-invalid", "true")
    screenshot(page, f"kiosk-walkin-error-{tag}")
    assert tickets(live_app) == 0

    page.click("#mobile")
    tap(page, ".osk-mobile", "0")
    expect(page.locator("#mobile")).to_have_value("13800138000")
    page.click("label[for=reason-repair]")
    expect(page.locator("#reason-repair")).to_be_checked()
    page.locator("[data-chip]").first.click()
    expect(page.locator("[data-chip]").first).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#description")).not_to_have_value("")
    page.click("#walkin-submit")

    expect(page.locator("#ticket-number")).to_have_text("W001")
    expect(page.locator("#ticket-pin")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    expect(page.locator(".ticket-kind")).to_contain_text("京A·***45")
    page.wait_for_function("() => window.__prints === 1")  # printed by itself, once
    screenshot(page, f"kiosk-ticket-{tag}")

    # The QR code, as a phone would read it: the absolute address of the status page.
    with live_app.app_context():
        ticket = db.session.scalar(select(Ticket))
        visit = db.session.get(Visit, ticket.visit_id)
        assert (visit.plate, visit.mobile, visit.reason) == ("京A12345", "13800138000", "repair")
    decoded = decode_qr_png(page.locator("#ticket-qr svg").screenshot())
    # In English, the link carries the language: the phone page opens in English too.
    suffix = "?lang=en" if lang == "en" else ""
    assert re.fullmatch(re.escape(base) + r"/t/[A-Za-z0-9_-]{32}" + re.escape(suffix), decoded)
    assert decoded == f"{base}/t/{ticket.token}{suffix}"

    # Printed: the ticket alone, 80 mm wide.
    page.emulate_media(media="print")
    expect(page.locator(".k-header")).to_be_hidden()
    expect(page.locator(".ticket-actions")).to_be_hidden()
    expect(page.locator("#ticket-number")).to_be_visible()
    width = page.locator("#ticket").bounding_box()["width"]
    assert abs(width - 80 / 25.4 * 96) < 2
    screenshot(page, f"kiosk-ticket-print-{tag}")
    page.emulate_media(media="screen")
    assert real_errors(page) == []


def test_the_printed_page_is_as_long_as_the_ticket(live_server, shop, new_page):
    page = open_kiosk(new_page, live_server.url, "en")
    page.evaluate("document.body.dataset.kioskAutoprint = '0'")
    page.click("#choose-walkin")
    page.fill("#plate", "京A12345")
    page.fill("#mobile", "13800138000")
    page.click("label[for=reason-maintenance]")
    page.click("#walkin-submit")
    expect(page.locator("#ticket-number")).to_have_text("W001")
    assert page.evaluate("window.__prints") == 0  # data-kiosk-autoprint="0" skips printing
    pdf = page.pdf(prefer_css_page_size=True)
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert len(boxes) == 1  # one page
    width_mm, height_mm = (float(v) / 72 * 25.4 for v in boxes[0])
    assert abs(width_mm - 80) < 1 and 80 < height_mm < 200


@pytest.mark.parametrize("lang, tag, by", [("zh_CN", "zh-CN", "plate"), ("en", "en", "mobile")])
def test_appointment_check_in(live_server, live_app, shop, new_page, lang, tag, by):
    with live_app.app_context():
        f = Factory(db)
        from webapp.models import Site
        site = db.session.get(Site, shop["id"])
        customer, car = f.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三")
        f.appointment(site, customer, car, scheduled_at=utcnow() + timedelta(minutes=15), reason="maintenance")
    page = open_kiosk(new_page, live_server.url, lang)
    page.click("#choose-appointment")
    page.click("#search-instead")          # today's list first (test_kiosk_taps_browser.py); the search too
    expect(page.locator("#search-form")).to_be_visible()
    expect(page.locator("#q-plate")).to_be_visible()
    screenshot(page, f"kiosk-appointment-{tag}")

    if by == "plate":
        expect(page.locator("#q-plate")).to_have_value("京A")    # learned from the stored car
        tap(page, ".k-by-plate", "12345")
        expect(page.locator("#q-plate")).to_have_value("京A12345")
    else:
        page.click("label[for=by-mobile]")
        expect(page.locator("#q-mobile")).to_be_visible()
        expect(page.locator("#q-plate")).to_be_hidden()
        tap(page, ".k-by-mobile", "13800138000")
        expect(page.locator("#q-mobile")).to_have_value("13800138000")
    page.click("#search-submit")

    match = page.locator(".appt")
    expect(match).to_have_count(1)
    expect(match.locator(".appt-plate")).to_have_text("京A·***45")
    content = page.content()
    assert "张三" not in content
    screenshot(page, f"kiosk-appointment-found-{tag}")
    match.locator(".appt-confirm").click()
    expect(page.locator("#ticket-number")).to_have_text("A001")
    assert tickets(live_app) == 1
    assert real_errors(page) == []


def test_not_found_continues_as_walkin_with_the_plate(live_server, shop, new_page):
    page = open_kiosk(new_page, live_server.url, "en")
    page.click("#choose-appointment")
    tap(page, ".k-by-plate", ["粤", "B", "D", "1", "2", "3", "4", "5"])
    page.click("#search-submit")
    expect(page.locator("#continue-walkin")).to_be_visible()
    expect(page.locator(".k-query")).to_have_text("粤BD12345")
    screenshot(page, "kiosk-appointment-notfound-en")
    page.click("#continue-walkin")
    expect(page.locator("#walkin-form")).to_be_visible()
    expect(page.locator("#plate")).to_have_value("粤BD12345")
    expect(page.locator("#field-plate .k-error")).to_have_count(0)
    # The plate is there, so the keypad for the mobile number is the one that is up.
    expect(page.locator('.osk-mobile[data-osk-target="mobile"]')).to_be_visible()
    assert real_errors(page) == []


def test_double_tap_and_retry_make_one_ticket(live_server, live_app, shop, new_page):
    page = open_kiosk(new_page, live_server.url, "zh_CN")
    page.click("#choose-walkin")
    # A real keyboard works too (an attendant with a USB keyboard, or a test).
    page.click("#plate")
    page.keyboard.type("京a12345")
    page.click("#mobile")
    page.keyboard.type("13800138000")
    page.click("label[for=reason-maintenance]")
    page.evaluate("window.__form = new FormData(document.getElementById('walkin-form'))")
    posts = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/kiosk/walkin") and posts.append(r))
    page.dblclick("#walkin-submit")
    expect(page.locator("#ticket-number")).to_have_text("W001")
    # The same form sent again (a retry after a timeout, a reload): the same ticket.
    replay = page.evaluate("""async () => {
        const r = await fetch('/kiosk/walkin', {method: 'POST', body: window.__form});
        return [r.status, await r.text()];
    }""")
    assert replay[0] == 200 and 'id="ticket-number">W001<' in replay[1]
    # Every walk-in post the page sent (the double tap's, the replay) has been answered: none is still
    # on its way to the database when the tickets are counted.
    for request in posts:
        request.response()
    assert posts and tickets(live_app) == 1
    with live_app.app_context():
        assert db.session.scalar(select(Visit.plate)) == "京A12345"
    assert real_errors(page) == []


def test_foreign_plate_is_accepted_after_confirmation(live_server, live_app, shop, new_page):
    page = open_kiosk(new_page, live_server.url, "en")
    page.click("#choose-walkin")
    page.fill("#plate", "AB1234")
    page.fill("#mobile", "13800138000")
    page.click("label[for=reason-other]")
    page.click("#walkin-submit")
    expect(page.locator("#field-plate .k-warn")).to_be_visible()
    expect(page.locator("#plate")).to_have_value("AB1234")
    assert tickets(live_app) == 0
    page.click("#confirm-plate")
    expect(page.locator("#ticket-number")).to_have_text("W001")
    with live_app.app_context():
        assert db.session.scalar(select(Visit.plate)) == "AB1234"


def test_language_switch_keeps_what_was_typed(live_server, shop, new_page):
    page = open_kiosk(new_page, live_server.url, "zh_CN")
    page.click("#choose-walkin")
    tap(page, ".osk-plate", ["沪", "C", "8", "8", "8", "8", "8"])
    page.click('.k-lang [data-lang-switch="en"]')
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator('.k-lang [data-lang-switch="en"]')).to_have_attribute("aria-current", "true")
    expect(page.locator("#plate")).to_have_value("沪C88888")
    expect(page.locator(".k-error")).to_have_count(0)


def test_idle_screen_asks_still_there_before_it_clears(live_server, live_app, shop, new_page):
    live_app.config.update(KIOSK_IDLE_SECONDS=2, KIOSK_ASK_SECONDS=3)
    page = open_kiosk(new_page, live_server.url, "en")
    page.click("#choose-walkin")
    page.fill("#plate", "京A12345")
    # Idle: the kiosk asks first, with a countdown, and nothing typed is gone.
    dialog = page.get_by_role("alertdialog", name="Still there?")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-kiosk-ask-countdown]")).to_have_text(re.compile(r"^[123]$"))
    screenshot(page, "kiosk-still-there-en")
    dialog.get_by_role("button", name="Yes, I'm still here").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#plate")).to_have_value("京A12345")
    # Asked again and not answered: back to the start, in the default language, for the next customer.
    expect(dialog).to_be_visible()
    expect(page.locator("#kiosk")).to_have_attribute("data-kiosk-screen", "start", timeout=8000)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_ticket_screen_returns_to_start(live_server, live_app, shop, new_page):
    live_app.config["KIOSK_TICKET_SECONDS"] = 2
    page = open_kiosk(new_page, live_server.url, "en")
    page.click("#choose-walkin")
    page.fill("#plate", "京A12345")
    page.fill("#mobile", "13800138000")
    page.click("label[for=reason-repair]")
    page.click("#walkin-submit")
    expect(page.locator("#ticket-number")).to_have_text("W001")
    expect(page.locator("[data-kiosk-countdown]")).to_have_text(re.compile(r"^[12]$"))
    expect(page.locator("#kiosk")).to_have_attribute("data-kiosk-screen", "start", timeout=6000)
    assert "W001" not in page.content()


# ---------------------------------------------------------------- already in the queue (issue 10, defect 4)


def seed_walkin(live_app, shop, plate="京A12345", mobile="13800138000"):
    from webapp.models import Site
    with live_app.app_context():
        number = Factory(db).walkin(db.session.get(Site, shop["id"]), plate=plate, mobile=mobile).number
        db.session.remove()
    return number


def refusals_only(page):
    # 409 is the kiosk's "already in the queue" answer, shown as a screen.
    return [e for e in real_errors(page) if "status of 409" not in e]


@pytest.mark.parametrize("lang, tag", LANGS)
def test_already_in_the_queue_is_told_not_given_a_second_number(live_server, live_app, shop, new_page, lang, tag):
    seed_walkin(live_app, shop)
    page = open_kiosk(new_page, live_server.url, lang)
    page.click("#choose-walkin")
    expect(page.locator("#plate")).to_have_value("京A")   # learned from the site's walk-in today
    tap(page, ".osk-plate", "12345")
    page.locator('.osk-plate[data-osk-target="plate"] [data-osk-action="next"]').click()
    tap(page, ".osk-mobile", "13911112222")       # the same car, another phone
    page.click("label[for=reason-repair]")
    page.click("#walkin-submit")

    expect(page.locator("#kiosk")).to_have_attribute("data-kiosk-screen", "message")
    with live_app.test_request_context(f"/?lang={lang}"):
        from flask_babel import gettext
        title = gettext("You are already in the queue")   # as the catalogue has it (merged or not)
    expect(page.locator(".k-message .k-title")).to_have_text(title)
    expect(page.locator(".k-message .k-lead")).to_contain_text("W001")
    # No ticket: no number screen, no PIN, no QR code, nothing printed.
    expect(page.locator("#ticket-number")).to_have_count(0)
    expect(page.locator("#ticket-pin")).to_have_count(0)
    expect(page.locator("#ticket-qr")).to_have_count(0)
    screenshot(page, f"kiosk-already-queued-{tag}")
    assert page.evaluate("window.__prints") == 0
    assert tickets(live_app) == 1
    assert refusals_only(page) == []


def test_checked_in_appointment_searched_again_says_so(live_server, live_app, shop, new_page):
    import uuid

    from webapp.models import Site
    from webapp.services.checkin import check_in_appointment
    with live_app.app_context():
        f = Factory(db)
        site = db.session.get(Site, shop["id"])
        customer, car = f.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三")
        appointment = f.appointment(site, customer, car, scheduled_at=utcnow() + timedelta(minutes=10))
        check_in_appointment(site, appointment.id, str(uuid.uuid4()))
        db.session.remove()
    page = open_kiosk(new_page, live_server.url, "en")
    page.click("#choose-appointment")
    expect(page.locator("#q-plate")).to_have_value("京A")   # the site's usual start, learned
    tap(page, ".k-by-plate", "12345")
    page.click("#search-submit")
    expect(page.locator("#kiosk")).to_have_attribute("data-kiosk-screen", "message")
    expect(page.locator(".k-message .k-lead")).to_have_text(
        "Already checked in as A001 — please ask at the service desk.")
    expect(page.locator("#continue-walkin")).to_have_count(0)
    expect(page.locator("#ticket-pin")).to_have_count(0)
    assert "张三" not in page.content()
    screenshot(page, "kiosk-already-checked-in-en")
    assert tickets(live_app) == 1
    assert refusals_only(page) == []
