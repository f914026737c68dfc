"""Handing a called customer to a colleague at work today, as two advisors do it.

The menu offers only advisors who started their day (the start-of-day checklist), not the
manager or an advisor who is off; the colleague's console shows the customer first, live."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, sign_in
from tests.factories import Factory
from webapp.extensions import db

pytestmark = pytest.mark.browser


def seed(live_app):
    from webapp.services import intake as intake_svc
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="bj01", name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        f.user(site, "advisor", username="advisor1", desk="1", display_name="王晓明")
        on_duty = f.user(site, "advisor", username="advisor2", desk="2", display_name="李娜")
        f.user(site, "advisor", username="advisor3", desk="3", display_name="张伟")      # off today
        f.user(site, "manager", username="manager", display_name="钱经理")
        for item in intake_svc.READINESS_ITEMS:
            intake_svc.save_readiness_item(on_duty, item, True)
        f.walkin(site, plate="京A11111", mobile="13800138001")
        f.walkin(site, plate="京B22222", mobile="13800138002")
        db.session.remove()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_advisor_hands_a_called_customer_to_a_colleague_at_work(live_app, live_server, new_page, lang):
    seed(live_app)
    base, en = live_server.url, lang == "en"
    colleague = new_page("console", lang="en" if en else None)
    sign_in(colleague, base, "advisor2", lang=lang, live=True)

    desk = new_page("console", lang="en" if en else None)
    sign_in(desk, base, "advisor1", lang=lang, live=True)
    desk.click("button.call-next")
    expect(desk.locator(".current-ticket .number")).to_have_text("W001")
    menu = desk.get_by_label("Transfer to" if en else "转给")
    expect(menu.locator("option")).to_have_count(1)
    expect(menu.locator("option")).to_contain_text("李娜")
    screenshot(desk, f"transfer-{lang}")
    desk.get_by_role("button", name="Transfer" if en else "转接", exact=True).click()
    expect(desk.locator(".current-ticket")).to_have_count(0)

    # The colleague's console puts W001 first without a reload; calling next takes it.
    expect(colleague.locator("[data-ticket='W001']")).to_be_visible()
    colleague.click("button.call-next")
    expect(colleague.locator(".current-ticket .number")).to_have_text("W001")
