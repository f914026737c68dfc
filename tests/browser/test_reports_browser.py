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
    """One car delivered today, its customer's survey answered; another ready, its handover signed,
    its bill waiting at the till; a third shown an estimate with one part in stock and one not."""
    from decimal import Decimal

    from webapp.commands.estimates import parse_line, parse_repair_order
    from webapp.commands.followup import parse_survey
    from webapp.handover import ITEMS
    from webapp.models import Part
    from webapp.services import billing, delivery, estimates, followup
    from tests.factories import RO_TERMS, visit_at_estimate
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        sfx = uuid.uuid4().hex[:5]
        advisor = f.user(site, "advisor", username=f"adv{sfx}", desk="1", display_name="王晓明")
        manager = f.user(site, "manager", username=f"mgr{sfx}", display_name="赵经理")
        cashier = f.user(site, "cashier", username=f"cash{sfx}", display_name="刘收银")
        done = visit_delivered(f, site, advisor, plate="京A11111")
        followup.survey(done, parse_survey({"explained": "yes", "on_time": "yes", "clean": "no", "recommend": "yes"}))
        quoted = visit_at_estimate(f, site, advisor, plate="京C33333")
        for number, on_hand in (("FLT-CAB-01", "5"), ("FLT-CAB-02", "0")):
            part = Part(site_id=site.id, number=number, name_zh="空调滤清器", name_en="Cabin air filter",
                        unit_price=Decimal("98.00"), on_hand=Decimal(on_hand), reserved=Decimal("0"))
            db.session.add(part)
            db.session.commit()
            estimates.add_line(quoted, parse_line({"kind": "part", "part_id": str(part.id), "quantity": "1"}), advisor)
        estimates.save_repair_order(quoted, parse_repair_order(RO_TERMS), advisor)
        estimates.present(quoted, advisor)
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
    # the parts fill rate of today's estimate, and the survey's answers in the CSI section
    fill = boss.locator('[data-kpi="parts_fill"]')
    expect(fill.locator("[data-value]")).to_have_text("50.0")
    expect(fill.locator("[data-of]")).to_have_text("1 of 2")
    expect(fill).to_contain_text("Target ≥ 90 %")
    clean = boss.locator('[data-table="survey"] tbody tr', has_text="Was the car clean?")
    expect(clean.locator("td")).to_have_text(["Was the car clean?", "1", "0", "1", "0.0", "0", "—"])
    shot(boss, "reports-today-en")
    boss.locator("#s-csi").scroll_into_view_if_needed()
    shot(boss, "reports-csi-en")
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
    set_lang(boss, base, "zh_CN", then="/reports")
    expect(boss.locator("#s-delivery")).to_have_text("关键指标")
    card = boss.locator('[data-kpi="on_time"]')
    expect(card).to_contain_text("准时交车率")
    card.locator("summary").click()
    expect(card.locator("details p")).to_be_visible()
    expect(boss.locator('[data-table="survey"] tbody tr')).to_have_count(4)
    shot(boss, "reports-today-zh")
    boss.locator("#s-csi").scroll_into_view_if_needed()
    shot(boss, "reports-csi-zh")
    shot(boss, "reports-today-zh-full", full_page=True)
    phone = new_page("phone", lang="en")
    sign_in(phone, base, shop["manager"], "en", path="/reports")
    expect(phone.locator('[data-kpi="same_day"] [data-of]')).to_have_text("2 of 2")
    shot(phone, "reports-phone-en", full_page=True)
