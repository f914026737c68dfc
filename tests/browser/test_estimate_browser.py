"""The advisor builds an estimate in real Chromium: a recommended maintenance item (due by
mileage) added with one click, a labour line from the catalogue, a part, a diagnosis priced
later; the repair order terms saved (numbered), the estimate presented, the customer signing on
the tablet; the printed RO in print media. Screenshots of the section in both languages."""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from werkzeug.datastructures import MultiDict

from tests.browser.helpers import draw_signature, screenshot, set_lang
from tests.factories import PASSWORD, Factory, confirm_suggestion, png_data_url
from webapp.commands.intake import parse_inspection
from webapp.extensions import db

pytestmark = pytest.mark.browser

PLATE = "京A12345"
A4 = {"width": 794, "height": 1123}


def setup_visit(live_app):
    from webapp.models import LabourOperation, LabourRate, MaintenanceItem, Part
    from webapp.services import calling
    from webapp.services import intake as svc
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="bj01", name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username="advisor1", desk="3", display_name="王晓明")
        f.customer_vehicle(site, plate=PLATE, mobile="13800138000", name="张三", vin="LSVAM4187C2184847",
                           make="大众", model="帕萨特", year=2019, last_mileage=45000)
        db.session.add_all([LabourRate(site_id=site.id, kind="default", rate=Decimal("300")),
                            LabourRate(site_id=site.id, kind="diagnosis", rate=Decimal("250"))])
        oil = LabourOperation(site_id=site.id, code="M001", name_zh="更换机油机滤", name_en="Oil and filter change",
                              hours=Decimal("0.5"))
        pads = LabourOperation(site_id=site.id, code="B010", name_zh="更换前刹车片",
                               name_en="Replace front brake pads", hours=Decimal("1.2"))
        filt = Part(site_id=site.id, number="06L115562", name_zh="机油滤清器", name_en="Oil filter",
                    unit_price=Decimal("68"), on_hand=Decimal("10"))
        oil_part = Part(site_id=site.id, number="G052195M4", name_zh="全合成机油 4L", name_en="Synthetic oil 4 l",
                        unit_price=Decimal("398"), on_hand=Decimal("6"))
        padset = Part(site_id=site.id, number="5QD698151", name_zh="前刹车片", name_en="Front brake pads",
                      unit_price=Decimal("480"), on_hand=Decimal("0"), lead_days=3)
        db.session.add_all([oil, pads, filt, oil_part, padset])
        db.session.flush()
        db.session.add(MaintenanceItem(site_id=site.id, make="大众", operation_id=oil.id, part_id=filt.id,
                                       part_quantity=Decimal("1"), every_km=10000))
        db.session.commit()
        ticket = f.walkin(site, plate=PLATE, mobile="13800138000")
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        confirm_suggestion(ticket.visit, advisor)   # the stored car, checked at the desk
        visit = ticket.visit
        svc.start_inspection(visit, advisor)
        svc.save_inspection(visit, parse_inspection(MultiDict({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                              "mileage": "46120", "fuel_level": "3/4", "valuables_left": "no"})), advisor)
        svc.sign_intake(visit, png_data_url(), "张三", "127.0.0.1", "pytest", advisor)
        svc.complete_inspection(visit, advisor)
        svc.add_concern(visit, "低速刹车有异响", advisor)
        svc.complete_interview(visit, advisor)
        data = {"visit": visit.id, "pads": pads.id, "padset": padset.id}
        db.session.remove()
        return data


def sign_in(page, base, username, lang):
    set_lang(page, base, lang, then="/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/advisor$"))


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_advisor_builds_presents_and_prints_the_estimate(live_app, live_server, new_page, lang):
    en = lang == "en"
    Y = "CN¥" if en else "¥"   # Babel/CLDR: the yuan sign is spelt CN¥ in English
    base = live_server.url
    shop = setup_visit(live_app)
    page = new_page("console", lang="en" if en else None)
    sign_in(page, base, "advisor1", lang)
    page.goto(f"{base}/advisor/visits/{shop['visit']}")
    sec = page.locator("#sec-estimate")
    expect(sec).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-live-state", "online")

    # The recommended oil service (due by mileage): one click adds labour and the filter.
    rec = sec.locator("[data-why=maintenance_due]")
    expect(rec).to_have_count(1)
    # Each recommendation's button names what it adds (not seven buttons all called "Add").
    rec.get_by_role("button", name="Add Oil and filter change to the estimate" if en else "将“更换机油机滤”加入报价").click()
    expect(sec.locator("tr[data-line]")).to_have_count(2)
    expect(sec.locator("[data-why=maintenance_due]")).to_have_count(0)

    # Labour from the catalogue for the concern, then the brake pads (short: expected date).
    sec = page.locator("#sec-estimate")
    sec.locator("#al-op").select_option(str(shop["pads"]))
    sec.locator("[data-add-line] button[type=submit]").click()
    expect(page.locator("#sec-estimate tr[data-line]")).to_have_count(3)
    sec = page.locator("#sec-estimate")
    sec.locator("input[name=kind][value=part] + span").click()
    expect(sec.locator("#al-op")).to_be_hidden()
    sec.locator("#al-part").select_option(str(shop["padset"]))
    sec.locator("[data-add-line] button[type=submit]").click()
    expect(page.locator("#sec-estimate tr[data-line]")).to_have_count(4)
    expect(page.locator("#sec-estimate [data-availability=short]")).to_have_count(1)

    # A bad quantity: refused next to the field, the value kept.
    sec = page.locator("#sec-estimate")
    sec.locator("input[name=kind][value=diagnosis] + span").click()
    sec.locator("#al-desc").fill("底盘异响诊断")
    sec.locator("#al-qty").fill("1.234")
    sec.locator("[data-add-line] button[type=submit]").click()
    expect(page.locator("#sec-estimate #quantity-error")).to_be_visible()
    sec = page.locator("#sec-estimate")
    expect(sec.locator("#al-qty")).to_have_value("1.234")
    expect(sec.locator("#al-desc")).to_have_value("底盘异响诊断")
    sec.locator("#al-qty").fill("1")
    sec.locator("input[name=price_after_diagnosis]").check()
    sec.locator("[data-add-line] button[type=submit]").click()
    expect(page.locator("#sec-estimate tr[data-line]")).to_have_count(5)
    sec = page.locator("#sec-estimate")
    expect(sec.locator("[data-pending-price]")).to_be_visible()
    # 0.5×300 + 68 + 1.2×300 + 480 = 1058; tax 137.54; pays 1195.54
    expect(sec.locator('[data-total="customer_pays"]')).to_have_text(f"{Y}1,195.54")
    sec.locator("#sec-estimate-title").scroll_into_view_if_needed()
    page.evaluate("document.getElementById('sec-estimate').scrollIntoView()")
    screenshot(page, f"estimate-lines-{lang}")

    # Repair order terms: numbered when saved.
    sec.locator("input[name=payment_method][value=wechat] + span").click()
    sec.locator("input[name=old_parts][value=take] + span").click()
    sec.locator("input[name=car_wash][value=yes] + span").click()
    sec.locator("input[name=delivery_explained]").check()
    sec.locator("input[name=additional_work_consent]").check()
    sec.locator("[data-ro-form] button[type=submit]").click()
    expect(page.locator("#sec-estimate [data-ro-number]")).to_have_text(re.compile(r"RO-\d{8}-0001"))

    # Present: the tablet panel appears; the progress block follows.
    page.locator("#sec-estimate [data-present]").click()
    expect(page.locator("#sec-estimate [data-approve-form]")).to_be_visible()
    expect(page.locator("#visit-state")).to_have_attribute("data-state", "authorisation")
    form = page.locator("#sec-estimate [data-approve-form]")
    form.scroll_into_view_if_needed()
    rows = form.locator("[data-decide-line]")
    for i in range(rows.count()):
        value = "declined" if i == 3 else "approved"
        rows.nth(i).locator(f"input[value={value}] + span").click()
    reason = rows.nth(3).locator("input.reason")
    expect(reason).to_be_visible()
    reason.fill("下次再换" if not en else "next time")
    draw_signature(page, form.locator("canvas[data-signature-pad]"))
    screenshot(page, f"estimate-approve-{lang}")
    form.locator("button[type=submit]").click()
    expect(page.locator("#sec-estimate [data-approval=in_shop]")).to_be_visible()
    expect(page.locator("#sec-estimate tr[data-decision=declined]")).to_have_count(1)
    expect(page.locator("#sec-estimate tr[data-decision=approved]")).to_have_count(4)
    expect(page.locator("#visit-state")).to_have_attribute("data-state", "dispatch")
    page.evaluate("document.getElementById('sec-estimate').scrollIntoView()")
    screenshot(page, f"estimate-decided-{lang}")
    assert [e for e in page.console_errors if "422" not in e] == []   # the refused quantity above

    # The printed repair order: A4, print media, signature and content hash on it.
    paper = new_page("console", viewport=A4, lang="en" if en else None)
    sign_in(paper, base, "advisor1", lang)
    paper.goto(f"{base}/advisor/visits/{shop['visit']}/repair-order/print")
    paper.emulate_media(media="print")
    expect(paper.locator(".toolbar")).to_be_hidden()
    expect(paper.locator("[data-ro-number]")).to_have_text(re.compile(r"RO-\d{8}-0001"))
    expect(paper.locator("[data-hash]")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    assert paper.locator(".sig-img").evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(paper, f"repair-order-print-{lang}")
