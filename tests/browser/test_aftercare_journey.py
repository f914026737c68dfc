"""The end of the journey, in one run with five people on their own screens (issue 6, "Done means"):
the advisor issues the bill and hands the car over with the customer's signature, the cashier
takes two payments, the car shows delivered everywhere without a reload, the customer gives two
stars on the phone, the manager's open complaints list shows the new case by itself, and the
vehicle's history page shows the whole visit."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import draw_signature, screenshot, settled, sign_in
from tests.factories import Factory, visit_ready
from webapp.extensions import db

pytestmark = pytest.mark.browser


def seed(live_app):
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        sfx = uuid.uuid4().hex[:5]
        people = {role: f.user(site, role, username=f"{role}{sfx}", display_name=name)
                  for role, name in (("advisor", "王晓明"), ("cashier", "吴收银"), ("manager", "钱经理"),
                                     ("csi", "郑回访"))}
        visit = visit_ready(f, site, people["advisor"], plate="京A12345")
        names = {role: user.username for role, user in people.items()}
        data = {**names, "visit": visit.id, "vehicle": visit.vehicle_id, "token": visit.ticket.token,
                "ro": visit.repair_order.number}
        db.session.remove()
        return data


def staff(new_page, base, username, path):
    page = new_page("console")
    sign_in(page, base, username, "zh_CN", path=path, live=True)
    return page


def test_delivered_paid_rated_complained_and_kept_in_history(live_app, live_server, new_page):
    shop = seed(live_app)
    base = live_server.url
    visit_path = f"/advisor/visits/{shop['visit']}"

    desk = staff(new_page, base, shop["advisor"], visit_path)
    till = staff(new_page, base, shop["cashier"], "/cashier/")
    manager = staff(new_page, base, shop["manager"], "/complaints")
    for page in (desk, till, manager):
        page.evaluate("window.__noReload = 'still here'")
    expect(manager.locator("#open-cases tr[data-complaint]")).to_have_count(0)

    # The advisor prepares and issues the bill: the cashier's list has it without a reload.
    bill = desk.locator("#sec-bill")
    bill.scroll_into_view_if_needed()
    bill.locator("[data-bill-prepare]").click()
    expect(bill).to_have_attribute("data-bill-state", "draft")
    bill.locator("[data-bill-issue]").click()
    expect(bill).to_have_attribute("data-bill-state", "issued")
    number = bill.locator("[data-bill-number]").inner_text()
    row = till.locator("#waiting-bills .bill-row", has_text="京A12345")
    expect(row).to_contain_text("¥305.10")                    # 1.5 h × 180 + 13 % tax

    # The handover with the customer: six ticks, the signature, done — waiting for settlement.
    settled(desk)
    handover = desk.locator("#sec-delivery")
    handover.scroll_into_view_if_needed()
    items = desk.locator("#sec-delivery .ho-item")
    expect(items).to_have_count(6)
    for i in range(6):
        key = items.nth(i).get_attribute("data-item")
        items.nth(i).locator("input[type=checkbox]").check()
        expect(desk.locator(f"#sec-delivery .ho-item[data-item={key}]")).to_have_class(re.compile(r"\bdone\b"))
    settled(desk)
    canvas = desk.locator("#sec-delivery canvas[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    draw_signature(desk, canvas)
    desk.locator("#delivery-sign-form button[type=submit]").click()
    expect(desk.locator("#sec-delivery [data-delivery-signed]")).to_have_attribute("data-delivery-signed", "current")
    desk.locator("#sec-delivery [data-complete-delivery]").click()
    expect(desk.locator("#sec-delivery")).to_have_attribute("data-delivery-state", "waiting_settlement")

    # The cashier takes WeChat Pay 100, then cash for the rest with change.
    row.click()
    panel = till.locator("#bill-panel")
    expect(panel.locator("[data-bill-number]")).to_have_text(number)
    panel.locator("label.m-wechat").click()
    panel.locator("[data-pay-amount]").fill("100")
    panel.locator("#pay-ref").fill("4200009876")
    panel.locator("[data-pay-submit]").click()
    expect(panel.locator("dd[data-balance]")).to_have_attribute("data-balance", "205.10")
    panel.locator("label.m-cash").click()
    panel.locator("#pay-tendered").fill("300")
    expect(panel.locator("[data-change]")).to_have_text("¥94.90")
    panel.locator("[data-pay-submit]").click()
    expect(panel).to_have_attribute("data-bill-state", "paid")
    screenshot(till, "aftercare-cashier-paid-zh")

    # Paid and signed: the advisor's screen shows the car delivered, with its out time, by itself.
    expect(desk.locator("#sec-delivery")).to_have_attribute("data-delivery-state", "delivered")
    expect(desk.locator("#sec-delivery [data-delivered-at]")).to_be_visible()
    expect(desk.locator("#visit-state")).to_have_attribute("data-state", "delivered")

    # The customer's phone: delivered; two stars.
    phone = new_page("phone")
    phone.goto(f"{base}/t/{shop['token']}")
    expect(phone.locator("body")).to_have_attribute("data-live-state", "online")
    expect(phone.locator('[data-stage="delivered"]')).to_have_attribute("aria-current", "step")
    phone.locator('#feedback [data-star="2"]').tap()
    phone.locator("[data-rate-confirm] button[name=confirm]").tap()     # a low rating: confirmed once more
    expect(phone.locator("#feedback")).to_have_attribute("data-rating", "2")
    expect(phone.locator("[data-rate-sorry]")).to_be_visible()
    screenshot(phone, "aftercare-phone-rated-zh")

    # The manager's open list shows the case without a reload.
    case = manager.locator("#open-cases tr[data-complaint]", has_text="2/5")
    expect(case).to_have_count(1)
    expect(case).to_contain_text("京A12345")
    screenshot(manager, "aftercare-manager-complaints-zh")

    # The history of the vehicle keeps the whole visit.
    desk.goto(f"{base}/history/")
    desk.fill("#q", "京A12345")
    desk.press("#q", "Enter")
    desk.locator(f'[data-results=vehicles] tr[data-vehicle="{shop["vehicle"]}"] a.h-plate').click()
    card = desk.locator(f'article.h-visit[data-visit="{shop["visit"]}"]')
    expect(card.locator("[data-ro]")).to_have_text(shop["ro"])
    expect(card).to_contain_text(number)
    expect(card.locator(".h-payments li")).to_have_count(2)
    expect(card.locator('[data-survey=pickup] [data-rating="2"]')).to_be_visible()
    expect(card.locator("[data-complaint=open]")).to_be_visible()
    expect(card.locator("[data-block=estimate] [data-line=approved]")).to_contain_text("更换前刹车片")
    screenshot(desk, "aftercare-history-zh")

    for page in (till, manager):
        assert page.evaluate("window.__noReload") == "still here"
    for page in (desk, till, manager, phone):
        assert page.console_errors == [], page.console_errors
