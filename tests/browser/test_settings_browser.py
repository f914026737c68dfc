"""The site settings and the roster pages (1366×768) in both languages, for people to look at;
the manager saves a bad tax rate (message next to the field), then rosters a technician."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, set_lang
from tests.factories import PASSWORD
from webapp.extensions import db
from webapp.models import Site

pytestmark = [pytest.mark.browser, pytest.mark.shop(roles=("manager",), staff={"manager": {"display_name": "李经理"}})]


@pytest.fixture
def shop(live_shop, live_app):
    """The shared shop's manager (李经理) and four technicians."""
    with live_app.app_context():
        site = db.session.get(Site, live_shop.site.id)
        for name in ("王师傅", "刘师傅", "陈师傅", "赵师傅"):
            live_shop.factory.user(site, "technician", display_name=name)
        return {"manager": live_shop.manager.username}


def sign_in(page, base, lang, next_path):
    set_lang(page, base, lang)
    page.goto(base + "/login?next=" + next_path)
    page.fill("#username", "manager1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(".*" + re.escape(next_path) + "$"))


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_settings_pages(live_server, shop, new_page, lang):
    short = "en" if lang == "en" else "zh"
    page = new_page("console", lang="en" if lang == "en" else None)
    sign_in(page, live_server.url, lang, "/admin/site")

    page.fill("#f-tax_rate", "35")
    page.fill("#f-break_start", "")
    page.click("button[type=submit].btn")
    expect(page.locator("#f-tax_rate-error")).to_be_visible()
    expect(page.locator("#f-break_start-error")).to_be_visible()
    expect(page.locator("#f-tax_rate")).to_have_value("35")
    screenshot(page, f"settings-site-error-{short}")

    page.fill("#f-tax_rate", "13")
    page.fill("#f-break_start", "12:00")
    page.click("button[type=submit].btn")
    page.wait_for_url(re.compile(r".*/admin/site$"))
    expect(page.locator(".cat-flash")).to_be_visible()
    screenshot(page, f"settings-site-{short}")

    page.goto(live_server.url + "/admin/shifts")
    rows = page.locator("form.roster-row")
    expect(rows).to_have_count(4)
    first = rows.nth(0)
    first.locator("input[name=start]").fill("09:00")
    first.locator("input[name=end]").fill("18:00")
    first.locator("button[value=save]").click()
    expect(page.locator("form.roster-row.on-shift")).to_have_count(1)
    expect(page.locator("#shift-total")).to_contain_text("7.5")
    second = page.locator("form.roster-row").nth(1)
    second.locator("input[name=start]").fill("14:00")
    second.locator("input[name=end]").fill("10:00")
    second.locator("button[value=save]").click()
    expect(second.locator(".error")).to_be_visible()
    screenshot(page, f"settings-shifts-{short}")

    page.locator("a[rel=next]").click()
    page.wait_for_url(re.compile(r".*/admin/shifts\?day=\d{4}-\d{2}-\d{2}$"))
    expect(page.locator(".notice.warn")).to_be_visible()
    assert [e for e in page.console_errors if "422" not in e] == []   # the 422 answers are expected
