"""The booking capacity settings in real Chromium: a manager sets 60-minute slots and tomorrow
as a holiday on /admin/site (a bad reserve is named next to its field, with what was typed
kept), and the booking form then offers hourly times and tomorrow closed. Screenshots at
1366×768 in both languages, in /tmp/shots-appointments/."""
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import Factory
from webapp.extensions import db

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots-appointments")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_manager_sets_slots_and_a_holiday(live_server, live_app, new_page, lang):
    from webapp.timeutil import local_day
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        manager = f.user(site, "manager", username="mgr", display_name="钱经理")
        f.user(site, "advisor", display_name="王晓明")
        tomorrow = local_day(site.timezone) + timedelta(days=1)
        after = tomorrow + timedelta(days=1)
        db.session.remove()
    base = live_server.url
    page = new_page("console", lang=lang)
    sign_in(page, base, "mgr", lang=lang, path="/admin/site")

    page.fill("#f-slot_minutes", "60")
    page.fill("#f-reserve_percent", "95")
    page.fill("#f-holidays", tomorrow.isoformat())
    page.click(".set-actions button[type=submit]")
    expect(page.locator("#f-reserve_percent-error")).to_be_visible()
    expect(page.locator("#f-reserve_percent")).to_have_value("95")
    expect(page.locator("#f-holidays")).to_have_value(tomorrow.isoformat())
    page.locator("#f-reserve_percent").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"settings-error-{lang}.png"))
    page.fill("#f-reserve_percent", "25")
    page.click(".set-actions button[type=submit]")
    expect(page.locator(".cat-flash")).to_be_visible()
    expect(page.locator("#f-slot_minutes")).to_have_value("60")
    page.locator("#f-holidays").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"settings-{lang}.png"))

    page.goto(f"{base}/appointments/new?new=1&day={tomorrow.isoformat()}")
    expect(page.locator("#slots [data-closed]")).to_be_visible()
    page.fill("#f-day", after.isoformat())
    expect(page.locator("#slots [data-slot='09:30']")).to_be_visible()
    expect(page.locator("#slots [data-slot='10:00']")).to_have_count(0)     # hourly from 08:30
    unexpected = [e for e in page.console_errors if "status of 422" not in e]   # the refused save answers 422
    assert not unexpected, unexpected
