"""The reports in real Chromium: the manager opens /reports in English, changes the range to the
month and back, and while the page is open the cashier takes the payment of a car whose handover
is signed in another browser context: the car is delivered and today's figures move without a
reload. Then the same page in Chinese, and a phone-sized look. Screenshots go to /tmp/shots-reports2/."""
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import set_lang, settled, sign_in
from tests.factories import Factory, png_data_url, visit_delivered, visit_ready
from webapp.extensions import db

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots-reports2")


def shot(page, name, full_page=False):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def seed(live_app):
    """One car delivered today; another ready, its handover signed, its bill waiting at the till."""
    from webapp.handover import ITEMS
    from webapp.services import billing, delivery
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        sfx = uuid.uuid4().hex[:5]
        advisor = f.user(site, "advisor", username=f"adv{sfx}", desk="1", display_name="王晓明")
        manager = f.user(site, "manager", username=f"mgr{sfx}", display_name="赵经理")
        cashier = f.user(site, "cashier", username=f"cash{sfx}", display_name="刘收银")
        visit_delivered(f, site, advisor, plate="京A11111")
        ready = visit_ready(f, site, advisor, plate="京B22222")
        for item in ITEMS:
            delivery.set_item(ready, item, True, advisor)
        delivery.sign(ready, png_data_url(), "李四", None, None, advisor)
        delivery.complete(ready, advisor)
        billing.prepare_bill(ready, advisor)
        billing.issue_bill(ready, advisor)
        data = {"manager": manager.username, "cashier": cashier.username}
        db.session.remove()
        return data


def test_reports_move_live_when_a_car_is_delivered(live_app, live_server, new_page):
    shop = seed(live_app)
    base = live_server.url
    boss = new_page("console", lang="en")
    sign_in(boss, base, shop["manager"], "en", path="/reports", live=True)
    same_day = boss.locator('[data-kpi="same_day"]')
    expect(same_day.locator("[data-of]")).to_have_text("1 of 1")
    expect(boss.locator('[data-table="attendance"] tbody tr')).to_have_count(1)
    shot(boss, "reports-today-en")
    shot(boss, "reports-today-en-full", full_page=True)

    # The month, then today again: the period line follows the choice.
    boss.get_by_label("This month").check()
    boss.get_by_role("button", name="Show").click()
    boss.wait_for_url("**range=month**")
    expect(same_day.locator("[data-of]")).to_have_text("1 of 1")
    boss.get_by_label("Today").check()
    boss.get_by_role("button", name="Show").click()
    boss.wait_for_url("**range=today**")
    expect(boss.locator("body")).to_have_attribute("data-live-state", "online")

    # The cashier takes the payment in another context: the car is delivered, the figures move.
    till = new_page("console", lang="en")
    sign_in(till, base, shop["cashier"], "en", path="/cashier/")
    till.locator("#waiting-bills .bill-row", has_text="京B22222").click()
    panel = till.locator("#bill-panel")
    panel.locator("label.m-wechat").click()
    panel.locator("#pay-ref").fill("4200009999")
    panel.locator("[data-pay-submit]").click()
    expect(panel).to_have_attribute("data-bill-state", "paid")
    expect(same_day.locator("[data-of]")).to_have_text("2 of 2")
    expect(boss.locator('[data-table="attendance"] tbody tr')).to_have_count(2)
    settled(boss)
    assert not boss.console_errors

    # Chinese: the same page in the other language; the definition opens on a tap.
    set_lang(boss, base, "zh_CN")
    boss.goto(base + "/reports")
    expect(boss.locator("#s-delivery")).to_have_text("关键指标")
    card = boss.locator('[data-kpi="on_time"]')
    expect(card).to_contain_text("准时交车率")
    card.locator("summary").click()
    expect(card.locator("details p")).to_be_visible()
    shot(boss, "reports-today-zh")
    shot(boss, "reports-today-zh-full", full_page=True)
    phone = new_page("phone", lang="en")
    sign_in(phone, base, shop["manager"], "en", path="/reports")
    expect(phone.locator('[data-kpi="same_day"] [data-of]')).to_have_text("2 of 2")
    shot(phone, "reports-phone-en", full_page=True)
