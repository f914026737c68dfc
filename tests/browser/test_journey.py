"""The lobby journey end to end, as people live it, in four browser contexts at their real sizes:
a customer takes a ticket at the kiosk, scans its QR code with the phone, an advisor calls the
number, and the lobby TV and the phone change without a reload."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, set_lang
from tests.factories import PASSWORD
from tests.support import decode_qr_png
from webapp.extensions import db
from webapp.models import Site

pytestmark = [pytest.mark.browser,
              pytest.mark.shop(roles=("advisor",), staff={"advisor": {"desk": "3", "display_name": "王晓明"}})]


@pytest.fixture
def shop(live_shop, live_app):
    """The shared shop's advisor1 (王晓明, desk 3), with someone already waiting (沪C33333)."""
    with live_app.app_context():
        live_shop.factory.walkin(db.session.get(Site, live_shop.site.id), plate="沪C33333")
    return live_shop.advisor.username


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_kiosk_to_phone_to_call(live_server, shop, new_page, lang):
    base = live_server.url
    en = lang == "en"

    # The lobby TV is on, and live.
    tv = new_page("tv")
    set_lang(tv, base, lang, then="/lobby")
    expect(tv.locator("body")).to_have_attribute("data-live-state", "online")
    expect(tv.locator("#waiting-count")).to_have_text("1")

    # The customer takes a walk-in ticket with the on-screen keyboards.
    kiosk = new_page("kiosk")
    kiosk.add_init_script("window.print = function () {};")
    set_lang(kiosk, base, lang, then="/kiosk")
    kiosk.click("#choose-walkin")
    # The site's usual start (沪C, learned from the walk-in already waiting) is filled in: another
    # province is on the first panel.
    kiosk.locator('.osk-plate [data-osk-action="province"]').click()
    for key in ["粤", "B", "D", "1", "2", "3", "4", "5"]:
        kiosk.locator(f'.osk-plate [data-key="{key}"]').click()
    kiosk.locator('.osk-plate [data-osk-action="next"]').click()
    for key in "13900139000":
        kiosk.locator(f'.osk-mobile [data-key="{key}"]').click()
    # The 11th digit moves on by itself; the submit button under the notice agrees to it.
    kiosk.click("label[for=reason-maintenance]")
    kiosk.click("#walkin-submit")
    expect(kiosk.locator("#ticket-number")).to_have_text("W002")
    pin = kiosk.locator("#ticket-pin").inner_text().replace(" ", "")
    url = decode_qr_png(kiosk.locator("#ticket-qr svg").screenshot())
    # An English kiosk's link carries the customer's language to the phone.
    assert re.fullmatch(re.escape(base) + r"/t/[A-Za-z0-9_-]{32}" + (r"\?lang=en" if lang == "en" else ""), url)
    expect(tv.locator("#waiting-count")).to_have_text("2")          # the TV counted them in

    # The phone opens what the QR code says: the number, one person ahead, nothing personal.
    phone = new_page("phone", lang="en" if en else None)
    set_lang(phone, base, lang)
    phone.goto(url)
    expect(phone.locator("body")).to_have_attribute("data-live-state", "online")
    expect(phone.get_by_text("W002").first).to_be_visible()
    assert "粤BD12345" not in phone.content() and "13900139000" not in phone.content()
    phone.evaluate("window.__noReload = true")
    screenshot(phone, f"journey-phone-waiting-{lang}")

    # The advisor calls twice: first the earlier customer, then ours.
    desk = new_page("console")
    set_lang(desk, base, lang, then="/login")
    desk.fill("#username", shop)
    desk.fill("#password", PASSWORD)
    desk.click("button[type=submit]")
    desk.wait_for_url(re.compile(r".*/advisor$"))
    desk.click("button.call-next")
    expect(tv.locator(".call.latest .number")).to_have_text("W001")
    desk.get_by_role("button", name=re.compile("start reception|开始接待")).click()
    desk.click("button.call-next")
    expect(desk.locator(".current-ticket .number")).to_have_text("W002")

    # Both the TV and the phone change without a reload.
    expect(tv.locator(".call.latest .number")).to_have_text("W002")
    expect(tv.locator(".call.latest .desk")).to_have_text("Desk 3" if en else "3号服务台")
    expect(phone.locator("body")).to_contain_text("Desk 3" if en else "3号服务台")
    assert phone.evaluate("window.__noReload") is True
    screenshot(phone, f"journey-phone-called-{lang}")
    screenshot(tv, f"journey-tv-called-{lang}")

    # The PIN from the ticket unlocks the customer's own details on the phone.
    phone.locator("input[name=pin]").fill(pin)
    phone.locator("input[name=pin]").press("Enter")
    expect(phone.locator("body")).to_contain_text("粤BD12345")
