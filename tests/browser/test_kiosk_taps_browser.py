"""Issue 12, kiosk: the common case is short. Real Chromium at 1080×1920 counts every tap a
customer makes (pointer presses the page itself sees), apart from the plate's characters and the
mobile's digits, and checks the goals: a walk-in in at most 4 taps plus the plate and mobile,
an appointment in at most 3 taps plus the plate, in Chinese and in English."""
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.test_accessibility import BLOCKING, axe_findings
from tests.browser.helpers import set_lang
from tests.factories import Factory
from webapp.extensions import db
from webapp.models import Site, Ticket, Visit
from webapp.timeutil import utcnow

# The bookings are "in 15 minutes": the shop's clock reads 10:00 whatever hour the suite runs at.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("shop_hours")]

LANGS = [("zh_CN", "zh-CN"), ("en", "en")]
SHOTS = Path("/tmp/shots-kiosk")   # for people to look at; never in the repository
# Count trusted pointer presses (a label's forwarded click is not one), split into keys of the
# on-screen keyboards (typing) and everything else (taps); kept across page loads of the tab.
COUNT_TAPS = """
window.print = function () {};
document.addEventListener("pointerdown", function (e) {
  if (!e.isTrusted) { return; }
  var typing = e.target.closest && e.target.closest(".osk [data-key]");
  var name = typing ? "typed" : "taps";
  sessionStorage.setItem(name, String(parseInt(sessionStorage.getItem(name) || "0", 10) + 1));
}, true);
"""


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def counts(page):
    return {name: int(page.evaluate(f"sessionStorage.getItem('{name}') || '0'")) for name in ("taps", "typed")}


def reset_counts(page):
    page.evaluate("sessionStorage.clear()")


def tap_keys(page, scope, keys):
    for key in keys:
        page.locator(f'{scope} [data-key="{key}"]').click()


def tickets(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Ticket.id)))


@pytest.fixture
def shop(live_app):
    """A Beijing shop whose cars mostly carry 京A plates (three earlier walk-ins)."""
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="bj01", name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        site_id = site.id   # a check-in commits like any other write: the site is expired after it
        for plate in ("京A11111", "京A22222", "京AD33333"):
            f.walkin(site, plate=plate)
        db.session.remove()
        return {"id": site_id}


def open_kiosk(new_page, base, lang):
    page = new_page("kiosk", lang="en" if lang == "en" else None)
    page.add_init_script(COUNT_TAPS)
    set_lang(page, base, lang, then="/kiosk")
    expect(page.locator("#kiosk")).to_have_attribute("data-kiosk-screen", "start")
    reset_counts(page)
    return page


def book(live_app, shop, plate, mobile, name, minutes):
    with live_app.app_context():
        f = Factory(db)
        site = db.session.get(Site, shop["id"])
        customer, car = f.customer_vehicle(site, plate=plate, mobile=mobile, name=name)
        f.appointment(site, customer, car, scheduled_at=utcnow() + timedelta(minutes=minutes))
        db.session.remove()


@pytest.mark.parametrize("lang, tag", LANGS)
def test_walkin_takes_four_taps_plus_plate_and_mobile(live_server, live_app, shop, new_page, lang, tag):
    page = open_kiosk(new_page, live_server.url, lang)
    shot(page, f"start-{tag}")
    page.click("#choose-walkin")                                        # tap 1
    expect(page.locator("#plate")).to_have_value("京A")                 # the site's usual start
    plate_kb = page.locator('.osk-plate[data-osk-target="plate"]')
    expect(plate_kb.locator('[data-osk-panel="alnum"]')).to_be_visible()
    shot(page, f"walkin-prefilled-{tag}")
    tap_keys(page, ".osk-plate", "12345")
    expect(page.locator("#plate")).to_have_value("京A12345")
    plate_kb.locator('[data-osk-action="next"]').click()                 # tap 2
    keypad = page.locator('.osk-mobile[data-osk-target="mobile"]')
    expect(keypad).to_be_visible()
    shot(page, f"walkin-mobile-{tag}")
    tap_keys(page, ".osk-mobile", "13800138000")
    expect(keypad).to_be_hidden()                                        # complete: moved on by itself
    page.click("label[for=reason-maintenance]")                          # tap 3
    shot(page, f"walkin-ready-{tag}")
    page.click("#walkin-submit")                                         # tap 4
    expect(page.locator("#ticket-number")).to_have_text("W004")
    shot(page, f"walkin-ticket-{tag}")
    assert counts(page) == {"taps": 4, "typed": 5 + 11}
    with live_app.app_context():
        visit = db.session.scalar(select(Visit).order_by(Visit.id.desc()))
        assert (visit.plate, visit.mobile, visit.reason) == ("京A12345", "13800138000", "maintenance")
        assert visit.consent_at is not None
    assert [e for e in page.console_errors] == []


def test_another_province_is_one_key_away(live_server, shop, new_page):
    page = open_kiosk(new_page, live_server.url, "en")
    page.click("#choose-walkin")
    plate_kb = page.locator('.osk-plate[data-osk-target="plate"]')
    plate_kb.locator('[data-osk-action="province"]').click()
    tap_keys(page, ".osk-plate", ["沪"])                                 # instead of the filled-in 京A
    expect(page.locator("#plate")).to_have_value("沪")
    tap_keys(page, ".osk-plate", "B6789")
    plate_kb.locator('[data-osk-action="province"]').click()
    tap_keys(page, ".osk-plate", ["沪"])                                 # typed so far: only the province swaps
    tap_keys(page, ".osk-plate", "0")
    expect(page.locator("#plate")).to_have_value("沪B67890")


def test_walkin_of_a_car_on_file_needs_no_mobile(live_server, live_app, shop, new_page):
    with live_app.app_context():
        Factory(db).customer_vehicle(db.session.get(Site, shop["id"]), plate="京A12345",
                                     mobile="13912345678", name="王女士")
        db.session.remove()
    page = open_kiosk(new_page, live_server.url, "zh_CN")
    page.click("#choose-walkin")
    tap_keys(page, ".osk-plate", "12345")
    page.locator('.osk-plate[data-osk-target="plate"] [data-osk-action="next"]').click()
    page.locator('.osk-mobile[data-osk-target="mobile"] [data-osk-action="next"]').click()   # skip it
    page.click("label[for=reason-repair]")
    page.click("#walkin-submit")
    expect(page.locator("#ticket-number")).to_have_text("W004")
    content = page.content()
    assert "13912345678" not in content and "王女士" not in content and "5678" not in content
    with live_app.app_context():
        visit = db.session.scalar(select(Visit).order_by(Visit.id.desc()))
        assert (visit.plate, visit.mobile) == ("京A12345", None)   # only what was typed


@pytest.mark.parametrize("lang, tag", LANGS)
def test_appointment_takes_three_taps_plus_the_plate(live_server, live_app, shop, new_page, lang, tag):
    book(live_app, shop, "京A12345", "13800138000", "张三", 15)
    book(live_app, shop, "沪B67890", "13911112222", "李四", 45)
    page = open_kiosk(new_page, live_server.url, lang)
    page.click("#choose-appointment")                                   # tap 1
    rows = page.locator(".today-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(".today-plate")).to_have_text("京A·***45")
    expect(rows.nth(1).locator(".today-plate")).to_have_text("沪B·***90")
    content = page.content()
    for secret in ("京A12345", "沪B67890", "13800138000", "13911112222", "张三", "李四", "0013", "1111"):
        assert secret not in content
    shot(page, f"appointment-list-{tag}")
    rows.nth(0).click()                                                  # tap 2
    expect(page.locator("#proof-plate")).to_have_value("京A")
    expect(page.locator("#proof-plate-masked")).to_have_text("京A·***45")
    shot(page, f"appointment-proof-{tag}")
    tap_keys(page, ".k-by-plate", "12345")
    page.click("#proof-submit")                                          # tap 3
    expect(page.locator("#ticket-number")).to_have_text("A001")
    shot(page, f"appointment-ticket-{tag}")
    assert counts(page) == {"taps": 3, "typed": 5}
    assert tickets(live_app) == 4
    assert page.console_errors == []


@pytest.mark.parametrize("lang, tag", LANGS)
def test_wrong_proof_says_only_that_it_does_not_match(live_server, live_app, shop, new_page, lang, tag):
    book(live_app, shop, "京A54321", "13800138000", "张三", 15)
    page = open_kiosk(new_page, live_server.url, lang)
    page.click("#choose-appointment")
    page.locator(".today-row").first.click()
    tap_keys(page, ".k-by-plate", "54311")
    page.click("#proof-submit")
    error = page.locator("#proof-error")
    expect(error).to_be_visible()
    expect(page.locator("#proof-plate")).to_have_value("京A54311")       # kept, to fix
    assert "54321" not in page.content() and "张三" not in page.content()
    shot(page, f"appointment-proof-wrong-{tag}")
    assert tickets(live_app) == 3
    # The mobile's last four digits do as well.
    page.click("label[for=by-mobile]")
    expect(page.locator("#proof-mobile")).to_be_visible()
    tap_keys(page, ".k-by-mobile", "8000")
    expect(page.locator("#proof-mobile")).to_have_value("8000")
    shot(page, f"appointment-proof-mobile-{tag}")
    page.click("#proof-submit")
    expect(page.locator("#ticket-number")).to_have_text("A001")
    assert tickets(live_app) == 4
    assert [e for e in page.console_errors if "status of 422" not in e] == []


def test_not_in_the_list_searches_as_before(live_server, live_app, shop, new_page):
    book(live_app, shop, "沪B67890", "13911112222", "李四", 45)
    page = open_kiosk(new_page, live_server.url, "en")
    page.click("#choose-appointment")
    page.click("#search-instead")
    expect(page.locator("#search-form")).to_be_visible()
    expect(page.locator("#q-plate")).to_have_value("京A")
    shot(page, "appointment-search-en")
    tap_keys(page, ".k-by-plate", "99999")
    page.click("#search-submit")
    expect(page.locator("#continue-walkin")).to_be_visible()


@pytest.mark.parametrize("lang, tag", LANGS)
def test_the_proof_screen_is_accessible(live_server, live_app, shop, new_page, lang, tag):
    """The new screen meets the bar of every screen (test_accessibility audits the list), also
    with its message after a wrong answer."""
    book(live_app, shop, "京A54321", "13800138000", "张三", 15)
    page = new_page("kiosk", lang="en" if lang == "en" else None, bypass_csp=True)   # axe is injected
    set_lang(page, live_server.url, lang, then="/kiosk/appointment")
    page.locator(".today-row").first.click()
    expect(page.locator("#proof-form")).to_be_visible()
    assert [v for v in axe_findings(page) if v["impact"] in BLOCKING] == []
    tap_keys(page, ".k-by-plate", "11111")
    page.click("#proof-submit")
    expect(page.locator("#proof-error")).to_be_visible()
    assert [v for v in axe_findings(page) if v["impact"] in BLOCKING] == []
