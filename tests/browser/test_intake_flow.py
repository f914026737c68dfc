"""The advisor's intake as a person does it: call the ticket, create the customer and vehicle,
walk around the car, record the concerns and the warranty question; screenshots in both languages."""
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, Factory, screenshot, set_lang
from webapp.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(live_app):
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="bj01", name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        f.user(site, "advisor", username="advisor1", desk="3", display_name="王晓明")
        f.walkin(site, plate="粤BD12345", mobile="13900139000")
    return "advisor1"


def sign_in(page, base, username, lang):
    set_lang(page, base, lang)
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/advisor$"))


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_reception_inspection_interview(live_server, shop, new_page, lang):
    en = lang == "en"
    page = new_page("console")
    sign_in(page, live_server.url, shop, lang)
    # Start-of-day readiness, then call the customer and start the reception.
    expect(page.locator("body")).to_have_attribute("data-live-state", "online")
    for i in range(3):  # each tick is saved as it is made
        with page.expect_response(re.compile(r".*/advisor/readiness$")):
            page.locator("#readiness input[type=checkbox]").nth(i).check()
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
    expect(page.locator("#sec-customer .pill.ok")).to_be_visible()
    expect(page.locator("#sec-customer")).to_contain_text("check digit" if en else "校验位")

    page.locator("#sec-documents input[name=licence]").check()
    expect(page.locator("#sec-documents")).to_contain_text("王晓明")

    # Walk-around: the inspection saves as the advisor goes.
    page.locator("#sec-inspection").get_by_role("button", name=re.compile("Start walk-around|开始环车检查")).click()
    insp = page.locator("#sec-inspection")
    for label in (("Seat cover", "座椅套"), ("Steering-wheel cover", "方向盘套"), ("Floor mat", "脚垫")):
        insp.get_by_text(label[1] if not en else label[0], exact=True).click()
        page.wait_for_timeout(300)
    page.locator("#i-mileage").fill("18800")
    page.locator("#i-mileage").press("Tab")
    insp.get_by_text("3/4", exact=True).click()
    insp.get_by_text("Tyre pressure" if en else "胎压", exact=True).click()
    insp.get_by_text("Spare tyre" if en else "备胎", exact=True).click()
    page.wait_for_timeout(500)
    expect(page.locator("#sec-inspection input[name=cover_floor]")).to_be_checked()
    expect(page.locator("#i-mileage")).to_have_value("18800")
    screenshot(page, f"intake-inspection-{lang}")

    # A reload loses nothing.
    page.reload()
    expect(page.locator("#i-mileage")).to_have_value("18800")
    expect(page.locator("#sec-inspection input[value='tpms']")).to_be_checked()
    expect(page.locator("#sec-inspection input[value='3/4']")).to_be_checked()

    # Interview: two concerns; the second goes to the manufacturer.
    page.locator("#new-concern").fill("空调不制冷" if not en else "Air conditioning blows warm air")
    page.get_by_role("button", name=re.compile("Add concern|添加")).click()
    expect(page.locator("#sec-interview .concern")).to_have_count(1)
    expect(page.locator("#sec-interview .concern").first).to_contain_text("Covered by warranty" if en else "保修范围内")
    page.locator("#new-concern").fill("仪表偶尔黑屏" if not en else "Dashboard goes black at times")
    page.get_by_role("button", name=re.compile("Add concern|添加")).click()
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
    assert [e for e in page.console_errors if "status of 422" not in e] == []
