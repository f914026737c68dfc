"""Settlement in real Chromium, two browser contexts: the advisor prepares and issues the bill on
the visit page, the cashier's list shows it without a reload, the cashier takes WeChat Pay 100
and then cash with change, the bill is paid and the advisor's page follows by itself. The A4
settlement statement and the 80 mm receipt are rendered. Screenshots (1366×768, A4, 80 mm) in
both languages go to /tmp/shots/settlement/."""
import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import Factory, visit_ready
from webapp.extensions import db

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/settlement")


def shot(page, name, full_page=False):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def seed(live_app):
    from webapp.models import EstimateLine, Part
    from webapp.services import billing as svc
    from webapp.services import catalogue
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        sfx = uuid.uuid4().hex[:5]
        advisor = f.user(site, "advisor", username=f"adv{sfx}", desk="3", display_name="王晓明")
        cashier = f.user(site, "cashier", username=f"cash{sfx}", display_name="刘收银")
        parts = f.user(site, "parts", username=f"parts{sfx}", display_name="周备件")
        visit = visit_ready(f, site, advisor, plate="京A12345")
        # An approved oil filter of which the parts clerk issued one more than approved.
        part = Part(site_id=site.id, number="15400-RTA-003", name_zh="机油滤清器", name_en="Oil filter",
                    unit_price=Decimal("68.00"), on_hand=Decimal("20"))
        db.session.add(part)
        db.session.commit()
        est = visit.estimate
        db.session.add(EstimateLine(site_id=site.id, estimate=est, kind="part", part_id=part.id,
                                    description="机油滤清器", quantity=Decimal("1"), unit_price=part.unit_price,
                                    decision="approved", position=len(est.lines)))
        db.session.commit()
        catalogue.issue_stock(part, "2", "领料单 0042", parts, visit)
        # Another car already waiting at the till, and one paid earlier today.
        other = visit_ready(f, site, advisor, plate="京B67890")
        svc.prepare_bill(other, advisor)
        svc.issue_bill(other, advisor)
        done = visit_ready(f, site, advisor, plate="京C24680")
        svc.prepare_bill(done, advisor)
        paid = svc.issue_bill(done, advisor)
        svc.record_payment(cashier, paid.id, "alipay", str(paid.total), reference="2088123", idempotency_key=sfx)
        data = {"visit": visit.id, "advisor": advisor.username, "cashier": cashier.username}
        db.session.remove()
        return data



# In English here; test_aftercare_journey drives the same screens in Chinese (the default), so the
# suite runs each flow once per language instead of twice in Chinese.
@pytest.mark.parametrize("lang", ["en"])
def test_issue_then_pay_with_two_methods(live_app, live_server, new_page, browser, lang):
    en = lang == "en"
    Y = "CN¥" if en else "¥"   # Babel/CLDR: the yuan sign is spelt CN¥ in English
    code = "en" if en else "zh_CN"
    shop = seed(live_app)
    base = live_server.url

    till = new_page("console", lang="en" if en else None)
    sign_in(till, base, shop["cashier"], code, path="/cashier/")
    expect(till.locator("body")).to_have_attribute("data-live-state", "online")
    expect(till.locator("#waiting-bills .bill-row")).to_have_count(1)
    expect(till.locator("#waiting-bills")).not_to_contain_text("京A12345")

    desk = new_page("console", lang="en" if en else None)
    sign_in(desk, base, shop["advisor"], code, path="/advisor")
    desk.goto(f"{base}/advisor/visits/{shop['visit']}#sec-bill")
    expect(desk.locator("body")).to_have_attribute("data-live-state", "online")
    section = desk.locator("#sec-bill")
    section.locator("[data-bill-prepare]").click()
    expect(section).to_have_attribute("data-bill-state", "draft")
    diff = section.locator("[data-difference]")
    expect(diff).to_have_attribute("data-kind", "more")
    expect(section.locator("[data-bill-issue]")).to_be_disabled()
    section.scroll_into_view_if_needed()
    shot(desk, f"advisor-bill-draft-{lang}")

    # Charge the second filter: the note is required, then the line's quantity follows.
    diff.locator("input[value=charge_issued]").check(force=True)
    diff.locator("button[type=submit]").click()
    expect(section.locator("#note-error")).to_be_visible()
    section.locator("[data-difference] input[name=note]").fill("副滤芯一并更换，客户当面同意")
    section.locator("[data-difference] button[type=submit]").click()
    expect(section.locator("[data-difference]")).to_have_attribute("data-resolution", "charge_issued")
    expect(section.locator('tr[data-kind="part"] [data-qty]')).to_have_text("2")
    expect(section.locator('[data-total="total"]')).to_have_text(f"{Y}458.78")   # (270 + 136) × 1.13
    section.locator("[data-bill-issue]").click()
    expect(section).to_have_attribute("data-bill-state", "issued")
    number = section.locator("[data-bill-number]").inner_text()
    assert re.fullmatch(r"JS-\d{8}-000\d", number)
    section.scroll_into_view_if_needed()
    shot(desk, f"advisor-bill-issued-{lang}")

    # The cashier's list shows it without a reload.
    row = till.locator("#waiting-bills .bill-row", has_text="京A12345")
    expect(row).to_be_visible()
    expect(row).to_contain_text(f"{Y}458.78")
    expect(row).to_contain_text("张三")
    row.click()
    panel = till.locator("#bill-panel")
    expect(panel.locator("[data-bill-number]")).to_have_text(number)
    expect(panel.locator("[data-pay-amount]")).to_have_value("458.78")
    shot(till, f"cashier-open-{lang}")

    # WeChat Pay 100 with its transaction number.
    panel.locator("label.m-wechat").click()
    panel.locator("[data-pay-amount]").fill("100")
    panel.locator("#pay-ref").fill("4200001234")
    panel.locator("[data-pay-submit]").click()
    expect(panel.locator("dd[data-balance]")).to_have_attribute("data-balance", "358.78")
    expect(panel.locator("[data-payment=wechat]")).to_be_visible()

    # Then cash: 400 handed over, the change shows while typing and is recorded.
    panel.locator("label.m-cash").click()
    expect(panel.locator("#pay-tendered")).to_be_visible()
    expect(panel.locator("#pay-ref")).to_be_hidden()
    panel.locator("#pay-tendered").fill("400")
    expect(panel.locator("[data-change]")).to_have_text(f"{Y}41.22")
    shot(till, f"cashier-cash-{lang}")
    asked = []
    till.on("request", lambda r: r.resource_type in ("xhr", "fetch") and "/cashier/" in r.url
            and asked.append(r.method))
    panel.locator("[data-pay-submit]").click()
    expect(panel).to_have_attribute("data-bill-state", "paid")
    expect(panel.locator("[data-payment=cash]")).to_contain_text(f"{Y}41.22")
    expect(panel.locator("dd[data-balance]")).to_have_attribute("data-balance", "0.00")
    expect(till.locator("#settled-bills")).to_contain_text("京A12345")
    expect(till.locator("#waiting-bills")).not_to_contain_text("京A12345")
    assert asked == ["POST"], asked   # the lists came in the payment's answer (was: then a GET of them)
    shot(till, f"cashier-paid-{lang}")

    # The advisor's section follows by itself.
    expect(section).to_have_attribute("data-bill-state", "paid")
    expect(section.locator("[data-bill-settled]")).to_be_visible()
    assert till.console_errors == [], till.console_errors
    assert [e for e in desk.console_errors if "422" not in e] == [], desk.console_errors   # the missing note

    # Paper: the A4 statement and the 80 mm receipt.
    bill_id = panel.get_attribute("data-bill-id")
    a4 = new_page("console", lang="en" if en else None, viewport={"width": 794, "height": 1123})
    a4.context.add_cookies(till.context.cookies())
    a4.goto(f"{base}/cashier/bills/{bill_id}/print")
    expect(a4.locator("[data-bill-number]")).to_have_text(number)
    expect(a4.locator("[data-print-total]")).to_have_text(f"{Y}458.78")
    expect(a4.locator("[data-print-payments] tr")).to_have_count(2)
    a4.emulate_media(media="print")
    shot(a4, f"print-a4-{lang}", full_page=True)
    a4.pdf(path=str(SHOTS / f"print-a4-{lang}.pdf"), format="A4", print_background=True)
    sheet = a4.locator(".sheet").bounding_box()
    assert sheet["width"] <= 794

    slip = new_page("console", lang="en" if en else None, viewport={"width": 302, "height": 900})
    slip.context.add_cookies(till.context.cookies())
    slip.goto(f"{base}/cashier/bills/{bill_id}/receipt")
    expect(slip.locator("[data-receipt-total]")).to_have_text(f"{Y}458.78")
    expect(slip.locator("[data-receipt-balance]")).to_have_text(f"{Y}0.00")
    slip.emulate_media(media="print")
    shot(slip, f"receipt-80mm-{lang}", full_page=True)
    width = slip.evaluate("document.querySelector('.receipt').getBoundingClientRect().width")
    assert width <= 303
    scroll = slip.evaluate("document.documentElement.scrollWidth")
    assert scroll <= 303, scroll
    # Thermal paper is a roll: one page, as long as the receipt and no longer (no blank paper).
    expect(slip.locator("[data-roll-paper]")).to_have_attribute("data-page-mm", re.compile(r"\d+"))
    content_mm = slip.evaluate("document.querySelector('.receipt').getBoundingClientRect().height") * 25.4 / 96
    pdf = slip.pdf(prefer_css_page_size=True, print_background=True)
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert len(boxes) == 1, f"{len(boxes)} pages"
    width_mm, height_mm = (float(v) / 72 * 25.4 for v in boxes[0])
    assert abs(width_mm - 80) < 1
    assert content_mm <= height_mm <= content_mm + 6, (content_mm, height_mm)
