"""The customer's remote authorisation in real Chromium: an estimate built and presented through the
real services, the customer on a 390 px phone unlocks with the PIN, watches the total follow their
taps (each one asks the server for it: no money rules in the browser), declines one line and
approves the rest, confirms (the total shown is the one recorded); the advisor's console moves the visit to
"Waiting for technician" without a reload. Screenshots of the card before and after, both languages."""
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, set_lang, sign_in
from tests.factories import presented_estimate
from webapp.extensions import db
from webapp.services import estimates

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-oob")   # looked at by people, never committed
TOTAL_ASKED = re.compile(r"/approve/total\?")

WAITING_FOR_TECHNICIAN = {"en": "Waiting for technician", "zh-CN": "待派工"}
AWAITING = {"en": "Awaiting authorisation", "zh-CN": "待客户授权"}


def scroll_to(page, selector):
    # In one step: the live block may be swapped (a hint, the 30 s poll) between two Playwright actions.
    page.evaluate("s => document.querySelector(s).scrollIntoView()", selector)


def choose(page, line_id, what):
    page.locator(f'[data-line="{line_id}"] .st-choice__opt.is-{what}').tap()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_customer_approves_on_the_phone_and_the_advisor_sees_it(live_app, live_server, new_page, lang):
    en = lang == "en"
    Y = "CN¥" if en else "¥"   # Babel/CLDR: the yuan sign is spelt CN¥ in English
    shop = presented_estimate(live_app)

    # The advisor's console: the visit waits for the customer's authorisation.
    console = new_page("console", lang="en" if en else None)
    sign_in(console, live_server.url, shop["advisor"], "en" if en else "zh_CN")
    mine = console.locator(".mine .visits li", has_text=shop["number"])
    expect(mine.locator(".state")).to_have_text(AWAITING[lang])
    expect(console.locator("body")).to_have_attribute("data-live-state", "online")
    console.evaluate("window.__noReload = 'still here'")

    # The phone, before the PIN: only the notice, never an amount.
    phone = new_page("phone", lang="en" if en else None)
    set_lang(phone, live_server.url, "en" if en else "zh_CN", then=f"/t/{shop['token']}")
    expect(phone.locator("body")).to_have_attribute("data-live-state", "online")
    card = phone.locator("#approval")
    expect(card).to_have_attribute("data-approval", "locked")
    assert "¥" not in phone.content()
    scroll_to(phone, "#approval")
    screenshot(phone, f"approval-locked-{lang}")

    phone.locator("[data-approval-pin]").tap()
    expect(phone.locator("#pin")).to_be_focused()
    phone.locator("#pin").press_sequentially(shop["pin"])
    phone.locator(".st-pin button[type=submit]").tap()
    expect(card).to_have_attribute("data-approval", "presented")
    expect(phone.locator("body")).to_have_attribute("data-live-state", "online")
    total = phone.locator("[data-approve-total]")
    expect(total).to_have_text(f"{Y}0.00")
    phone.evaluate("document.getElementById('approval').scrollIntoView()")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, f"approval-card-before-{lang}")
    phone.evaluate("window.__noReload = 'still here'")

    # The total follows the taps: each tap asks the server, which answers with its money rules
    # and its Babel formatting (the page carries no copy of them).
    assert phone.evaluate("typeof window.recompute") == "undefined"
    assert "data-fen" not in phone.content()
    with phone.expect_response(TOTAL_ASKED) as asked:
        choose(phone, shop["labour"], "approve")
    assert asked.value.status == 200
    expect(total).to_have_text(f"{Y}508.50")                       # 450.00 + 13 %
    with phone.expect_response(TOTAL_ASKED):
        phone.locator("[data-approve-all]").tap()
    expect(total).to_have_text(f"{Y}1,725.51")                     # (450 + 777 + 0 + 300) × 1.13
    expect(phone.locator("[data-approve-count]")).to_have_text("4")
    with phone.expect_response(TOTAL_ASKED):
        choose(phone, shop["alignment"], "decline")
    expect(total).to_have_text(f"{Y}1,386.51")
    # A live refresh merges the card anew (drawn for no taps): the taps stay and the page asks the
    # server again for their total.
    with phone.expect_response(TOTAL_ASKED):
        phone.evaluate("htmx.trigger(document.body, 'live:refresh')")
    expect(total).to_have_text(f"{Y}1,386.51")
    expect(phone.locator("[data-approve-count]")).to_have_text("4")
    shown_before_confirming = total.inner_text()
    reason = phone.locator(f"#reason-{shop['alignment']}")
    expect(reason).to_be_visible()
    reason.select_option(index=2)
    scroll_to(phone, f'[data-line="{shop["pads"]}"]')
    screenshot(phone, f"approval-card-chosen-{lang}")
    SHOTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(SHOTS / f"phone-estimate-chosen-{lang}.png"))
    scroll_to(phone, "[data-consent]")
    screenshot(phone, f"approval-card-confirm-{lang}")
    phone.evaluate("document.getElementById('approve-sum').scrollIntoView({block: 'center'})")
    phone.screenshot(path=str(SHOTS / f"phone-estimate-total-{lang}.png"))

    phone.locator("[data-approve-confirm]").tap()
    expect(card).to_have_attribute("data-approval", "decided")
    if en:
        expect(card.locator("h2")).to_have_text("Thank you — your decision was sent")
    expect(card.locator(f'[data-line="{shop["alignment"]}"]')).to_have_attribute("data-decision", "declined")
    expect(card.locator(f'[data-line="{shop["pads"]}"]')).to_have_attribute("data-decision", "approved")
    expect(card.locator("[data-decided-total]")).to_have_text(shown_before_confirming)
    with live_app.app_context():   # what the server records and bills for the approved lines
        from webapp.models import Visit
        visit = db.session.get(Visit, shop["visit"])
        billed = estimates.estimate_totals(visit.estimate, ("approved",)).customer_pays
        db.session.remove()
    assert shown_before_confirming == f"{Y}{billed:,}"
    phone.evaluate("document.getElementById('approval').scrollIntoView()")
    screenshot(phone, f"approval-card-after-{lang}")
    assert phone.console_errors == []

    # The advisor's console moved on by itself.
    expect(mine.locator(".state")).to_have_text(WAITING_FOR_TECHNICIAN[lang])
    assert console.evaluate("window.__noReload") == "still here"

    from webapp.models import Approval, Part, Visit
    with live_app.app_context():
        assert db.session.get(Visit, shop["visit"]).state == "dispatch"
        records = db.session.query(Approval).all()
        assert len(records) == 1 and records[0].channel == "remote"
        assert db.session.get(Part, shop["part"]).reserved == Decimal("2")
        assert estimates.verify_chain(records[0].site_id)
        db.session.remove()
