"""The advisor's intake as a person does it: call the ticket, create the customer and vehicle,
walk around the car, tap two damage marks on the car diagram (one with a photo), have the
customer sign with the mouse, complete the inspection while the customer's phone follows
without a reload, record the concerns and the warranty question, print the form."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import draw_signature, screenshot, set_lang, settled, sign_in
from tests.factories import jpeg_bytes
from webapp.extensions import db
from webapp.models import Site

pytestmark = [pytest.mark.browser,
              pytest.mark.shop(roles=("advisor",), staff={"advisor": {"desk": "3", "display_name": "王晓明"}})]

INSPECTION_SAVE = re.compile(r"/visits/\d+/inspection$")


@pytest.fixture
def shop(live_shop, live_app):
    """The shared shop's advisor1 (王晓明, desk 3) and a walk-in waiting (粤BD12345)."""
    with live_app.app_context():
        site = db.session.get(Site, live_shop.site.id)
        ticket = live_shop.factory.walkin(site, plate="粤BD12345", mobile="13900139000")
        return {"advisor": live_shop.advisor.username, "token": ticket.token}




@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_reception_inspection_interview(live_server, shop, new_page, lang):
    en = lang == "en"
    page = new_page("console")
    sign_in(page, live_server.url, shop["advisor"], lang)
    phone = new_page("phone", lang="en" if en else None)
    set_lang(phone, live_server.url, lang, then=f"/t/{shop['token']}")
    expect(phone.locator("body")).to_have_attribute("data-live-state", "online")
    phone.evaluate("window.__noReload = true")
    # Start-of-day readiness, then call the customer and start the reception.
    expect(page.locator("body")).to_have_attribute("data-live-state", "online")
    for i in range(3):  # each tick is saved as it is made
        # click, not check(): the third tick completes the list and its answer removes the box,
        # so there may be no checkbox left to read back
        with page.expect_response(re.compile(r".*/advisor/readiness$")):
            page.locator("#readiness input[type=checkbox]").nth(i).click()
    expect(page.locator("#readiness")).to_have_count(0)
    page.click("button.call-next")
    page.get_by_role("button", name=re.compile("start reception|开始接待")).click()
    page.locator(".visits a").first.click()
    page.wait_for_url(re.compile(r".*/advisor/visits/\d+$"))

    # Customer and vehicle: a bad mobile is refused next to the field and nothing typed is lost.
    sec = page.locator("#sec-customer")
    sec.locator("#c-name").fill("李女士")
    sec.locator("#c-mobile").fill("1390013900")
    sec.locator("#c-vin").fill("LSVAU2180N2183294")
    sec.locator("#c-make").fill("比亚迪")
    sec.locator("#c-model").fill("汉 EV")
    sec.get_by_role("button", name=re.compile("Save customer|保存客户")).click()
    expect(page.locator("#mobile-error")).to_be_visible()
    expect(page.locator("#c-model")).to_have_value("汉 EV")
    page.locator("#c-mobile").fill("13900139000")
    page.locator("#c-ws").fill("2025-06-01")
    page.locator("#c-wy").fill("3")
    page.locator("#c-wk").fill("100000")
    page.locator("#sec-customer").get_by_role("button", name=re.compile("Save customer|保存客户")).click()
    expect(page.locator("#sec-customer .section-head .pill.ok")).to_be_visible()
    expect(page.locator("#sec-customer")).to_contain_text("check digit" if en else "校验位")

    page.locator("#sec-documents input[data-document=licence]").check()
    expect(page.locator("#sec-documents")).to_contain_text("王晓明")

    # Walk-around: the inspection saves as the advisor goes.
    page.locator("#sec-inspection").get_by_role("button", name=re.compile("Start walk-around|开始环车检查")).click()
    insp = page.locator("#sec-inspection")

    def autosave_with(value):
        """The autosave (the whole form, posted after a change) that carries ``value``."""
        return page.expect_response(lambda r: r.request.method == "POST" and INSPECTION_SAVE.search(r.url)
                                    and value in (r.request.post_data or ""))

    for label, field in ((("Seat cover", "座椅套"), "cover_seat"), (("Steering-wheel cover", "方向盘套"), "cover_wheel"),
                         (("Floor mat", "脚垫"), "cover_floor")):
        with autosave_with(f"{field}=1"):
            insp.get_by_text(label[1] if not en else label[0], exact=True).click()
    page.locator("#i-mileage").fill("18800")
    page.locator("#i-mileage").press("Tab")
    insp.get_by_text("3/4", exact=True).click()
    insp.get_by_text("Tyre pressure" if en else "胎压", exact=True).click()
    insp.get_by_text("Spare tyre" if en else "备胎", exact=True).click()
    with autosave_with("valuables_left=no"):   # the last change: the save that follows it carries everything
        insp.locator(".valuables label:has(input[value='no'])").click()   # the explicit valuables answer
    settled(page)
    expect(page.locator("#sec-inspection input[name=cover_floor]")).to_be_checked()
    expect(page.locator("#i-mileage")).to_have_value("18800")
    screenshot(page, f"intake-inspection-{lang}")

    # A reload loses nothing.
    page.reload()
    expect(page.locator("#i-mileage")).to_have_value("18800")
    expect(page.locator("#sec-inspection input[value='tpms']")).to_be_checked()
    expect(page.locator("#sec-inspection input[value='3/4']")).to_be_checked()

    # The phone says the inspection is under way, without a reload.
    expect(phone.locator("#status-live")).to_have_attribute("data-inspection", "in_progress")

    # Two damage marks, tapped on the car diagram; the first with a photo from the tablet camera.
    damage = page.locator("#sec-damage")
    for zone, kind, note, photo in (("left_front_door", "scratch", "门把手下方", jpeg_bytes()),
                                    ("bonnet", "dent", "中部小凹陷", None)):
        damage.locator(f'svg [data-zone="{zone}"]').click()
        expect(damage.locator('input[name="zone"]')).to_have_value(zone)
        damage.locator(f".kinds label:has(input[value='{kind}'])").click()
        damage.locator("#dm-note").fill(note)
        if photo:
            damage.locator("#dm-photo").set_input_files(
                files=[{"name": "door.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        with page.expect_response(re.compile(r"/marks$")):
            damage.locator("#damage-form button[type=submit]").click()
    expect(damage.locator('svg .cm-mark[data-mark="1"][data-zone-ref="left_front_door"]')).to_be_visible()
    expect(damage.locator('svg .cm-mark[data-mark="2"][data-zone-ref="bonnet"]')).to_be_visible()
    expect(damage.locator("img").first).to_be_visible()
    assert damage.locator("img").first.evaluate("i => i.naturalWidth") > 0
    screenshot(page, f"intake-damage-{lang}")

    # The customer signs with the mouse; then the advisor completes the inspection.
    sig = page.locator("#sec-signature")
    sig.scroll_into_view_if_needed()
    canvas = sig.locator("canvas[data-signature-pad]")
    draw_signature(page, canvas)
    with page.expect_response(re.compile(r"/signature$")):
        sig.get_by_role("button", name=re.compile("Customer signs|客户签字")).click()
    expect(page.locator("#sec-signature img").first).to_be_visible()
    expect(page.locator("#sec-inspection .todo-list")).to_have_count(0)
    page.locator("#sec-inspection").get_by_role("button", name=re.compile("Complete inspection|完成环车检查")).click()
    expect(page.locator("#visit-state")).to_have_attribute("data-state", "interview")
    expect(phone.locator("#status-live")).to_have_attribute("data-inspection", "done")
    assert phone.evaluate("window.__noReload") is True
    screenshot(phone, f"intake-phone-done-{lang}")

    # Interview: two concerns; the second goes to the manufacturer.
    page.locator("#new-concern").fill("空调不制冷" if not en else "Air conditioning blows warm air")
    page.locator("#sec-interview").get_by_role("button", name=re.compile("Add concern|添加描述")).click()
    expect(page.locator("#sec-interview .concern")).to_have_count(1)
    expect(page.locator("#sec-interview .concern").first).to_contain_text("Covered by warranty" if en else "保修范围内")
    page.locator("#new-concern").fill("仪表偶尔黑屏" if not en else "Dashboard goes black at times")
    page.locator("#sec-interview").get_by_role("button", name=re.compile("Add concern|添加描述")).click()
    second = page.locator("#sec-interview .concern").nth(1)
    second.get_by_text("Undetermined" if en else "待定", exact=True).click()
    expect(page.locator("#sec-interview .concern").nth(1).locator("summary")).to_be_visible()
    page.locator("#sec-interview .concern").nth(1).locator("summary").click()
    page.locator("#sec-interview .concern").nth(1).locator("input[name=reference]").fill("BYD-2026-1130")
    page.locator("#sec-interview .concern").nth(1).locator("textarea[name=summary]").fill("视频与故障码已上传")
    page.locator("#sec-interview .concern").nth(1).get_by_role("button", name=re.compile("Record the request|记录")).click()
    expect(page.locator("#sec-interview .mfr.pending")).to_be_visible()
    expect(page.locator("#sec-interview .section-head .pill")).to_have_text(
        "Waiting for manufacturer" if en else "等待厂家答复")
    screenshot(page, f"intake-interview-{lang}")
    expect(phone.locator("body")).to_contain_text("manufacturer" if en else "厂家")

    # The printed form shows all of it.
    visit_url = page.url
    page.goto(visit_url + "/intake/print")
    page.emulate_media(media="print")
    sheet = page.locator(".sheet")
    for text in ("粤BD12345", "LSVAU2180N2183294", "18,800", "门把手下方", "里程", "Mileage"):
        expect(sheet).to_contain_text(text)
    expect(page.locator("[data-carmap] .cm-mark")).to_have_count(2)
    assert page.locator(".sig-img").evaluate("i => i.naturalWidth") > 0
    screenshot(page, f"intake-print-flow-{lang}")
    assert [e for e in page.console_errors if "status of 422" not in e] == []
