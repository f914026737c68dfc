"""The customer's remote authorisation in real Chromium: an estimate built and presented through the
real services, the customer on a 390 px phone unlocks with the PIN, watches the total follow their
taps, declines one line and approves the rest, confirms; the advisor's console moves the visit to
"Waiting for technician" without a reload. Screenshots of the card before and after, both languages."""
import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from conftest import RO_TERMS, png_data_url, Factory, screenshot, set_lang, sign_in
from webapp.extensions import db
from webapp.services import calling, estimates
from webapp.services import intake as intake_svc
from webapp.services.checkin import ticket_pin
from webapp.commands.estimates import parse_line, parse_repair_order

pytestmark = pytest.mark.browser

WAITING_FOR_TECHNICIAN = {"en": "Waiting for technician", "zh-CN": "待派工"}
AWAITING = {"en": "Awaiting authorisation", "zh-CN": "待客户授权"}


def presented_estimate(live_app):
    """Reception → inspection → interview → four estimate lines → repair order → presented."""
    from webapp.models import LabourOperation, LabourRate, Part
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:6]}", desk="3", display_name="王晓明")
        f.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三", make="大众", model="帕萨特")
        ticket = f.walkin(site, plate="京A12345", mobile="13800138000")
        db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("300.00")))
        op = LabourOperation(site_id=site.id, code="BRK-F", name_zh="更换前刹车片", name_en="Replace front brake pads",
                             hours=Decimal("1.5"))
        part = Part(site_id=site.id, number="P-100", name_zh="前刹车片（原厂）", name_en="Front brake pads (OEM)",
                    unit_price=Decimal("388.50"), on_hand=Decimal("10"))
        db.session.add_all([op, part])
        db.session.commit()
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        visit = ticket.visit
        intake_svc.start_inspection(visit, advisor)
        db.session.expire(visit)
        intake_svc.save_inspection(visit, {"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                           "mileage": "45000", "fuel_level": "1/2"}, advisor)
        intake_svc.sign_intake(visit, png_data_url(), "张三", "127.0.0.1", "pytest", advisor)
        intake_svc.complete_inspection(visit, advisor)
        intake_svc.add_concern(visit, "刹车时有异响", advisor)
        intake_svc.complete_interview(visit, advisor)
        labour = estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(op.id)}), advisor)
        pads = estimates.add_line(visit, parse_line({"kind": "part", "part_id": str(part.id), "quantity": "2"}), advisor)
        covered = estimates.add_line(visit, parse_line({"kind": "labour", "description": "更新发动机控制软件",
                                             "quantity": "0.5", "warranty": "1"}), advisor)
        alignment = estimates.add_line(visit, parse_line({"kind": "labour", "description": "四轮定位", "quantity": "1"}),
                                       advisor, recommended="maintenance_due")
        estimates.save_repair_order(visit, parse_repair_order(RO_TERMS), advisor)
        estimates.present(visit, advisor)
        shop = {"token": ticket.token, "pin": ticket_pin(ticket.token), "visit": visit.id, "advisor": advisor.username,
                "number": ticket.number, "labour": labour.id, "pads": pads.id, "covered": covered.id,
                "alignment": alignment.id, "part": part.id}
        db.session.remove()
        return shop


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
    set_lang(phone, live_server.url, "en" if en else "zh_CN")
    phone.goto(f"{live_server.url}/t/{shop['token']}")
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

    # The total follows the taps, in fen, with the server's rounding.
    choose(phone, shop["labour"], "approve")
    expect(total).to_have_text(f"{Y}508.50")                       # 450.00 + 13 %
    phone.locator("[data-approve-all]").tap()
    expect(total).to_have_text(f"{Y}1,725.51")                     # (450 + 777 + 0 + 300) × 1.13
    expect(phone.locator("[data-approve-count]")).to_have_text("4")
    choose(phone, shop["alignment"], "decline")
    expect(total).to_have_text(f"{Y}1,386.51")
    reason = phone.locator(f"#reason-{shop['alignment']}")
    expect(reason).to_be_visible()
    reason.select_option(index=2)
    scroll_to(phone, f'[data-line="{shop["pads"]}"]')
    screenshot(phone, f"approval-card-chosen-{lang}")
    scroll_to(phone, "[data-consent]")
    screenshot(phone, f"approval-card-confirm-{lang}")

    phone.locator("[data-approve-confirm]").tap()
    expect(card).to_have_attribute("data-approval", "decided")
    if en:
        expect(card.locator("h2")).to_have_text("Thank you — your decision was sent")
    expect(card.locator(f'[data-line="{shop["alignment"]}"]')).to_have_attribute("data-decision", "declined")
    expect(card.locator(f'[data-line="{shop["pads"]}"]')).to_have_attribute("data-decision", "approved")
    expect(card.locator("[data-decided-total]")).to_have_text(f"{Y}1,386.51")
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
